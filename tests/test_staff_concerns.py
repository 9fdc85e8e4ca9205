"""Any member of staff raises a concern about a colleague or themselves (issue 18, item 2).

The concern lands as a `reported` case for the school's safeguarding leads; the reporter
keeps a receipt that says only received, being dealt with or closed; what they type is
kept as a draft until it is sent.
"""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import delete, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.conftest import csrf_token_from, sign_in
from tests.smtp import what_a_reader_sees
from tests.test_evidence import PNG
from tracker.audit.models import AuditEvent
from tracker.auth.roles import Role
from tracker.cases.models import Case, CaseStatus
from tracker.cases.services import citable_rules as case_rules
from tracker.clock import today
from tracker.concerns.models import ConcernDraft, StaffConcern
from tracker.extensions import db as _db
from tracker.workflow import services as wf
from tracker.workflow.models import SentNotification

NO_HARM = dict.fromkeys(wf.HARM_QUESTIONS, "no")
SUMMARY = "Posted a photo of the Year 6 residential trip on a public account"


@pytest.fixture
def app(make_app, smtp_server):
    """E-mail goes to the test SMTP server: the leads are told of a concern raised."""
    app = make_app(
        MAIL_BACKEND="smtp",
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=smtp_server.port,
        SMTP_TIMEOUT=5,
        BASE_URL="https://tracker.example.org",
        STAFF_CONCERNS_PER_DAY=2,
    )
    with app.app_context():
        yield app


@pytest.fixture
def world(app, make):
    trust = make.trust(name="Concern Trust")
    school = make.school(trust, name="Oakfield Academy")
    other = make.school(trust, name="Elm Primary")
    make.policy(trust)
    people = {
        "dsl": make.user(Role.DSL, school, email="dsl@example.org", name="Dee Ess"),
        "deputy": make.user(Role.DEPUTY_DSL, school, email="deputy@example.org"),
        "head": make.user(Role.HEADTEACHER, school, email="head@example.org"),
        "dsl_other": make.user(Role.DSL, other, email="dsl.elm@example.org"),
        "staff": make.user(Role.STAFF, school, email="teacher@example.org", name="Tess Teacher"),
    }
    me = make.staff(school, name="Tess Teacher", user=people["staff"])
    colleague = make.staff(school, name="Jordan Example")
    elsewhere = make.staff(other, name="Elsie Elsewhere")
    return {
        "school": school,
        "other": other,
        "me": me,
        "colleague": colleague,
        "elsewhere": elsewhere,
        **people,
    }


def _answers(world, **changes):
    day = today() - timedelta(days=3)
    answers = {
        "about": "colleague",
        "colleague": str(world["colleague"].id),
        "what_happened": SUMMARY,
        "occurred_on": [str(day.day), str(day.month), str(day.year)],
        "where_seen": "A parent showed me the post",
        "platform": "instagram",
        "platform_detail": "",
        "link": "https://www.instagram.com/p/abc",
        "send": "Send concern",
    }
    answers.update(changes)
    return answers


def _post(client, world, **changes):
    page = client.get("/concerns/new").get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(page), **_answers(world, **changes)}
    return client.post("/concerns/new", data=data, content_type="multipart/form-data")


def _sign_out(client):
    home = client.get("/").get_data(as_text=True)
    client.post("/sign-out", data={"csrf_token": csrf_token_from(home)})


def _signed_in(client, world, who="staff"):
    sign_in(client, world[who].email)
    return client


def test_a_member_of_staff_raises_a_concern_about_a_colleague(client, world, smtp_server):
    _signed_in(client, world)
    response = _post(client, world, screenshot=(BytesIO(PNG), "post.png"))
    assert response.status_code == 302
    response.close()  # the e-mail goes once the response is written, as a WSGI server does
    receipt = _db.session.scalar(select(StaffConcern))
    assert response.headers["Location"].endswith(f"/concerns/{receipt.id}?sent=1")
    case = _db.session.get(Case, receipt.case_id)
    assert case.status == CaseStatus.REPORTED
    assert case.source == "staff_report"
    assert case.reported_by_id == world["staff"].id
    assert case.subject_id == world["colleague"].id
    assert case.school_id == world["school"].id
    assert case.breaches == []  # the lead cites the clause
    assert case.summary.startswith(SUMMARY)
    assert "https://www.instagram.com/p/abc" in case.summary
    assert case.source_detail == "A parent showed me the post"
    assert [e.content_type for e in case.evidence] == ["image/png"]
    assert receipt.reference == case.reference and not receipt.about_self

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Concern sent" in page and case.reference in page and "Received" in page
    assert SUMMARY not in page  # never the content after it is sent

    # The school's leads (not the headteacher, not the other school) get an e-mail
    # that says nothing.
    addressed = sorted(a for e in smtp_server.envelopes for a in e.rcpt_tos)
    assert addressed == ["deputy@example.org", "dsl@example.org"]
    for envelope in smtp_server.envelopes:
        text = what_a_reader_sees(envelope)
        for secret in (case.reference, "Jordan", "Oakfield", "Instagram", "Tess"):
            assert secret not in text

    raised = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "concern.raised"))
    assert raised.details == {"case_id": case.id, "about_self": False}
    assert raised.case_id == case.id
    assert _db.session.get(ConcernDraft, world["staff"].id) is None


