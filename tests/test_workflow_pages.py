"""The workflow pages: triage, the LADO, investigation, decision, appeal, closing, and the
case page's "What happens next" panel, as each role."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from io import BytesIO

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token_from, post_form, sign_in
from tests.querycount import count_statements
from tests.test_evidence import PNG
from tracker.auth.roles import Role
from tracker.cases.evidence import Provenance, add_evidence
from tracker.cases.models import Case
from tracker.cases.services import add_chronology_entry, add_person
from tracker.clock import today, uk_date, uk_datetime, uk_time
from tracker.db import utcnow
from tracker.errors import ValidationFailed
from tracker.workflow import services
from tracker.workflow.clocks import add_months, add_working_days
from tracker.workflow.forms import LadoReferralForm
from tracker.workflow.models import CaseTransition, Decision, Suspension

ANSWERS_NO = dict.fromkeys(services.HARM_QUESTIONS, "no")
ANSWERS_YES = {**ANSWERS_NO, "harm_risk": "yes"}


# --- people and cases in each state ------------------------------------------------------


@pytest.fixture
def login(app):
    """Sign a user in on a client of their own (tests here switch between people)."""

    def do_login(user):
        client = app.test_client()
        response = sign_in(client, user.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return do_login


@pytest.fixture
def school(make):
    school = make.school(name="Northfield Primary School")
    make.policy(school.trust)
    return school


@pytest.fixture
def dsl(make, school):
    return make.user(Role.DSL, school, name="Priya Shah")


@pytest.fixture
def head(make, school):
    return make.user(Role.HEADTEACHER, school, name="Hannah Jones")


@pytest.fixture
def ceo(make, school):
    return make.user(Role.CEO, trust=school.trust, name="Chris Evans")


@pytest.fixture
def dpo(make, school):
    """Reads every case in the trust, but works on none."""
    return make.user(Role.DPO, trust=school.trust, name="Dana Osei")


@pytest.fixture
def outsider(make, school):
    """A safeguarding lead at another school of the same trust."""
    return make.user(Role.DSL, make.school(school.trust, name="Riverside Academy"))


@pytest.fixture
def case(make, school, dsl):
    return make.case(school, by=dsl, subject=make.staff(school, name="Liam Hughes"))


def commit(db):
    db.session.commit()


def triage(db, case, dsl, track="allegation"):
    services.triage(
        case,
        track=track,
        answers=ANSWERS_YES if track == "allegation" else ANSWERS_NO,
        rationale="Messages to pupils from a personal account.",
        by=dsl,
    )
    commit(db)


def lado(db, case, dsl):
    services.record_lado_referral(
        case, referred_at=utcnow(), method="phone", reference="LADO-42", by=dsl
    )
    services.record_lado_advice(
        case, advice="Investigate internally.", advised_on=today(), today=today(), by=dsl
    )
    commit(db)


def investigating(db, case, dsl, track="allegation"):
    triage(db, case, dsl, track)
    if track == "allegation":
        lado(db, case, dsl)
    services.start_investigation(case, investigator=dsl, by=dsl)
    commit(db)


def awaiting(db, case, dsl, track="allegation"):
    investigating(db, case, dsl, track)
    services.submit_for_decision(case, summary="He admitted sending the messages.", by=dsl)
    commit(db)


def decided(db, case, dsl, head, *, sanction="final_written_warning", outcome="substantiated"):
    awaiting(db, case, dsl)
    services.decide(
        case,
        services.DecisionInput(
            outcome=outcome,
            sanction=sanction,
            rationale="The messages breach 3.4.",
            may_mention_in_references=True,
        ),
        by=head,
        today=today(),
    )
    commit(db)


def appealed(db, case, dsl, head, ceo):
    decided(db, case, dsl, head)
    services.lodge_appeal(
        case, lodged_on=today(), grounds="The sanction is too harsh.", by=dsl, today=today()
    )
    commit(db)


def closed(db, case, dsl, head):
    decided(db, case, dsl, head)
    services.close_case(case, by=head, today=today())
    commit(db)


# --- helpers for the pages ---------------------------------------------------------------


def text(response) -> str:
    """The page as a person reads it: entities such as &#39; turned back into characters."""
    return html.unescape(response.get_data(as_text=True))


