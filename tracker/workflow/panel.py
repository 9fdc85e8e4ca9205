"""The case page's "What happens next" panel: the steps this person can take now (from the
action registry), the KCSIE and LADO clocks, the decision and any appeal, and the case's
history of stages. Worked out by the view from what the case page has loaded; its
template only shows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import url_for

from tracker.auth.models import User
from tracker.cases.models import Case, CaseStatus
from tracker.clock import today
from tracker.db import utcnow
from tracker.workflow import registry
from tracker.workflow.clocks import KCSIE_TARGETS, clock_state, is_spent, kcsie_targets
from tracker.workflow.models import Action, Appeal, Decision, LadoMethod, Sanction
from tracker.workflow.services import appeal_window_ends, decision_due_on


@dataclass(frozen=True)
class Tag:
    text: str
    colour: str = ""  # a govuk-tag modifier; none is blue


TARGET_TAGS = {
    "met": Tag("Met", "green"),
    "missed": Tag("Missed", "red"),
    "due_soon": Tag("Due soon", "yellow"),
    "running": Tag("Running"),
}
LADO_TAGS = {
    "overdue": Tag("Overdue", "red"),
    "due_soon": Tag("Due soon", "yellow"),
    "running": Tag("Running"),
}


@dataclass(frozen=True)
class TargetClock:
    label: str
    due: date
    tag: Tag


@dataclass(frozen=True)
class LadoClock:
    due_at: datetime
    referred_at: datetime | None
    method: str | None
    tag: Tag

    @property
    def overdue(self) -> bool:
        return self.tag is LADO_TAGS["overdue"]


@dataclass(frozen=True)
class ActionLink:
    label: str
    href: str
    primary: bool = False


@dataclass(frozen=True)
class NextStep:
    """The step of the usual path the case waits for, whoever is to take it, and when it
    is due (where a rule sets a deadline): shown under the case's heading."""

    label: str
    by: str
    due_on: date | None  # a deadline at the end of a day
    due_at: datetime | None  # or at a time of day (the LADO's)
    overdue: bool


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    by: str
    from_label: str
    to_label: str
    reason: str


@dataclass(frozen=True)
class WorkflowPanel:
    track_label: str
    days_since_reported: int
    targets: list[TargetClock]
    lado: LadoClock | None
    decision: Decision | None
    sanction_label: str | None
    warning_expires_on: date | None
    warning_spent: bool
    appeal: Appeal | None
    appeal_window_ends: date | None
    appeal_window_open: bool
    appeal_window_passed: bool
    actions: list[ActionLink]
    next_step: str | None
    awaited: NextStep | None
    decision_due_on: date | None
    history: list[HistoryRow]
    # The case's own content this person may change now: the case page offers each
    # beside what it changes (Action values: "edit_details", "add_person", ...).
    edits: frozenset[str]


def _lado_clock(case: Case, now: datetime) -> LadoClock | None:
    if case.lado_due_at is None:
        return None
    if case.lado_referred_at is not None:
        in_time = case.lado_referred_at <= case.lado_due_at
        tag = Tag("Referred in time", "green") if in_time else Tag("Referred late", "orange")
    else:
        tag = LADO_TAGS[clock_state(case.lado_due_at, now, done=False)]
    method = LadoMethod(case.lado_method).label if case.lado_method else None
    return LadoClock(case.lado_due_at, case.lado_referred_at, method, tag)


def _action_links(case: Case, user: User) -> tuple[list[ActionLink], str | None]:
    """The buttons the panel offers this user, and a sentence on what must come first.

    The first step offered that leads the way is the main button: a step of the main
    path, or the LADO's steps while they are still to do. The sentence is the first main
    step's reason for waiting, if it is waiting on something.
    """
    links: list[tuple[int, ActionLink]] = []
    next_step = None
    has_primary = False
    for step in registry.offered(case, user):
        if step.place is registry.Place.EDIT:
            continue
        leads = step.place is registry.Place.MAIN and (
            step.leads_when is None or step.leads_when(case)
        )
        primary = leads and not has_primary
        has_primary = has_primary or primary
        link = ActionLink(
            step.label_for(case), url_for(step.endpoint, case_id=case.id), primary=primary
        )
        # The main button first, then the usual steps, then the exceptional ones.
        links.append((0 if primary else 2 if step.exceptional else 1, link))
        if next_step is None and step.place is registry.Place.MAIN:
            waiting = step.guard(case, user)
            next_step = f"{waiting}." if waiting else None
    return [link for _, link in sorted(links, key=lambda ranked: ranked[0])], next_step


def _awaited(case: Case, now: datetime) -> NextStep | None:
    step = registry.awaited(case)
    if step is None:
        return None
    assignee = step.assignee(case) if step.assignee else None
    due = step.due(case) if step.due else None
    # Only a step past its deadline is tagged: a short deadline is "due soon" from its start.
    overdue = due is not None and clock_state(due, now, done=False) == "overdue"
    return NextStep(
        label=step.label_for(case),
        by=assignee.display_name if assignee else step.who_in_words,
        due_on=None if isinstance(due, datetime) else due,
        due_at=due if isinstance(due, datetime) else None,
        overdue=overdue,
    )


def workflow_panel(case: Case, user: User) -> WorkflowPanel:
    """What the "What happens next" panel shows `user`. The case's workflow records must
    be loaded already (tracker/cases/loads.py CASE_PAGE)."""
    now = utcnow()
    on = today()
    decision = case.decision
    window_ends = appeal_window_ends(case) if decision else None
    # An appeal against an earlier decision (before the case was reopened) is not this one's.
    appeal = (
        case.appeal if decision and case.appeal and case.appeal.decision_id == decision.id else None
    )
    actions, next_step = _action_links(case, user)
    return WorkflowPanel(
        track_label=case.track_enum.label if case.track_enum else "Not triaged yet",
        days_since_reported=((case.closed_on or on) - case.reported_on).days,
        targets=[
            TargetClock(
                f"{target.label.capitalize()}: within {months} month{'' if months == 1 else 's'}",
                target.due,
                TARGET_TAGS[target.state(on, case.closed_on)],
            )
            for target, (_, months) in zip(
                kcsie_targets(case.reported_on), KCSIE_TARGETS, strict=True
            )
        ],
        lado=_lado_clock(case, now),
        decision=decision,
        sanction_label=Sanction(decision.sanction).label if decision else None,
        warning_expires_on=decision.warning_expires_on if decision else None,
        warning_spent=decision is not None and is_spent(decision.warning_expires_on, on),
        appeal=appeal,
        appeal_window_ends=window_ends,
        appeal_window_open=(
            window_ends is not None and case.status == CaseStatus.DECIDED and on <= window_ends
        ),
        appeal_window_passed=window_ends is not None and on > window_ends,
        actions=actions,
        next_step=next_step,
        awaited=_awaited(case, now),
        decision_due_on=decision_due_on(case),
        history=[
            HistoryRow(
                at=move.at,
                by=move.actor.display_name,
                from_label=CaseStatus(move.from_status).label,
                to_label=CaseStatus(move.to_status).label,
                reason=move.reason,
            )
            for move in case.transitions
        ],
        edits=frozenset(
            step.action.value for step in registry.offered(case, user, registry.Place.EDIT)
        ),
    )


def offered_actions(case: Case, user: User) -> frozenset[Action]:
    return frozenset(step.action for step in registry.offered(case, user))
