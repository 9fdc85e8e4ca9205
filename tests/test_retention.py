"""Retention wired into the tracker: kept on each case, legal holds, the DPO's facts, and
disposal by `flask retention run`, with its warnings and tombstone.

The rules themselves are tested in test_retention_rules.py; these tests put cases
through the real services and commands with explicit dates (a frozen clock, by
argument), on each database.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import select, text

from tests.conftest import csrf_token_from, sign_in
from tests.smtp import what_a_reader_sees
from tests.test_evidence import PNG
from tests.test_staff_import import csv_of, import_file
from tracker.audit.chain import key_bytes, verify_chain
from tracker.audit.models import AuditEvent
from tracker.auth.models import User
from tracker.auth.roles import Role
from tracker.cases.evidence import Provenance, add_evidence
from tracker.cases.models import Case
from tracker.cases.services import add_chronology_entry, add_person
from tracker.errors import NotAllowed, ValidationFailed
from tracker.extensions import db as _db
from tracker.retention import services as retention
from tracker.retention.models import CaseTombstone, LegalHold
from tracker.retention.overview import retention_overview
from tracker.retention.rules import (
    NOTICE_HOLD_WORDS,
    NOTICE_RULE_WORDS,
    HoldReason,
    RetentionRule,
    compute_retention,
    under_legal_hold,
)
from tracker.staff.services import update_staff_member
from tracker.storage.stores import current_store
from tracker.workflow import services as wf
from tracker.workflow.models import SentNotification

D = date
HARM = {**dict.fromkeys(wf.HARM_QUESTIONS, "no"), "harm_child": "yes"}
NO_HARM = dict.fromkeys(wf.HARM_QUESTIONS, "no")
REPORTED = D(2026, 3, 4)  # the factory's report date
DECIDED = D(2026, 5, 11)  # a Monday: the appeal window runs the same week
CLOSED = D(2026, 6, 1)
RETIRES = D(2040, 3, 3)


@pytest.fixture
def app(make_app, smtp_server):
    """This module's app sends e-mail through the test SMTP server."""
    app = make_app(
        MAIL_BACKEND="smtp",
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=smtp_server.port,
        SMTP_TIMEOUT=5,
        BASE_URL="https://tracker.example.org",
        RETENTION_WARNING_DAYS=30,
    )
    with app.app_context():
        yield app


@pytest.fixture
def people(make):
    school = make.school(name="Oakfield Academy")
    make.policy(school.trust)
    return {
        "school": school,
        "dsl": make.user(Role.DSL, school, email="dsl@example.org"),
        "deputy": make.user(Role.DEPUTY_DSL, school, email="deputy@example.org"),
        "head": make.user(Role.HEADTEACHER, school, email="head@example.org"),
        "ceo": make.user(Role.CEO, email="ceo@example.org"),
        "dpo": make.user(Role.DPO, email="dpo@example.org"),
        "auditor": make.user(Role.AUDITOR, email="auditor@example.org"),
    }


def subject(make, people, *, retires_on: date | None = RETIRES, name="Jordan Example"):
    member = make.staff(people["school"], name=name)
    member.normal_retirement_date = retires_on
    _db.session.commit()
    return member


def decide(case, people, *, track="allegation", outcome="substantiated", sexual_abuse=False):
    dsl = people["dsl"]
    wf.triage(
        case,
        track=track,
        answers=HARM if track == "allegation" else NO_HARM,
        rationale="Assessed",
        sexual_abuse=sexual_abuse,
        by=dsl,
    )
    if track == "allegation":
        wf.record_lado_referral(
            case, referred_at=datetime.now(UTC), method="phone", reference="", by=dsl
        )
        wf.record_lado_advice(case, advice="Investigate", advised_on=DECIDED, today=DECIDED, by=dsl)
    wf.start_investigation(case, investigator=dsl, by=dsl)
    wf.submit_for_decision(case, summary="Investigated", by=dsl)
    wf.decide(
        case,
        wf.DecisionInput(
            outcome=outcome, sanction="none", rationale="Weighed", may_mention_in_references=False
        ),
        by=people["head"],
        today=DECIDED,
    )
    _db.session.commit()


