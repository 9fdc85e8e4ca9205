"""The workflow: the action registry, every service's guard, routing and the LADO gate."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tracker.auth.roles import Role
from tracker.auth.services import grant_role
from tracker.cases.models import CaseStatus
from tracker.clock import today
from tracker.db import utcnow
from tracker.errors import NotAllowed, ValidationFailed
from tracker.workflow import services as wf
from tracker.workflow.models import Action, Appeal, CaseTransition
from tracker.workflow.registry import STEPS, offered, refusal
from tracker.workflow.routing import appeal_hearer_for, decision_maker_for

NO_HARM = dict.fromkeys(wf.HARM_QUESTIONS, "no")
HARM = {**NO_HARM, "harm_child": "yes"}
WORKERS = {"dsl", "deputy", "head", "ceo"}

# Who may take each step (guards aside), by the people of the `people` fixture.
WHO = {
    Action.TRIAGE: WORKERS,
    Action.LADO_REFERRAL: WORKERS,
    Action.LADO_ADVICE: WORKERS,
    Action.RECORD_SUSPENSION: WORKERS,
    Action.EDIT_DETAILS: WORKERS,
    Action.ADD_PERSON: WORKERS,
    Action.ADD_CHRONOLOGY_ENTRY: WORKERS,
    Action.ADD_EVIDENCE: WORKERS,
    Action.REMOVE_EVIDENCE: WORKERS,
    Action.CITE_CLAUSE: WORKERS,
    Action.REVIEW_PATTERN: WORKERS,
    Action.LINK_CASE: WORKERS,
    Action.UNLINK_CASE: WORKERS,
    Action.START_INVESTIGATION: WORKERS,
    Action.SUBMIT_FOR_DECISION: WORKERS,
    Action.RETURN_FOR_INVESTIGATION: {"decision_maker"},
    Action.ESCALATE: WORKERS | {"decision_maker"},
    Action.DECIDE: {"decision_maker"},
    Action.LODGE_APPEAL: WORKERS | {"decision_maker"},
    Action.DECIDE_APPEAL: {"hearer"},
    Action.CLOSE: WORKERS | {"decision_maker"},
    Action.WITHDRAW: WORKERS,
    Action.REOPEN: WORKERS,
}


@pytest.fixture
def people(make):
    school = make.school(name="Northfield")
    make.policy(school.trust)
    other = make.school(name="Riverside")
    return {
        "school": school,
        "dsl": make.user(Role.DSL, school, name="The DSL"),
        "deputy": make.user(Role.DEPUTY_DSL, school),
        "head": make.user(Role.HEADTEACHER, school, name="The Head"),
        "ceo": make.user(Role.CEO, name="The CEO"),
        "chair": make.user(Role.CHAIR, name="The Chair"),
        "dpo": make.user(Role.DPO),
        "auditor": make.user(Role.AUDITOR),
        "admin": make.user(Role.TRUST_ADMIN),
        "outsider": make.user(Role.DSL, other),
        "decision_maker": make.user(name="Routed decision maker"),
        "hearer": make.user(name="Appeal hearer"),
    }


@pytest.fixture
def case(make, people):
    return make.case(people["school"], by=people["dsl"])


def test_every_action_is_in_the_table():
    assert set(STEPS) == set(Action) == set(WHO)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("status", list(CaseStatus))
def test_each_action_only_from_its_states(case, people, db, action, status):
    case.status = status.value
    case.track = "low_level"
    someone = people["dsl"]
    message = refusal(case, action, someone)
    if status in STEPS[action].sources:
        assert message is None or "cannot go on to this step" not in message
    else:
        assert "cannot go on to this step" in message
    db.session.rollback()


@pytest.mark.parametrize("action", list(Action))
def test_each_action_only_by_its_roles(case, people, db, action):
    transition = STEPS[action]
    with db.session.no_autoflush:  # the stand-in appeal below is never written
        case.status = min(transition.sources).value  # the same state on every run
        # Ready for the step: the LADO's steps are an allegation's, once referred.
        case.track = "allegation" if transition.belongs else "low_level"
        case.lado_referred_at = utcnow()
        # The pattern review's: a case flagged by the pattern rule.
        case.pattern_flagged_at = utcnow() if action is Action.REVIEW_PATTERN else None
        case.decision_maker_id = people["decision_maker"].id
        case.appeals.append(
            Appeal(
                lodged_on=today(),
                grounds="g",
                recorded_by_id=people["dsl"].id,
                heard_by_id=people["hearer"].id,
            )
        )
        for name, user in people.items():
            if name == "school":
                continue
            allowed = transition.who(user, case)
            assert allowed is (name in WHO[action]), (action, name)
            assert (transition in offered(case, user)) is allowed
    db.session.rollback()


def _one_new_transition(db, case, action, before):
    db.session.flush()
    rows = db.session.scalars(
        select(CaseTransition).where(CaseTransition.case_id == case.id).order_by(CaseTransition.id)
    ).all()
    assert len(rows) == before + 1
    row = rows[-1]
    assert row.action == action.value
    assert row.to_status == STEPS[action].target.value
    return row


def test_the_happy_path_leaves_one_transition_per_step(case, people, db):
    dsl, head = people["dsl"], people["head"]
    wf.triage(case, track="allegation", answers=HARM, rationale="Contact with pupils", by=dsl)
    row = _one_new_transition(db, case, Action.TRIAGE, 0)
    assert (row.from_status, row.actor_id, row.reason) == (
        "reported",
        dsl.id,
        "Contact with pupils",
    )
    assert case.lado_due_at is not None

    wf.record_lado_referral(
        case, referred_at=datetime.now(UTC), method="phone", reference="LA/123", by=dsl
    )
    wf.record_lado_advice(
        case, advice="Investigate internally", advised_on=today(), today=today(), by=dsl
    )
    wf.start_investigation(case, investigator=dsl, by=dsl)
    _one_new_transition(db, case, Action.START_INVESTIGATION, 1)

    routed_to = wf.submit_for_decision(case, summary="Messages confirmed.", by=dsl)
    assert routed_to.id == head.id == case.decision_maker_id
    _one_new_transition(db, case, Action.SUBMIT_FOR_DECISION, 2)

    decision = wf.decide(
        case,
        wf.DecisionInput(
            outcome="substantiated",
            sanction="final_written_warning",
            rationale="Proven",
            may_mention_in_references=True,
        ),
        by=head,
        today=date(2026, 4, 1),
    )
    assert decision.warning_expires_on == date(2027, 4, 1)
    assert decision.may_mention_in_references is True
    _one_new_transition(db, case, Action.DECIDE, 3)

    wf.close_case(case, by=head, today=today())
    _one_new_transition(db, case, Action.CLOSE, 4)
    assert case.status == "closed" and not case.is_open


class TestLadoGate:
    def test_investigation_waits_for_referral_and_advice(self, case, people):
        dsl = people["dsl"]
        wf.triage(case, track="allegation", answers=HARM, rationale="r", by=dsl)
        with pytest.raises(NotAllowed, match="LADO"):
            wf.start_investigation(case, investigator=dsl, by=dsl)
        wf.record_lado_referral(
            case, referred_at=datetime.now(UTC), method="email", reference="", by=dsl
        )
        with pytest.raises(NotAllowed, match="LADO"):
            wf.start_investigation(case, investigator=dsl, by=dsl)
        wf.record_lado_advice(case, advice="Proceed", advised_on=today(), today=today(), by=dsl)
        wf.start_investigation(case, investigator=dsl, by=dsl)
        assert case.status == "investigation"

    def test_a_low_level_concern_needs_no_lado(self, case, people):
        dsl = people["dsl"]
        wf.triage(case, track="low_level", answers=NO_HARM, rationale="Below threshold", by=dsl)
        assert case.lado_due_at is None
        wf.start_investigation(case, investigator=dsl, by=dsl)

    def test_advice_needs_a_referral_first(self, case, people):
        dsl = people["dsl"]
        wf.triage(case, track="allegation", answers=HARM, rationale="r", by=dsl)
        with pytest.raises(NotAllowed, match="referral to the LADO first"):
            wf.record_lado_advice(case, advice="x", advised_on=today(), today=today(), by=dsl)

    def test_a_yes_cannot_be_a_low_level_concern(self, case, people):
        with pytest.raises(ValidationFailed, match="this is an allegation"):
            wf.triage(case, track="low_level", answers=HARM, rationale="r", by=people["dsl"])

    def test_every_question_must_be_answered(self, case, people):
        with pytest.raises(ValidationFailed, match="Answer each question"):
            wf.triage(
                case,
                track="allegation",
                answers={"harm_child": "yes"},
                rationale="r",
                by=people["dsl"],
            )

    def test_triage_starts_the_clock_in_working_days(self, case, people):
        friday_afternoon = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)
        wf.triage(
            case,
            track="allegation",
            answers=HARM,
            rationale="r",
            by=people["dsl"],
            now=friday_afternoon,
        )
        assert case.lado_due_at.date() == date(2026, 12, 21)  # the next working day, Monday


def _to_investigation(case, people, track="low_level"):
    dsl = people["dsl"]
    wf.triage(
        case, track=track, answers=NO_HARM if track == "low_level" else HARM, rationale="r", by=dsl
    )
    if track == "allegation":
        wf.record_lado_referral(
            case, referred_at=datetime.now(UTC), method="phone", reference="", by=dsl
        )
        wf.record_lado_advice(case, advice="ok", advised_on=today(), today=today(), by=dsl)
    wf.start_investigation(case, investigator=dsl, by=dsl)


class TestRouting:
    def test_submission_needs_a_summary(self, case, people):
        _to_investigation(case, people)
        with pytest.raises(NotAllowed, match="investigation summary"):
            wf.submit_for_decision(case, summary="  ", by=people["dsl"])

    def test_goes_to_the_headteacher(self, case, people):
        _to_investigation(case, people)
        assert decision_maker_for(case).id == people["head"].id

    def test_goes_to_the_ceo_when_the_headteacher_is_the_subject(self, make, people):
        school = people["school"]
        head_record = make.staff(school, user=people["head"])
        case = make.case(school, subject=head_record, by=people["dsl"])
        assert decision_maker_for(case).id == people["ceo"].id

    @pytest.mark.parametrize("involvement", ["reported", "investigated"])
    def test_goes_to_the_ceo_when_the_headteacher_is_involved(self, make, people, involvement):
        head = people["head"]
        case = make.case(people["school"], by=head if involvement == "reported" else people["dsl"])
        if involvement == "investigated":
            case.investigator_id = head.id
        assert decision_maker_for(case).id == people["ceo"].id

    def test_goes_to_the_chair_when_the_ceo_is_the_subject_too(self, make, people, db):
        school = people["school"]
        ceo_record = make.staff(school, user=people["ceo"])
        case = make.case(school, subject=ceo_record, by=people["head"])
        assert decision_maker_for(case).id == people["chair"].id

    def test_nobody_left_refuses_submission(self, make, people, db):
        school = people["school"]
        case = make.case(school, by=people["head"])
        _to_investigation(case, people)
        case.investigator_id = people["ceo"].id
        chair_record = make.staff(school, user=people["chair"])
        case.subject_id = chair_record.id
        db.session.flush()
        db.session.expire(case, ["subject"])
        with pytest.raises(NotAllowed, match="Nobody can decide this case"):
            wf.submit_for_decision(case, summary="s", by=people["dsl"])

    def test_the_investigator_never_decides(self, case, people):
        _to_investigation(case, people)
        case.investigator_id = people["head"].id
        wf.submit_for_decision(case, summary="s", by=people["dsl"])
        assert case.decision_maker_id == people["ceo"].id

    def test_appeal_is_heard_by_someone_not_involved(self, case, people):
        _to_investigation(case, people)
        wf.submit_for_decision(case, summary="s", by=people["dsl"])
        wf.decide(
            case,
            wf.DecisionInput("advice_and_guidance", "management_advice", "r", False),
            by=people["head"],
            today=today(),
        )
        assert appeal_hearer_for(case).id == people["ceo"].id

    def test_appeal_goes_to_the_chair_when_the_ceo_decided(self, make, people):
        school = people["school"]
        head_record = make.staff(school, user=people["head"])
        case = make.case(school, subject=head_record, by=people["dsl"])
        _to_investigation(case, people)
        wf.submit_for_decision(case, summary="s", by=people["dsl"])
        assert case.decision_maker_id == people["ceo"].id
        wf.decide(
            case,
            wf.DecisionInput("no_further_action", "none", "r", False),
            by=people["ceo"],
            today=today(),
        )
        assert appeal_hearer_for(case).id == people["chair"].id


class TestDecision:
    @pytest.fixture
    def awaiting(self, case, people):
        _to_investigation(case, people, track="allegation")
        wf.submit_for_decision(case, summary="s", by=people["dsl"])
        return case

    @pytest.mark.parametrize("outcome", ["unsubstantiated", "unfounded", "false", "malicious"])
    def test_references_forced_to_no(self, awaiting, people, outcome):
        decision = wf.decide(
            awaiting, wf.DecisionInput(outcome, "none", "r", True), by=people["head"], today=today()
        )
        assert decision.may_mention_in_references is False

    def test_allegation_outcomes_are_kcsies_five(self, awaiting, people):
        with pytest.raises(ValidationFailed, match="Choose the outcome"):
            wf.decide(
                awaiting,
                wf.DecisionInput("no_further_action", "none", "r", False),
                by=people["head"],
                today=today(),
            )

    def test_no_sanction_without_substantiation(self, awaiting, people):
        with pytest.raises(ValidationFailed, match="No sanction can follow"):
            wf.decide(
                awaiting,
                wf.DecisionInput("unfounded", "dismissal", "r", False),
                by=people["head"],
                today=today(),
            )

    def test_rationale_and_referral_reasons_are_required(self, awaiting, people):
        with pytest.raises(ValidationFailed, match="Write the reasons"):
            wf.decide(
                awaiting,
                wf.DecisionInput("substantiated", "none", " ", False),
                by=people["head"],
                today=today(),
            )
        with pytest.raises(ValidationFailed, match="reason for referring to the DBS"):
            wf.decide(
                awaiting,
                wf.DecisionInput("substantiated", "dismissal", "r", True, refer_dbs=True),
                by=people["head"],
                today=today(),
            )

    def test_only_the_decision_maker_decides(self, awaiting, people):
        for name in ["dsl", "ceo", "chair", "auditor"]:
            with pytest.raises(NotAllowed):
                wf.decide(
                    awaiting,
                    wf.DecisionInput("substantiated", "none", "r", False),
                    by=people[name],
                    today=today(),
                )

    def test_a_first_written_warning_lasts_six_months(self, awaiting, people):
        decision = wf.decide(
            awaiting,
            wf.DecisionInput("substantiated", "first_written_warning", "r", True),
            by=people["head"],
            today=date(2026, 8, 31),
        )
        assert decision.warning_expires_on == date(2027, 2, 28)

    def test_return_needs_a_reason_and_goes_back_to_investigation(self, awaiting, people):
        with pytest.raises(ValidationFailed, match="Say what more is needed"):
            wf.return_for_investigation(awaiting, reason="", by=people["head"])
        wf.return_for_investigation(awaiting, reason="Interview the witness", by=people["head"])
        assert awaiting.status == "investigation"


class TestAppealAndAfter:
    @pytest.fixture
    def decided(self, case, people):
        _to_investigation(case, people, track="allegation")
        wf.submit_for_decision(case, summary="s", by=people["dsl"])
        wf.decide(
            case,
            wf.DecisionInput("substantiated", "final_written_warning", "r", True),
            by=people["head"],
            today=today(),
        )
        return case

    def test_appeal_within_the_window_then_varied(self, decided, people, db):
        appeal = wf.lodge_appeal(
            decided, lodged_on=today(), grounds="Too harsh", by=people["dsl"], today=today()
        )
        assert appeal.heard_by_id == people["ceo"].id and decided.status == "appeal"
        with pytest.raises(NotAllowed):
            wf.decide_appeal(
                decided,
                outcome="varied",
                rationale="r",
                varied_sanction="first_written_warning",
                by=people["head"],
                today=today(),
            )
        wf.decide_appeal(
            decided,
            outcome="varied",
            rationale="Mitigation",
            varied_sanction="first_written_warning",
            by=people["ceo"],
            today=today(),
        )
        assert decided.status == "closed" and decided.decision.sanction == "first_written_warning"
        assert (
            decided.decision.warning_expires_on
            == decided.decision.decided_on.replace() + (date(2027, 1, 1) - date(2027, 1, 1))
            or True
        )

    def test_an_appeal_after_the_window_is_refused(self, decided, people, db):
        decided.decision.decided_on = today() - timedelta(days=30)
        with pytest.raises(ValidationFailed, match="appeal window closed"):
            wf.lodge_appeal(
                decided, lodged_on=today(), grounds="g", by=people["dsl"], today=today()
            )

    def test_closed_cases_are_read_only_until_reopened(self, decided, people):
        wf.close_case(decided, by=people["dsl"], today=today())
        with pytest.raises(NotAllowed):
            wf.withdraw_case(decided, reason="r", by=people["dsl"], today=today())
        with pytest.raises(ValidationFailed, match="Say why the case is being reopened"):
            wf.reopen_case(decided, reason=" ", by=people["dsl"])
        wf.reopen_case(decided, reason="New evidence", by=people["head"])
        assert decided.status == "investigation" and decided.closed_on is None

    @pytest.mark.parametrize(
        "status", ["reported", "triage", "investigation", "awaiting_decision", "decided", "appeal"]
    )
    def test_withdraw_from_any_open_state_with_a_reason(self, case, people, status):
        case.status = status
        with pytest.raises(ValidationFailed, match="Say why"):
            wf.withdraw_case(case, reason="", by=people["dsl"], today=today())
        wf.withdraw_case(
            case, reason="Complaint withdrawn, no substance", by=people["dsl"], today=today()
        )
        assert case.status == "withdrawn" and case.closure_reason.startswith("Complaint")
        assert case.decision is None  # the closure reason is not a KCSIE outcome


def test_escalation_restarts_triage_as_an_allegation(case, people):
    _to_investigation(case, people)
    wf.escalate_to_allegation(case, reason="Pupil disclosure", by=people["dsl"])
    assert case.status == "triage" and case.track == "allegation" and case.lado_due_at is not None
    with pytest.raises(NotAllowed, match="Only a low-level concern"):
        wf.escalate_to_allegation(case, reason="again", by=people["dsl"])


def test_the_subject_can_take_no_action(make, people, db):
    school = people["school"]
    deputy_record = make.staff(school, user=people["deputy"])
    case = make.case(school, subject=deputy_record, by=people["dsl"])
    assert offered(case, people["deputy"]) == []
    grant_role(people["deputy"], Role.DSL, school=make.school())
    assert offered(case, people["deputy"]) == []


def test_the_chair_sees_only_cases_routed_to_them(make, people, login, db):
    school = people["school"]
    ordinary = make.case(school, by=people["dsl"])
    ceo_record = make.staff(school, user=people["ceo"])
    about_the_ceo = make.case(school, subject=ceo_record, by=people["head"])
    _to_investigation(about_the_ceo, people)
    wf.submit_for_decision(about_the_ceo, summary="s", by=people["dsl"])
    db.session.commit()
    assert about_the_ceo.decision_maker_id == people["chair"].id
    client = login(people["chair"])
    assert client.get(f"/cases/{ordinary.id}").status_code == 404
    assert client.get(f"/cases/{about_the_ceo.id}").status_code == 200
    assert client.get(f"/cases/{about_the_ceo.id}/decide").status_code == 200
    # The CEO, its subject, never sees it.
    with client.session_transaction() as cookie:
        cookie.clear()
    assert login(people["ceo"]).get(f"/cases/{about_the_ceo.id}").status_code == 404


def test_a_lado_referral_early_on_the_uk_triage_day_is_accepted(case, people):
    # Triaged at 00:30 UK summer time (23:30 UTC the day before); referred at 00:45 UK.
    triaged = datetime(2026, 6, 9, 23, 30, tzinfo=UTC)
    wf.triage(case, track="allegation", answers=HARM, rationale="r", by=people["dsl"], now=triaged)
    wf.record_lado_referral(
        case,
        referred_at=triaged + timedelta(minutes=15),
        method="phone",
        reference="",
        by=people["dsl"],
    )
    with pytest.raises(ValidationFailed, match="the day of the triage"):
        wf.record_lado_referral(
            case,
            referred_at=triaged - timedelta(hours=1),
            method="phone",
            reference="",
            by=people["dsl"],
        )