def post(client, url, data):
    """Post with a CSRF token from the home page (for pages the user may not open)."""
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def day_parts(day: date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def reload(db, case) -> Case:
    db.session.rollback()
    return db.session.get(Case, case.id)


def moves(db, case) -> list[CaseTransition]:
    return list(
        db.session.scalars(
            select(CaseTransition)
            .where(CaseTransition.case_id == case.id)
            .order_by(CaseTransition.id)
        )
    )


def checked(page: str, name: str, value: str) -> bool:
    """Whether the radio or checkbox `name` with `value` is ticked on the page."""
    for tag in re.findall(r"<input[^>]*>", page):
        if f'name="{name}"' in tag and f'value="{value}"' in tag:
            return "checked" in tag
    raise AssertionError(f"no input {name}={value}")


def assert_refused(client, url, data, *, status):
    assert client.get(url).status_code == status
    assert post(client, url, data).status_code == status


# --- triage -----------------------------------------------------------------------------


class TestTriage:
    def test_a_dsl_triages_a_case_as_an_allegation(self, login, dsl, case, db):
        client = login(dsl)
        page = text(client.get(f"/cases/{case.id}/triage"))
        for question in services.HARM_QUESTIONS.values():
            assert question in page
        response = post_form(
            client,
            f"/cases/{case.id}/triage",
            {
                **ANSWERS_YES,
                "track": "allegation",
                "rationale": "He messaged pupils privately.",
            },
        )
        assert response.status_code == 302
        assert response.headers["Location"] == f"/cases/{case.id}"
        case = reload(db, case)
        assert (case.status, case.track, case.harm_risk) == ("triage", "allegation", "yes")
        assert case.lado_due_at is not None
        [move] = moves(db, case)
        assert (move.from_status, move.to_status, move.actor_id) == ("reported", "triage", dsl.id)
        assert move.reason == "He messaged pupils privately."
        assert "Triaged as an allegation" in text(client.get(response.headers["Location"]))

    def test_a_low_level_concern_cannot_have_a_yes(self, login, dsl, case, db):
        client = login(dsl)
        response = post_form(
            client,
            f"/cases/{case.id}/triage",
            {**ANSWERS_YES, "track": "low_level", "rationale": "Kept rationale"},
        )
        page = text(response)
        assert response.status_code == 200
        assert "this is an allegation, not a low-level concern" in page
        assert "Kept rationale" in page
        assert checked(page, "harm_risk", "yes") and checked(page, "track", "low_level")
        assert reload(db, case).status == "reported"

    def test_an_empty_form_says_what_to_answer(self, login, dsl, case):
        page = text(post_form(login(dsl), f"/cases/{case.id}/triage", {}))
        assert "There is a problem" in page
        assert "Answer each question about the harm threshold" in page
        assert "Choose the track" in page
        assert "Explain the triage decision, including any decision not to refer" in page
        assert 'href="#harm_child"' in page

    def test_a_case_already_triaged_says_why_it_cannot_be_again(self, login, dsl, case, db):
        triage(db, case, dsl)
        response = login(dsl).get(f"/cases/{case.id}/triage")
        assert response.status_code == 200
        assert "cannot go on to this step" in text(response)

    def test_who_may_not_triage(self, login, dpo, outsider, case):
        url = f"/cases/{case.id}/triage"
        data = {**ANSWERS_NO, "track": "low_level", "rationale": "x"}
        assert_refused(login(dpo), url, data, status=403)
        assert_refused(login(outsider), url, data, status=404)


# --- the LADO -----------------------------------------------------------------------------


class TestLado:
    def test_a_dsl_records_the_referral(self, login, dsl, case, db):
        triage(db, case, dsl)
        client = login(dsl)
        page = text(client.get(f"/cases/{case.id}/lado/referral"))
        assert "The referral is due by" in page
        response = post_form(
            client,
            f"/cases/{case.id}/lado/referral",
            {
                "referred_on": day_parts(today()),
                "referred_time": "00:05",
                "method": "online_form",
                "reference": "LADO-2026-17",
            },
        )
        assert response.status_code == 302
        case = reload(db, case)
        assert case.lado_method == "online_form" and case.lado_reference == "LADO-2026-17"
        assert case.lado_referred_at is not None
        assert case.status == "triage"  # not a transition

    def test_referral_problems_are_explained_and_input_kept(self, login, dsl, case, db):
        triage(db, case, dsl)
        client = login(dsl)
        page = text(post_form(client, f"/cases/{case.id}/lado/referral", {"reference": "R-1"}))
        assert "Enter the date of the referral" in page
        assert "Choose how the referral was made" in page
        assert 'value="R-1"' in page
        tomorrow = today() + timedelta(days=1)
        page = text(
            post_form(
                client,
                f"/cases/{case.id}/lado/referral",
                {"referred_on": day_parts(tomorrow), "method": "phone", "reference": "R-2"},
            )
        )
        assert "The date of the referral must be today or in the past" in page
        assert 'href="#referred_on-day"' in page
        assert checked(page, "method", "phone") and 'value="R-2"' in page
        assert reload(db, case).lado_referred_at is None

    def test_a_dsl_records_the_advice_after_the_referral(self, login, dsl, case, db):
        triage(db, case, dsl)
        client = login(dsl)
        assert "Record the referral to the LADO first" in text(
            client.get(f"/cases/{case.id}/lado/advice")
        )
        services.record_lado_referral(
            case, referred_at=utcnow(), method="phone", reference="", by=dsl
        )
        commit(db)
        response = post_form(
            client,
            f"/cases/{case.id}/lado/advice",
            {"advised_on": day_parts(today()), "advice": "Investigate internally."},
        )
        assert response.status_code == 302
        case = reload(db, case)
        assert case.lado_advice == "Investigate internally." and case.lado_gate_open

    def test_advice_problems_are_explained(self, login, dsl, case, db):
        triage(db, case, dsl)
        services.record_lado_referral(
            case, referred_at=utcnow(), method="phone", reference="", by=dsl
        )
        commit(db)
        client = login(dsl)
        page = text(post_form(client, f"/cases/{case.id}/lado/advice", {"advice": " "}))
        assert "Enter the date of the advice" in page
        assert "Record the LADO's advice" in page
        page = text(
            post_form(
                client,
                f"/cases/{case.id}/lado/advice",
                {"advised_on": day_parts(today() + timedelta(days=3)), "advice": "Kept advice"},
            )
        )
        assert "The date of the advice cannot be in the future" in page
        assert "Kept advice" in page

    def test_the_lado_pages_are_only_for_an_allegation_in_triage(
        self, login, dsl, dpo, outsider, case, db
    ):
        referral, advice = f"/cases/{case.id}/lado/referral", f"/cases/{case.id}/lado/advice"
        client = login(dsl)
        assert client.get(referral).status_code == 403  # not triaged yet
        triage(db, case, dsl, track="low_level")
        assert client.get(referral).status_code == 403  # not an allegation
        assert client.get(advice).status_code == 403

    def test_who_may_not_record_the_lado_steps(self, login, dsl, dpo, outsider, case, db):
        triage(db, case, dsl)
        url = f"/cases/{case.id}/lado/referral"
        data = {"referred_on": day_parts(today()), "method": "phone"}
        assert_refused(login(dpo), url, data, status=403)
        assert_refused(login(outsider), url, data, status=404)


# --- investigation -------------------------------------------------------------------------


class TestInvestigation:
    def test_the_investigator_is_chosen_from_the_schools_case_workers(
        self, login, dsl, head, dpo, outsider, case, db
    ):
        triage(db, case, dsl)
        lado(db, case, dsl)
        client = login(dsl)
        page = text(client.get(f"/cases/{case.id}/investigation/start"))
        assert "Priya Shah (Designated safeguarding lead)" in page
        assert "Hannah Jones (Headteacher)" in page
        assert "Dana Osei" not in page and outsider.display_name not in page
        response = post_form(
            client, f"/cases/{case.id}/investigation/start", {"investigator": str(head.id)}
        )
        assert response.status_code == 302
        case = reload(db, case)
        assert (case.status, case.investigator_id) == ("investigation", head.id)
        assert moves(db, case)[-1].to_status == "investigation"

    def test_the_lado_must_come_first(self, login, dsl, case, db):
        triage(db, case, dsl)
        client = login(dsl)
        response = client.get(f"/cases/{case.id}/investigation/start")
        assert response.status_code == 200
        assert "Record the referral to the local authority designated officer" in text(response)
        page = text(
            post_form(client, f"/cases/{case.id}/investigation/start", {"investigator": "x"})
        )
        assert "Choose the investigator" in page
        assert reload(db, case).status == "triage"

    def test_someone_outside_the_list_cannot_be_chosen(self, login, dsl, dpo, case, db):
        triage(db, case, dsl, track="low_level")
        client = login(dsl)
        page = text(post_form(client, f"/cases/{case.id}/investigation/start", {}))
        assert "Choose the investigator" in page
        page = text(
            post_form(
                client, f"/cases/{case.id}/investigation/start", {"investigator": str(dpo.id)}
            )
        )
        assert "Choose the investigator" in page
        assert reload(db, case).status == "triage"

    def test_who_may_not_start_it(self, login, dsl, dpo, outsider, case, db):
        triage(db, case, dsl, track="low_level")
        url = f"/cases/{case.id}/investigation/start"
        assert_refused(login(dpo), url, {"investigator": str(dsl.id)}, status=403)
        assert_refused(login(outsider), url, {"investigator": str(dsl.id)}, status=404)


class TestSuspension:
    def test_a_dsl_records_a_suspension(self, login, dsl, case, db):
        investigating(db, case, dsl)
        client = login(dsl)
        assert client.get(f"/cases/{case.id}/suspensions/new").status_code == 200
        response = post_form(
            client,
            f"/cases/{case.id}/suspensions/new",
            {
                "starts_on": day_parts(today()),
                "ends_on": ["", "", ""],
                "reviewed_on": day_parts(today() + timedelta(days=14)),
                "reason": "To protect pupils while the investigation runs.",
            },
        )
        assert response.status_code == 302
        db.session.rollback()
        suspension = db.session.scalars(select(Suspension)).one()
        assert suspension.case_id == case.id and suspension.ends_on is None
        assert suspension.reviewed_on == today() + timedelta(days=14)
        page = text(client.get(f"/cases/{case.id}"))
        assert "Suspension recorded." in page
        assert "To protect pupils while the investigation runs." in page

    def test_suspension_problems_are_explained(self, login, dsl, case, db):
        client = login(dsl)
        page = text(post_form(client, f"/cases/{case.id}/suspensions/new", {"reason": ""}))
        assert "Enter the start date" in page and "Give the reason for the suspension" in page
        page = text(
            post_form(
                client,
                f"/cases/{case.id}/suspensions/new",
                {
                    "starts_on": day_parts(today()),
                    "ends_on": day_parts(today() - timedelta(days=1)),
                    "reason": "Kept reason",
                },
            )
        )
        assert "The end date cannot be before the start date" in page
        assert "Kept reason" in page
        db.session.rollback()
        assert db.session.scalar(select(func.count(Suspension.id))) == 0

    def test_who_may_not_record_one(self, login, dsl, head, dpo, outsider, case, db):
        data = {"starts_on": day_parts(today()), "reason": "x"}
        url = f"/cases/{case.id}/suspensions/new"
        assert_refused(login(dpo), url, data, status=403)
        assert_refused(login(outsider), url, data, status=404)
        closed(db, case, dsl, head)
        assert_refused(login(dsl), url, data, status=403)  # a closed case is read-only


class TestSubmitForDecision:
    def test_a_dsl_submits_to_the_headteacher(self, login, dsl, head, case, db):
        investigating(db, case, dsl)
        case.investigation_summary = "Draft summary"
        commit(db)
        client = login(dsl)
        assert "Draft summary" in text(client.get(f"/cases/{case.id}/submit"))
        response = post_form(
            client,
            f"/cases/{case.id}/submit",
            {"investigation_summary": "He admitted sending the messages."},
        )
        assert response.status_code == 302
        case = reload(db, case)
        assert case.status == "awaiting_decision" and case.decision_maker_id == head.id
        assert case.investigation_summary == "He admitted sending the messages."
        page = text(client.get(f"/cases/{case.id}"))
        assert "Sent to the headteacher for a decision." in page

    def test_a_case_the_headteacher_logged_goes_to_the_chief_executive(
        self, login, make, school, head, ceo, db
    ):
        case = make.case(school, by=head)
        investigating(db, case, head)
        client = login(head)
        response = post_form(
            client, f"/cases/{case.id}/submit", {"investigation_summary": "Summary"}
        )
        assert response.status_code == 302
        assert reload(db, case).decision_maker_id == ceo.id
        assert "Sent to the chief executive for a decision." in text(
            client.get(f"/cases/{case.id}")
        )

    def test_the_summary_is_needed(self, login, dsl, case, db):
        investigating(db, case, dsl)
        client = login(dsl)
        assert "There is a problem" not in text(client.get(f"/cases/{case.id}/submit"))
        page = text(post_form(client, f"/cases/{case.id}/submit", {"investigation_summary": ""}))
        assert "Write the investigation summary" in page
        assert reload(db, case).status == "investigation"

    def test_who_may_not_submit(self, login, dsl, dpo, outsider, case, db):
        investigating(db, case, dsl)
        url = f"/cases/{case.id}/submit"
        assert_refused(login(dpo), url, {"investigation_summary": "x"}, status=403)
        assert_refused(login(outsider), url, {"investigation_summary": "x"}, status=404)


class TestReturnAndEscalate:
    def test_the_decision_maker_returns_the_case(self, login, dsl, head, case, db):
        awaiting(db, case, dsl)
        client = login(head)
        assert client.get(f"/cases/{case.id}/return").status_code == 200
        response = post_form(client, f"/cases/{case.id}/return", {"reason": "Interview Pupil A."})
        assert response.status_code == 302
        case = reload(db, case)
        assert case.status == "investigation"
        assert moves(db, case)[-1].reason == "Interview Pupil A."
        page = text(post_form(client, f"/cases/{case.id}/return", {"reason": ""}))
        assert "cannot go on to this step" in page

    def test_returning_needs_a_reason(self, login, dsl, head, case, db):
        awaiting(db, case, dsl)
        page = text(post_form(login(head), f"/cases/{case.id}/return", {"reason": " "}))
        assert "Say what more is needed" in page
        assert reload(db, case).status == "awaiting_decision"

    def test_only_the_decision_maker_returns_it(self, login, dsl, head, outsider, case, db):
        awaiting(db, case, dsl)
        url = f"/cases/{case.id}/return"
        assert_refused(login(dsl), url, {"reason": "x"}, status=403)
        assert_refused(login(outsider), url, {"reason": "x"}, status=404)

    def test_a_low_level_concern_is_escalated(self, login, dsl, case, db):
        investigating(db, case, dsl, track="low_level")
        client = login(dsl)
        assert client.get(f"/cases/{case.id}/escalate").status_code == 200
        page = text(post_form(client, f"/cases/{case.id}/escalate", {"reason": ""}))
        assert "Say why this is now an allegation" in page
        response = post_form(
            client, f"/cases/{case.id}/escalate", {"reason": "Pupil A disclosed more."}
        )
        assert response.status_code == 302
        case = reload(db, case)
        assert (case.status, case.track) == ("triage", "allegation")
        assert case.lado_due_at is not None

    def test_an_allegation_cannot_be_escalated(self, login, dsl, dpo, case, db):
        investigating(db, case, dsl)
        response = login(dsl).get(f"/cases/{case.id}/escalate")
        assert "Only a low-level concern can be escalated to an allegation" in text(response)
        assert_refused(login(dpo), f"/cases/{case.id}/escalate", {"reason": "x"}, status=403)


# --- the decision ---------------------------------------------------------------------------


class TestDecisionPage:
    def test_everything_needed_is_on_one_screen(self, login, dsl, head, case, db):
        add_person(
            case,
            kind="pupil",
            identifier="Pupil A",
            year_group="Year 8",
            role_in_case="Received messages",
            by=dsl,
        )
        add_chronology_entry(
            case,
            kind="phone_call",
            occurred_on=date(2026, 3, 5),
            occurred_time=None,
            summary="Called the parent back.",
            by=dsl,
            today=today(),
        )
        add_evidence(
            case,
            content=BytesIO(PNG),
            filename="messages.png",
            provenance=Provenance(description="Screenshot of the messages"),
            by=dsl,
        )
        commit(db)
        awaiting(db, case, dsl)
        response = login(head).get(f"/cases/{case.id}/decide")
        assert response.status_code == 200
        page = text(response)
        clause = case.breaches[0].clause
        for expected in [
            "Messaged pupils from a personal account.",  # the concern
            clause.text,  # the clause cited, in full
            "Why 3.4 applies",  # and why
            "Screenshot of the messages",  # the evidence
            "Called the parent back.",  # the chronology
            "Pupil A",  # the people involved
            "He admitted sending the messages.",  # the investigation
            "Investigate internally.",  # the LADO's advice
            "LADO-42",
            "Most cases: within 1 month",  # the KCSIE clocks
            "Return for more investigation",
        ]:
            assert expected in page, expected
        assert "/remove" not in page  # read-only here: the evidence is not changed
        assert "Download" in page

    def test_the_headteacher_records_a_final_written_warning(self, login, dsl, head, case, db):
        awaiting(db, case, dsl)
        client = login(head)
        response = post_form(
            client,
            f"/cases/{case.id}/decide",
            {
                "outcome": "substantiated",
                "sanction": "final_written_warning",
                "refer_tra": "y",
                "refer_tra_reason": "Serious misconduct.",
                "may_mention": "yes",
                "rationale": "He admitted it.",
            },
        )
        assert response.status_code == 302, text(response)
        case = reload(db, case)
        decision = case.decision
        assert case.status == "decided"
        assert (decision.outcome, decision.sanction) == ("substantiated", "final_written_warning")
        assert decision.refer_tra and decision.refer_tra_reason == "Serious misconduct."
        assert not decision.refer_dbs and decision.may_mention_in_references
        assert decision.decided_by_id == head.id and decision.decided_on == today()
        assert decision.warning_expires_on == add_months(today(), 12)
        assert (moves(db, case)[-1].from_status, moves(db, case)[-1].to_status) == (
            "awaiting_decision",
            "decided",
        )
        assert "Decision recorded: substantiated." in text(client.get(f"/cases/{case.id}"))

    def test_references_are_forced_to_no_after_an_unfounded_outcome(
        self, login, dsl, head, case, db
    ):
        awaiting(db, case, dsl)
        client = login(head)
        response = post_form(
            client,
            f"/cases/{case.id}/decide",
            {"outcome": "unfounded", "sanction": "none", "may_mention": "yes", "rationale": "R"},
        )
        assert response.status_code == 302
        assert reload(db, case).decision.may_mention_in_references is False
        page = text(client.get(f"/cases/{case.id}"))
        assert "so that answer is recorded as no" in page
        assert re.search(r'data-testid="references">\s*No', page)

    def test_decision_problems_are_explained_and_input_kept(self, login, dsl, head, case, db):
        awaiting(db, case, dsl)
        client = login(head)
        page = text(post_form(client, f"/cases/{case.id}/decide", {"refer_dbs_reason": "Kept"}))
        for message in [
            "Choose the outcome",
            "Say whether this may appear in future references",
            "Write the reasons for the decision",
        ]:
            assert message in page, message
        # The sanction is asked only under an outcome a sanction may follow.
        assert "Choose the sanction" not in page
        assert "Kept" in page
        page = text(post_form(client, f"/cases/{case.id}/decide", {"outcome": "substantiated"}))
        assert "Choose the sanction" in page and "Write the reasons for the decision" in page
        assert 'href="#sanction"' in page and 'id="sanction"' in page
        page = text(
            post_form(
                client,
                f"/cases/{case.id}/decide",
                {
                    "outcome": "substantiated",
                    "sanction": "dismissal",
                    "refer_dbs": "y",
                    "may_mention": "no",
                    "rationale": "Kept rationale",
                },
            )
        )
        assert "Give the reason for referring to the DBS" in page
        assert 'href="#refer_dbs_reason"' in page
        assert "Kept rationale" in page
        assert checked(page, "outcome", "substantiated") and checked(page, "refer_dbs", "y")
        page = text(
            post_form(
                client,
                f"/cases/{case.id}/decide",
                {"outcome": "unfounded", "sanction": "dismissal", "may_mention": "no"}
                | {"rationale": "R"},
            )
        )
        assert "No sanction can follow the outcome “unfounded”" in page
        db.session.rollback()
        assert db.session.scalar(select(func.count(Decision.id))) == 0

    def test_a_low_level_concern_offers_its_own_outcomes(self, login, dsl, head, case, db):
        awaiting(db, case, dsl, track="low_level")
        page = text(login(head).get(f"/cases/{case.id}/decide"))
        assert "Advice and guidance" in page and "Substantiated" not in page

    def test_who_may_not_decide(self, login, dsl, head, dpo, outsider, case, db):
        awaiting(db, case, dsl)
        url = f"/cases/{case.id}/decide"
        data = {"outcome": "unfounded", "sanction": "none", "may_mention": "no", "rationale": "R"}
        assert_refused(login(dsl), url, data, status=403)
        assert_refused(login(dpo), url, data, status=403)
        assert_refused(login(outsider), url, data, status=404)


# --- appeal and closing ---------------------------------------------------------------------


class TestAppeal:
    def test_a_dsl_records_an_appeal_heard_by_the_chief_executive(
        self, login, dsl, head, ceo, case, db
    ):
        decided(db, case, dsl, head)
        client = login(dsl)
        assert "An appeal may be lodged until" in text(client.get(f"/cases/{case.id}/appeal"))
        response = post_form(
            client,
            f"/cases/{case.id}/appeal",
            {"lodged_on": day_parts(today()), "grounds": "The sanction is too harsh."},
        )
        assert response.status_code == 302
        case = reload(db, case)
        assert case.status == "appeal" and case.appeal.heard_by_id == ceo.id
        page = text(client.get(f"/cases/{case.id}"))
        assert "Appeal recorded. It will be heard by the chief executive." in page

    def test_appeal_problems_are_explained(self, login, dsl, head, ceo, case, db):
        decided(db, case, dsl, head)
        client = login(dsl)
        page = text(post_form(client, f"/cases/{case.id}/appeal", {"grounds": "Kept grounds"}))
        assert "Enter the date the appeal was lodged" in page and "Kept grounds" in page
        page = text(
            post_form(
                client,
                f"/cases/{case.id}/appeal",
                {"lodged_on": day_parts(today() + timedelta(days=1)), "grounds": "G"},
            )
        )
        assert "The appeal cannot be dated in the future" in page
        page = text(
            post_form(client, f"/cases/{case.id}/appeal", {"lodged_on": day_parts(today())})
        )
        assert "Give the grounds of the appeal" in page
        assert reload(db, case).status == "decided"

    def test_who_may_not_record_an_appeal(self, login, dsl, head, dpo, outsider, case, db):
        decided(db, case, dsl, head)
        url = f"/cases/{case.id}/appeal"
        data = {"lodged_on": day_parts(today()), "grounds": "G"}
        assert_refused(login(dpo), url, data, status=403)
        assert_refused(login(outsider), url, data, status=404)

    def test_the_chief_executive_varies_the_sanction(self, login, dsl, head, ceo, case, db):
        appealed(db, case, dsl, head, ceo)
        client = login(ceo)
        page = text(client.get(f"/cases/{case.id}/appeal/decide"))
        assert "The sanction is too harsh." in page and "The messages breach 3.4." in page
        page = text(
            post_form(
                client,
                f"/cases/{case.id}/appeal/decide",
                {"outcome": "varied", "rationale": "Kept reasons"},
            )
        )
        assert "Choose the sanction as varied" in page and "Kept reasons" in page
        response = post_form(
            client,
            f"/cases/{case.id}/appeal/decide",
            {
                "outcome": "varied",
                "varied_sanction": "first_written_warning",
                "rationale": "A first warning is enough.",
            },
        )
        assert response.status_code == 302
        case = reload(db, case)
        assert case.status == "closed" and case.closed_on == today()
        assert case.decision.sanction == "first_written_warning"
        assert case.appeal.outcome == "varied"
        page = text(client.get(f"/cases/{case.id}"))
        assert "Varied: the decision is changed: First written warning" in page

    def test_appeal_outcome_problems_and_who_may_not_record_it(
        self, login, dsl, head, ceo, dpo, case, db
    ):
        appealed(db, case, dsl, head, ceo)
        page = text(post_form(login(ceo), f"/cases/{case.id}/appeal/decide", {}))
        assert "Choose the outcome of the appeal" in page
        assert "Write the reasons for the appeal outcome" in page
        url = f"/cases/{case.id}/appeal/decide"
        data = {"outcome": "upheld", "rationale": "R"}
        assert_refused(login(head), url, data, status=403)  # the decider cannot hear it
        assert_refused(login(dsl), url, data, status=403)


class TestClose:
    def test_closing_warns_while_the_appeal_window_is_open(self, login, dsl, head, case, db):
        decided(db, case, dsl, head)
        client = login(head)
        page = text(client.get(f"/cases/{case.id}/close"))
        ends = services.appeal_window_ends(case)
        assert f"The appeal window ends on <strong>{ends.day} {ends:%B %Y}</strong>" in page
        assert "The appeal window has not passed" in page
        response = post_form(client, f"/cases/{case.id}/close", {})
        assert response.status_code == 302
        case = reload(db, case)
        assert case.status == "closed" and case.closed_on == today()
        assert moves(db, case)[-1].actor_id == head.id

    def test_no_warning_once_the_window_has_passed(self, login, dsl, head, case, db):
        decided(db, case, dsl, head)
        case.decision.decided_on = today() - timedelta(days=30)
        commit(db)
        page = text(login(dsl).get(f"/cases/{case.id}/close"))
        assert "The appeal window ends on" in page
        assert "The appeal window has not passed" not in page

    def test_an_undecided_case_cannot_be_closed(self, login, dsl, case, db):
        investigating(db, case, dsl)
        client = login(dsl)
        assert "cannot go on to this step" in text(client.get(f"/cases/{case.id}/close"))
        assert "cannot go on to this step" in text(post_form(client, f"/cases/{case.id}/close", {}))
        assert reload(db, case).status == "investigation"

    def test_who_may_not_close(self, login, dsl, head, dpo, outsider, case, db):
        decided(db, case, dsl, head)
        assert_refused(login(dpo), f"/cases/{case.id}/close", {}, status=403)
        assert_refused(login(outsider), f"/cases/{case.id}/close", {}, status=404)


class TestWithdrawAndReopen:
    def test_a_dsl_withdraws_a_case(self, login, dsl, case, db):
        client = login(dsl)
        assert client.get(f"/cases/{case.id}/withdraw").status_code == 200
        page = text(post_form(client, f"/cases/{case.id}/withdraw", {"reason": ""}))
        assert "Say why the case is being withdrawn" in page
        response = post_form(
            client, f"/cases/{case.id}/withdraw", {"reason": "Reported about the wrong person."}
        )
        assert response.status_code == 302
        case = reload(db, case)
        assert case.status == "withdrawn" and case.closure_reason.startswith("Reported about")

    def test_who_may_not_withdraw(self, login, dpo, outsider, case):
        url = f"/cases/{case.id}/withdraw"
        assert_refused(login(dpo), url, {"reason": "x"}, status=403)
        assert_refused(login(outsider), url, {"reason": "x"}, status=404)

    def test_a_closed_case_is_reopened_with_a_reason(self, login, dsl, head, case, db):
        closed(db, case, dsl, head)
        client = login(dsl)
        page = text(post_form(client, f"/cases/{case.id}/reopen", {"reason": "  "}))
        assert "Say why the case is being reopened" in page
        response = post_form(
            client, f"/cases/{case.id}/reopen", {"reason": "New messages came to light."}
        )
        assert response.status_code == 302
        case = reload(db, case)
        assert case.status == "investigation" and case.closed_on is None
        assert moves(db, case)[-1].reason == "New messages came to light."

    def test_who_may_not_reopen(self, login, dsl, head, dpo, outsider, case, db):
        assert "cannot go on to this step" in text(login(dsl).get(f"/cases/{case.id}/reopen"))
        closed(db, case, dsl, head)
        url = f"/cases/{case.id}/reopen"
        assert_refused(login(dpo), url, {"reason": "x"}, status=403)
        assert_refused(login(outsider), url, {"reason": "x"}, status=404)


# --- the case page's panel ----------------------------------------------------------------


class TestWhatHappensNext:
    def test_a_reported_case_offers_triage_to_its_workers_only(self, login, dsl, dpo, case):
        page = text(login(dsl).get(f"/cases/{case.id}"))
        assert "What happens next" in page
        assert f'href="/cases/{case.id}/triage"' in page
        assert f'href="/cases/{case.id}/withdraw"' in page
        assert "Not triaged yet" in page
        assert "Most cases: within 1 month" in page
        assert "Nearly all: within 3 months" in page
        assert "All but exceptional: within 12 months" in page
        page = text(login(dpo).get(f"/cases/{case.id}"))
        assert "What happens next" in page and f"/cases/{case.id}/triage" not in page

    def test_an_allegation_in_triage_offers_the_lado_steps(self, login, dsl, case, db):
        triage(db, case, dsl)
        page = text(login(dsl).get(f"/cases/{case.id}"))
        assert f'href="/cases/{case.id}/lado/referral"' in page
        assert "before the investigation starts" in page
        assert f'href="/cases/{case.id}/suspensions/new"' in page

    def test_an_overdue_lado_referral_is_marked_in_red(self, login, dsl, case, db):
        triage(db, case, dsl)
        case.lado_due_at = utcnow() - timedelta(hours=2)
        commit(db)
        page = login(dsl).get(f"/cases/{case.id}").get_data(as_text=True)
        lado_row = page.split('data-testid="lado-clock"')[1].split("</div>")[0]
        assert re.search(r'govuk-tag govuk-tag--red">Overdue<', lado_row)
        assert "The referral is overdue" in lado_row
        lado(db, case, dsl)
        page = login(dsl).get(f"/cases/{case.id}").get_data(as_text=True)
        lado_row = page.split('data-testid="lado-clock"')[1].split("</div>")[0]
        assert "Overdue" not in lado_row and "Referred late" in lado_row

    def test_a_lado_referral_not_yet_due_is_not_red(self, login, dsl, case, db):
        triage(db, case, dsl)
        page = login(dsl).get(f"/cases/{case.id}").get_data(as_text=True)
        lado_row = page.split('data-testid="lado-clock"')[1].split("</div>")[0]
        assert "govuk-tag--red" not in lado_row and "Due by" in lado_row

    def test_the_decision_and_a_warnings_expiry_are_shown(self, login, dsl, head, case, db):
        decided(db, case, dsl, head)
        page = text(login(dsl).get(f"/cases/{case.id}"))
        expires = case.decision.warning_expires_on
        assert "Substantiated" in page
        assert "Final written warning (disregarded after 12 months)" in page
        assert f"The warning expires on {expires.day} {expires:%B %Y}." in page
        assert "Spent" not in page
        assert "The messages breach 3.4." in page and "Hannah Jones" in page
        assert "An appeal may be lodged until" in page
        assert f'href="/cases/{case.id}/appeal"' in page
        assert f'href="/cases/{case.id}/close"' in page

    def test_an_expired_warning_is_spent(self, login, dsl, head, case, db):
        decided(db, case, dsl, head, sanction="first_written_warning")
        decision = case.decision
        decision.decided_on = today() - timedelta(days=400)
        decision.warning_expires_on = today() - timedelta(days=217)
        commit(db)
        page = text(login(dsl).get(f"/cases/{case.id}"))
        assert re.search(r"govuk-tag--grey\">Spent<", page)
        assert "The warning expired on" in page
        assert "Ended on" in page  # the appeal window too

    def test_the_history_shows_every_transition(self, login, dsl, head, case, db):
        closed(db, case, dsl, head)
        page = text(login(head).get(f"/cases/{case.id}"))
        history = page.split('data-testid="history"')[1].split("</table>")[0]
        for status in ["Reported", "Triage", "Investigation", "Awaiting decision", "Decided"]:
            assert status in history
        assert "Closed" in history
        assert history.count("<tr") == 6  # the header and five moves
        assert "Messages to pupils from a personal account." in history
        assert "Priya Shah" in history and "Hannah Jones" in history

    def test_a_closed_case_offers_only_reopening(self, login, dsl, head, case, db):
        closed(db, case, dsl, head)
        page = text(login(dsl).get(f"/cases/{case.id}"))
        buttons = re.findall(r'role="button"[^>]*>\s*([^<]+?)\s*<', page)
        assert buttons == ["Reopen the case"]
        assert "Change the details" not in page
        assert "An appeal can be recorded only while the case is decided." in page

    def test_the_panel_keeps_the_case_page_within_its_query_budget(
        self, login, make, school, dsl, head, ceo, db
    ):
        fresh = make.case(school, by=dsl)
        full = make.case(school, by=dsl)
        appealed(db, full, dsl, head, ceo)
        services.record_suspension(
            full, starts_on=today(), ends_on=None, reason="Protect pupils", reviewed_on=None, by=dsl
        )
        commit(db)
        client = login(dsl)
        client.get("/")  # the session's last-seen time is fresh: no write during the count
        counts = []
        for each in (fresh, full):
            with count_statements(db.engine) as log:
                assert client.get(f"/cases/{each.id}").status_code == 200
            counts.append(len(log.queries))
        assert counts[0] == counts[1], log.report()
        # Including the two that record case.viewed, and the earlier concerns and links.
        assert counts[1] <= 11, log.report()


# --- the case and decision pages at a glance -----------------------------------------------


def buttons(page: str) -> list[tuple[str, bool]]:
    """The "What happens next" panel's buttons in order: (label, whether it is the main one)."""
    panel = page.split('data-testid="what-happens-next"', 1)[1].split("</section>", 1)[0]
    return [
        (label.strip(), "govuk-button--secondary" not in classes)
        for classes, label in re.findall(
            r'class="(govuk-button(?: [^"]*)?)"[^>]*>\s*([^<]+?)\s*<', panel
        )
    ]


class TestAtAGlance:
    def test_the_heading_names_the_subject_and_the_step_awaited_with_its_due_date(
        self, app, login, dsl, head, case, db
    ):
        awaiting(db, case, dsl)
        page = text(login(dsl).get(f"/cases/{case.id}"))
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S).group(1)
        assert "Liam Hughes" in heading and case.reference not in heading
        caption = page.split("<h1", 1)[0].rsplit('class="govuk-caption-l"', 1)[1]
        assert case.reference in caption and "Northfield Primary School" in caption
        due = add_working_days(today(), app.config["DECISION_DUE_WORKING_DAYS"])
        standing = page.split('data-testid="case-standing"', 1)[1].split("</div>", 1)[0]
        assert "Awaiting decision" in standing
        assert re.search(
            rf"Record the decision, by Hannah Jones\.\s*Due by {uk_date(due)}\.", standing
        ), standing
        # Right under the heading: before the panel and the concern.
        assert page.index('data-testid="case-standing"') < page.index("What happens next")

    def test_the_decision_due_date_follows_the_setting(self, app, login, dsl, head, case, db):
        app.config["DECISION_DUE_WORKING_DAYS"] = 2
        awaiting(db, case, dsl)
        due = uk_date(add_working_days(today(), 2))
        client = login(head)
        case_page = text(client.get(f"/cases/{case.id}"))
        assert re.search(rf'data-testid="decision-due">.*?By {due}', case_page, re.S)
        decide_page = text(client.get(f"/cases/{case.id}/decide"))
        assert f"The decision is due by <strong>{due}</strong>" in decide_page
        # No decision is due at any other stage.
        assert 'data-testid="decision-due"' not in text(
            login(dsl).get(f"/cases/{reload(db, case).id}/investigation/start")
        )

    def test_a_lado_referral_awaited_shows_its_own_deadline(self, login, dsl, case, db):
        triage(db, case, dsl)
        page = text(login(dsl).get(f"/cases/{case.id}"))
        standing = page.split('data-testid="case-standing"', 1)[1].split("</div>", 1)[0]
        assert "Record the LADO referral" in standing
        assert uk_datetime(reload(db, case).lado_due_at) in standing

    def test_an_open_case_has_no_retention_section_until_it_means_something(
        self, login, dsl, head, dpo, case, db
    ):
        awaiting(db, case, dsl)
        assert 'data-testid="retention"' not in text(login(dsl).get(f"/cases/{case.id}"))
        # Whoever keeps retention (and may place a legal hold) still has it, at the end.
        page = text(login(dpo).get(f"/cases/{case.id}"))
        assert page.index('id="timeline"') < page.index('data-testid="retention"')
        services.decide(
            reload(db, case),
            services.DecisionInput(
                outcome="unfounded", sanction="none", rationale="R", may_mention_in_references=False
            ),
            by=head,
            today=today(),
        )
        commit(db)
        services.close_case(reload(db, case), by=head, today=today())
        commit(db)
        assert 'data-testid="retention"' in text(login(dsl).get(f"/cases/{case.id}"))

    def test_the_step_expected_next_comes_first_and_the_exceptional_ones_last(
        self, login, dsl, head, case, db
    ):
        awaiting(db, case, dsl, track="low_level")
        offered = buttons(text(login(dsl).get(f"/cases/{case.id}")))
        labels = [label for label, _ in offered]
        assert labels[0] != "Escalate to an allegation", labels
        assert labels[-2:] == ["Escalate to an allegation", "Withdraw the case"], labels
        offered = buttons(text(login(head).get(f"/cases/{case.id}")))
        assert offered[0] == ("Record the decision", True), offered
        assert [primary for _, primary in offered].count(True) == 1
        assert [label for label, _ in offered][-2:] == [
            "Escalate to an allegation",
            "Withdraw the case",
        ]

    def test_the_investigator_hint_names_everyone_offered(self, login, dsl, head, ceo, case, db):
        triage(db, case, dsl, track="low_level")
        page = text(login(dsl).get(f"/cases/{case.id}/investigation/start"))
        hint = re.search(r'id="investigator-hint"[^>]*>\s*(.*?)\s*</div>', page, re.S).group(1)
        options = re.findall(r"<option[^>]*>([^<]+)</option>", page)
        assert any("Chris Evans (Chief executive officer)" in o for o in options), options
        assert "chief executive officer" in hint, hint
        for role in ("designated safeguarding lead", "headteacher"):
            assert role in hint, hint

    def test_sanctions_are_offered_only_under_the_outcomes_they_may_follow(
        self, login, dsl, head, case, db
    ):
        awaiting(db, case, dsl)
        page = text(login(head).get(f"/cases/{case.id}/decide"))
        # An allegation: every sanction, once, under "substantiated" alone.
        assert page.count('name="sanction"') == 5
        reveal = re.search(r'data-aria-controls="([^"]+)"', page).group(1)
        assert 'value="substantiated"' in page.split(f'data-aria-controls="{reveal}"')[0][-400:]
        revealed = page.split(f'id="{reveal}"', 1)[1].split('name="outcome"', 1)[0]
        assert revealed.count('name="sanction"') == 5
        assert "May this matter be mentioned in future references?" in page

    def test_a_low_level_concern_is_not_asked_about_references(self, login, dsl, head, case, db):
        awaiting(db, case, dsl, track="low_level")
        client = login(head)
        page = text(client.get(f"/cases/{case.id}/decide"))
        assert "May this matter be mentioned in future references?" not in page
        # Advice and guidance: no sanction or management advice; disciplinary: all five.
        assert page.count('name="sanction"') == 2 + 5
        refused = text(
            post_form(
                client,
                f"/cases/{case.id}/decide",
                {"outcome": "advice_and_guidance", "sanction": "dismissal", "rationale": "R"},
            )
        )
        assert "Advice and guidance can come with management advice only" in refused
        response = post_form(
            client, f"/cases/{case.id}/decide", {"outcome": "no_further_action", "rationale": "R"}
        )
        assert response.status_code == 302, text(response)
        decision = reload(db, case).decision
        assert (decision.sanction, decision.may_mention_in_references) == ("none", False)

    def test_the_decision_form_is_not_below_the_whole_case(self, login, dsl, head, case, db):
        awaiting(db, case, dsl)
        page = text(login(head).get(f"/cases/{case.id}/decide"))
        # The case's sections are folded away, so the question follows a short head.
        for section in ("concern", "clauses", "investigation", "timeline"):
            assert re.search(rf'<details class="govuk-details[^"]*" id="{section}"', page), section
            assert page.index(f'id="{section}"') < page.index('name="outcome"')