def close(case, people, *, on: date = CLOSED, **decision):
    decide(case, people, **decision)
    wf.close_case(case, by=people["dsl"], today=on)
    _db.session.commit()


def retention_events(case_id: int) -> list[dict]:
    return [
        json.loads(event.details_json)
        for event in _db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.case_id == case_id, AuditEvent.action == "case.retention.set")
            .order_by(AuditEvent.seq)
        )
    ]


def events(action: str) -> list[AuditEvent]:
    return list(
        _db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        )
    )


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=["retention", "run", *args])


# --- the pure legal hold -------------------------------------------------------------------


def _facts(**changes):
    facts = {
        "track": "allegation",
        "outcome": "substantiated",
        "reported_on": D(2031, 9, 1),
        "closed_on": D(2031, 12, 1),
        "normal_retirement_date": D(2040, 3, 3),
        "left_employment_on": None,
        "sexual_abuse": False,
        "subject_consents_to_keep": False,
    }
    return compute_retention(**(facts | changes))


def test_a_legal_hold_keeps_the_date_but_is_never_due():
    held = under_legal_hold(_facts(outcome="false"))
    assert held.held_because is HoldReason.LEGAL_HOLD
    assert held.due_on == D(2031, 12, 1)  # disposal is due again once the hold is lifted
    assert not held.is_due(D(2099, 1, 1))
    assert held.warn_on(30) is None
    assert "legal hold" in held.explanation and "1 December 2031" in held.explanation


def test_an_inquiry_hold_stays_the_reason_under_a_legal_hold():
    held = under_legal_hold(_facts(sexual_abuse=True))
    assert held.held_because is HoldReason.SEXUAL_ABUSE_INQUIRY
    assert held.due_on is None
    assert held.explanation.endswith("A legal hold also stands on it.")


def test_the_notice_words_cover_every_rule_and_hold():
    stored_rules = set(RetentionRule) - {RetentionRule.NOT_CLOSED}
    assert set(NOTICE_RULE_WORDS) == stored_rules
    assert set(NOTICE_HOLD_WORDS) == set(HoldReason)


# --- kept on the case when it closes -------------------------------------------------------


def test_closing_keeps_the_retention_and_records_it(make, people):
    case = make.case(people["school"], subject=subject(make, people), by=people["dsl"])
    decide(case, people)
    assert case.retention_rule is None and retention_events(case.id) == []

    wf.close_case(case, by=people["dsl"], today=CLOSED)
    _db.session.commit()
    _db.session.expire_all()
    case = _db.session.get(Case, case.id)
    # Ten years from 4 March 2026 end on 3 March 2036; the retirement is later.
    assert case.retention_rule == RetentionRule.ALLEGATION
    assert case.retention_due_on == D(2040, 3, 4)
    assert not case.retention_is_review and case.retention_held is None
    assert case.retention_missing == "" and case.retention_computed_at is not None
    assert retention_events(case.id) == [
        {
            "rule": "allegation_10y_or_retirement",
            "due_on": "2040-03-04",
            "review": False,
            "held": False,
            "missing": [],
        }
    ]


def test_an_unknown_retirement_date_is_flagged_then_settled(make, people, db):
    member = subject(make, people, retires_on=None)
    case = make.case(people["school"], subject=member, by=people["dsl"])
    close(case, people, outcome="unfounded")
    assert case.retention_is_review and case.retention_missing == "normal_retirement_date"
    assert case.retention_due_on == D(2036, 3, 4)

    update_staff_member(
        member,
        school=member.school,
        full_name=member.full_name,
        job_title=member.job_title,
        employee_number=member.employee_number,
        normal_retirement_date=D(2045, 8, 31),
        by=people["dsl"],
    )
    db.session.commit()
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.retention_due_on == D(2045, 9, 1)
    assert not case.retention_is_review and case.retention_missing == ""
    assert [e["due_on"] for e in retention_events(case.id)] == ["2036-03-04", "2045-09-01"]
    assert retention_events(case.id)[-1]["missing"] == []


