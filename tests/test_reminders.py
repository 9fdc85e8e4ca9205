"""`flask reminders send`: the right people are e-mailed once, and told nothing about the case."""

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import post_form
from tests.smtp import (
    Collector,
    free_port,
    no_transaction_open,
    running_smtp_server,
    what_a_reader_sees,
)
from tracker.audit.actions import AuditAction
from tracker.audit.models import AuditEvent
from tracker.auth.roles import Role
from tracker.clock import today
from tracker.db import utcnow
from tracker.extensions import db as _db
from tracker.notifications.messages import NotificationKind
from tracker.notifications.services import (
    CLAIM_LEASE,
    Due,
    deliver,
    send_due_notifications,
)
from tracker.workflow import services as wf
from tracker.workflow.models import SentNotification

ROOT = Path(__file__).resolve().parents[1]

HARM = dict.fromkeys(wf.HARM_QUESTIONS, "yes")


@pytest.fixture
def app(make_app, smtp_server):
    """This module's app sends through the test SMTP server (the factories use it too)."""
    app = make_app(
        MAIL_BACKEND="smtp",
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=smtp_server.port,
        SMTP_TIMEOUT=5,
        BASE_URL="https://tracker.example.org",
    )
    with app.app_context():
        yield app


@pytest.fixture
def mail_app(app):
    return app


@pytest.fixture
def world(mail_app, make):
    school = make.school(name="Oakfield Academy")
    make.policy(school.trust)
    people = {
        "dsl": make.user(Role.DSL, school, email="dsl@example.org", name="Dee Ess"),
        "head": make.user(Role.HEADTEACHER, school, email="head@example.org", name="Hedda Teacher"),
        "ceo": make.user(Role.CEO, email="ceo@example.org", name="Chief Exec"),
    }
    case = make.case(school, subject=make.staff(school, name="Jordan Example"), by=people["dsl"])
    return {"school": school, "case": case, **people}


def recipients(smtp_server):
    return sorted(address for envelope in smtp_server.envelopes for address in envelope.rcpt_tos)


def assert_says_nothing_about(case, smtp_server):
    for envelope in smtp_server.envelopes:
        text = what_a_reader_sees(envelope)
        for secret in [
            case.reference,
            "Jordan Example",
            "Oakfield Academy",
            "3.4",
            "allegation",
            "Instagram",
        ]:
            assert secret.lower() not in text.lower(), secret
        assert f"https://tracker.example.org/cases/{case.id}" in text


def run(mail_app):
    return mail_app.test_cli_runner().invoke(args=["reminders", "send"])


def sent_count() -> int:
    """How many notifications are recorded as sent (not merely queued)."""
    count = _db.session.scalar(
        select(func.count(SentNotification.id)).where(SentNotification.sent_at.is_not(None))
    )
    _db.session.commit()  # end the read: on SQLite it holds the write lock
    return count


def lado_referral_overdue(world) -> None:
    """Triage the case as an allegation a week ago: the DSL and the head are reminded."""
    wf.triage(
        world["case"],
        track="allegation",
        answers=HARM,
        rationale="r",
        by=world["dsl"],
        now=datetime.now(UTC) - timedelta(days=7),
    )
    _db.session.commit()


def sent_events() -> list[AuditEvent]:
    events = list(
        _db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == AuditAction.NOTIFICATION_SENT.value)
            .order_by(AuditEvent.seq)
        )
    )
    _db.session.commit()
    return events


def test_lado_reminder_goes_to_the_school_team_once(world, mail_app, smtp_server):
    case = world["case"]
    wf.triage(
        case,
        track="allegation",
        answers=HARM,
        rationale="r",
        by=world["dsl"],
        now=datetime.now(UTC) - timedelta(days=7),  # the LADO referral is overdue,
    )
    _db.session.commit()
    result = run(mail_app)
    assert result.exit_code == 0, result.output
    assert "Sent 2 notification(s)" in result.output
    assert recipients(smtp_server) == ["dsl@example.org", "head@example.org"]
    assert_says_nothing_about(case, smtp_server)

    again = run(mail_app)
    assert "Sent 0 notification(s); 2 already sent" in again.output
    assert len(smtp_server.envelopes) == 2


def test_no_lado_reminder_once_referred_or_when_not_yet_close(world, mail_app, smtp_server):
    case = world["case"]
    monday = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
    wf.triage(case, track="allegation", answers=HARM, rationale="r", by=world["dsl"], now=monday)
    _db.session.commit()
    from tracker.notifications.services import due_notifications

    assert due_notifications(monday) == []  # due Tuesday 17:00: more than a day away
    assert len(due_notifications(monday + timedelta(hours=12))) == 2
    case.lado_referred_at = monday + timedelta(hours=2)
    _db.session.commit()
    assert due_notifications(monday + timedelta(days=3)) == []


