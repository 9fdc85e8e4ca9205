"""What a listed case waits for next, and when that is due, from its own columns.

The home page and the case list read many cases in one statement, so they cannot load
each case's records as the case page does (tracker/workflow/panel.py, from the action
registry's `awaited`): the columns they need come with the rows (the case's own, and
`submitted_for_decision_at`), and `next_step` turns them into words and a deadline,
through the same clocks as the case page (`triage_due_at`, `decision_deadline`). Its
step names are shorter than the registry's ("Investigate" where the case page says
"Submit for decision"): keeping one source for both is still to do. `waiting_for` is
the SQL condition for the cases whose next step is the user's own: the home page's
"Waiting for you" and the list's filter of the same name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, func, or_, select

from tracker.auth.models import User
from tracker.auth.permissions import VIEWER_LEAD_SCHOOLS, Viewer, viewer_id
from tracker.cases.models import Case, CaseStatus, Track
from tracker.clock import UK, uk_time
from tracker.workflow.clocks import (
    END_OF_WORKING_DAY,
    clock_state,
    decision_deadline,
    kcsie_targets,
    triage_due_at,
)
from tracker.workflow.models import Appeal, CaseTransition


def waiting_for(user: User | Viewer) -> ColumnElement[bool]:
    """The cases whose next step is this user's: decisions routed to them, cases they
    investigate, appeals they hear and, at the schools where they are a safeguarding
    lead, concerns waiting for triage and allegations whose LADO referral is due.

    Each branch on its own indexed column (SQLite uses an index for an OR only when every
    branch has one, so a school branch that cannot match is left out)."""
    viewer = user if isinstance(user, Viewer) else Viewer.of(user)
    me = viewer_id(viewer)
    waiting = [
        and_(Case.status == CaseStatus.AWAITING_DECISION, Case.decision_maker_id == me),
        and_(Case.status == CaseStatus.INVESTIGATION, Case.investigator_id == me),
        and_(
            Case.status == CaseStatus.APPEAL,
            Case.id.in_(select(Appeal.case_id).where(Appeal.heard_by_id == me)),
        ),
    ]
    leads = viewer.leads
    if not leads.is_empty:
        waiting.append(
            and_(
                leads.filter(Case.school_id, name=VIEWER_LEAD_SCHOOLS),
                or_(
                    Case.status == CaseStatus.REPORTED,
                    and_(
                        Case.status == CaseStatus.TRIAGE,
                        Case.track == Track.ALLEGATION,
                        Case.lado_referred_at.is_(None),
                    ),
                ),
            )
        )
    return or_(*waiting)


def submitted_for_decision_at() -> Any:
    """When the case was last submitted for decision (a correlated scalar subquery, one
    index lookup per listed row): its decision is due a number of working days later."""
    return (
        select(func.max(CaseTransition.at))
        .where(
            CaseTransition.case_id == Case.id,
            CaseTransition.to_status == CaseStatus.AWAITING_DECISION.value,
        )
        .scalar_subquery()
    )


@dataclass(frozen=True)
class NextStep:
    """The step a case waits for, in words, and when it is due: at a time of day (triage,
    the LADO referral) or at the end of a day (the decision, KCSIE's targets)."""

    label: str
    due_at: datetime | None
    due_on: date | None
    overdue: bool

    @property
    def due_moment(self) -> datetime | None:
        """The deadline as a moment, to sort by: a day's deadline is its end of working day."""
        if self.due_at is not None:
            return self.due_at
        if self.due_on is not None:
            return datetime.combine(self.due_on, END_OF_WORKING_DAY, UK)
        return None


def _first_kcsie_target(reported_on: date, today_uk: date) -> date:
    """KCSIE's next target not yet passed (the last one once all have)."""
    targets = kcsie_targets(reported_on)
    return next((t for t in targets if t.due >= today_uk), targets[-1]).due


def next_step(
    *,
    status: str,
    track: str | None,
    reported_on: date,
    lado_due_at: datetime | None,
    lado_referred_at: datetime | None,
    lado_advice_given: bool,
    submitted_at: datetime | None,
    now: datetime,
) -> NextStep | None:
    """The step of the usual path a case waits for, from its columns; None once it is
    closed or withdrawn. A step with no deadline of its own is due by KCSIE's next target
    for resolving the case (most within one month)."""
    due_at: datetime | None = None
    due_on: date | None = None
    if status == CaseStatus.REPORTED:
        label = "Triage"
        due_at = triage_due_at(reported_on, current_app.config["TRIAGE_DUE_WORKING_DAYS"])
    elif status == CaseStatus.TRIAGE and track == Track.ALLEGATION and lado_referred_at is None:
        label, due_at = "Refer to the LADO", lado_due_at
    elif status == CaseStatus.TRIAGE and track == Track.ALLEGATION and not lado_advice_given:
        label = "Record the LADO's advice"
    elif status == CaseStatus.TRIAGE:
        label = "Start the investigation"
    elif status == CaseStatus.INVESTIGATION:
        label = "Investigate"
    elif status == CaseStatus.AWAITING_DECISION:
        label = "Decide"
        if submitted_at is not None:
            due_on = decision_deadline(
                uk_time(submitted_at).date(), current_app.config["DECISION_DUE_WORKING_DAYS"]
            )
    elif status == CaseStatus.DECIDED:
        label = "Close the case"
    elif status == CaseStatus.APPEAL:
        label = "Hear the appeal"
    else:
        return None
    if due_at is None and due_on is None and status != CaseStatus.DECIDED:
        due_on = _first_kcsie_target(reported_on, uk_time(now).date())
    due = due_at or due_on
    return NextStep(
        label=label,
        due_at=due_at,
        due_on=due_on,
        overdue=due is not None and clock_state(due, now, done=False) == "overdue",
    )
