"""`make audit-deps` fails, saying so, when it could not check the packages.

pip-audit on its own reports a package it could not look up as skipped and then "No
known vulnerabilities found"; scripts/audit_deps.py reads its report and refuses that.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import PROJECT_ROOT
from tests.smtp import free_port

SCRIPT = PROJECT_ROOT / "scripts" / "audit_deps.py"
_spec = importlib.util.spec_from_file_location("audit_deps", SCRIPT)
assert _spec and _spec.loader
audit_deps = importlib.util.module_from_spec(_spec)
sys.modules["audit_deps"] = audit_deps  # its dataclasses look their module up by name
_spec.loader.exec_module(audit_deps)


def test_an_unreachable_advisory_service_fails_saying_nothing_was_checked(tmp_path: Path):
    lock = tmp_path / "lock.txt"
    lock.write_text(
        "six==1.17.0 \\\n"
        "    --hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274\n"
    )
    # A loopback port nothing listens on (bound, then released).
    proxy = f"http://127.0.0.1:{free_port()}"
    environment = {**os.environ, "HTTPS_PROXY": proxy, "https_proxy": proxy, "NO_PROXY": ""}
    finished = subprocess.run(  # noqa: S603 - our Python running our own script
        [sys.executable, str(SCRIPT), "-r", str(lock)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert finished.returncode == audit_deps.NOT_CHECKED == 2
    assert "Could not check any package" in finished.stderr
    assert "No known vulnerabilities" not in finished.stdout + finished.stderr


def _dependency(name: str, **fields) -> dict:
    return {"name": name, "version": "1.0", "vulns": [], **fields}


def test_a_report_with_skipped_packages_is_not_a_pass():
    report = {
        "dependencies": [
            _dependency("flask"),
            {"name": "alembic", "skip_reason": "Dependency not found on PyPI"},
        ]
    }
    outcome = audit_deps.summarise(report)
    assert outcome.status == audit_deps.NOT_CHECKED
    assert outcome.lines[0].startswith("Could not check 1 of 2 packages")
    assert "  alembic: Dependency not found on PyPI" in outcome.lines


def test_many_skipped_packages_are_counted_not_all_listed():
    report = {"dependencies": [{"name": f"p{n}", "skip_reason": "offline"} for n in range(8)]}
    outcome = audit_deps.summarise(report)
    assert outcome.status == audit_deps.NOT_CHECKED
    assert "  and 3 more" in outcome.lines


@pytest.mark.parametrize("report", [{}, {"dependencies": []}])
def test_a_report_listing_nothing_is_not_a_pass(report):
    assert audit_deps.summarise(report).status == audit_deps.NOT_CHECKED


def test_a_vulnerable_package_is_named_with_its_fix():
    report = {
        "dependencies": [
            _dependency("flask"),
            _dependency("jinja2", vulns=[{"id": "PYSEC-0000-1", "fix_versions": ["1.1"]}]),
            _dependency("six", vulns=[{"id": "GHSA-xxxx", "fix_versions": []}]),
        ]
    }
    outcome = audit_deps.summarise(report)
    assert outcome.status == audit_deps.VULNERABLE == 1
    assert "  jinja2 1.0: PYSEC-0000-1 (fixed in 1.1)" in outcome.lines
    assert "  six 1.0: GHSA-xxxx (fixed in no fixed release yet)" in outcome.lines


def test_a_vulnerability_beside_an_unchecked_package_is_reported_and_still_fails_as_unchecked():
    report = {
        "dependencies": [
            _dependency("jinja2", vulns=[{"id": "PYSEC-0000-1", "fix_versions": ["1.1"]}]),
            {"name": "alembic", "skip_reason": "offline"},
        ]
    }
    outcome = audit_deps.summarise(report)
    assert outcome.status == audit_deps.NOT_CHECKED
    assert "  jinja2 1.0: PYSEC-0000-1 (fixed in 1.1)" in outcome.lines


def test_every_package_checked_and_clean_passes():
    report = {"dependencies": [_dependency("flask"), _dependency("six")]}
    outcome = audit_deps.summarise(report)
    assert outcome.status == audit_deps.CHECKED == 0
    assert outcome.lines == ["Checked 2 packages: no known vulnerabilities."]