def test_decision_return_and_appeal_each_notify_the_right_person(world, mail_app, smtp_server):
    case, dsl, head = world["case"], world["dsl"], world["head"]
    wf.triage(
        case,
        track="low_level",
        answers=dict.fromkeys(wf.HARM_QUESTIONS, "no"),
        rationale="r",
        by=dsl,
    )
    wf.start_investigation(case, investigator=dsl, by=dsl)
    wf.submit_for_decision(case, summary="s", by=dsl)
    _db.session.commit()
    run(mail_app)
    assert recipients(smtp_server) == ["head@example.org"]

    wf.return_for_investigation(case, reason="More", by=head)
    _db.session.commit()
    run(mail_app)
    assert recipients(smtp_server) == ["dsl@example.org", "head@example.org"]

    wf.submit_for_decision(case, summary="s2", by=dsl)
    _db.session.commit()
    run(mail_app)  # a second submission is a new event: the head is told again
    assert recipients(smtp_server).count("head@example.org") == 2

    wf.decide(
        case, wf.DecisionInput("no_further_action", "none", "r", False), by=head, today=today()
    )
    wf.lodge_appeal(case, lodged_on=today(), grounds="g", by=dsl, today=today())
    _db.session.commit()
    run(mail_app)
    assert "ceo@example.org" in recipients(smtp_server)
    assert_says_nothing_about(case, smtp_server)


def test_a_failed_delivery_is_tried_again(world, mail_app, smtp_server):
    working_port = mail_app.config["SMTP_PORT"]
    mail_app.config["SMTP_PORT"] = free_port()  # nothing listens there
    case = world["case"]
    a_week_ago = datetime.now(UTC) - timedelta(days=7)  # the LADO referral is overdue
    wf.triage(
        case, track="allegation", answers=HARM, rationale="r", by=world["dsl"], now=a_week_ago
    )
    _db.session.commit()
    result = run(mail_app)
    assert result.exit_code == 1 and "2 failed" in result.output
    assert sent_count() == 0

    mail_app.config["SMTP_PORT"] = working_port
    assert "Sent 2 notification(s)" in run(mail_app).output
    assert sent_count() == 2


def test_submitting_through_the_page_e_mails_the_headteacher_at_once(world, smtp_server, login):
    case, dsl = world["case"], world["dsl"]
    wf.triage(
        case,
        track="low_level",
        answers=dict.fromkeys(wf.HARM_QUESTIONS, "no"),
        rationale="r",
        by=dsl,
    )
    wf.start_investigation(case, investigator=dsl, by=dsl)
    _db.session.commit()

    response = post_form(login(dsl), f"/cases/{case.id}/submit", {"investigation_summary": "Done."})
    assert response.status_code == 302
    assert smtp_server.envelopes == []  # not while the browser waits for its answer,
    response.close()  # but once the server has written it (what a WSGI server does next)
    assert recipients(smtp_server) == ["head@example.org"]
    assert_says_nothing_about(case, smtp_server)


# --- no transaction while the mail server answers; one sender per e-mail ----------------


def test_no_transaction_is_open_while_the_mail_server_answers(
    world, mail_app, smtp_server, database_url
):
    smtp_server.collector.while_delivering = lambda: no_transaction_open(database_url)
    lado_referral_overdue(world)
    result = run(mail_app)
    assert "Sent 2 notification(s)" in result.output
    # Looked at while each message waited on the mail server: another user could write.
    assert smtp_server.collector.observations == [True, True]


def test_retention_warnings_are_sent_with_no_transaction_open(
    world, mail_app, smtp_server, database_url
):
    smtp_server.collector.while_delivering = lambda: no_transaction_open(database_url)
    case = world["case"]
    warnings = [
        Due(f"retention_due:{case.id}:20270901:{p.id}", NotificationKind.RETENTION_DUE, case, p)
        for p in (world["dsl"], world["head"])
    ]
    report = deliver(warnings, utcnow())
    assert (report.sent, report.failed) == (2, 0)
    assert smtp_server.collector.observations == [True, True]
    assert recipients(smtp_server) == ["dsl@example.org", "head@example.org"]
    again = deliver(warnings, utcnow())
    assert (again.sent, again.already_sent) == (0, 2)