def test_the_receipt_says_only_received_being_dealt_with_or_closed(client, world):
    _signed_in(client, world)
    _post(client, world)
    receipt = _db.session.scalar(select(StaffConcern))
    case = _db.session.get(Case, receipt.case_id)
    _db.session.commit()

    def status_shown():
        page = client.get(f"/concerns/{receipt.id}").get_data(as_text=True)
        return page.split('id="receipt-status">')[1].split("<")[0]

    assert status_shown() == "Received"
    wf.triage(case, track="low_level", answers=NO_HARM, rationale="Seen it", by=world["dsl"])
    _db.session.commit()
    page = client.get(f"/concerns/{receipt.id}").get_data(as_text=True)
    assert status_shown() == "Being dealt with"
    assert "Low-level" not in page and "Seen it" not in page
    wf.withdraw_case(case, reason="Not a breach", by=world["dsl"], today=today())
    _db.session.commit()
    assert status_shown() == "Closed"
    home = client.get("/").get_data(as_text=True)
    assert receipt.reference in home and "Not a breach" not in home
    # The case itself stays out of reach.
    assert client.get(f"/cases/{case.id}").status_code == 404
    assert client.get("/cases/").status_code == 403


def test_a_member_of_staff_refers_themselves(client, world):
    _signed_in(client, world)
    response = _post(client, world, about="myself", colleague="")
    assert response.status_code == 302
    receipt = _db.session.scalar(select(StaffConcern))
    case = _db.session.get(Case, receipt.case_id)
    assert case.subject_id == world["me"].id and case.source == "self_report"
    assert receipt.about_self
    # The subject never sees the case, but keeps their receipt.
    assert client.get(f"/cases/{case.id}").status_code == 404
    page = client.get(f"/concerns/{receipt.id}").get_data(as_text=True)
    assert "Yourself" in page and "Received" in page


def test_every_fault_is_reported_at_once_and_nothing_typed_is_lost(client, world):
    _signed_in(client, world)
    future = today() + timedelta(days=2)
    response = _post(
        client,
        world,
        colleague="",
        what_happened="  ",
        where_seen="A parent showed me",
        platform="other",
        occurred_on=[str(future.day), str(future.month), str(future.year)],
        link="not a link",
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for message in (
        "Choose the colleague the concern is about",
        "Describe what happened",
        "The date it happened must be today or in the past",
        "Enter which app or website it was on",
        "Enter the web address in full",
    ):
        assert message in page
    assert "A parent showed me" in page  # kept on the page
    assert _db.session.scalar(select(Case)) is None
    draft = _db.session.get(ConcernDraft, world["staff"].id)
    assert draft.answers["where_seen"] == ["A parent showed me"]


def test_a_date_left_blank_or_impossible_gets_the_pattern_s_message(client, world):
    _signed_in(client, world)
    blank = _post(client, world, occurred_on=["", "", ""])
    assert "Enter the date it happened" in blank.get_data(as_text=True)
    wrong = _post(client, world, occurred_on=["31", "2", "2026"])
    assert "The date it happened must be a real date" in wrong.get_data(as_text=True)


def test_a_refused_upload_keeps_everything_typed(app, client, world):
    app.config["EVIDENCE_MAX_MB"] = 1
    _signed_in(client, world)
    response = _post(client, world, screenshot=(BytesIO(b"MZ not an image"), "tool.exe"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert SUMMARY in page and "A parent showed me the post" in page
    assert "Choose your file again" in page
    assert _db.session.scalar(select(Case)) is None
    assert _db.session.scalar(select(StaffConcern)) is None


def test_a_draft_survives_a_lost_session(client, world):
    _signed_in(client, world)
    page = client.get("/concerns/new").get_data(as_text=True)
    answers = _answers(world, what_happened="Half written", send="")
    answers.pop("send")
    # What the page's script posts as typing stops.
    saved = client.post(
        "/concerns/new", data={"csrf_token": csrf_token_from(page), **answers, "autosave": "1"}
    )
    assert saved.status_code == 204
    _sign_out(client)
    _signed_in(client, world)
    page = client.get("/concerns/new").get_data(as_text=True)
    assert "Half written" in page and "We kept what you typed" in page
    home = client.get("/").get_data(as_text=True)
    assert "Carry on with it" in home

    # Saving by the button says so; deleting it empties the form.
    response = client.post(
        "/concerns/new",
        data={"csrf_token": csrf_token_from(page), **answers, "save_draft": "Save as a draft"},
    )
    assert response.status_code == 302
    assert "Your draft is saved" in client.get("/concerns/new").get_data(as_text=True)
    client.post("/concerns/draft/discard", data={"csrf_token": csrf_token_from(page)})
    assert _db.session.get(ConcernDraft, world["staff"].id) is None
    assert "Half written" not in client.get("/concerns/new").get_data(as_text=True)
    saved = _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "concern.draft.saved")
    ).all()
    assert saved and all(not event.details for event in saved)  # never what was typed


def test_no_concern_about_someone_at_a_school_they_have_no_link_with(client, world):
    _signed_in(client, world)
    page = client.get("/concerns/new").get_data(as_text=True)
    assert "Elsie Elsewhere" not in page and "Tess Teacher, Teacher" not in page
    response = _post(client, world, colleague=str(world["elsewhere"].id))
    assert "Choose the colleague the concern is about" in response.get_data(as_text=True)
    assert _db.session.scalar(select(Case)) is None


def test_the_daily_limit_keeps_the_draft_and_says_what_to_do(client, world):
    _signed_in(client, world)
    assert _post(client, world).status_code == 302
    assert _post(client, world).status_code == 302
    response = _post(client, world, what_happened="The third one")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "You have raised 2 concerns in the last 24 hours" in page
    assert "The third one" in page
    assert _db.session.get(ConcernDraft, world["staff"].id).answers["what_happened"] == [
        "The third one"
    ]
    refused = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "concern.refused"))
    assert refused.outcome == "denied" and refused.details == {"limit": 2}