def test_a_change_that_does_not_move_the_retention_records_nothing(make, people, db):
    member = subject(make, people)
    case = make.case(people["school"], subject=member, by=people["dsl"])
    close(case, people)
    update_staff_member(
        member,
        school=member.school,
        full_name=member.full_name,
        job_title=member.job_title,
        employee_number=member.employee_number,
        normal_retirement_date=member.normal_retirement_date,
        left_on=D(2030, 7, 31),  # leaving does not change an allegation's retention
        by=people["dsl"],
    )
    db.session.commit()
    assert len(retention_events(case.id)) == 1


def test_a_low_level_concern_waits_for_the_leaving_date(make, people, db):
    member = subject(make, people)
    case = make.case(people["school"], subject=member, by=people["dsl"])
    close(case, people, track="low_level", outcome="advice_and_guidance")
    assert case.retention_rule == RetentionRule.LOW_LEVEL
    assert case.retention_due_on is None and case.retention_is_review

    update_staff_member(
        member,
        school=member.school,
        full_name=member.full_name,
        job_title=member.job_title,
        employee_number=member.employee_number,
        normal_retirement_date=member.normal_retirement_date,
        left_on=D(2027, 8, 31),
        by=people["dsl"],
    )
    db.session.commit()
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.retention_due_on == D(2027, 9, 1) and case.retention_is_review
    assert retention_events(case.id)[-1] == {
        "rule": "low_level_until_leaving",
        "due_on": "2027-09-01",
        "review": True,
        "held": False,
        "missing": [],
    }


def test_a_false_allegation_is_due_on_closing_unless_the_subject_consents(make, people, db):
    case = make.case(people["school"], subject=subject(make, people), by=people["dsl"])
    close(case, people, outcome="false")
    assert case.retention_rule == RetentionRule.FALSE_OR_MALICIOUS_REMOVED
    assert case.retention_due_on == CLOSED

    with pytest.raises(NotAllowed):
        retention.set_retention_facts(
            case, sexual_abuse=False, keep_consent_on=CLOSED, by=people["dsl"], today=CLOSED
        )
    db.session.rollback()
    with pytest.raises(ValidationFailed):
        retention.set_retention_facts(
            case,
            sexual_abuse=False,
            keep_consent_on=CLOSED + timedelta(days=1),
            by=people["dpo"],
            today=CLOSED,
        )
    db.session.rollback()
    changed = retention.set_retention_facts(
        case, sexual_abuse=False, keep_consent_on=CLOSED, by=people["dpo"], today=CLOSED
    )
    db.session.commit()
    assert changed == ["keep_consent_on"]
    assert case.retention_rule == RetentionRule.FALSE_OR_MALICIOUS_KEPT
    assert case.retention_due_on == D(2040, 3, 4)
    (facts_event,) = events("case.retention_facts.changed")
    assert json.loads(facts_event.details_json) == {"fields": ["keep_consent_on"]}
    assert facts_event.actor_id == people["dpo"].id


@pytest.mark.parametrize(
    ("appeal_outcome", "rule"),
    [
        ("upheld", RetentionRule.FALSE_OR_MALICIOUS_REMOVED),
        # The finding of a false allegation is set aside: no grounds to remove it.
        ("overturned", RetentionRule.ALLEGATION),
    ],
)
def test_the_appeal_outcome_decides_the_retention(make, people, db, appeal_outcome, rule):
    case = make.case(people["school"], subject=subject(make, people), by=people["dsl"])
    decide(case, people, outcome="false")
    wf.lodge_appeal(case, lodged_on=DECIDED, grounds="Unfair", by=people["dsl"], today=DECIDED)
    wf.decide_appeal(
        case,
        outcome=appeal_outcome,
        rationale="Heard",
        varied_sanction=None,
        by=people["ceo"],
        today=CLOSED,
    )
    db.session.commit()
    assert case.retention_rule == rule
    assert [e["rule"] for e in retention_events(case.id)] == [rule.value]


