"""`flask reminders send`: the right people are e-mailed once, and told nothing about the case."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.smtp import free_port, what_a_reader_sees
from tracker.auth.roles import Role
from tracker.clock import today
from tracker.extensions import db as _db
from tracker.workflow import services as wf
from tracker.workflow.models import SentNotification

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
    assert _db.session.scalar(select(func.count(SentNotification.id))) == 0

    mail_app.config["SMTP_PORT"] = working_port
    assert "Sent 2 notification(s)" in run(mail_app).output
    assert _db.session.scalar(select(func.count(SentNotification.id))) == 2


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
    from tests.conftest import post_form

    response = post_form(login(dsl), f"/cases/{case.id}/submit", {"investigation_summary": "Done."})
    assert response.status_code == 302
    assert recipients(smtp_server) == ["head@example.org"]
    assert_says_nothing_about(case, smtp_server)