def test_the_staff_pages_are_for_members_of_staff_and_their_own_receipts(client, world, make):
    _signed_in(client, world)
    _post(client, world)
    receipt = _db.session.scalar(select(StaffConcern))
    _db.session.commit()
    client.post(
        "/sign-out", data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))}
    )

    # Another member of staff: their own pages, never someone else's receipt.
    other = make.user(Role.STAFF, world["school"], email="other.teacher@example.org")
    sign_in(client, other.email)
    assert client.get("/concerns/new").status_code == 200
    assert client.get(f"/concerns/{receipt.id}").status_code == 404
    assert receipt.reference not in client.get("/concerns/").get_data(as_text=True)
    client.post(
        "/sign-out", data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))}
    )

    # The DSL has no staff pages (and reads the case instead).
    sign_in(client, world["dsl"].email)
    assert client.get("/concerns/new").status_code == 403
    assert client.get(f"/concerns/{receipt.id}").status_code == 403
    assert client.get(f"/cases/{receipt.case_id}").status_code == 200


def test_the_lead_finds_the_concern_waiting_for_triage(client, world):
    _signed_in(client, world)
    _post(client, world)
    receipt = _db.session.scalar(select(StaffConcern))
    _db.session.commit()
    client.post(
        "/sign-out", data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))}
    )
    sign_in(client, world["dsl"].email)
    home = client.get("/").get_data(as_text=True)
    assert receipt.reference in home and "Triage this concern" in home
    page = client.get(f"/cases/{receipt.case_id}").get_data(as_text=True)
    assert "Reported by a member of staff" in page and "Tess Teacher" in page


def test_a_disposed_case_leaves_the_receipt_closed(client, world):
    _signed_in(client, world)
    _post(client, world)
    receipt = _db.session.scalar(select(StaffConcern))
    case = _db.session.get(Case, receipt.case_id)
    # As retention's dispose_case deletes it (its notifications first).
    _db.session.execute(delete(SentNotification).where(SentNotification.case_id == case.id))
    _db.session.delete(case)
    _db.session.commit()
    _db.session.expire_all()
    assert _db.session.get(StaffConcern, receipt.id).case_id is None
    page = client.get(f"/concerns/{receipt.id}").get_data(as_text=True)
    assert "Closed" in page


def test_retention_deletes_drafts_nobody_touched_for_30_days(runner, world):
    fresh = world["dsl"]  # any user's row will do for the old draft's owner
    old = ConcernDraft(user_id=world["staff"].id, answers={"what_happened": ["Old"]})
    _db.session.add(old)
    _db.session.add(ConcernDraft(user_id=fresh.id, answers={"what_happened": ["New"]}))
    _db.session.flush()
    old.updated_at = old.updated_at - timedelta(days=31)
    _db.session.commit()
    result = runner.invoke(args=["retention", "run", "--apply"])
    assert "Deleted 1 concern draft(s)" in result.output, result.output
    _db.session.expire_all()
    assert _db.session.get(ConcernDraft, world["staff"].id) is None
    assert _db.session.get(ConcernDraft, fresh.id) is not None
    expired = _db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "concern.drafts.expired")
    )
    assert expired.details == {"count": 1}


