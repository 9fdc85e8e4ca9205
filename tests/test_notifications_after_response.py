"""A workflow step answers at once and sends its e-mail after the response, holding no lock.

A real HTTP server (werkzeug, threaded) on the test database, a real HTTP client signed
in through the pages, and a mail server that takes five seconds to accept a message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, build_opener

import pytest
from sqlalchemy import select

from tests.conftest import DEFAULT_PASSWORD, csrf_token_from, totp_code
from tests.smtp import Collector, SmtpServer, no_transaction_open, running_smtp_server
from tracker.audit.actions import AuditAction
from tracker.audit.models import AuditEvent
from tracker.auth.roles import Role
from tracker.extensions import db as _db
from tracker.workflow import services as wf
from tracker.workflow.models import Action, CaseTransition, SentNotification

SLOW = 5.0  # seconds the mail server takes to accept a message


@pytest.fixture
def slow_smtp_server() -> Iterator[SmtpServer]:
    with running_smtp_server(Collector(delay=SLOW)) as server:
        yield server


@pytest.fixture
def app(make_app, slow_smtp_server):
    app = make_app(
        MAIL_BACKEND="smtp",
        SMTP_HOST=slow_smtp_server.host,
        SMTP_PORT=slow_smtp_server.port,
        SMTP_TIMEOUT=3 * SLOW,
        BASE_URL="https://tracker.example.org",
    )
    with app.app_context():
        yield app


class _NoRedirects(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 itself is the answer a test times


class Browser:
    """A real HTTP client: keeps its cookies, follows no redirects."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._opener = build_opener(HTTPCookieProcessor(CookieJar()), _NoRedirects())

    def request(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        data = urlencode(form).encode() if form is not None else None
        try:
            # A loopback address the test built, never one from outside.
            with self._opener.open(self.base_url + path, data=data, timeout=30) as answer:  # noqa: S310
                return answer.status, answer.read().decode()
        except HTTPError as answer:  # a redirect, not followed
            with answer:
                return answer.code, answer.read().decode()

    def form_token(self, path: str) -> str:
        status, page = self.request(path)
        assert status == 200, page
        return csrf_token_from(page)

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        return self.request(path, {"csrf_token": self.form_token(path), **fields})

    def sign_in(self, email: str) -> None:
        status, _ = self.post_form("/sign-in", {"email": email, "password": DEFAULT_PASSWORD})
        assert status == 302
        status, _ = self.post_form("/sign-in/code", {"code": totp_code(email)})
        assert status == 302


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_step_answers_at_once_and_e_mails_after_the_response(
    app, make, live_server, slow_smtp_server, database_url
):
    school = make.school()
    dsl = make.user(Role.DSL, school, email="dsl@example.org")
    head = make.user(Role.HEADTEACHER, school, email="head@example.org")
    case = make.case(school, by=dsl)
    wf.triage(
        case,
        track="low_level",
        answers=dict.fromkeys(wf.HARM_QUESTIONS, "no"),
        rationale="r",
        by=dsl,
    )
    wf.start_investigation(case, investigator=dsl, by=dsl)
    _db.session.commit()
    browser = Browser(live_server)
    browser.sign_in(dsl.email)
    token = browser.form_token(f"/cases/{case.id}/submit")

    started = time.monotonic()
    status, _ = browser.request(
        f"/cases/{case.id}/submit", {"csrf_token": token, "investigation_summary": "Done."}
    )
    answered_in = time.monotonic() - started
    assert status == 302
    assert answered_in < 2, f"the step waited {answered_in:.1f} s for the mail server"

    # The e-mail has gone to the mail server, which is taking its time over it ...
    assert slow_smtp_server.collector.delivering.wait(timeout=SLOW)
    # ... while another user's write goes straight in,
    started = time.monotonic()
    make.staff(school)
    wrote_in = time.monotonic() - started
    assert slow_smtp_server.envelopes == [], "the write did not overlap the delivery"
    assert wrote_in < 1, f"a write waited {wrote_in:.1f} s for the sender"
    assert no_transaction_open(database_url)
    # ... and the scheduled run leaves the e-mail to the sender that holds it.
    scheduled = app.test_cli_runner().invoke(args=["reminders", "send"])
    assert scheduled.exit_code == 0, scheduled.output
    assert "Sent 0 notification(s)" in scheduled.output
    assert "1 being sent by another run" in scheduled.output

    # The e-mail arrives, once, and is recorded as sent with its event.
    assert wait_for(lambda: slow_smtp_server.envelopes, timeout=3 * SLOW)

    def recorded() -> bool:
        sent = _db.session.scalar(select(SentNotification.sent_at))
        _db.session.commit()  # end each look: on SQLite a transaction holds the write lock
        return sent is not None

    assert wait_for(recorded, timeout=SLOW)
    assert [a for e in slow_smtp_server.envelopes for a in e.rcpt_tos] == ["head@example.org"]
    submitted = _db.session.scalar(
        select(CaseTransition).where(
            CaseTransition.case_id == case.id,
            CaseTransition.action == Action.SUBMIT_FOR_DECISION.value,
        )
    )
    [event] = _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.NOTIFICATION_SENT.value)
    )
    assert event.actor_id is None and event.case_id == case.id
    assert json.loads(event.details_json) == {
        "kind": "decision_needed",
        "key": f"decision_needed:{submitted.id}",
        "recipient_id": head.id,
    }
