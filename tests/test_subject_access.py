"""Subject access requests: recording, deadlines, extension, redaction and the export.

The export is checked the way the person receiving it would read it: the ZIP is opened,
the JSON parsed and the PDF's text extracted (pypdf), and no pupil, parent, witness or
manually redacted phrase may appear anywhere in either.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.audit_helpers import events
from tests.conftest import csrf_token_from, post_form
from tests.test_evidence import PNG
from tracker.audit.actions import AuditAction
from tracker.auth.models import User
from tracker.auth.roles import Role
from tracker.cases.evidence import Provenance, add_evidence
from tracker.cases.models import Case
from tracker.cases.services import add_chronology_entry, add_person
from tracker.clock import today
from tracker.errors import NotAllowed, ValidationFailed
from tracker.extensions import db as _db
from tracker.privacy.deadlines import extended_response_due, response_due
from tracker.privacy.models import ManualRedaction, SubjectAccessExport, SubjectAccessRequest
from tracker.privacy.redaction import Phrase, Redactor
from tracker.privacy.services import (
    add_request_redaction,
    close_request,
    extend_deadline,
    open_requests_count,
    produce_export,
    record_request,
    release_request,
)
from tracker.staff.models import StaffMember
from tracker.workflow import services as workflow

# --- a case with third parties in every kind of field -----------------------------------

# Words that identify third parties: none may appear in an export.
THIRD_PARTY_WORDS = ["Dana", "Oakes", "Pupil B", "Year 8", "received the messages"]
# Initials, in any of the ways people write them.
THIRD_PARTY_INITIALS = [re.compile(r"\bJ\.?\s?S\b"), re.compile(r"\bT\.?\s?R\b")]
MANUAL_PHRASE = "Kieran Bell"
MANUALLY_REDACTED = (MANUAL_PHRASE, "Kieran")


@dataclass
class Scenario:
    case: Case
    subject: StaffMember
    dsl: User
    head: User
    dpo: User


def case_with_third_parties(make, *, decide: bool = True) -> Scenario:
    """An allegation about Liam Hughes, decided, with two pupils, a parent and a witness
    named (by initials and by name) in the summary, chronology, rationales and advice."""
    trust = make.trust(name="Horizon Multi Academy Trust", code="HMAT")
    school = make.school(trust, name="Northfield Primary School")
    make.policy(trust)
    dsl = make.user(Role.DSL, school, email="dsl@example.org", name="Priya Shah")
    head = make.user(Role.HEADTEACHER, school, email="head@example.org", name="Hannah Jones")
    dpo = make.user(Role.DPO, trust=trust, email="dpo@example.org", name="Dee Protection")
    subject = make.staff(school, name="Liam Hughes")
    case = make.case(
        school,
        subject=subject,
        by=dsl,
        summary=(
            "Liam Hughes messaged J.S. and Pupil B on Instagram late at night. Mrs Dana Oakes, "
            "the mother of J.S., complained to the school."
        ),
    )
    add_person(
        case,
        kind="pupil",
        identifier="J.S.",
        year_group="Year 8",
        role_in_case="received the messages",
        by=dsl,
    )
    add_person(
        case,
        kind="pupil",
        identifier="Pupil B",
        year_group="Year 8",
        role_in_case="was sent a friend request",
        by=dsl,
    )
    add_person(
        case,
        kind="parent_carer",
        identifier="Mrs Dana Oakes",
        year_group=None,
        role_in_case="complained",
        by=dsl,
    )
    add_person(
        case,
        kind="witness",
        identifier="T.R.",
        year_group=None,
        role_in_case="saw the post",
        by=dsl,
    )
    add_chronology_entry(
        case,
        kind="meeting",
        occurred_on=date(2026, 3, 5),
        occurred_time=None,
        summary="Spoke to TR, who saw JS reading the messages. Dana said she kept screenshots.",
        by=dsl,
        today=today(),
    )
    add_chronology_entry(
        case,
        kind="note",
        occurred_on=date(2026, 3, 6),
        occurred_time=None,
        summary=f"Liam Hughes said {MANUAL_PHRASE} forwarded him the post.",
        by=dsl,
        today=today(),
    )
    add_evidence(
        case,
        content=BytesIO(PNG),
        filename="messages.png",
        provenance=Provenance(description="Screenshot sent by Mrs Oakes", captured_by="D. Oakes"),
        by=dsl,
    )
    workflow.triage(
        case,
        track="allegation",
        answers={**dict.fromkeys(workflow.HARM_QUESTIONS, "no"), "harm_risk": "yes"},
        rationale="Private messages to J. S. at night suggest a risk to children.",
        by=dsl,
    )
    from tracker.db import utcnow

    workflow.record_lado_referral(
        case, referred_at=utcnow(), method="phone", reference="LADO-117", by=dsl
    )
    workflow.record_lado_advice(
        case,
        advice="Investigate internally; T.R. need not be interviewed again.",
        advised_on=today(),
        today=today(),
        by=dsl,
    )
    workflow.start_investigation(case, investigator=dsl, by=dsl)
    workflow.submit_for_decision(
        case, summary="He admitted messaging JS; Oakes provided the screenshots.", by=dsl
    )
    if decide:
        workflow.decide(
            case,
            workflow.DecisionInput(
                outcome="substantiated",
                sanction="final_written_warning",
                rationale="Admitted messaging pupils; Mrs Oakes's screenshots match.",
                may_mention_in_references=True,
            ),
            by=head,
            today=today(),
        )
    _db.session.commit()
    return Scenario(case, subject, dsl, head, dpo)


def pdf_text(content: bytes) -> str:
    """The PDF's text, with every run of white space made one space."""
    reader = PdfReader(BytesIO(content))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def assert_no_third_party(text: str, *, also: tuple[str, ...] = ()) -> None:
    for word in [*THIRD_PARTY_WORDS, *also]:
        assert word.lower() not in text.lower(), word
    for pattern in THIRD_PARTY_INITIALS:
        assert not pattern.search(text), pattern.pattern