# --- the LADO referral's date and time, typed in UK time ------------------------------------

# A summer morning: 10:30 UTC is 11:30 in the UK (BST, UTC+1).
SUMMER_NOW = datetime(2026, 6, 15, 10, 30, tzinfo=UTC)
# A winter morning: 10:30 UTC is 10:30 in the UK (GMT).
WINTER_NOW = datetime(2026, 12, 15, 10, 30, tzinfo=UTC)


def _referral_form(app, now, day, at, method="phone", triaged_at=None):
    """The LADO referral form as posted, checked against a known present moment."""
    data = {"referred_on": day_parts(day), "referred_time": at, "method": method}
    with app.test_request_context(method="POST", data=data):
        form = LadoReferralForm(meta={"csrf": False})
        form.now, form.triaged_at = now, triaged_at
        form.validate()
        return {name: list(field.errors) for name, field in form._fields.items() if field.errors}


@pytest.mark.parametrize(
    ("now", "day", "at", "errors"),
    [
        # Earlier today in UK time is accepted, in summer too (11:00 BST is 10:00 UTC).
        (SUMMER_NOW, date(2026, 6, 15), "11:00", {}),
        (SUMMER_NOW, date(2026, 6, 15), "11:30", {}),
        (SUMMER_NOW, date(2026, 6, 15), "", {}),
        (SUMMER_NOW, date(2026, 6, 14), "23:59", {}),
        (WINTER_NOW, date(2026, 12, 15), "10:15", {}),
        # Later today is in the future: the time's fault, not the date's.
        (
            SUMMER_NOW,
            date(2026, 6, 15),
            "11:45",
            {"referred_time": ["The time of the referral must be in the past"]},
        ),
        (
            WINTER_NOW,
            date(2026, 12, 15),
            "10:45",
            {"referred_time": ["The time of the referral must be in the past"]},
        ),
        # A later day is the date's fault, whatever the time.
        (
            SUMMER_NOW,
            date(2026, 6, 16),
            "00:30",
            {"referred_on": ["The date of the referral must be today or in the past"]},
        ),
    ],
)
def test_a_referral_time_is_read_as_uk_time_against_a_known_clock(app, now, day, at, errors):
    assert _referral_form(app, now, day, at) == errors