def test_the_lead_cites_the_rules_a_staff_concern_may_have_broken(client, world):
    _signed_in(client, world)
    _post(client, world)
    receipt = _db.session.scalar(select(StaffConcern))
    _db.session.commit()
    _sign_out(client)
    sign_in(client, world["dsl"].email)
    url = f"/cases/{receipt.case_id}/clauses/new"
    case_page = client.get(f"/cases/{receipt.case_id}").get_data(as_text=True)
    assert "No rule of the policy is cited yet" in case_page and url in case_page
    page = client.get(url).get_data(as_text=True)
    assert ">3.5 " in page or "3.5 " in page
    token = csrf_token_from(page)
    refused = client.post(url, data={"csrf_token": token, "clause": "", "rationale": ""})
    text = refused.get_data(as_text=True)
    assert "Choose the rule the conduct may have broken" in text
    assert "Say why the conduct may have broken this rule" in text
    case = _db.session.get(Case, receipt.case_id)
    rule = next(c for c in case_rules(case) if c.reference == "3.5")
    done = client.post(
        url, data={"csrf_token": token, "clause": str(rule.id), "rationale": "Pictures of a trip"}
    )
    assert done.status_code == 302
    assert "Clause 3.5 cited." in client.get(done.headers["Location"]).get_data(as_text=True)
    # Once cited, it is not offered again; and posting it again is refused in words.
    assert f'value="{rule.id}"' not in client.get(url).get_data(as_text=True)
    again = client.post(url, data={"csrf_token": token, "clause": str(rule.id), "rationale": "x"})
    assert "not one already cited" in again.get_data(as_text=True)
    _db.session.expire_all()
    assert [b.clause.reference for b in _db.session.get(Case, receipt.case_id).breaches] == ["3.5"]
    added = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "clause_breach.added"))
    assert added.details == {"clause_id": rule.id}


def _conditional_holding(page: str, field_id: str) -> str | None:
    """The class of the conditional block (under a radio) that holds `field_id`."""
    found = re.search(
        r'<div class="(govuk-radios__conditional[^"]*)" id="conditional-[\w-]+">'
        rf'(?:(?!</fieldset>).)*?id="{field_id}"',
        page,
        re.DOTALL,
    )
    return found.group(1) if found else None


def test_the_follow_up_questions_are_revealed_by_their_radios(client, world):
    _signed_in(client, world)
    page = client.get("/concerns/new").get_data(as_text=True)
    # "Which colleague?" under "A colleague"; "Which app or website?" under "Somewhere
    # else"; each hidden until its radio is chosen (shown without JavaScript).
    assert _conditional_holding(page, "colleague") == (
        "govuk-radios__conditional govuk-radios__conditional--hidden"
    )
    assert _conditional_holding(page, "platform_detail") == (
        "govuk-radios__conditional govuk-radios__conditional--hidden"
    )
    assert 'value="colleague" data-aria-controls="conditional-about"' in page
    assert "If you chose a colleague" not in page and "If somewhere else" not in page

    refused = _post(client, world, platform="other", platform_detail=" ", what_happened="")
    page = refused.get_data(as_text=True)
    assert _conditional_holding(page, "platform_detail") == "govuk-radios__conditional"
    assert 'href="#platform_detail">Enter which app or website it was on' in page
    assert 'href="#what_happened">Describe what happened' in page


def test_the_screenshot_is_checked_for_size_in_the_browser_and_the_server_leads_back(
    app, client, world
):
    app.config["EVIDENCE_MAX_MB"] = 1
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024  # as config.py sets it for 1 MB
    _signed_in(client, world)
    page = client.get("/concerns/new").get_data(as_text=True)
    file_input = re.search(r'<input[^>]*type="file"[^>]*>', page).group(0)
    assert 'data-app-max-bytes="1048576"' in file_input
    assert 'data-app-too-large="The selected file must be smaller than 1 MB"' in file_input

    # Encoded in memory (the test client would spool a body this large to a file it
    # never closes).
    boundary, body = encode_multipart(
        {
            "csrf_token": csrf_token_from(page),
            **_answers(world),
            "screenshot": FileStorage(BytesIO(b"\0" * (3 * 1024 * 1024)), "huge.png"),
        }
    )
    response = client.post(
        "/concerns/new",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Referer": "http://localhost/concerns/new"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "The file you chose is larger than 1 MB" in html
    assert re.search(r'href="/concerns/new"[^>]*>Go back to the form</a>', html)
    assert _db.session.scalar(select(StaffConcern)) is None
