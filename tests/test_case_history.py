"""A case's revisions: the full before and after of its details, kept apart from the audit
trail, and the history page that shows them to anyone who may read the case."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import delete, func, select

from tests.conftest import post_form, sign_in
from tests.test_audit_events_cases import edit_form, report_form
from tests.test_workflow_pages import investigating, lado, triage
from tracker.audit.actions import AuditAction
from tracker.audit.models import AuditEvent
from tracker.auth.roles import Role
from tracker.cases.history import value_in_words
from tracker.cases.models import Case, CaseRevision
from tracker.clock import today
from tracker.workflow import services as wf


@pytest.fixture
def school(make):
    school = make.school(name="Northfield Primary School")
    make.policy(school.trust)
    return school


@pytest.fixture
def dsl(make, school):
    return make.user(Role.DSL, school, name="Priya Shah")


@pytest.fixture
def case(make, school, dsl):
    return make.case(school, by=dsl, subject=make.staff(school, name="Liam Hughes"))


@pytest.fixture
def client_for(app):
    def signed_in(user):
        client = app.test_client()
        assert sign_in(client, user.email).status_code == 302
        return client

    return signed_in


def revisions(db, case) -> list[CaseRevision]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(CaseRevision)
            .where(CaseRevision.case_id == case.id)
            .order_by(CaseRevision.number)
        )
    )


def event_seq(db, action: AuditAction, case) -> int:
    return db.session.scalar(
        select(func.max(AuditEvent.seq)).where(
            AuditEvent.action == action.value, AuditEvent.case_id == case.id
        )
    )


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- revisions are written by the services ---------------------------------------------


def test_logging_a_concern_writes_revision_one_with_every_detail(db, case, dsl):
    [first] = revisions(db, case)
    assert (first.number, first.changed_by_id) == (1, dsl.id)
    assert first.changes == {
        "source": [None, "parent_complaint"],
        "source_detail": [None, ""],
        "occurred_on": [None, "2026-03-02"],
        "reported_on": [None, "2026-03-04"],
        "platform": [None, "instagram"],
        "platform_detail": [None, ""],
        "summary": [None, "Messaged pupils from a personal account."],
    }
    assert first.audit_seq == event_seq(db, AuditAction.CASE_CREATED, case)


def test_a_concern_logged_through_the_page_has_its_revision(db, dsl, case, client_for):
    client = client_for(dsl)
    data = report_form(client, case)
    assert post_form(client, "/cases/new", data).status_code == 302
    db.session.rollback()
    logged = db.session.scalars(select(Case).order_by(Case.id.desc()).limit(1)).one()
    [first] = revisions(db, logged)
    assert first.changes["platform"] == [None, "tiktok"]
    assert first.changes["summary"] == [None, "Filmed pupils in class and posted it."]
    assert first.audit_seq == event_seq(db, AuditAction.CASE_CREATED, logged)


def test_an_edit_writes_the_next_revision_with_before_and_after(db, case, dsl, client_for):
    client = client_for(dsl)
    data = edit_form(
        case,
        occurred_on=["1", "3", "2026"],
        platform="other",
        platform_detail="A school forum",
        summary="Messaged pupils on a school forum.",
    )
    assert post_form(client, f"/cases/{case.id}/edit", data).status_code == 302
    first, second = revisions(db, case)
    assert (second.number, second.changed_by_id) == (2, dsl.id)
    assert second.changes == {
        "occurred_on": ["2026-03-02", "2026-03-01"],
        "platform": ["instagram", "other"],
        "platform_detail": ["", "A school forum"],
        "summary": [
            "Messaged pupils from a personal account.",
            "Messaged pupils on a school forum.",
        ],
    }
    assert second.audit_seq == event_seq(db, AuditAction.CASE_UPDATED, case)
    assert first.audit_seq < second.audit_seq

    # A second change takes the next number; a save that changes nothing writes none.
    case = db.session.get(Case, case.id)
    assert post_form(client, f"/cases/{case.id}/edit", edit_form(case, source="anonymous"))
    case = db.session.get(Case, case.id)
    assert post_form(client, f"/cases/{case.id}/edit", edit_form(case)).status_code == 302
    assert [(r.number, r.changes) for r in revisions(db, case)[2:]] == [
        (3, {"source": ["parent_complaint", "anonymous"]})
    ]


def test_a_failed_edit_writes_no_revision(db, case, dsl, client_for):
    client = client_for(dsl)
    stale = edit_form(case, summary="Typed over an old version.")
    assert post_form(client, f"/cases/{case.id}/edit", edit_form(case, summary="First."))
    conflict = post_form(client, f"/cases/{case.id}/edit", stale)
    assert "Someone else saved changes" in page_text(conflict)
    invalid = edit_form(db.session.get(Case, case.id), platform="other", platform_detail="")
    assert "Enter where it happened" in page_text(
        post_form(client, f"/cases/{case.id}/edit", invalid)
    )
    assert [r.number for r in revisions(db, case)] == [1, 2]


# --- the history page ------------------------------------------------------------------


def test_the_case_page_links_to_the_history(case, make, client_for):
    for user in [make.user(Role.DSL, case.school), make.user(Role.AUDITOR)]:
        page = client_for(user).get(f"/cases/{case.id}").get_data(as_text=True)
        assert f'href="/cases/{case.id}/history"' in page
        assert re.search(r'href="/cases/\d+/history">History<', page)


def test_only_those_who_audit_the_school_see_the_audit_trail_link(case, make, client_for):
    audit_link = f'href="/audit/cases/{case.id}"'
    for user, shown in [
        (make.user(Role.DSL, case.school), False),
        (make.user(Role.HEADTEACHER, case.school), False),
        (make.user(Role.AUDITOR), True),
        (make.user(Role.AUDITOR, case.school), True),
        (make.user(Role.DPO), True),
    ]:
        page = client_for(user).get(f"/cases/{case.id}").get_data(as_text=True)
        assert (audit_link in page) is shown, user.grants[0].role


def test_the_history_page_shows_each_revision_oldest_first(db, case, dsl, client_for):
    client = client_for(dsl)
    data = edit_form(
        case,
        reported_on=["5", "3", "2026"],
        platform="other",
        platform_detail="A school forum",
        summary="Messaged pupils on a school forum.\nTwice.",
    )
    assert post_form(client, f"/cases/{case.id}/edit", data).status_code == 302
    page = page_text(client.get(f"/cases/{case.id}/history"))
    assert "History of the case details" in page
    logged = page[page.index('data-testid="revision-1"') : page.index('data-testid="revision-2"')]
    changed = page[page.index('data-testid="revision-2"') :]
    # As logged: every field, in words.
    assert "Case logged" in logged and "Priya Shah" in logged
    assert "Complaint from a parent or carer" in logged
    assert "2 March 2026" in logged and "Instagram" in logged
    assert "Messaged pupils from a personal account." in logged
    # The change: each changed field with its label, before and after, and nothing else.
    assert "Change 1: details changed" in changed
    rows = re.findall(
        r'<th scope="row" class="govuk-table__header">([^<]+)</th>\s*'
        r'<td class="govuk-table__cell">(.*?)</td>\s*<td class="govuk-table__cell">(.*?)</td>',
        changed,
    )
    assert rows == [
        ("Reported to the school", "4 March 2026", "5 March 2026"),
        ("Where", "Instagram", "Somewhere else"),
        (
            "Where, if somewhere else",
            '<span class="app-empty-state">Blank</span>',
            "A school forum",
        ),
    ]
    # Narrative: whole before and after blocks, not table cells.
    assert '<h3 class="govuk-heading-s">What happened</h3>' in changed
    blocks = re.findall(
        r'<div class="govuk-inset-text app-multiline[^"]*">(.*?)</div>', changed, re.S
    )
    assert blocks == [
        "Messaged pupils from a personal account.",
        "Messaged pupils on a school forum.\nTwice.",
    ]
    assert "How it came to light" not in changed  # unchanged fields are not listed


def test_the_history_page_records_its_read(db, case, make, client_for):
    auditor = make.user(Role.AUDITOR)
    client = client_for(auditor)
    assert client.get(f"/cases/{case.id}/history").status_code == 200
    db.session.rollback()
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert (event.action, event.actor_id, event.case_id, event.school_id) == (
        AuditAction.CASE_HISTORY_VIEWED.value,
        auditor.id,
        case.id,
        case.school_id,
    )
    assert (event.object_type, event.object_id, event.details) == (
        "case",
        case.id,
        {"page": "case"},
    )


def test_a_case_with_no_revisions_says_so(db, case, dsl, client_for):
    # As for a case logged before the tracker kept revisions.
    db.session.execute(delete(CaseRevision).where(CaseRevision.case_id == case.id))
    db.session.commit()
    page = page_text(client_for(dsl).get(f"/cases/{case.id}/history"))
    assert "No history is recorded for this case." in page
    assert "revision-1" not in page


@pytest.mark.parametrize("who", ["other_school", "subject", "trust_admin"])
def test_someone_who_cannot_read_the_case_gets_404_and_it_is_audited(
    db, make, school, case, client_for, who
):
    if who == "other_school":
        user = make.user(Role.DSL, make.school(school.trust))
    elif who == "subject":
        user = make.user(Role.HEADTEACHER, school)
        case = make.case(school, subject=make.staff(school, user=user))
    else:
        user = make.user(Role.TRUST_ADMIN)
    response = client_for(user).get(f"/cases/{case.id}/history")
    assert response.status_code == 404
    assert "Messaged pupils" not in response.get_data(as_text=True)
    db.session.rollback()
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert (event.action, event.actor_id, event.object_type, event.object_id, event.outcome) == (
        AuditAction.ACCESS_DENIED.value,
        user.id,
        "case",
        case.id,
        "denied",
    )
    assert event.details == {"endpoint": "cases.history", "status": 404}
    assert not db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == AuditAction.CASE_HISTORY_VIEWED.value,
            AuditEvent.actor_id == user.id,
        )
    )


def test_values_in_words():
    assert value_in_words("source", "pupil_disclosure") == "Disclosure by a pupil"
    assert value_in_words("platform", "twitter_x") == "Twitter/X"
    assert value_in_words("platform", "myspace") == "myspace"  # retired since: as stored
    assert value_in_words("occurred_on", "2026-03-02") == "2 March 2026"
    assert value_in_words("summary", "") is None
    assert value_in_words("summary", None) is None


# --- what workflow steps write is kept too ----------------------------------------------


def test_rewriting_the_investigation_summary_keeps_the_first_one(db, make, school, case, dsl):

    head = make.user(Role.HEADTEACHER, school)
    investigating(db, case, dsl)
    wf.submit_for_decision(case, summary="First account: two messages.", by=dsl)
    db.session.commit()
    wf.return_for_investigation(case, reason="Speak to the pupil's parent.", by=head)
    wf.submit_for_decision(case, summary="Second account: three messages.", by=dsl)
    db.session.commit()

    written = [r.changes for r in revisions(db, case) if "investigation_summary" in r.changes]
    assert written == [
        {"investigation_summary": [None, "First account: two messages."]},
        {
            "investigation_summary": [
                "First account: two messages.",
                "Second account: three messages.",
            ]
        },
    ]
    # Each names the audit event of its step.
    last = revisions(db, case)[-1]
    assert last.audit_seq == event_seq(db, AuditAction.CASE_TRANSITIONED, case)


def test_correcting_the_lado_advice_keeps_the_first_record(db, case, dsl, client_for):

    triage(db, case, dsl)
    lado(db, case, dsl)  # records "Investigate internally." today
    wf.record_lado_advice(
        case, advice="Refer to the police first.", advised_on=today(), today=today(), by=dsl
    )
    db.session.commit()
    advice = [r.changes for r in revisions(db, case) if "lado_advice" in r.changes]
    assert [change["lado_advice"] for change in advice] == [
        [None, "Investigate internally."],
        ["Investigate internally.", "Refer to the police first."],
    ]
    # The same date both times: only the advice changed.
    assert "lado_advice_on" not in advice[1]
    page = page_text(client_for(dsl).get(f"/cases/{case.id}/history"))
    assert "The LADO's advice changed" in page
    assert "Investigate internally." in page and "Refer to the police first." in page


def test_sending_the_same_summary_again_adds_no_revision(db, make, school, case, dsl):

    head = make.user(Role.HEADTEACHER, school)
    investigating(db, case, dsl)
    wf.submit_for_decision(case, summary="The account.", by=dsl)
    db.session.commit()
    wf.return_for_investigation(case, reason="Check the dates.", by=head)
    wf.submit_for_decision(case, summary="The account.\r\n", by=dsl)  # the same, as posted
    db.session.commit()
    written = [r for r in revisions(db, case) if "investigation_summary" in r.changes]
    assert len(written) == 1
