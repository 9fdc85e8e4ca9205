"""The workflow as data: each action's source states, target state, who may take it, and
its guard. `available_actions(case, user)` is what the case page offers; the services in
tracker/workflow/services.py are the only writers of a case's status and check the same
table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tracker.auth.models import User
from tracker.auth.permissions import can_report_concern, can_view_case, school_scope
from tracker.auth.roles import Role
from tracker.cases.models import OPEN_STATUSES, Case, CaseStatus, Track
from tracker.workflow.models import Action
from tracker.workflow.routing import is_subject

S = CaseStatus

# Who works on a case day to day: the school's DSLs and headteacher, and the CEO.
CASE_WORKER_ROLES = frozenset({Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER, Role.CEO})


def is_case_worker(user: User, case: Case) -> bool:
    return (
        can_view_case(user, case)
        and school_scope(user, CASE_WORKER_ROLES).includes(case.school_id)
        and not is_subject(user, case)
    )


def is_decision_maker(user: User, case: Case) -> bool:
    return case.decision_maker_id is not None and case.decision_maker_id == user.id


def is_appeal_hearer(user: User, case: Case) -> bool:
    appeal = case.appeal
    return appeal is not None and appeal.heard_by_id == user.id


def worker_or_decision_maker(user: User, case: Case) -> bool:
    return is_case_worker(user, case) or is_decision_maker(user, case)


def may_reopen(user: User, case: Case) -> bool:
    return can_report_concern(user, case.school) and not is_subject(user, case)


# --- guards: None when the action may go ahead, else the reason in words --------------


def _lado_gate(case: Case) -> str | None:
    if not case.lado_gate_open:
        return (
            "Record the referral to the local authority designated officer (LADO) and the "
            "LADO's advice before the investigation starts"
        )
    return None


def _ready_for_decision(case: Case) -> str | None:
    if not case.breaches:
        return "Cite at least one clause of the policy before submitting the case"
    if not case.investigation_summary.strip():
        return "Write the investigation summary before submitting the case"
    return None


def _low_level(case: Case) -> str | None:
    if case.track != Track.LOW_LEVEL:
        return "Only a low-level concern can be escalated to an allegation"
    return None


Guard = Callable[[Case], str | None]
Who = Callable[[User, Case], bool]


@dataclass(frozen=True)
class Transition:
    action: Action
    label: str  # the button that starts it
    sources: frozenset[CaseStatus]
    target: CaseStatus
    who: Who
    who_in_words: str
    guard: Guard | None = None


TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in [
        Transition(
            Action.TRIAGE,
            "Triage",
            frozenset({S.REPORTED}),
            S.TRIAGE,
            is_case_worker,
            "a safeguarding lead or the headteacher",
        ),
        Transition(
            Action.START_INVESTIGATION,
            "Start the investigation",
            frozenset({S.TRIAGE}),
            S.INVESTIGATION,
            is_case_worker,
            "a safeguarding lead or the headteacher",
            _lado_gate,
        ),
        Transition(
            Action.SUBMIT_FOR_DECISION,
            "Submit for decision",
            frozenset({S.INVESTIGATION}),
            S.AWAITING_DECISION,
            is_case_worker,
            "a safeguarding lead or the headteacher",
            _ready_for_decision,
        ),
        Transition(
            Action.RETURN_FOR_INVESTIGATION,
            "Return for more investigation",
            frozenset({S.AWAITING_DECISION}),
            S.INVESTIGATION,
            is_decision_maker,
            "the person deciding the case",
        ),
        Transition(
            Action.ESCALATE,
            "Escalate to an allegation",
            frozenset({S.TRIAGE, S.INVESTIGATION, S.AWAITING_DECISION}),
            S.TRIAGE,
            worker_or_decision_maker,
            "a safeguarding lead, the headteacher or the person deciding the case",
            _low_level,
        ),
        Transition(
            Action.DECIDE,
            "Record the decision",
            frozenset({S.AWAITING_DECISION}),
            S.DECIDED,
            is_decision_maker,
            "the person deciding the case",
        ),
        Transition(
            Action.LODGE_APPEAL,
            "Record an appeal",
            frozenset({S.DECIDED}),
            S.APPEAL,
            worker_or_decision_maker,
            "a safeguarding lead, the headteacher or the person who decided",
        ),
        Transition(
            Action.DECIDE_APPEAL,
            "Record the appeal outcome",
            frozenset({S.APPEAL}),
            S.CLOSED,
            is_appeal_hearer,
            "the person hearing the appeal",
        ),
        Transition(
            Action.CLOSE,
            "Close the case",
            frozenset({S.DECIDED}),
            S.CLOSED,
            worker_or_decision_maker,
            "a safeguarding lead, the headteacher or the person who decided",
        ),
        Transition(
            Action.WITHDRAW,
            "Withdraw the case",
            frozenset(OPEN_STATUSES),
            S.WITHDRAWN,
            is_case_worker,
            "a safeguarding lead or the headteacher",
        ),
        Transition(
            Action.REOPEN,
            "Reopen the case",
            frozenset({S.CLOSED, S.WITHDRAWN}),
            S.INVESTIGATION,
            may_reopen,
            "a safeguarding lead or the headteacher of the school, or the CEO",
        ),
    ]
}


def refusal(case: Case, action: Action, user: User) -> str | None:
    """Why `user` may not take `action` on `case` now, in words; None if they may."""
    transition = TRANSITIONS[action]
    if case.status not in transition.sources:
        return (
            f"This case is at the \u201c{case.status_enum.label.lower()}\u201d stage, so it "
            "cannot go on to this step"
        )
    if not transition.who(user, case):
        return f"Only {transition.who_in_words} can do this"
    if transition.guard is not None:
        return transition.guard(case)
    return None


def available_actions(case: Case, user: User) -> list[Transition]:
    """The actions the case page offers this user now (guards are checked on the form)."""
    return [t for t in TRANSITIONS.values() if case.status in t.sources and t.who(user, case)]
