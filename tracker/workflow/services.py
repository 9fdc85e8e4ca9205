"""Workflow services: the only writers of a case's status.

Each service is one business action. It checks its step in the action registry
(tracker/workflow/registry.py: the stages it belongs to, who may take it, its guard),
checks its own data, changes the case, records a change of stage (who, when, from, to,
why) through `_move`, and flushes. Views commit. A refusal is a DomainError whose message
the page shows.

The audit trail: `_move` records case.transitioned for every change of status (with the
names of any other case fields the step changed); a step that records something of its
own (a decision, an appeal, the LADO referral and advice, a suspension) adds that event
too. Details hold ids, codes, dates and field names only, never the reasons typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from flask import current_app

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.audit.services import DetailValue
from tracker.auth.models import User
from tracker.auth.permissions import is_case_worker
from tracker.cases.models import Case, CaseStatus, Track
from tracker.cases.services import add_revision
from tracker.clock import UK, uk_date, uk_midnight, uk_time
from tracker.db import utcnow
from tracker.errors import NotAllowed, ValidationFailed, one_of, required_text
from tracker.extensions import db
from tracker.retention.services import record_retention
from tracker.workflow.clocks import (
    appeal_deadline,
    decision_deadline,
    lado_due_at,
    triage_due_at,
    warning_expires_on,
)
from tracker.workflow.models import (
    NEVER_IN_REFERENCES,
    SANCTIONS_AFTER,
    Action,
    AllegationOutcome,
    Appeal,
    AppealOutcome,
    CaseTransition,
    Decision,
    LadoMethod,
    LowLevelOutcome,
    Sanction,
    Suspension,
)
from tracker.workflow.routing import appeal_hearer_for, decision_maker_for

HARM_ANSWERS = ("yes", "no", "unsure")
HARM_QUESTIONS = {
    "harm_child": "Has the member of staff behaved in a way that has harmed a child, or may "
    "have harmed a child?",
    "harm_offence": "Have they possibly committed a criminal offence against or related to a "
    "child?",
    "harm_risk": "Have they behaved towards a child or children in a way that indicates they "
    "may pose a risk of harm to children?",
    "harm_unsuitable": "Have they behaved or may have behaved in a way that indicates they "
    "may not be suitable to work with children?",
}


def _revise(
    case: Case, changes: dict[str, tuple[object, object]], by: User, audit_seq: int
) -> None:
    """Keep the step's narrative in the case's history: a revision with the before and
    after of each field the step changed (an earlier text is never lost by rewriting it).
    Nothing when nothing changed."""
    changed = {
        name: (before or None, after)
        for name, (before, after) in changes.items()
        if (before or None) != (after or None)
    }
    if changed:
        add_revision(case, changed, by=by, audit_seq=audit_seq)


def _check(case: Case, action: Action, by: User) -> None:
    """Refuse the step, before anything changes, if the registry says it cannot go ahead."""
    # Imported here, not at the top: the registry names this module's services as the
    # work of its steps, so it imports this module.
    from tracker.workflow.registry import refusal

    problem = refusal(case, action, by)
    if problem:
        raise NotAllowed(problem)


def _move(
    case: Case,
    action: Action,
    *,
    by: User,
    reason: str = "",
    now: datetime,
    fields: list[str] | None = None,
    details: dict[str, DetailValue] | None = None,
) -> int:
    """Check the step and record the move. The one place a case's status changes.

    Side effects: a CaseTransition row, the new status, and case.transitioned in the
    audit trail with the step, the statuses from and to, the names of the other case
    fields the step changes (`fields`) and any further codes (`details`). Returns the
    event's sequence number.
    """
    from tracker.workflow.registry import STEPS  # see _check

    _check(case, action, by)
    target = STEPS[action].target
    if target is None:
        raise ValueError(f"the step {action.value} does not change the case's stage")
    from_status = case.status
    case.transitions.append(
        CaseTransition(
            case_id=case.id,
            action=action.value,
            from_status=from_status,
            to_status=target.value,
            reason=reason,
            actor_id=by.id,
            at=now,
        )
    )
    case.status = target.value
    event: dict[str, DetailValue] = {
        "step": action.value,
        "from": from_status,
        "to": case.status,
        **(details or {}),
    }
    if fields:
        event["fields"] = sorted(fields)
    # Recording flushes the case first (autoflush): its row is locked, and its version
    # checked, before the audit chain's lock is taken.
    return audit.record_for_case(AuditAction.CASE_TRANSITIONED, case, actor=by, details=event)


# --- triage and the LADO -----------------------------------------------------------------


def triage(
    case: Case,
    *,
    track: str,
    answers: dict[str, str],
    rationale: str,
    by: User,
    sexual_abuse: bool = False,
    now: datetime | None = None,
) -> None:
    """Choose the track. An allegation starts the LADO clock.

    Guard: a case worker, the case `reported`; every harm-threshold question answered; a
    rationale (including a decision not to refer). Any "yes" means an allegation.
    `sexual_abuse` marks a concern about sexual abuse: preserved for the inquiry whatever
    the retention rule (only the DPO or the CEO can take the mark off).
    Side effects: case.transitioned with the track chosen and the fields set.
    """
    now = now or utcnow()
    _check(case, Action.TRIAGE, by)
    chosen = one_of(Track, track, "Choose the track", field="track")
    for name in HARM_QUESTIONS:
        if answers.get(name) not in HARM_ANSWERS:
            raise ValidationFailed("Answer each question about the harm threshold", field=name)
    if chosen is Track.LOW_LEVEL and "yes" in answers.values():
        raise ValidationFailed(
            "You answered yes to a harm-threshold question: this is an allegation, not a "
            "low-level concern",
            field="track",
        )
    previous_rationale = case.triage_rationale
    case.triage_rationale = required_text(
        rationale,
        "Explain the triage decision, including any decision not to refer",
        field="rationale",
    )
    for name in HARM_QUESTIONS:
        setattr(case, name, answers[name])
    case.track = chosen.value
    case.triaged_at = now
    changed = ["triage_rationale", *HARM_QUESTIONS, "track", "triaged_at"]
    if sexual_abuse and not case.sexual_abuse:
        case.sexual_abuse = True
        changed.append("sexual_abuse")
    if chosen is Track.ALLEGATION:
        case.lado_due_at = lado_due_at(now, case.school.lado_working_days)
        changed.append("lado_due_at")
    seq = _move(
        case,
        Action.TRIAGE,
        by=by,
        reason=case.triage_rationale,
        now=now,
        fields=changed,
        details={"track": chosen.value},
    )
    _revise(case, {"triage_rationale": (previous_rationale, case.triage_rationale)}, by, seq)
    db.session.flush()


def uk_moment(day: date, at: time | None, *, now: datetime) -> datetime:
    """An aware UTC datetime from a date and time of day as typed, in UK time (BST in
    summer): 09:00 if no time was given, or `now` when that is still to come today."""
    moment = datetime.combine(day, at or time(9, 0), UK).astimezone(UTC)
    if at is None and day == uk_time(now).date():
        moment = min(moment, now)
    return moment


def lado_referral_problem(
    referred_at: datetime, *, triaged_at: datetime | None, now: datetime
) -> ValidationFailed | None:
    """What is wrong with the moment of a LADO referral, on the field it is about (the
    form checks it too, so that its page lists every fault at once): a later UK day is
    the date's fault, a later time today the time's; nor may it come before the day of
    the triage."""
    if referred_at > now:
        if uk_time(referred_at).date() > uk_time(now).date():
            return ValidationFailed(
                "The date of the referral must be today or in the past", field="referred_on"
            )
        return ValidationFailed(
            "The time of the referral must be in the past", field="referred_time"
        )
    triage_day = uk_time(triaged_at).date() if triaged_at else None
    if triage_day and referred_at < uk_midnight(triage_day):
        return ValidationFailed(
            f"The date of the referral must be the same as or after {uk_date(triage_day)}, "
            "the day of the triage",
            field="referred_on",
        )
    return None


def record_lado_referral(
    case: Case,
    *,
    referred_at: datetime,
    method: str,
    reference: str,
    by: User,
    now: datetime | None = None,
) -> None:
    """Record when and how the allegation was referred to the LADO.

    Guard: the registry's (a case worker; an allegation in triage); the moment not after
    `now` (the present) nor before the day of the triage (`lado_referral_problem`).
    Side effects: lado.referral.recorded with the method (not the LADO's reference) and
    whether it replaces an earlier record.
    """
    _check(case, Action.LADO_REFERRAL, by)
    one_of(LadoMethod, method, "Choose how the referral was made", field="method")
    problem = lado_referral_problem(referred_at, triaged_at=case.triaged_at, now=now or utcnow())
    if problem is not None:
        raise problem
    correction = case.lado_referred_at is not None
    case.lado_referred_at = referred_at
    case.lado_method = method
    case.lado_reference = (reference or "").strip()[:100]
    db.session.flush()
    audit.record_for_case(
        AuditAction.LADO_REFERRAL_RECORDED,
        case,
        actor=by,
        details={"method": method, "correction": correction},
    )


def record_lado_advice(case: Case, *, advice: str, advised_on: date, today: date, by: User) -> None:
    """Record the LADO's advice.

    Guard: the registry's (a case worker; an allegation in triage, already referred);
    not in the future. Side effects: lado.advice.recorded with the date of the advice
    (never the advice) and whether it replaces an earlier record.
    """
    _check(case, Action.LADO_ADVICE, by)
    if advised_on > today:
        raise ValidationFailed("The date of the advice cannot be in the future", field="advised_on")
    correction = bool(case.lado_advice.strip())
    before = {"lado_advice": case.lado_advice, "lado_advice_on": case.lado_advice_on}
    case.lado_advice = required_text(advice, "Record the LADO's advice", field="advice")
    case.lado_advice_on = advised_on
    db.session.flush()
    seq = audit.record_for_case(
        AuditAction.LADO_ADVICE_RECORDED,
        case,
        actor=by,
        details={"advised_on": advised_on.isoformat(), "correction": correction},
    )
    _revise(case, {name: (old, getattr(case, name)) for name, old in before.items()}, by, seq)


# --- investigation -------------------------------------------------------------------------


def start_investigation(
    case: Case, *, investigator: User, by: User, now: datetime | None = None
) -> None:
    """Move to investigation with an investigator.

    Guard: a case worker; the LADO referral and advice recorded for an allegation; the
    investigator works on cases at the school and is not the subject. Side effects:
    case.transitioned naming the investigator (by id).
    """
    now = now or utcnow()
    _check(case, Action.START_INVESTIGATION, by)
    if not is_case_worker(investigator, case):
        raise ValidationFailed(
            "Choose a safeguarding lead or deputy or the headteacher of the school, or the "
            "chief executive, as investigator",
            field="investigator",
        )
    case.investigator_id = investigator.id
    _move(
        case,
        Action.START_INVESTIGATION,
        by=by,
        now=now,
        fields=["investigator_id"],
        details={"investigator_id": investigator.id},
    )
    db.session.flush()


def record_suspension(
    case: Case,
    *,
    starts_on: date,
    ends_on: date | None,
    reason: str,
    reviewed_on: date | None,
    by: User,
) -> Suspension:
    """Record a suspension of the subject.

    Guard: the registry's (a case worker on an open case); the end not before the
    start; a reason. Side effects: suspension.recorded with its dates (never the reason).
    """
    _check(case, Action.RECORD_SUSPENSION, by)
    if ends_on and ends_on < starts_on:
        raise ValidationFailed("The end date cannot be before the start date", field="ends_on")
    suspension = Suspension(
        case_id=case.id,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=required_text(reason, "Give the reason for the suspension", field="reason"),
        reviewed_on=reviewed_on,
        recorded_by_id=by.id,
    )
    case.suspensions.append(suspension)
    audit.record_added(
        AuditAction.SUSPENSION_RECORDED,
        suspension,
        actor=by,
        details={
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat() if ends_on else None,
        },
    )
    return suspension


def submit_for_decision(case: Case, *, summary: str, by: User, now: datetime | None = None) -> User:
    """Submit the investigation for decision, routed to the right person; returns them.

    Guard: a case worker; at least one clause cited; an investigation summary; someone
    who can decide (headteacher, else CEO, else chair, whoever is not conflicted).
    Side effects: case.transitioned naming the decision maker (by id).
    """
    now = now or utcnow()
    _check(case, Action.SUBMIT_FOR_DECISION, by)
    summary = (summary or "").replace("\r\n", "\n").strip()
    if not summary:
        raise NotAllowed("Write the investigation summary before submitting the case")
    previous = case.investigation_summary
    case.investigation_summary = summary
    decision_maker = decision_maker_for(case)
    if decision_maker is None:
        raise NotAllowed(
            "Nobody can decide this case: the headteacher, the CEO and the chair of trustees "
            "are all involved in it or not set up. Ask your trust administrator."
        )
    case.decision_maker_id = decision_maker.id
    changed = ["decision_maker_id"]
    if case.investigation_summary != previous:
        changed.append("investigation_summary")
    seq = _move(
        case,
        Action.SUBMIT_FOR_DECISION,
        by=by,
        now=now,
        fields=changed,
        details={"decision_maker_id": decision_maker.id},
    )
    _revise(case, {"investigation_summary": (previous, case.investigation_summary)}, by, seq)
    db.session.flush()
    return decision_maker


def return_for_investigation(
    case: Case, *, reason: str, by: User, now: datetime | None = None
) -> None:
    """Send the case back for more work.

    Guard: the decision maker; a reason. Side effects: case.transitioned.
    """
    now = now or utcnow()
    _check(case, Action.RETURN_FOR_INVESTIGATION, by)
    reason = required_text(reason, "Say what more is needed", field="reason")
    _move(case, Action.RETURN_FOR_INVESTIGATION, by=by, reason=reason, now=now)
    db.session.flush()


def escalate_to_allegation(
    case: Case, *, reason: str, by: User, now: datetime | None = None
) -> None:
    """A low-level concern becomes an allegation: back to triage, the LADO clock starts.

    Guard: a low-level concern in triage, investigation or awaiting decision; a case
    worker or the decision maker; a reason. Side effects: case.transitioned with the new
    track and the fields changed.
    """
    now = now or utcnow()
    _check(case, Action.ESCALATE, by)
    reason = required_text(reason, "Say why this is now an allegation", field="reason")
    # _move checks the case is low-level, so the track changes after it.
    _move(
        case,
        Action.ESCALATE,
        by=by,
        reason=reason,
        now=now,
        fields=["decision_maker_id", "lado_due_at", "track"],
        details={"track": Track.ALLEGATION.value},
    )
    case.track = Track.ALLEGATION.value
    case.lado_due_at = lado_due_at(now, case.school.lado_working_days)
    case.decision_maker_id = None
    db.session.flush()


# --- decision, appeal, closing ---------------------------------------------------------------


@dataclass(frozen=True)
class DecisionInput:
    outcome: str
    sanction: str
    rationale: str
    may_mention_in_references: bool
    refer_dbs: bool = False
    refer_dbs_reason: str = ""
    refer_tra: bool = False
    refer_tra_reason: str = ""
    refer_police: bool = False
    refer_police_reason: str = ""


def outcomes_for(case: Case) -> type[AllegationOutcome] | type[LowLevelOutcome]:
    return AllegationOutcome if case.is_allegation else LowLevelOutcome


def decide(
    case: Case, data: DecisionInput, *, by: User, today: date, now: datetime | None = None
) -> Decision:
    """Record the decision.

    Guard: the decision maker, still not conflicted; an outcome of the case's track
    (KCSIE's five for an allegation); a sanction only after a substantiated allegation or
    a low-level referral to the disciplinary procedure; a written rationale; a reason for
    each referral made. A matter may never appear in references after an unsubstantiated,
    unfounded, false or malicious outcome, nor after a low-level concern (forced to no).
    Side effects: case.transitioned, then decision.recorded with the outcome, sanction
    and referral codes (never the rationale).
    """
    now = now or utcnow()
    _check(case, Action.DECIDE, by)  # the registry's guard: still not conflicted
    outcome = one_of(outcomes_for(case), data.outcome, "Choose the outcome", field="outcome")
    allowed = SANCTIONS_AFTER.get(outcome, ())
    if not data.sanction and not allowed:
        sanction = Sanction.NONE  # the form asks for none after this outcome
    else:
        sanction = one_of(Sanction, data.sanction, "Choose the sanction", field="sanction")
    if sanction is not Sanction.NONE and not allowed:
        raise ValidationFailed(
            f"No sanction can follow the outcome \u201c{outcome.label.lower()}\u201d",
            field="sanction",
        )
    if allowed and sanction not in allowed:
        sanctions = " or ".join(s.label.lower() for s in allowed if s is not Sanction.NONE)
        raise ValidationFailed(f"{outcome.label} can come with {sanctions} only", field="sanction")
    rationale = required_text(
        data.rationale, "Write the reasons for the decision", field="rationale"
    )
    referrals = {}
    for body, label in (
        ("dbs", "the DBS"),
        ("tra", "the Teaching Regulation Agency"),
        ("police", "the police"),
    ):
        refer = getattr(data, f"refer_{body}")
        reason = getattr(data, f"refer_{body}_reason").strip()
        if refer and not reason:
            raise ValidationFailed(
                f"Give the reason for referring to {label}", field=f"refer_{body}_reason"
            )
        referrals[f"refer_{body}"] = refer
        referrals[f"refer_{body}_reason"] = reason
    mention = data.may_mention_in_references and outcome not in NEVER_IN_REFERENCES
    if not case.is_allegation:
        mention = False
    decision = Decision(
        case_id=case.id,
        outcome=outcome.value,
        sanction=sanction.value,
        warning_expires_on=warning_expires_on(sanction.value, today),
        rationale=rationale,
        may_mention_in_references=mention,
        decided_by_id=by.id,
        decided_on=today,
        decided_at=now,
        **referrals,
    )
    case.decisions.append(decision)
    _move(case, Action.DECIDE, by=by, reason=rationale, now=now)
    db.session.flush()
    audit.record_about(
        AuditAction.DECISION_RECORDED,
        decision,
        actor=by,
        details={
            "outcome": decision.outcome,
            "sanction": decision.sanction,
            "referrals": [body for body in ("dbs", "tra", "police") if referrals[f"refer_{body}"]],
            "may_mention_in_references": decision.may_mention_in_references,
        },
    )
    return decision


def decision_due_on(case: Case) -> date | None:
    """When the decision on a case awaiting it is due: DECISION_DUE_WORKING_DAYS working
    days after it was last submitted for decision (a case returned for more investigation
    and submitted again starts afresh). None at any other stage. Reads the case's
    transitions, which the case page loads with it."""
    if case.status != CaseStatus.AWAITING_DECISION:
        return None
    submitted = next(
        (
            move.at
            for move in reversed(case.transitions)
            if move.to_status == CaseStatus.AWAITING_DECISION
        ),
        None,
    )
    if submitted is None:
        return None
    return decision_deadline(
        uk_time(submitted).date(), current_app.config["DECISION_DUE_WORKING_DAYS"]
    )


def triage_due(case: Case) -> datetime | None:
    """When the triage of a concern waiting for it is due (TRIAGE_DUE_WORKING_DAYS working
    days after it was reported to the school, see clocks.triage_due_at); None once triaged."""
    if case.status != CaseStatus.REPORTED:
        return None
    return triage_due_at(case.reported_on, current_app.config["TRIAGE_DUE_WORKING_DAYS"])


def appeal_window_ends(case: Case) -> date | None:
    decision = case.decision
    if decision is None:
        return None
    return appeal_deadline(decision.decided_on, current_app.config["APPEAL_WINDOW_WORKING_DAYS"])


def lodge_appeal(
    case: Case, *, lodged_on: date, grounds: str, by: User, today: date, now: datetime | None = None
) -> Appeal:
    """Record an appeal against the decision; it is routed to someone not involved.

    Guard: decided; lodged within the appeal window and not in the future; grounds; a
    CEO or chair who has had no part in the case. Side effects: case.transitioned, then
    appeal.lodged with the decision appealed, the hearer (by id) and the date lodged
    (never the grounds).
    """
    now = now or utcnow()
    _check(case, Action.LODGE_APPEAL, by)
    if lodged_on > today:
        raise ValidationFailed("The appeal cannot be dated in the future", field="lodged_on")
    ends = appeal_window_ends(case)
    if ends is not None and lodged_on > ends:
        raise ValidationFailed(
            f"The appeal window closed on {uk_date(ends)}; an appeal lodged later "
            "cannot be recorded",
            field="lodged_on",
        )
    if case.decision and lodged_on < case.decision.decided_on:
        raise ValidationFailed("The appeal cannot be before the decision", field="lodged_on")
    decision = case.decision
    if decision is None:  # the stage (decided) says there is one; a refusal, never a crash
        raise NotAllowed("There is no decision on this case to appeal against")
    hearer = appeal_hearer_for(case)
    if hearer is None:
        raise NotAllowed(
            "Nobody can hear this appeal: the CEO and the chair of trustees have both been "
            "involved in the case. Ask your trust administrator."
        )
    appeal = Appeal(
        case_id=case.id,
        decision_id=decision.id,
        lodged_on=lodged_on,
        grounds=required_text(grounds, "Give the grounds of the appeal", field="grounds"),
        recorded_by_id=by.id,
        heard_by_id=hearer.id,
    )
    case.appeals.append(appeal)
    _move(case, Action.LODGE_APPEAL, by=by, reason=appeal.grounds, now=now)
    db.session.flush()
    audit.record_about(
        AuditAction.APPEAL_LODGED,
        appeal,
        actor=by,
        details={
            "decision_id": appeal.decision_id,
            "heard_by_id": hearer.id,
            "lodged_on": lodged_on.isoformat(),
        },
    )
    return appeal


def decide_appeal(
    case: Case,
    *,
    outcome: str,
    rationale: str,
    varied_sanction: str | None,
    by: User,
    today: date,
    now: datetime | None = None,
) -> Appeal:
    """Record the appeal outcome and close the case.

    Guard: the appeal hearer; upheld, varied (with the new sanction) or overturned; a
    rationale. Varying a sanction recomputes the warning's expiry. Side effects:
    case.transitioned, then appeal.decided with the outcome and the sanction now in
    force (never the rationale), then the retention worked out (case.retention.set; an
    overturned decision leaves no finding in force).
    """
    now = now or utcnow()
    _check(case, Action.DECIDE_APPEAL, by)
    result = one_of(AppealOutcome, outcome, "Choose the outcome of the appeal", field="outcome")
    appeal = case.appeal
    if appeal is None:  # the guard (its hearer) says there is one; a refusal, never a crash
        raise NotAllowed("There is no appeal on this case to decide")
    appeal.rationale = required_text(
        rationale, "Write the reasons for the appeal outcome", field="rationale"
    )
    if result is AppealOutcome.VARIED:
        new_sanction = one_of(
            Sanction, varied_sanction, "Choose the sanction as varied", field="varied_sanction"
        )
        appeal.varied_sanction = new_sanction.value
        appeal.decision.sanction = new_sanction.value
        appeal.decision.warning_expires_on = warning_expires_on(
            new_sanction.value, appeal.decision.decided_on
        )
    elif result is AppealOutcome.OVERTURNED:
        appeal.decision.sanction = Sanction.NONE.value
        appeal.decision.warning_expires_on = None
    appeal.outcome = result.value
    appeal.decided_at = now
    case.closed_on = today
    _move(
        case,
        Action.DECIDE_APPEAL,
        by=by,
        reason=appeal.rationale,
        now=now,
        fields=["closed_on"],
    )
    db.session.flush()
    audit.record_about(
        AuditAction.APPEAL_DECIDED,
        appeal,
        actor=by,
        details={"outcome": appeal.outcome, "sanction": appeal.decision.sanction},
    )
    record_retention(case, by=by, now=now)
    return appeal


def close_case(case: Case, *, by: User, today: date, now: datetime | None = None) -> None:
    """Close a decided case; it becomes read-only.

    Guard: decided; a case worker or the decision maker. Side effects: case.transitioned,
    then the retention worked out from the track and outcome (case.retention.set).
    """
    now = now or utcnow()
    _check(case, Action.CLOSE, by)
    case.closed_on = today
    _move(case, Action.CLOSE, by=by, now=now, fields=["closed_on"])
    db.session.flush()
    record_retention(case, by=by, now=now)


def withdraw_case(
    case: Case, *, reason: str, by: User, today: date, now: datetime | None = None
) -> None:
    """Withdraw an open case with a reason, kept apart from any KCSIE outcome.

    Guard: an open case; a case worker; a reason. Side effects: case.transitioned (the
    reason stays on the case, not in the trail), then the retention worked out
    (case.retention.set).
    """
    now = now or utcnow()
    _check(case, Action.WITHDRAW, by)
    case.closure_reason = required_text(
        reason, "Say why the case is being withdrawn", field="reason"
    )
    case.closed_on = today
    _move(
        case,
        Action.WITHDRAW,
        by=by,
        reason=case.closure_reason,
        now=now,
        fields=["closed_on", "closure_reason"],
    )
    db.session.flush()
    record_retention(case, by=by, now=now)


def reopen_case(case: Case, *, reason: str, by: User, now: datetime | None = None) -> None:
    """Reopen a closed or withdrawn case for more investigation, with a reason.

    Guard: closed or withdrawn; someone who may log concerns at the school, not the
    subject; a reason. Side effects: case.transitioned, then the kept retention cleared
    (case.retention.set with the rule "not_closed"): an open case is never disposed of.
    """
    now = now or utcnow()
    _check(case, Action.REOPEN, by)
    reason = required_text(reason, "Say why the case is being reopened", field="reason")
    case.closed_on = None
    case.decision_maker_id = None
    _move(
        case,
        Action.REOPEN,
        by=by,
        reason=reason,
        now=now,
        fields=["closed_on", "decision_maker_id"],
    )
    db.session.flush()
    record_retention(case, by=by, now=now)