def test_every_fault_of_a_referral_is_reported_at_once(app):
    errors = _referral_form(app, SUMMER_NOW, date(2026, 6, 15), "12:00", method="")
    assert errors == {
        "referred_time": ["The time of the referral must be in the past"],
        "method": ["Choose how the referral was made"],
    }


def test_a_referral_cannot_come_before_the_day_of_the_triage(app):
    triaged_at = datetime(2026, 6, 14, 23, 30, tzinfo=UTC)  # 00:30 BST on 15 June
    errors = _referral_form(app, SUMMER_NOW, date(2026, 6, 14), "22:00", triaged_at=triaged_at)
    assert errors == {
        "referred_on": [
            "The date of the referral must be the same as or after 15 June 2026, the day of "
            "the triage"
        ]
    }
    assert _referral_form(app, SUMMER_NOW, date(2026, 6, 15), "00:10", triaged_at=triaged_at) == {}


def test_the_service_puts_a_later_time_today_on_the_time(make, dsl, case, db):
    triage(db, case, dsl)
    now = utcnow()
    with pytest.raises(ValidationFailed) as refused:
        services.record_lado_referral(
            case,
            referred_at=now + timedelta(minutes=1),
            method="phone",
            reference="",
            by=dsl,
            now=now,
        )
    if uk_time(now + timedelta(minutes=1)).date() == uk_time(now).date():
        assert refused.value.field == "referred_time"
        assert refused.value.message == "The time of the referral must be in the past"
    with pytest.raises(ValidationFailed) as refused:
        services.record_lado_referral(
            case,
            referred_at=now + timedelta(days=1),
            method="phone",
            reference="",
            by=dsl,
            now=now,
        )
    assert refused.value.field == "referred_on"


def test_the_referral_page_puts_a_later_time_on_the_time_field(login, dsl, case, db):
    now = uk_time(utcnow())
    later = now + timedelta(hours=1)
    if later.date() != now.date():
        pytest.skip("no later time today to type (the last hour of the UK day)")
    triage(db, case, dsl)
    client = login(dsl)
    page = text(
        post_form(
            client,
            f"/cases/{case.id}/lado/referral",
            {"referred_on": day_parts(now.date()), "referred_time": f"{later:%H:%M}"},
        )
    )
    summary = page.split("govuk-error-summary__list")[1].split("</ul>")[0]
    assert 'href="#referred_time">The time of the referral must be in the past' in summary
    assert 'href="#method">Choose how the referral was made' in summary
    assert 'id="referred_on-error"' not in page and 'id="referred_time-error"' in page
    assert reload(db, case).lado_referred_at is None