def test_reopening_clears_the_retention_and_closing_again_restores_it(make, people, db):
    case = make.case(people["school"], subject=subject(make, people), by=people["dsl"])
    close(case, people, outcome="false")
    wf.reopen_case(case, reason="New evidence", by=people["dsl"])
    db.session.commit()
    assert case.retention_rule is None and case.retention_due_on is None
    assert retention_events(case.id)[-1] == {
        "rule": "not_closed",
        "due_on": None,
        "review": False,
        "held": False,
        "missing": [],
    }
    wf.withdraw_case(case, reason="Complainant withdrew", by=people["dsl"], today=CLOSED)
    db.session.commit()
    # Withdrawn after a decision: the outcome in force still applies.
    assert case.retention_rule == RetentionRule.FALSE_OR_MALICIOUS_REMOVED


def test_a_case_withdrawn_before_triage_is_kept_as_a_low_level_concern(make, people, db):
    case = make.case(people["school"], subject=subject(make, people), by=people["dsl"])
    wf.withdraw_case(case, reason="Logged in error", by=people["dsl"], today=CLOSED)
    db.session.commit()
    assert case.retention_rule == RetentionRule.LOW_LEVEL and case.retention_is_review


def test_sexual_abuse_marked_at_triage_holds_the_case(make, people, db):
    case = make.case(people["school"], subject=subject(make, people), by=people["dsl"])
    close(case, people, outcome="false", sexual_abuse=True)
    assert case.sexual_abuse
    assert case.retention_held == HoldReason.SEXUAL_ABUSE_INQUIRY
    assert case.retention_due_on is None
    assert retention_events(case.id)[-1]["held"] is True
    # Only the DPO or the CEO takes the mark off.
    with pytest.raises(NotAllowed):
        retention.set_retention_facts(
            case, sexual_abuse=False, keep_consent_on=None, by=people["head"], today=CLOSED
        )
    db.session.rollback()
    retention.set_retention_facts(
        case, sexual_abuse=False, keep_consent_on=None, by=people["ceo"], today=CLOSED
    )
    db.session.commit()
    assert case.retention_held is None and case.retention_due_on == CLOSED


# --- legal holds ---------------------------------------------------------------------------


def test_a_legal_hold_blocks_disposal_until_lifted(make, people, db, app):
    case = make.case(people["school"], subject=subject(make, people), by=people["dsl"])
    close(case, people, outcome="malicious")
    for refused in ("dsl", "head", "auditor"):
        with pytest.raises(NotAllowed):
            retention.place_legal_hold(case, reason="Tribunal", by=people[refused])
        db.session.rollback()
    with pytest.raises(ValidationFailed):
        retention.place_legal_hold(case, reason="  ", by=people["dpo"])
    db.session.rollback()

    hold = retention.place_legal_hold(
        case, reason="Employment tribunal claim ET/1234", by=people["dpo"]
    )
    db.session.commit()
    assert case.retention_held == HoldReason.LEGAL_HOLD and case.retention_due_on == CLOSED
    with pytest.raises(ValidationFailed):
        retention.place_legal_hold(case, reason="Again", by=people["ceo"])
    db.session.rollback()
    with pytest.raises(NotAllowed):
        retention.dispose_case(case, by=None, today=D(2030, 1, 1))
    db.session.rollback()

    result = run(app, "--apply", "--today", "2026-07-01")
    assert result.exit_code == 0, result.output
    assert case.reference in result.output and "held" in result.output
    assert db.session.get(Case, case.id) is not None

    retention.lift_legal_hold(case, reason="Claim settled", by=people["ceo"])
    db.session.commit()
    assert case.retention_held is None
    assert [h.is_active for h in db.session.scalars(select(LegalHold))] == [False]
    set_event, lifted_event = events("legal_hold.set") + events("legal_hold.lifted")
    assert set_event.object_id == hold.id and json.loads(set_event.details_json) == {}
    assert lifted_event.actor_id == people["ceo"].id
    assert "ET/1234" not in json.dumps([e.details_json for e in events("legal_hold.set")])

    result = run(app, "--apply", "--today", "2026-07-01")
    assert "disposed" in result.output
    assert db.session.get(Case, case.id) is None


