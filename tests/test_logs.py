"""LOG_FORMAT=json: one JSON object per line, from the app and from gunicorn, with the
request's fields and nothing personal, through a case's whole life."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from config import PROJECT_ROOT, Config
from tests.conftest import environment_for, post_form, sign_in
from tests.smtp import free_port
from tests.test_workflow_pages import ANSWERS_YES
from tracker.auth.roles import Role
from tracker.clock import today
from tracker.extensions import db as _db

PASSWORD = "Zebra-marker-passphrase-1729"
SUBJECT = "Quentin Markerfield"
SUMMARY = "Sent Pupil Z messages about the Lighthouse trip from a personal account."
REQUIRED = {"time", "level", "logger", "request_id", "user_id", "route", "status"}
REQUIRED |= {"duration_ms", "message"}


@pytest.fixture
def json_app(make, make_app):
    # After `make` (and the `app` it builds): the last app made sets up the loggers.
    app = make_app(LOG_FORMAT="json", LOG_LEVEL="DEBUG", MAIL_BACKEND="console")
    with app.app_context():
        yield app


@pytest.fixture
def log_lines(json_app) -> Iterator[io.StringIO]:
    """What the app logs, captured from its own handler (the format under test)."""
    handler = logging.getLogger("tracker").handlers[0]
    captured = io.StringIO()
    previous = handler.setStream(captured)  # type: ignore[attr-defined]
    yield captured
    handler.setStream(previous)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Person:
    id: int
    email: str


def _days(day: date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def test_a_case_through_every_step_logs_json_lines_with_nothing_personal(json_app, make, log_lines):
    school = make.school()
    dsl = make.user(Role.DSL, school, password=PASSWORD)
    head = make.user(Role.HEADTEACHER, school, password=PASSWORD)
    ceo = make.user(Role.CEO, password=PASSWORD, trust=school.trust)
    subject = make.staff(school, name=SUBJECT)
    case = make.case(school, subject=subject, by=dsl, summary=SUMMARY)
    url = f"/cases/{case.id}"
    # Plain values from here on: reading an expired attribute would open a transaction
    # here, and on SQLite hold the write lock that each request then waits for.
    dsl, head, ceo = (Person(u.id, u.email) for u in (dsl, head, ceo))
    _db.session.rollback()

    def client_for(user):
        client = json_app.test_client()
        assert sign_in(client, user.email, PASSWORD).status_code == 302
        return client

    steps = [
        (dsl, f"{url}/triage", {**ANSWERS_YES, "track": "allegation", "rationale": SUMMARY}),
        (
            dsl,
            f"{url}/lado/referral",
            {
                "referred_on": _days(today()),
                "referred_time": "00:05",
                "method": "online_form",
                "reference": "LADO-1",
            },
        ),
        (dsl, f"{url}/lado/advice", {"advised_on": _days(today()), "advice": SUMMARY}),
        (dsl, f"{url}/investigation/start", {"investigator": str(dsl.id)}),
        (
            dsl,
            f"{url}/suspensions/new",
            {
                "starts_on": _days(today()),
                "ends_on": ["", "", ""],
                "reviewed_on": _days(today()),
                "reason": SUMMARY,
            },
        ),
        (dsl, f"{url}/submit", {"investigation_summary": SUMMARY}),
        (
            head,
            f"{url}/decide",
            {
                "outcome": "substantiated",
                "sanction": "final_written_warning",
                "may_mention": "yes",
                "rationale": SUMMARY,
            },
        ),
        (dsl, f"{url}/appeal", {"lodged_on": _days(today()), "grounds": SUMMARY}),
        (
            ceo,
            f"{url}/appeal/decide",
            {
                "outcome": "varied",
                "varied_sanction": "first_written_warning",
                "rationale": SUMMARY,
            },
        ),
    ]
    clients = {dsl.id: client_for(dsl)}
    # A refused form first: the page comes back with what was typed in it.
    refused = post_form(clients[dsl.id], f"{url}/triage", {"rationale": SUMMARY})
    assert refused.status_code == 200 and "Lighthouse" in refused.get_data(as_text=True)
    for user, address, data in steps:
        if user.id not in clients:
            clients[user.id] = client_for(user)
        client = clients[user.id]
        response = post_form(client, address, data)
        assert response.status_code == 302, (address, response.get_data(as_text=True)[:2000])
        # Closed as a server closes it: the step's e-mails are sent then (and logged).
        response.close()
        assert client.get(url).status_code == 200
    # A search by the subject's name, a page that is not there.
    dsl_client = clients[dsl.id]
    assert dsl_client.get("/cases/", query_string={"q": SUBJECT}).status_code == 200
    assert dsl_client.get("/cases/2147483000").status_code == 404

    output = log_lines.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    assert all(line.keys() >= REQUIRED for line in lines)
    requests = [line for line in lines if line["logger"] == "tracker.access"]
    assert len(requests) >= 4 * len(steps)
    decided = [r for r in requests if r["route"] == "/cases/<int:case_id>/decide"]
    assert {(r["method"], r["status"], r["user_id"]) for r in decided} >= {
        ("GET", 200, head.id),
        ("POST", 302, head.id),
    }
    assert all(r["request_id"] and r["duration_ms"] is not None for r in requests)
    mailed = [line for line in lines if line["logger"] == "tracker.notifications"]
    assert mailed, "no e-mail was sent, so none was checked"
    for secret in (SUBJECT, "Markerfield", "Lighthouse", PASSWORD):
        assert secret not in output, f"{secret!r} was logged"
    assert not re.search(r"[\w.+-]+@[\w-]+\.\w+", output), "an e-mail address was logged"
    assert "2147483000" not in output  # a path as typed, not its rule


def test_text_is_the_default_and_another_format_is_refused(monkeypatch):
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    assert Config().LOG_FORMAT == "text"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(RuntimeError, match="LOG_FORMAT must be text or json, not 'xml'"):
        Config()


def test_gunicorns_access_log_is_json_with_the_apps_route_and_no_query(app):
    port = free_port()
    environment = environment_for(
        app, LOG_FORMAT="json", GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="1"
    )
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn and config
        [gunicorn, "-c", "deploy/gunicorn.conf.py", "app:create_app()"],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(  # noqa: S310 - loopback
                    f"http://127.0.0.1:{port}/healthz?name={SUBJECT.replace(' ', '+')}", timeout=5
                ) as answer:
                    assert answer.status == 200
                    request_id = answer.headers["X-Request-ID"]
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    assert len(access) == 1, output
    assert access[0] | {"time": None, "duration_ms": None} == {
        "time": None,
        "level": "INFO",
        "logger": "gunicorn.access",
        "request_id": request_id,
        "user_id": None,
        "route": "/healthz",
        "method": "GET",
        "status": 200,
        "duration_ms": None,
        "message": "request",
    }
    assert any(line["logger"] == "tracker.access" for line in lines)
    assert "Markerfield" not in output
