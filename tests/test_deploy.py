"""deploy/: every scheduled command the README lists has a systemd timer, every unit runs
a command that exists, and the files parse with the tools that will read them."""

from __future__ import annotations

import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config import PROJECT_ROOT
from tests.conftest import environment_for

DEPLOY = PROJECT_ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"
CHECKOUT = "/srv/tracker"  # where the units expect the checkout
_FLASK = re.compile(r"flask --app app ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)")


def _readme_scheduled_commands() -> set[str]:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Scheduled commands", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `flask")]
    commands = {match.group(1) for row in rows if (match := _FLASK.search(row))}
    assert len(commands) == len(rows), "a row of the table names no flask command"
    return commands


def _exec_lines(unit: Path) -> str:
    """The unit's ExecStart= and ExecStartPost= values, continuation lines joined."""
    text = unit.read_text(encoding="utf-8").replace("\\\n", " ")
    return "\n".join(
        line for line in text.splitlines() if line.startswith(("ExecStart=", "ExecStartPost="))
    )


def _unit_commands(unit: Path) -> set[str]:
    return {match.group(1) for match in _FLASK.finditer(_exec_lines(unit))}


def _scheduled_services() -> list[Path]:
    return sorted(p for p in SYSTEMD.glob("tracker-*.service"))


def test_every_scheduled_command_in_the_readme_has_a_timer():
    readme = _readme_scheduled_commands()
    assert {"reminders send", "retention run", "audit checkpoint", "backup create"} <= readme
    timed: dict[str, Path] = {}
    for service in _scheduled_services():
        timer = service.with_suffix(".timer")
        assert timer.exists(), f"{service.name} has no timer"
        assert re.search(r"^OnCalendar=\S", timer.read_text(), re.M), timer.name
        for command in _unit_commands(service):
            timed[command] = service
    missing = readme - timed.keys()
    assert not missing, f"scheduled in the README but with no timer: {sorted(missing)}"


def test_every_timer_starts_a_service_that_exists():
    for timer in SYSTEMD.glob("*.timer"):
        assert timer.with_suffix(".service").exists(), timer.name


def _missing_commands(app, units: list[Path]) -> list[str]:
    """The flask commands the units run that the app does not have."""
    runner = app.test_cli_runner()
    commands = set().union(*(_unit_commands(unit) for unit in units))
    assert commands, "the units run no flask command"
    return sorted(
        command
        for command in commands
        if runner.invoke(args=[*command.split(), "--help"]).exit_code != 0
    )


def test_every_flask_command_a_unit_runs_exists(app):
    units = list(SYSTEMD.glob("*.service"))
    assert len(set().union(*(_unit_commands(unit) for unit in units))) >= 6
    assert _missing_commands(app, units) == []


def test_a_unit_naming_a_command_that_does_not_exist_is_caught(app, tmp_path):
    unit = tmp_path / "tracker-typo.service"
    unit.write_text("[Service]\nExecStart=/srv/tracker/.venv/bin/flask --app app reminders sned\n")
    assert _missing_commands(app, [unit]) == ["reminders sned"]


def test_the_web_service_runs_gunicorn_with_the_config_in_deploy():
    unit = (SYSTEMD / "tracker.service").read_text(encoding="utf-8")
    assert "gunicorn -c deploy/gunicorn.conf.py app:create_app()" in unit
    assert "EnvironmentFile=/etc/tracker/tracker.env" in unit


def test_the_gunicorn_config_binds_loopback_and_keeps_query_strings_out_of_its_log(
    monkeypatch,
):
    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    settings = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert settings["bind"] == "127.0.0.1:8000"
    assert settings["workers"] >= 3
    assert "%(U)s" in settings["access_log_format"]
    for leaky in ("%(r)s", "%(q)s", "%(h)s", "%(a)s"):
        assert leaky not in settings["access_log_format"]


def test_gunicorn_loads_the_app_with_the_config(app):
    # preload_app: gunicorn builds the app to print its settings, so it must start.
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    finished = subprocess.run(  # noqa: S603 - our own gunicorn and config
        [gunicorn, "--print-config", "-c", "deploy/gunicorn.conf.py", "app:create_app()"],
        cwd=PROJECT_ROOT,
        env=environment_for(app),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    assert re.search(r"^bind\s+= \['127.0.0.1:8000'\]", finished.stdout, re.M)


def test_nginx_sends_exactly_the_headers_the_app_trusts():
    site = (DEPLOY / "nginx" / "tracker.conf").read_text(encoding="utf-8")
    sent = set(re.findall(r"proxy_set_header (X-Forwarded-[A-Za-z]+)", site))
    # ProxyFix(x_for, x_proto, x_host) in tracker/__init__.py: these three, no others.
    assert sent == {"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"}
    assert "proxy_set_header X-Request-ID $request_id;" in site
    assert "return 301 https://" in site
    body = re.search(r"client_max_body_size (\d+)m;", site)
    assert body and int(body.group(1)) == 10 + 1  # EVIDENCE_MAX_MB's default, plus 1 MB
    assert "$args" not in site and "$request_uri " not in site.split("log_format", 1)[1]


def _copy_with_checkout(folder: Path, replace: dict[str, str]) -> list[Path]:
    copies = []
    for source in SYSTEMD.iterdir():
        text = source.read_text(encoding="utf-8")
        for old, new in replace.items():
            text = text.replace(old, new)
        copy = folder / source.name
        copy.write_text(text, encoding="utf-8")
        copies.append(copy)
    return copies


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not here")
def test_systemd_accepts_every_unit(tmp_path):
    # The units point at the checkout in /srv/tracker; here, at this one.
    venv = PROJECT_ROOT / ".venv"
    units = _copy_with_checkout(
        tmp_path, {f"{CHECKOUT}/.venv": str(venv), CHECKOUT: str(PROJECT_ROOT)}
    )
    finished = subprocess.run(  # noqa: S603 - the system's own checker
        [shutil.which("systemd-analyze") or "", "verify", "--man=no", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx not here")
def test_nginx_accepts_the_site(tmp_path):
    (tmp_path / "ssl").mkdir()
    subprocess.run(  # noqa: S603 - a throwaway certificate for the syntax check
        [
            shutil.which("openssl") or "openssl",
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test",
            "-keyout", str(tmp_path / "ssl" / "privkey.pem"),
            "-out", str(tmp_path / "ssl" / "fullchain.pem"),
        ],
        capture_output=True,
        check=True,
    )  # fmt: skip
    site = (DEPLOY / "nginx" / "tracker.conf").read_text(encoding="utf-8")
    site = site.replace("/etc/ssl/tracker/", f"{tmp_path}/ssl/")
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{ include {tmp_path}/site.conf; }}\n",
        encoding="utf-8",
    )
    finished = subprocess.run(  # noqa: S603 - nginx's own syntax check
        [shutil.which("nginx") or "", "-t", "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
