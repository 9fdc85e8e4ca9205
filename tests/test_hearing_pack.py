"""The hearing pack: a redacted PDF of one case for a disciplinary hearing, for those who
work on or decide the case and the data protection officer, never the subject."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.audit_helpers import events
from tests.conftest import post_form, sign_in
from tests.test_subject_access import (
    MANUAL_PHRASE,
    MANUALLY_REDACTED,
    assert_no_third_party,
    case_with_third_parties,
    new_request,
    open_zip,
    pdf_text,
)
from tracker.audit.actions import AuditAction
from tracker.auth.roles import Role
from tracker.extensions import db as _db
from tracker.policy.acknowledgements import record_acknowledgement
from tracker.policy.models import AcknowledgementMethod
from tracker.privacy.models import ManualRedaction
from tracker.privacy.services import produce_export


def test_the_pack_holds_the_case_for_the_hearing_with_third_parties_redacted(login, make):
    scenario = case_with_third_parties(make)
    case = scenario.case
    record_acknowledgement(
        case.breaches[0].clause.version,
        scenario.subject,
        acknowledged_on=date(2021, 9, 2),
        method=AcknowledgementMethod.TRAINING_SESSION,
        by=scenario.dsl,
        today=date(2026, 11, 1),
    )
    _db.session.commit()
    client = login(scenario.dsl)
    response = client.get(f"/cases/{case.id}/hearing-pack.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert f"hearing-pack-{case.reference}.pdf" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    assert_no_third_party(text)
    # The summary, the clause with its text and the subject's acknowledgement of the
    # version, the evidence with its hash, the chronology, the investigation summary.
    assert f"Hearing pack: {case.reference}" in text
    assert "Liam Hughes messaged [Pupil 1] and [Pupil 2] on Instagram" in text
    assert "3.4 Online contact with pupils" in text
    assert "Staff do not form online friendships" in text
    assert "Acknowledged reading this version on 2 September 2021 (training session), before" in (
        text
    )
    assert case.evidence[0].sha256 in text.replace(" ", "")
    assert "Spoke to [Witness 1], who saw [Pupil 1]" in text
    assert "He admitted messaging [Pupil 1]; [Parent or carer 1] provided the screenshots." in text
    # Not a subject access export: a phrase redacted for a request stays in the pack.
    assert MANUAL_PHRASE in text

    (event,) = events(_db.session, action=AuditAction.HEARING_PACK_DOWNLOADED)
    assert AuditAction.HEARING_PACK_DOWNLOADED.is_read
    assert event.case_id == case.id and event.actor_id == scenario.dsl.id
    assert set(event.details) == {"redactions"} and event.details["redactions"] > 10


def test_a_case_redaction_applies_to_the_pack_and_to_subject_access(login, make):
    scenario = case_with_third_parties(make)
    case = scenario.case
    client = login(scenario.head)  # the decision maker
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Hearing pack (PDF)" in page
    url = f"/cases/{case.id}/hearing-pack"
    page = client.get(url).get_data(as_text=True)
    assert MANUAL_PHRASE in page
    response = post_form(client, url, {"phrase": "", "reason": "third_party_other"})
    assert response.status_code == 200 and "Enter the words to redact" in response.get_data(
        as_text=True
    )
    response = post_form(client, url, {"phrase": MANUAL_PHRASE, "reason": "third_party_other"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"{url}#preview"
    _db.session.rollback()
    (stored,) = _db.session.scalars(select(ManualRedaction)).all()
    assert stored.case_id == case.id and stored.request_id is None
    (added,) = events(_db.session, action=AuditAction.HEARING_PACK_REDACTION_ADDED)
    assert added.case_id == case.id and added.details == {"reason": "third_party_other"}

    page = client.get(url).get_data(as_text=True)
    assert "Redaction added: the preview below shows the text as the pack prints it." in page
    assert "said [Redacted] forwarded" in page
    # The service refuses the same words twice: the page says so, keeps what was typed
    # and adds nothing.
    again = MANUAL_PHRASE.upper()
    response = post_form(client, url, {"phrase": again, "reason": "third_party_other"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "These words are already redacted" in html and f'value="{again}"' in html
    _db.session.rollback()
    assert len(_db.session.scalars(select(ManualRedaction)).all()) == 1
    assert len(events(_db.session, action=AuditAction.HEARING_PACK_REDACTION_ADDED)) == 1

    text = pdf_text(client.get(f"{url}.pdf").data)
    assert_no_third_party(text, also=MANUALLY_REDACTED)
    assert "said [Redacted] forwarded" in text

    found = new_request(scenario)
    exported = produce_export(found, by=scenario.dpo)
    files = open_zip(exported.content)
    assert_no_third_party(files["subject-access-export.json"].decode(), also=MANUALLY_REDACTED)


def test_who_may_have_the_pack(client, make, app):
    scenario = case_with_third_parties(make)
    case = scenario.case
    school = case.school
    subject_user = make.user(Role.DSL, school)
    scenario.subject.user_id = subject_user.id
    _db.session.commit()
    answers = {
        make.user(Role.DEPUTY_DSL, school): 200,
        make.user(Role.CEO, trust=school.trust): 200,
        make.user(Role.DPO, trust=school.trust): 200,
        make.user(Role.AUDITOR, trust=school.trust): 403,
        make.user(Role.DSL, make.school(school.trust)): 404,
        make.user(Role.CHAIR, trust=school.trust): 404,
        subject_user: 404,  # the subject, a DSL at the same school, never sees it
    }
    for user, expected in answers.items():
        other = app.test_client()
        sign_in(other, user.email)
        for url in (f"/cases/{case.id}/hearing-pack", f"/cases/{case.id}/hearing-pack.pdf"):
            assert other.get(url).status_code == expected, (user.email, url)
        page = other.get(f"/cases/{case.id}").get_data(as_text=True)
        assert ("Hearing pack (PDF)" in page) is (expected == 200), user.email
    assert events(_db.session, action=AuditAction.HEARING_PACK_DOWNLOADED)
    assert len(events(_db.session, action=AuditAction.HEARING_PACK_DOWNLOADED)) == 3