def test_two_senders_at_once_never_send_the_same_notification_twice(world, mail_app, smtp_server):
    smtp_server.collector.delay = 1  # both runs are still sending when the other looks
    lado_referral_overdue(world)
    start = threading.Barrier(2)
    reports = []

    def sender() -> None:
        with mail_app.app_context():
            start.wait()
            reports.append(send_due_notifications())

    senders = [threading.Thread(target=sender) for _ in range(2)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join(timeout=30)
    assert len(reports) == 2
    assert recipients(smtp_server) == ["dsl@example.org", "head@example.org"]
    assert sum(report.sent for report in reports) == 2
    assert sum(report.failed for report in reports) == 0
    assert sorted(json.loads(e.details_json)["recipient_id"] for e in sent_events()) == sorted(
        [world["dsl"].id, world["head"].id]
    )


# A `reminders send` on another host, as a separate process: it is killed while the
# mail server has its first message and has not yet accepted it.
DYING_SENDER = """
import os
from config import TestConfig
from tracker import create_app
from tracker.notifications.services import send_due_notifications

app = create_app(TestConfig(
    os.environ["SENDER_DATABASE_URL"],
    INSTANCE_PATH=os.environ["SENDER_INSTANCE_PATH"],
    MAIL_BACKEND="smtp",
    SMTP_HOST="127.0.0.1",
    SMTP_PORT=int(os.environ["SENDER_SMTP_PORT"]),
    SMTP_TIMEOUT=120,
))
with app.app_context():
    send_due_notifications()
"""


def test_a_sender_that_dies_mid_delivery_leaves_its_e_mail_to_a_later_run(
    world, mail_app, smtp_server, database_url, tmp_path
):
    lado_referral_overdue(world)
    with running_smtp_server(Collector(delay=120)) as stuck:
        environment = {
            **os.environ,
            "SENDER_DATABASE_URL": database_url,
            "SENDER_INSTANCE_PATH": str(tmp_path / "sender"),
            "SENDER_SMTP_PORT": str(stuck.port),
        }
        sender = subprocess.Popen(  # noqa: S603 - this interpreter, our own code
            [sys.executable, "-c", DYING_SENDER], cwd=ROOT, env=environment
        )
        try:
            assert stuck.collector.delivering.wait(timeout=60), "the sender never got going"
        finally:
            sender.kill()
            sender.wait(timeout=30)
    assert stuck.envelopes == []

    # Its claim on the first e-mail stands until the lease runs out: the next run sends
    # the other one and leaves that to it (for all it knows, the sender is still alive).
    first = run(mail_app)
    assert first.exit_code == 0, first.output
    assert "Sent 1 notification(s)" in first.output
    assert "1 being sent by another run" in first.output
    assert len(smtp_server.envelopes) == 1

    # Once the lease has run out, the next run sends it.
    (held,) = _db.session.scalars(
        select(SentNotification).where(SentNotification.claimed_at.is_not(None))
    )
    held.claimed_at = utcnow() - CLAIM_LEASE - timedelta(seconds=1)
    _db.session.commit()
    later = run(mail_app)
    assert later.exit_code == 0, later.output
    assert "Sent 1 notification(s); 1 already sent" in later.output
    assert recipients(smtp_server) == ["dsl@example.org", "head@example.org"]
    assert sent_count() == 2 and len(sent_events()) == 2


def test_a_step_whose_e_mail_fails_leaves_it_to_the_next_run(world, mail_app, smtp_server, login):
    case, dsl = world["case"], world["dsl"]
    wf.triage(
        case,
        track="low_level",
        answers=dict.fromkeys(wf.HARM_QUESTIONS, "no"),
        rationale="r",
        by=dsl,
    )
    wf.start_investigation(case, investigator=dsl, by=dsl)
    _db.session.commit()
    working_port = mail_app.config["SMTP_PORT"]
    mail_app.config["SMTP_PORT"] = free_port()  # nothing listens there
    response = post_form(login(dsl), f"/cases/{case.id}/submit", {"investigation_summary": "Done."})
    assert response.status_code == 302
    response.close()  # the e-mail is tried now, and fails
    assert smtp_server.envelopes == [] and sent_count() == 0
    assert sent_events() == []

    mail_app.config["SMTP_PORT"] = working_port
    result = run(mail_app)
    assert result.exit_code == 0, result.output
    assert "Sent 1 notification(s)" in result.output
    assert recipients(smtp_server) == ["head@example.org"]
    [event] = sent_events()
    assert event.actor_id is None
    assert json.loads(event.details_json) == {
        "kind": "decision_needed",
        "key": f"decision_needed:{case.transitions[-1].id}",
        "recipient_id": world["head"].id,
    }