def test_the_hold_pages_place_and_lift_a_hold(make, people, db, login):
    case = make.case(people["school"], subject=subject(make, people), by=people["dsl"])
    close(case, people)
    client = login(people["dpo"])
    url = f"/retention/cases/{case.id}/legal-hold"
    page = client.get(url)
    assert page.status_code == 200
    token = csrf_token_from(page.get_data(as_text=True))
    empty = client.post(url, data={"csrf_token": token, "reason": ""})
    assert empty.status_code == 200 and "Say why the case must be kept" in empty.get_data(True)
    done = client.post(url, data={"csrf_token": token, "reason": "Police investigation"})
    assert done.status_code == 302
    db.session.rollback()
    assert db.session.scalar(select(LegalHold.reason)) == "Police investigation"

    shown = html.unescape(client.get(f"/cases/{case.id}").get_data(as_text=True))
    assert 'data-testid="legal-hold-banner"' in shown and "Police investigation" in shown
    assert "Lift the legal hold" in shown

    lift = f"/retention/cases/{case.id}/legal-hold/lift"
    token = csrf_token_from(client.get(lift).get_data(as_text=True))
    assert client.post(lift, data={"csrf_token": token, "reason": "Closed"}).status_code == 302
    db.session.rollback()
    again = html.unescape(client.get(lift).get_data(as_text=True))
    assert "There is no legal hold on this case to lift" in again


def test_the_facts_page_needs_a_consent_date(make, people, db, login):
    case = make.case(people["school"], subject=subject(make, people), by=people["dsl"])
    close(case, people, outcome="false")
    client = login(people["ceo"])
    url = f"/retention/cases/{case.id}/facts"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    missing = client.post(
        url, data={"csrf_token": token, "sexual_abuse": "no", "keep_consent": "yes"}
    )
    assert "Enter the date they consented" in missing.get_data(as_text=True)
    saved = client.post(
        url,
        data={
            "csrf_token": token,
            "sexual_abuse": "no",
            "keep_consent": "yes",
            "keep_consent_on": ["1", "6", "2026"],
        },
    )
    assert saved.status_code == 302
    db.session.rollback()
    assert db.session.get(Case, case.id).keep_consent_on == D(2026, 6, 1)


# --- the case page and the DPO's list ------------------------------------------------------


def test_the_case_page_shows_the_rule_in_words(make, people, login):
    member = subject(make, people, retires_on=None)
    case = make.case(people["school"], subject=member, by=people["dsl"])
    close(case, people)
    page = html.unescape(login(people["dsl"]).get(f"/cases/{case.id}").get_data(as_text=True))
    assert "Kept until at least 3 March 2036, then reviewed" in page
    assert "Not recorded: the subject's normal retirement date" in page
    assert "Place a legal hold" not in page  # a DSL does not manage holds


def test_the_dpo_list_sorts_cases_by_what_they_need(make, people, db, login):
    school = people["school"]
    due = make.case(school, subject=subject(make, people), by=people["dsl"])
    close(due, people, outcome="false")
    review = make.case(school, subject=subject(make, people, retires_on=None), by=people["dsl"])
    close(review, people, outcome="unfounded")
    held = make.case(school, subject=subject(make, people), by=people["dsl"])
    close(held, people, sexual_abuse=True)
    kept = make.case(school, subject=subject(make, people), by=people["dsl"])
    close(kept, people)  # due in 2040: on no list
    overview = retention_overview(people["dpo"], D(2036, 3, 10), 30)
    assert [row.reference for row in overview.due_now] == [due.reference]
    assert [row.reference for row in overview.reviews] == [review.reference]
    assert [row.reference for row in overview.held] == [held.reference]
    assert [row.reference for row in overview.missing] == [review.reference]
    assert overview.coming == []

    client = login(people["dpo"])
    page = html.unescape(client.get("/retention/").get_data(as_text=True))
    for case in (due, review, held):
        assert case.reference in page
    assert kept.reference not in page
    assert len(events("retention.list.viewed")) == 1
    home = html.unescape(client.get("/").get_data(as_text=True))
    assert "Retention and disposal: what is due, held or missing facts" in home


