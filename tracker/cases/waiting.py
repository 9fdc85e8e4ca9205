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
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Date, and_, bindparam, case, func, not_, or_, select

from tracker.auth.models import User
from tracker.auth.permissions import VIEWER_LEAD_SCHOOLS, Viewer, viewer_id
from tracker.cases.models import Case, CaseStatus, Track
from tracker.clock import UK, uk_time
from tracker.workflow.clocks import (
    END_OF_WORKING_DAY,
    KCSIE_TARGETS,
    add_months,
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


# --- the cases waiting for a user, soonest deadline first, without reading them all ----


@dataclass(frozen=True)
class DueGroup:
    """Some of the cases waiting for a user, chosen so that their deadline (as `next_step`
    works it out) never falls as the column `key` rises: the group's first n rows in that
    order are its n soonest due. The home page reads the first few of each group and
    sorts those, so that working out and sorting deadlines does not grow with how many
    cases wait (tracker/home/services.py my_work).

    Ties in deadline go by the group's place in `due_groups`, then within a group by
    `key` and the case's id, so the order a limit cuts in is the order the page sorts in
    (`due_sort_key`).
    """

    key: str  # one of waiting_columns()
    condition: ColumnElement[bool]

    def order(self, waiting: Any) -> tuple[Any, ...]:
        return (waiting.c[self.key], waiting.c.id)


def waiting_columns() -> tuple[Any, ...]:
    """What `due_groups` reads of each waiting case; `submitted_at` only for a case
    awaiting its decision (one index lookup each, not one for every waiting case)."""
    return (
        Case.id,
        Case.status,
        Case.reported_on,
        Case.lado_due_at,
        case(
            (Case.status == CaseStatus.AWAITING_DECISION, submitted_for_decision_at()),
            else_=None,
        ).label("submitted_at"),
    )


def first_reported_on_not_past(months: int, today_uk: date) -> date:
    """The earliest report date whose KCSIE target `months` months on is `today_uk` or
    later (add_months never falls as the date rises, so every later report's is too)."""
    low = today_uk - timedelta(days=31 * (months + 1))  # add_months(low, months) < today
    high = today_uk  # add_months(high, months) >= today
    while (high - low).days > 1:
        middle = low + (high - low) // 2
        if add_months(middle, months) >= today_uk:
            high = middle
        else:
            low = middle
    return high


def _kcsie_from(index: int) -> str:
    return f"due_kcsie_from_{index}"


def due_groups(waiting: Any) -> list[DueGroup]:
    """The cases `waiting_for` matches, split by which of `next_step`'s deadlines applies:
    triage (from the report date), the LADO referral (its own time), the decision (from
    the submission), and KCSIE's next target (from the report date, one group for each
    target, since which target is next depends on the report date: within one target's
    range of report dates the deadline rises with the date). `waiting` is the waiting
    cases' `waiting_columns` as a subquery or CTE; together the groups hold each of its
    rows once. The report dates that divide KCSIE's groups are named parameters (`due_`),
    whose values for a day `due_group_params` gives."""
    columns = waiting.c
    triage = columns.status == CaseStatus.REPORTED
    lado = and_(columns.status == CaseStatus.TRIAGE, columns.lado_due_at.is_not(None))
    decide = and_(columns.status == CaseStatus.AWAITING_DECISION, columns.submitted_at.is_not(None))
    # Everything else waiting_for matches is due by KCSIE's next target: investigations,
    # appeals, a referral with no time of its own, a decision never submitted.
    kcsie = and_(not_(triage), not_(lado), not_(decide))
    groups = [
        DueGroup("reported_on", triage),
        DueGroup("lado_due_at", lado),
        DueGroup("submitted_at", decide),
    ]
    # Target i is the next one for the report dates from its own threshold up to the
    # threshold of the target before it. Before the second-to-last target's threshold,
    # the last target is next or every one has passed, and either way the last is shown
    # (as _first_kcsie_target does), so the last target needs no threshold of its own.
    lowers = [
        bindparam(_kcsie_from(index), type_=Date()) for index in range(len(KCSIE_TARGETS) - 1)
    ]
    for index in range(len(KCSIE_TARGETS)):
        window = [kcsie]
        if index < len(lowers):
            window.append(columns.reported_on >= lowers[index])
        if index > 0:
            window.append(columns.reported_on < lowers[index - 1])
        groups.append(DueGroup("reported_on", and_(*window)))
    return groups


def due_group_params(today_uk: date) -> dict[str, date]:
    """The values of `due_groups`' parameters on a day: for each of KCSIE's targets but the
    last, the earliest report date whose target is that day or later."""
    return {
        _kcsie_from(index): first_reported_on_not_past(months, today_uk)
        for index, (_, months) in enumerate(KCSIE_TARGETS[:-1])
    }


def due_sort_key(place: int, group: DueGroup, row: Any, due: datetime | None) -> tuple[Any, ...]:
    """Where a row of `group` (at `place` in due_groups) goes among the rows read: by its
    deadline (none last), then the group's place, then the column the group was cut in,
    then the case's id."""
    return (due or datetime.max.replace(tzinfo=UTC), place, getattr(row, group.key), row.id)