def open_zip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def new_request(scenario: Scenario, received_on: date | None = None) -> SubjectAccessRequest:
    found = record_request(
        scenario.subject,
        received_on=received_on or today(),
        by=scenario.dpo,
        today=today(),
    )
    _db.session.commit()
    return found


# --- deadlines -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received_on", "due_on"),
    [
        # 28 February 2026 is a Saturday: the Monday after.
        (date(2026, 1, 31), date(2026, 3, 2)),
        # 31 October has no 31 November; 30 November 2025 is a Sunday.
        (date(2025, 10, 31), date(2025, 12, 1)),
        # A year end: 31 January 2026 is a Saturday.
        (date(2025, 12, 31), date(2026, 2, 2)),
        # An ordinary month end: 30 April 2026 is a Thursday.
        (date(2026, 3, 30), date(2026, 4, 30)),
    ],
)
def test_recording_from_the_form_sets_the_deadline_across_month_ends(
    login, make, received_on, due_on
):
    scenario = case_with_third_parties(make, decide=False)
    client = login(scenario.dpo)
    response = post_form(
        client,
        "/privacy/requests/new",
        {
            "staff_member": str(scenario.subject.id),
            "received_on": [str(received_on.day), str(received_on.month), str(received_on.year)],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    _db.session.rollback()
    found = _db.session.scalars(select(SubjectAccessRequest)).one()
    assert found.received_on == received_on
    assert found.due_on == due_on
    assert found.staff_member_id == scenario.subject.id
    assert found.status == "open"
    recorded = events(_db.session, action=AuditAction.SAR_RECORDED)
    assert len(recorded) == 1
    assert recorded[0].details == {
        "staff_member_id": scenario.subject.id,
        "received_on": received_on.isoformat(),
    }
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{due_on.day} {due_on:%B %Y}" in page


def test_bad_dates_are_refused_with_what_was_typed_kept(login, make):
    scenario = case_with_third_parties(make, decide=False)
    client = login(scenario.dpo)
    tomorrow = today() + timedelta(days=1)
    response = post_form(
        client,
        "/privacy/requests/new",
        {
            "staff_member": str(scenario.subject.id),
            "received_on": [str(tomorrow.day), str(tomorrow.month), str(tomorrow.year)],
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "must be today or in the past" in html
    assert f'value="{tomorrow.year}"' in html
    response = post_form(
        client,
        "/privacy/requests/new",
        {"staff_member": str(scenario.subject.id), "received_on": ["31", "2", "2026"]},
    )
    assert "must be a real date" in response.get_data(as_text=True)
    _db.session.rollback()
    assert _db.session.scalars(select(SubjectAccessRequest)).all() == []


def test_extension_counts_from_receipt_and_only_within_the_first_month(make):
    scenario = case_with_third_parties(make, decide=False)
    found = record_request(
        scenario.subject, received_on=date(2026, 1, 31), by=scenario.dpo, today=date(2026, 2, 2)
    )
    assert found.due_on == date(2026, 3, 2)
    with pytest.raises(ValidationFailed, match="Say why"):
        extend_deadline(
            found,
            reason="complex",
            further_months=2,
            note=" ",
            by=scenario.dpo,
            today=date(2026, 2, 20),
        )
    with pytest.raises(NotAllowed, match="within the first month"):
        extend_deadline(
            found,
            reason="complex",
            further_months=2,
            note="Many records",
            by=scenario.dpo,
            today=date(2026, 3, 3),
        )
    due = extend_deadline(
        found,
        reason="complex",
        further_months=2,
        note="Many records",
        by=scenario.dpo,
        today=date(2026, 3, 2),
    )
    # From receipt: 31 January plus three months is 30 April, not 2 May.
    assert due == date(2026, 4, 30) == found.extended_due_on == found.effective_due_on
    assert found.is_overdue(date(2026, 4, 30)) is False
    assert found.is_overdue(date(2026, 5, 1)) is True
    with pytest.raises(NotAllowed, match="already been extended"):
        extend_deadline(
            found,
            reason="numerous",
            further_months=1,
            note="Again",
            by=scenario.dpo,
            today=date(2026, 3, 2),
        )
    extended = events(_db.session, action=AuditAction.SAR_EXTENDED)
    assert [event.details for event in extended] == [{"reason": "complex", "further_months": 2}]


def test_extending_through_the_form(login, make):
    scenario = case_with_third_parties(make, decide=False)
    received = today() - timedelta(days=3)
    found = new_request(scenario, received)
    client = login(scenario.dpo)
    url = f"/privacy/requests/{found.id}/extend"
    response = post_form(client, url, {"reason": "complex", "further_months": "1", "note": ""})
    assert "Say why the extension is needed" in response.get_data(as_text=True)
    response = post_form(
        client,
        url,
        {"reason": "numerous", "further_months": "1", "note": "Told them by e-mail today."},
    )
    assert response.status_code == 302
    _db.session.rollback()
    found = _db.session.get(SubjectAccessRequest, found.id, populate_existing=True)
    assert found.extension_reason == "numerous"
    assert found.extended_due_on == extended_response_due(received, "numerous", 1)
    assert found.extended_due_on > response_due(received)
    assert found.extension_note == "Told them by e-mail today."


# --- redaction ---------------------------------------------------------------------------


def test_the_redactor_labels_consistently_and_keeps_the_subjects_name(make):
    scenario = case_with_third_parties(make, decide=False)
    people = scenario.case.people
    redactor = Redactor(
        people, [Phrase(7, "kieran bell", "third_party_other")], keep=["Liam Hughes"]
    )
    text = redactor.text(
        "Liam Hughes told J. S. and Pupil B that KIERAN  BELL and Dana Oakes knew; JS agreed.",
        record_type="case",
        record_id=1,
        field="summary",
    )
    assert text == (
        "Liam Hughes told [Pupil 1] and [Pupil 2] that [Redacted] and [Parent or carer 1] "
        "knew; [Pupil 1] agreed."
    )
    # Capitals only for initials: "js" in a word, or "am", are not a pupil.
    assert redactor.text("Adjs", record_type="case", record_id=1, field="x") == "Adjs"
    assert [redactor.person(p)["label"] for p in people] == [
        "Pupil 1",
        "Pupil 2",
        "Parent or carer 1",
        "Witness 1",
    ]
    # A third party who shares a word of a kept name does not take it from the subject.
    redactor = Redactor(people[3:], keep=["Liam Hughes"])
    assert (
        redactor.text("Liam Hughes and T.R.", record_type="case", record_id=1, field="x")
        == "Liam Hughes and [Witness 1]"
    )


def test_the_export_contains_no_third_party_anywhere_and_logs_each_redaction(make):
    scenario = case_with_third_parties(make)
    found = new_request(scenario)
    manual = add_request_redaction(
        found, phrase=MANUAL_PHRASE, reason="third_party_other", by=scenario.dpo
    )
    _db.session.commit()

    exported = produce_export(found, by=scenario.dpo)
    _db.session.commit()
    files = open_zip(exported.content)
    assert set(files) == {
        "README.txt",
        "subject-access-export.pdf",
        "subject-access-export.json",
        "redaction-log.csv",
    }
    raw_json = files["subject-access-export.json"].decode()
    text = pdf_text(files["subject-access-export.pdf"])
    log = files["redaction-log.csv"].decode()
    for content in (raw_json, text, log):
        assert_no_third_party(content)
        assert MANUAL_PHRASE.lower() not in content.lower()

    data = json.loads(raw_json)
    assert data["format"] == "sar-export/1"
    assert data["data_subject"]["full_name"] == "Liam Hughes"
    (record,) = data["cases"]
    assert record["reference"] == scenario.case.reference
    assert [p["label"] for p in record["people_involved"]] == [
        "Pupil 1",
        "Pupil 2",
        "Parent or carer 1",
        "Witness 1",
    ]
    assert record["chronology"][0]["summary"] == (
        "Spoke to [Witness 1], who saw [Pupil 1] reading the messages. [Parent or carer 1] said "
        "she kept screenshots."
    )
    assert record["chronology"][1]["summary"] == (
        "Liam Hughes said [Redacted] forwarded him the post."
    )
    assert record["evidence"][0]["sha256"] == scenario.case.evidence[0].sha256
    assert record["evidence"][0]["file_included"] is False
    assert record["decisions"][0]["rationale"] == (
        "Admitted messaging pupils; [Parent or carer 1]'s screenshots match."
    )
    # The subject's own data and the staff acting in role are kept.
    for kept in ("Liam Hughes", "Priya Shah", "Hannah Jones", scenario.case.reference):
        assert kept in raw_json
        assert kept in text
    assert "[Witness 1]" in text and "[Redacted]" in text
    assert scenario.case.evidence[0].sha256 in text.replace(" ", "")

    rows = list(csv.DictReader(io.StringIO(log)))
    assert len(rows) == len({tuple(row.values()) for row in rows})
    assert data["redactions"]["entries"] == len(rows)
    assert data["redactions"]["count"] == sum(int(row["occurrences"]) for row in rows)
    chronology_id = scenario.case.chronology[1].id
    assert {
        "kind": "manual_phrase",
        "record_type": "chronology_entry",
        "record_id": str(chronology_id),
        "field": "summary",
        "reason": "third_party_other",
        "reason_label": "Identifies another person",
        "replacement": "Redacted",
        "occurrences": "1",
        "manual_redaction_id": str(manual.id),
    } in rows
    person_fields = {
        (row["record_id"], row["field"]) for row in rows if row["kind"] == "person_record"
    }
    for person in scenario.case.people:
        assert (str(person.id), "identifier") in person_fields
        assert (str(person.id), "role_in_case") in person_fields
    in_text = {
        (row["record_type"], row["field"]) for row in rows if row["kind"] == "person_in_text"
    }
    assert {
        ("case", "summary"),
        ("chronology_entry", "summary"),
        ("case", "triage_rationale"),
        ("case", "lado_advice"),
        ("case", "investigation_summary"),
        ("decision", "rationale"),
        ("evidence", "description"),
        ("evidence", "captured_by"),
    } <= in_text
    assert "Evidence files" in files["README.txt"].decode()


def test_the_export_is_an_audited_read_with_counts_only(make):
    scenario = case_with_third_parties(make)
    found = new_request(scenario)
    exported = produce_export(found, by=scenario.dpo)
    _db.session.commit()
    (event,) = events(_db.session, action=AuditAction.SAR_EXPORTED)
    assert AuditAction.SAR_EXPORTED.is_read
    stored = _db.session.scalars(select(SubjectAccessExport)).one()
    assert event.details == {
        "request_id": found.id,
        "cases": 1,
        "redactions": stored.redactions,
    }
    assert stored.redactions > 10
    assert event.actor_id == scenario.dpo.id
    assert event.object_type == "subject_access_request" and event.object_id == found.id
    assert stored.sha256 == exported.sha256 and stored.size_bytes == len(exported.content)


def test_redacting_and_downloading_through_the_pages(login, make):
    scenario = case_with_third_parties(make)
    found = new_request(scenario)
    client = login(scenario.dpo)
    page = client.get(f"/privacy/requests/{found.id}").get_data(as_text=True)
    assert scenario.case.reference in page
    # The preview already has the recorded people redacted, but not Kieran Bell.
    assert "Spoke to [Witness 1], who saw [Pupil 1]" in page
    assert MANUAL_PHRASE in page
    assert len(events(_db.session, action=AuditAction.SAR_VIEWED)) == 1

    url = f"/privacy/requests/{found.id}/redactions"
    form_url = f"/privacy/requests/{found.id}"
    response = post_form(client, url, {"phrase": "K", "reason": ""}, form_url=form_url)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "at least 2 characters" in html or "Choose why" in html
    response = post_form(
        client, url, {"phrase": MANUAL_PHRASE, "reason": "third_party_witness"}, form_url=form_url
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{form_url}#preview"
    assert "Redaction added: the preview below shows the text as it will be exported." in (
        client.get(response.headers["Location"]).get_data(as_text=True)
    )
    _db.session.rollback()
    (stored,) = _db.session.scalars(select(ManualRedaction)).all()
    assert stored.phrase == MANUAL_PHRASE and stored.request_id == found.id
    (added,) = events(_db.session, action=AuditAction.SAR_REDACTION_ADDED)
    assert added.details == {"request_id": found.id, "reason": "third_party_witness"}
    response = post_form(
        client, url, {"phrase": "kieran bell", "reason": "third_party_witness"}, form_url=form_url
    )
    assert "already redacted" in response.get_data(as_text=True)

    page = client.get(form_url).get_data(as_text=True)
    assert "Liam Hughes said [Redacted] forwarded him the post." in page
    token = csrf_token_from(page)
    response = client.post(f"/privacy/requests/{found.id}/export", data={"csrf_token": token})
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    files = open_zip(response.data)
    assert_no_third_party(files["subject-access-export.json"].decode(), also=MANUALLY_REDACTED)
    assert_no_third_party(pdf_text(files["subject-access-export.pdf"]), also=MANUALLY_REDACTED)
    _db.session.rollback()
    assert len(_db.session.scalars(select(SubjectAccessExport)).all()) == 1

    response = post_form(client, f"/privacy/requests/{found.id}/release", {}, form_url=form_url)
    assert response.status_code == 302
    _db.session.rollback()
    assert _db.session.get(SubjectAccessRequest, found.id, populate_existing=True).status == (
        "released"
    )


def test_a_missing_pdf_library_is_a_clear_message_and_records_nothing(login, make, monkeypatch):
    scenario = case_with_third_parties(make, decide=False)
    found = new_request(scenario)
    client = login(scenario.dpo)
    token = csrf_token_from(client.get(f"/privacy/requests/{found.id}").get_data(as_text=True))
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as if it could not be imported
    response = client.post(f"/privacy/requests/{found.id}/export", data={"csrf_token": token})
    assert response.status_code == 503
    assert "Pango" in response.get_data(as_text=True)
    _db.session.rollback()
    assert _db.session.scalars(select(SubjectAccessExport)).all() == []
    assert events(_db.session, action=AuditAction.SAR_EXPORTED) == []


# --- closing without a release ------------------------------------------------------------

REFUSAL_NOTE = "Told the person on 3 March: a copy of the same request answered last week."


def test_closing_is_the_dpos_needs_a_reason_and_a_note_for_a_refusal(make):
    scenario = case_with_third_parties(make, decide=False)
    found = new_request(scenario)
    with pytest.raises(NotAllowed, match="data protection officer"):
        close_request(found, reason="withdrawn", note="", by=scenario.head)
    with pytest.raises(ValidationFailed, match="Choose why") as refused:
        close_request(found, reason="bored", note="", by=scenario.dpo)
    assert refused.value.field == "reason"
    for reason in ("refused", "other"):
        with pytest.raises(ValidationFailed, match="Say why") as refused:
            close_request(found, reason=reason, note="  \n ", by=scenario.dpo)
        assert refused.value.field == "note"
    with pytest.raises(ValidationFailed, match="2,000 characters") as refused:
        close_request(found, reason="refused", note="x" * 2001, by=scenario.dpo)
    assert refused.value.field == "note"
    assert found.is_open and found.closure_reason is None
    assert events(_db.session, action=AuditAction.SAR_CLOSED) == []

    close_request(found, reason="refused", note=f"  {REFUSAL_NOTE} ", by=scenario.dpo)
    _db.session.commit()
    found = _db.session.get(SubjectAccessRequest, found.id, populate_existing=True)
    assert found.status == "closed" and found.closed_without_release and not found.is_open
    assert found.closure_reason == "refused" and found.closure_note == REFUSAL_NOTE
    assert found.closed_by_id == scenario.dpo.id and found.closed_at is not None
    (closed,) = events(_db.session, action=AuditAction.SAR_CLOSED)
    assert closed.details == {"reason": "refused"}
    assert closed.actor_id == scenario.dpo.id
    assert closed.object_type == "subject_access_request" and closed.object_id == found.id
    assert not AuditAction.SAR_CLOSED.is_read
    assert "told the person" not in json.dumps(closed.details).lower()

    # Closed is final: not closed again, released, extended, redacted or exported.
    with pytest.raises(NotAllowed, match="no longer be changed"):
        close_request(found, reason="withdrawn", note="", by=scenario.dpo)
    with pytest.raises(NotAllowed, match="no longer be changed"):
        release_request(found, by=scenario.dpo)
    with pytest.raises(NotAllowed, match="no longer be changed"):
        extend_deadline(
            found, reason="complex", further_months=1, note="x", by=scenario.dpo, today=today()
        )
    with pytest.raises(NotAllowed, match="no longer be changed"):
        add_request_redaction(found, phrase="Kieran", reason="third_party_other", by=scenario.dpo)
    with pytest.raises(NotAllowed, match="nothing is to be exported"):
        produce_export(found, by=scenario.dpo)
    _db.session.rollback()
    assert len(events(_db.session, action=AuditAction.SAR_CLOSED)) == 1
    assert _db.session.scalars(select(SubjectAccessExport)).all() == []


def test_a_withdrawal_needs_no_note_and_a_released_request_cannot_be_closed(make):
    scenario = case_with_third_parties(make, decide=False)
    withdrawn = new_request(scenario)
    close_request(withdrawn, reason="withdrawn", note="", by=scenario.dpo)
    assert withdrawn.closure_reason == "withdrawn" and withdrawn.closure_note == ""
    released = new_request(scenario)
    produce_export(released, by=scenario.dpo)
    release_request(released, by=scenario.dpo)
    with pytest.raises(NotAllowed, match="released to the person"):
        close_request(released, reason="withdrawn", note="", by=scenario.dpo)
    assert released.status == "released"
    assert [e.details for e in events(_db.session, action=AuditAction.SAR_CLOSED)] == [
        {"reason": "withdrawn"}
    ]


def test_a_closed_request_is_neither_open_nor_overdue(login, make):
    scenario = case_with_third_parties(make, decide=False)
    trust_id = scenario.dpo.trust_id
    late = record_request(
        scenario.subject, received_on=date(2026, 1, 31), by=scenario.dpo, today=date(2026, 2, 1)
    )
    current = new_request(scenario)
    _db.session.commit()
    on = date(2026, 3, 3)  # the late one's deadline (2 March) has passed
    assert open_requests_count(trust_id, on) == (2, 1)
    close_request(late, reason="identity_not_confirmed", note="", by=scenario.dpo)
    _db.session.commit()
    assert open_requests_count(trust_id, on) == (1, 0)
    assert not late.is_overdue(on)
    close_request(current, reason="withdrawn", note="", by=scenario.dpo)
    _db.session.commit()
    assert open_requests_count(trust_id, on) == (0, 0)

    client = login(scenario.dpo)
    html = client.get("/privacy/requests").get_data(as_text=True)
    assert html.count("Closed without a release") == 2
    assert "Overdue" not in html
    home = client.get("/").get_data(as_text=True)
    assert "Open subject access requests" not in home and "Past their deadline" not in home


def test_closing_through_the_pages(login, make):
    scenario = case_with_third_parties(make, decide=False)
    found = new_request(scenario)
    client = login(scenario.dpo)
    page_url = f"/privacy/requests/{found.id}"
    url = f"{page_url}/close"
    page = client.get(page_url).get_data(as_text=True)
    assert f'href="{url}"' in page and "Close without releasing" in page
    form = client.get(url).get_data(as_text=True)
    assert "Why is the request closed?" in form
    assert "Refused as manifestly unfounded or excessive" in form

    # Errors keep what was typed.
    response = post_form(client, url, {"reason": "", "note": "Kept words"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Choose why the request is closed" in html and "Kept words" in html
    response = post_form(client, url, {"reason": "refused", "note": ""})
    html = response.get_data(as_text=True)
    assert "Say why the request is refused" in html
    assert 'value="refused" checked' in html
    _db.session.rollback()
    assert _db.session.get(SubjectAccessRequest, found.id, populate_existing=True).is_open

    response = post_form(client, url, {"reason": "refused", "note": REFUSAL_NOTE})
    assert response.status_code == 302
    assert response.headers["Location"] == page_url
    _db.session.rollback()
    stored = _db.session.get(SubjectAccessRequest, found.id, populate_existing=True)
    assert stored.status == "closed" and stored.closure_note == REFUSAL_NOTE
    (closed,) = events(_db.session, action=AuditAction.SAR_CLOSED)
    assert closed.details == {"reason": "refused"}

    page = client.get(page_url).get_data(as_text=True)
    assert "Request closed without a release." in page
    assert "Closed without a release" in page
    assert "refused as manifestly unfounded or excessive" in page
    assert REFUSAL_NOTE in page and scenario.dpo.display_name in page
    # No actions are left.
    for action in ("/close", "/extend", "/export", "/release", "/redactions"):
        assert f'{page_url}{action}"' not in page, action
    again = client.get(url).get_data(as_text=True)
    assert "it can no longer be closed" in again and "<textarea" not in again
    response = post_form(client, url, {"reason": "withdrawn", "note": ""}, form_url=page_url)
    assert "no longer be changed" in response.get_data(as_text=True)
    token = csrf_token_from(page)
    response = client.post(f"{page_url}/export", data={"csrf_token": token})
    assert response.status_code == 302
    _db.session.rollback()
    assert len(events(_db.session, action=AuditAction.SAR_CLOSED)) == 1
    assert _db.session.scalars(select(SubjectAccessExport)).all() == []


def test_another_trusts_dpo_cannot_close_the_request(client, make):
    scenario = case_with_third_parties(make, decide=False)
    found = new_request(scenario)
    other = make.trust(name="Other Trust", code="OTH")
    from tests.conftest import sign_in

    sign_in(client, make.user(Role.DPO, trust=other).email)
    url = f"/privacy/requests/{found.id}/close"
    assert client.get(url).status_code == 404
    token = csrf_token_from(client.get("/privacy/requests").get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, "reason": "withdrawn", "note": ""})
    assert response.status_code == 404
    assert client.get("/privacy/requests/999999/close").status_code == 404
    _db.session.rollback()
    assert _db.session.get(SubjectAccessRequest, found.id, populate_existing=True).is_open
    assert events(_db.session, action=AuditAction.SAR_CLOSED) == []


# --- the list, the home page, and who may see any of it ------------------------------------


def test_the_list_shows_deadlines_and_overdue_requests(login, make):
    scenario = case_with_third_parties(make, decide=False)
    client = login(scenario.dpo)
    empty = client.get("/privacy/requests").get_data(as_text=True)
    assert "No subject access requests have been recorded" in empty
    home = client.get("/").get_data(as_text=True)
    assert 'href="/privacy/requests"' in home
    late = record_request(
        scenario.subject, received_on=date(2026, 1, 31), by=scenario.dpo, today=date(2026, 2, 1)
    )
    _db.session.commit()
    html = client.get("/privacy/requests").get_data(as_text=True)
    assert "Liam Hughes" in html and "2 March 2026" in html and "Overdue" in html
    home = client.get("/").get_data(as_text=True)
    assert "Open subject access requests" in home and "Past their deadline" in home
    assert late.is_overdue(today())


def test_only_the_dpo_handles_requests(login, make):
    scenario = case_with_third_parties(make, decide=False)
    found = new_request(scenario)
    client = login(scenario.head)
    for url in ("/privacy/requests", "/privacy/requests/new", f"/privacy/requests/{found.id}"):
        assert client.get(url).status_code == 403, url
    denied = events(_db.session, action=AuditAction.ACCESS_DENIED)
    assert len(denied) == 3


def test_another_trusts_dpo_does_not_find_the_request(client, make):
    scenario = case_with_third_parties(make, decide=False)
    found = new_request(scenario)
    other = make.trust(name="Other Trust", code="OTH")
    from tests.conftest import sign_in

    sign_in(client, make.user(Role.DPO, trust=other).email)
    assert client.get(f"/privacy/requests/{found.id}").status_code == 404
    assert "Liam Hughes" not in client.get("/privacy/requests").get_data(as_text=True)
    assert "Liam Hughes" not in client.get("/privacy/requests/new").get_data(as_text=True)


def test_a_dpo_cannot_record_a_request_about_themselves(make):
    scenario = case_with_third_parties(make, decide=False)
    own_record = make.staff(scenario.case.school, name="Dee Protection", user=scenario.dpo)
    with pytest.raises(NotAllowed, match="about yourself"):
        record_request(own_record, received_on=today(), by=scenario.dpo, today=today())
    with pytest.raises(NotAllowed, match="data protection officer"):
        record_request(scenario.subject, received_on=today(), by=scenario.head, today=today())


def test_a_colleague_who_raised_the_concern_is_withheld_from_the_export(make):
    """A colleague who raised a concern through the staff form is a third party: their
    name is withheld from the subject's export; a lead who logged a concern is not."""
    from tracker.concerns.services import ABOUT_COLLEAGUE, StaffReport, raise_concern

    school = make.school()
    make.policy(school.trust)
    dpo = make.user(Role.DPO, trust=school.trust)
    whistle_blower = make.user(Role.STAFF, school, name="Wendy Whistler")
    make.staff(school, name="Wendy Whistler", user=whistle_blower)
    subject = make.staff(school, name="Sam Subject")
    receipt = raise_concern(
        StaffReport(
            about=ABOUT_COLLEAGUE,
            colleague_id=subject.id,
            what_happened="Posted pictures of the trip",
            occurred_on=today() - timedelta(days=2),
            where_seen="Instagram",
            platform="instagram",
            platform_detail="",
        ),
        by=whistle_blower,
        screenshot=None,
        today=today(),
    )
    _db.session.commit()
    make.case(school, subject=subject)  # logged by the school's DSL: named as usual
    found = record_request(subject, received_on=today(), by=dpo, today=today())
    _db.session.commit()

    exported = produce_export(found, by=dpo)
    files = open_zip(exported.content)
    data = json.loads(files["subject-access-export.json"])
    by_reference = {case["reference"]: case for case in data["cases"]}
    raised = by_reference[receipt.reference]
    assert raised["logged_by"] == "Withheld: the member of staff who raised the concern"
    assert all(r["changed_by"] != "Wendy Whistler" for r in raised["revisions"])
    logged = next(case for ref, case in by_reference.items() if ref != receipt.reference)
    assert logged["logged_by"] not in {None, "Withheld: the member of staff who raised the concern"}
    for name, content in files.items():
        if name.endswith((".json", ".csv", ".txt", ".md")):
            assert b"Wendy" not in content, name
    assert "Wendy" not in pdf_text(files[next(n for n in files if n.endswith(".pdf"))])