def test_the_privacy_notice_states_the_rules_from_the_rules_module(client):
    page = html.unescape(client.get("/privacy").get_data(as_text=True))
    for words in [*NOTICE_RULE_WORDS.values(), *NOTICE_HOLD_WORDS.values()]:
        assert words in page
    assert "10 years from the date of the allegation" in page


# --- warnings and disposal -----------------------------------------------------------------


def test_warnings_go_once_to_the_school_dsls_and_the_dpo(make, people, app, smtp_server):
    school = people["school"]
    staff_user = make.user(Role.DEPUTY_DSL, school, email="subject@example.org")
    member = make.staff(school, name="Jordan Example", user=staff_user)
    member.left_on = D(2027, 8, 31)
    _db.session.commit()
    case = make.case(school, subject=member, by=people["dsl"])
    close(case, people, track="low_level", outcome="no_further_action")
    assert case.retention_due_on == D(2027, 9, 1)

    early = run(app, "--apply", "--today", "2027-07-01")
    assert "Nothing is due." in early.output and not smtp_server.envelopes

    dry = run(app, "--today", "2027-08-15")
    assert "would warn" in dry.output and not smtp_server.envelopes

    result = run(app, "--apply", "--today", "2027-08-15")
    assert result.exit_code == 0, result.output
    assert "Warnings: 3 sent" in result.output
    recipients = sorted(a for e in smtp_server.envelopes for a in e.rcpt_tos)
    # The DSL, the deputy and the DPO; not the headteacher, and never the subject.
    assert recipients == ["deputy@example.org", "dpo@example.org", "dsl@example.org"]
    for envelope in smtp_server.envelopes:
        body = what_a_reader_sees(envelope)
        for secret in (case.reference, "Jordan Example", "Oakfield Academy", "low-level"):
            assert secret.lower() not in body.lower()
        assert f"https://tracker.example.org/cases/{case.id}" in body

    again = run(app, "--apply", "--today", "2027-08-20")
    assert "Warnings: 0 sent, 3 already sent" in again.output

    # On the day, a review is listed and warned about, never disposed of.
    due = run(app, "--apply", "--today", "2027-09-02")
    assert "review" in due.output and "Disposed of 0 case(s)" in due.output
    assert _db.session.get(Case, case.id) is not None


def _every_row_as_text() -> dict[str, str]:
    """Every row of every table, as text, by table name."""
    texts = {}
    for table in _db.metadata.sorted_tables:
        rows = _db.session.execute(table.select()).all()
        texts[table.name] = "\n".join(repr(tuple(row)) for row in rows)
    return texts


def test_disposal_leaves_a_tombstone_a_verified_chain_and_nothing_else(
    make, people, db, app, login
):
    summary = "Zanzibar quokka photograph shared from a personal account"
    member = subject(make, people, name="Quentin Oddname")
    case = make.case(people["school"], subject=member, by=people["dsl"], summary=summary)
    dsl = people["dsl"]
    add_person(
        case,
        kind="witness",
        identifier="Wilhelmina Zed",
        year_group=None,
        role_in_case="Saw the post",
        by=dsl,
    )
    add_chronology_entry(
        case,
        kind="note",
        occurred_on=REPORTED,
        occurred_time=None,
        summary="Xylophone meeting note",
        by=dsl,
        today=DECIDED,
    )
    evidence = add_evidence(
        case,
        content=BytesIO(PNG),
        filename="yodel-screenshot.png",
        provenance=Provenance(description="Vortex description"),
        by=dsl,
    )
    db.session.commit()
    file = current_store().folder / evidence.stored_name
    assert file.exists()
    close(case, people, outcome="malicious")
    case_id, reference = case.id, case.reference
    client = login(people["dpo"])
    client.get(f"/cases/{case_id}")  # a read, and a notification row
    db.session.add(
        SentNotification(
            key=f"test:{case_id}", kind="decision_needed", case_id=case_id, recipient_id=dsl.id
        )
    )
    db.session.commit()

    dry = run(app, "--today", "2026-06-02")
    assert dry.exit_code == 0 and "would dispose" in dry.output and reference in dry.output
    db.session.expire_all()
    assert db.session.get(Case, case_id) is not None and file.exists()

    result = run(app, "--apply", "--today", "2026-06-02")
    assert result.exit_code == 0, result.output
    assert "disposed" in result.output and "Disposed of 1 case(s)" in result.output
    db.session.expire_all()

    assert db.session.get(Case, case_id) is None
    assert not file.exists()
    tombstone = db.session.get(CaseTombstone, case_id)
    assert (tombstone.reference, tombstone.school_id) == (reference, people["school"].id)
    assert tombstone.retention_rule == RetentionRule.FALSE_OR_MALICIOUS_REMOVED
    assert (tombstone.reported_on, tombstone.closed_on) == (REPORTED, CLOSED)
    assert tombstone.disposed_on == D(2026, 6, 2) and tombstone.disposed_by_id is None
    (disposed,) = events("case.disposed")
    assert disposed.actor_id is None and disposed.actor_role == "system"
    assert disposed.case_id == case_id and disposed.seq == tombstone.audit_seq
    assert json.loads(disposed.details_json) == {
        "reference": reference,
        "rule": "false_or_malicious_removed",
    }

    rows = _every_row_as_text()
    for secret in (
        summary,
        "Wilhelmina Zed",
        "Xylophone",
        "yodel-screenshot",
        "Vortex",
        "Weighed",
        evidence.sha256,
    ):
        found = [name for name, content in rows.items() if secret in content]
        assert not found, f"{secret!r} is still in {found}"
    # The subject stays on the staff register, and nowhere else.
    found = [name for name, content in rows.items() if "Quentin Oddname" in content]
    assert found == ["staff_members"]

    result = verify_chain(db.session, key_bytes(current_app.config["AUDIT_KEY"]))
    assert result.problem is None
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0

    # The trail still names the case, as disposed of.
    page = html.unescape(client.get(f"/audit/?case={reference}").get_data(as_text=True))
    assert "Disposed of on 2 June 2026" in page
    assert f"{reference} has been disposed of" in page

    # Its number is never given to another case.
    newer = make.case(people["school"], subject=member, by=dsl)
    assert newer.id != case_id


def test_a_case_no_longer_due_is_skipped_and_recorded_again(make, people, db, app):
    case = make.case(people["school"], subject=subject(make, people), by=people["dsl"])
    close(case, people, outcome="false")
    # Consent recorded behind the kept columns' back (as an old row might be).
    db.session.execute(
        text("UPDATE cases SET keep_consent_on = :on WHERE id = :id"),
        {"on": CLOSED, "id": case.id},
    )
    db.session.commit()
    result = run(app, "--apply", "--today", "2026-06-02")
    assert "skipped: no longer due" in result.output
    db.session.expire_all()
    assert db.session.get(Case, case.id).retention_rule == RetentionRule.FALSE_OR_MALICIOUS_KEPT


def test_closed_cases_without_a_retention_get_one(make, people, db, app):
    case = make.case(people["school"], subject=subject(make, people), by=people["dsl"])
    close(case, people)
    db.session.execute(
        text("UPDATE cases SET retention_rule = NULL, retention_due_on = NULL WHERE id = :id"),
        {"id": case.id},
    )
    db.session.commit()
    dry = run(app)
    assert "Would work out the retention of 1 closed case(s)" in dry.output
    db.session.expire_all()
    assert db.session.get(Case, case.id).retention_rule is None
    run(app, "--apply")
    db.session.expire_all()
    assert db.session.get(Case, case.id).retention_due_on == D(2040, 3, 4)


def test_the_file_of_a_disposed_case_survives_a_rollback(make, people, db):
    case = make.case(people["school"], subject=subject(make, people), by=people["dsl"])
    evidence = add_evidence(
        case, content=BytesIO(PNG), filename="a.png", provenance=Provenance(), by=people["dsl"]
    )
    db.session.commit()
    path: Path = current_store().folder / evidence.stored_name
    close(case, people, outcome="false")
    retention.dispose_case(case, by=None, today=CLOSED)
    db.session.rollback()
    assert path.exists() and db.session.get(Case, case.id) is not None


# --- the facts, entered where the school enters them ---------------------------------------


def test_a_leaving_date_on_the_staff_page_settles_a_low_level_review(make, people, db, login):
    member = subject(make, people)
    case = make.case(people["school"], subject=member, by=people["dsl"])
    close(case, people, track="low_level", outcome="no_further_action")
    client = login(people["dsl"])
    url = f"/staff/{member.id}/edit"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    data = {
        "csrf_token": token,
        "school": str(member.school_id),
        "full_name": member.full_name,
        "job_title": member.job_title,
        "employee_number": member.employee_number,
        "normal_retirement_date": ["3", "3", "2040"],
        "left_on": ["31", "8", "2027"],
    }
    response = client.post(url, data=data)
    assert response.status_code == 302
    assert "Saved the last day of employment" in client.get(response.headers["Location"]).text
    db.session.rollback()
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.retention_due_on == D(2027, 9, 1)
    assert retention_events(case.id)[-1]["due_on"] == "2027-09-01"
    bad = client.post(url, data={**data, "left_on": ["31", "8", "1900"]})
    assert "The leaving date must be after 1950" in bad.get_data(as_text=True)


def test_a_leaving_date_from_the_register_import_settles_a_low_level_review(
    make, people, db, login
):
    member = subject(make, people)
    case = make.case(people["school"], subject=member, by=people["dsl"])
    close(case, people, track="low_level", outcome="no_further_action")
    client = login(people["dsl"])
    line = (
        f"{member.full_name},{member.job_title},{member.employee_number},"
        f"{people['school'].code},,,31/08/2027,"
    )
    assert "1 changed" in import_file(client, csv_of(line))
    db.session.rollback()
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.retention_due_on == D(2027, 9, 1)
    assert retention_events(case.id)[-1]["due_on"] == "2027-09-01"


def test_a_leavers_account_is_disabled_once_their_last_day_has_passed(app, make, people, db):
    account = make.user(Role.DSL, people["school"], email="leaver@example.org")
    leaver = make.staff(people["school"], name="Lou Leaving", user=account)
    staying = make.staff(people["school"], name="Sol Staying", user=make.user(Role.DSL))
    leaver.left_on, staying.left_on = D(2026, 7, 31), D(2026, 8, 31)
    db.session.commit()
    client = app.test_client()
    assert sign_in(client, account.email).status_code == 302
    assert client.get("/").status_code == 200

    dry = run(app, "--today", "2026-08-01")
    assert "Would disable 1 account(s) of staff whose last day has passed." in dry.output
    assert run(app, "--today", "2026-07-31", "--apply").output.count("Disabled 0 account(s)") == 1
    done = run(app, "--today", "2026-08-01", "--apply")
    assert "Disabled 1 account(s) of staff whose last day has passed." in done.output
    db.session.rollback()
    assert db.session.get(User, account.id).disabled_at is not None
    assert db.session.get(User, staying.user_id).disabled_at is None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.disabled")).one()
    assert (event.actor_id, event.object_id, event.details) == (
        None,
        account.id,
        {"sessions_ended": 1},
    )
    db.session.commit()
    assert client.get("/").status_code == 302  # the session has ended
    assert "Disabled 0 account(s)" in run(app, "--today", "2026-08-02", "--apply").output


def test_the_triage_page_marks_sexual_abuse(make, people, db, login):
    case = make.case(people["school"], subject=subject(make, people), by=people["dsl"])
    client = login(people["dsl"])
    url = f"/cases/{case.id}/triage"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    response = client.post(
        url,
        data={
            "csrf_token": token,
            **HARM,
            "track": "allegation",
            "rationale": "Contact with a pupil",
            "sexual_abuse": "y",
        },
    )
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(Case, case.id).sexual_abuse is True
    (moved,) = events("case.transitioned")
    assert "sexual_abuse" in json.loads(moved.details_json)["fields"]
