"""The governance report's statements: every figure counted in the database.

Three statements, each grouping in SQL (GROUP BY, conditional sums), so that the rows
that come back are a few dozen whatever the trust holds; nothing here reads one row per
case into Python. The report's period and the period of the same length before it are
read in the same pass: a case is in one or the other by the day it was reported
(`current` is 1 or 0). The statements are the same SQL on SQLite and PostgreSQL but for
two functions compiled for each (`MonthScore`, `DaysBetween`).

Which cases count (`ReportScope.conditions`): the viewer's trust, the schools the report
reaches (tracker/auth/permissions.py `report_scope`, narrowed to one school if asked),
and never a case about the viewer themselves: the subject of a case never learns of it,
not even as a count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from tracker.auth.permissions import SchoolScope
from tracker.cases.models import Case, ClauseBreach
from tracker.policy.models import Clause
from tracker.staff.models import StaffMember
from tracker.workflow.clocks import add_months
from tracker.workflow.models import Decision, Suspension

# KCSIE's target timescales, in calendar months (tracker/workflow/clocks.py KCSIE_TARGETS).
TARGET_MONTHS = (1, 3, 12)
# Open cases by how long ago they were reported: (band, months) for "less than".
AGE_BANDS = (("under_1", 1), ("under_3", 3), ("under_12", 12), ("over_12", None))
# Suspensions that have ended, by length in days (both ends counted): (band, at most).
SUSPENSION_BANDS = (("up_to_14", 14), ("up_to_31", 31), ("up_to_92", 92), ("longer", None))
ONGOING = "ongoing"


class DaysBetween(FunctionElement[int]):
    """`later - earlier` in whole days, for two dates."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(DaysBetween, "sqlite")
def _days_between_sqlite(element: DaysBetween, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


@compiles(DaysBetween, "postgresql")
def _days_between_postgresql(element: DaysBetween, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"({later} - {earlier})"


def month_score(day: date) -> int:
    """A date as year * 1200 + month * 100 + day (see `MonthScore`)."""
    return day.year * 1200 + day.month * 100 + day.day


class MonthScore(FunctionElement[int]):
    """A date as a number in which adding 100 * n is "n calendar months later".

    For dates a and b: b is on or before add_months(a, n) (tracker/workflow/clocks.py,
    which clamps 31 January + 1 month to 28 February) exactly when score(b) <= score(a)
    + 100 * n, with score = year * 1200 + month * 100 + day: the month index (year * 12
    + month) times 100 leaves room for the day, so a later month always scores more than
    any day of an earlier one. KCSIE's "within 1 month" is then one integer comparison,
    the same on both databases. SQLite reads the parts from the date's text (cheaper than
    strftime); PostgreSQL extracts them. None for no date.
    """

    type = Integer()
    inherit_cache = True
    name = "month_score"


@compiles(MonthScore, "sqlite")
def _month_score_sqlite(element: MonthScore, compiler: Any, **kw: Any) -> str:
    (day,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return (
        f"(CAST(substr({day}, 1, 4) AS INTEGER) * 1200 + CAST(substr({day}, 6, 2) AS INTEGER)"
        f" * 100 + CAST(substr({day}, 9, 2) AS INTEGER))"
    )


@compiles(MonthScore, "postgresql")
def _month_score_postgresql(element: MonthScore, compiler: Any, **kw: Any) -> str:
    (day,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return (
        f"(CAST(EXTRACT(YEAR FROM {day}) AS INTEGER) * 1200 + CAST(EXTRACT(MONTH FROM {day}) "
        f"AS INTEGER) * 100 + CAST(EXTRACT(DAY FROM {day}) AS INTEGER))"
    )


@dataclass(frozen=True)
class ReportScope:
    """Whose cases a report counts."""

    trust_id: int
    schools: SchoolScope
    # The viewer's own records on the staff register (at most one): never counted. Found
    # beforehand (`viewer_staff_ids`) rather than by a subquery, whose guessed selectivity
    # made PostgreSQL read the whole cases table to join the suspensions.
    viewer_staff_ids: frozenset[int] = frozenset()
    school_id: int | None = None  # one school chosen; None: every school in `schools`

    def conditions(self) -> list[ColumnElement[bool]]:
        found = [Case.trust_id == self.trust_id, self.schools.filter(Case.school_id)]
        if self.viewer_staff_ids:
            found.append(Case.subject_id.not_in(sorted(self.viewer_staff_ids)))
        if self.school_id is not None:
            found.append(Case.school_id == self.school_id)
        return found


def viewer_staff_ids(viewer_id: int) -> Select:
    """The ids of the viewer's records on the staff register (for `ReportScope`)."""
    return select(StaffMember.id).where(StaffMember.user_id == viewer_id)


@dataclass(frozen=True)
class Window:
    """The previous period's first day, the report period's first day, and its last."""

    start: date
    split: date
    end: date

    def current(self, day: Any) -> ColumnElement[int]:
        """1 for a day in the report's period, 0 for one in the period before."""
        return case((day >= self.split, literal(1)), else_=literal(0))

    def holds(self, day: Any) -> ColumnElement[bool]:
        return day.between(self.start, self.end)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# --- the statements --------------------------------------------------------------------

# The columns every part of `cases_query` answers, in order.
FIGURES = (
    "cases",
    "resolved",
    *(f"{kind}_{months}" for months in TARGET_MONTHS for kind in ("met", "judged")),
    "lado_on_time",
    "lado_late",
    "lado_overdue",
    "lado_waiting",
)


class Part(StrEnum):
    """What a row of `cases_query` counts: its `key` and `detail` say by what."""

    SCHOOL_TRACK = "school_track"  # key: the school's id; detail: the track (or none)
    SOURCE_PLATFORM = "source_platform"  # key: how it came to light; detail: platform
    OUTCOME = "outcome"  # key: the outcome; detail: the sanction
    CLAUSE = "clause"  # key: the clause's reference; detail: its heading


def _per_case(scope: ReportScope, window: Window) -> Any:
    """One row per case in either period, worked out once (MATERIALIZED: never folded
    into the queries that read it, which would work each column out again per use): its
    period, school, track, source, platform, the scores of the day it was reported and
    the day it was resolved, its LADO times, and the id of the decision in force.

    Grouped by the case's key, with its decisions joined: the first decision's day (the
    earliest) resolves it; the latest decision (the highest id) is the one in force.
    """

    resolved_on = func.coalesce(func.min(Decision.decided_on), Case.closed_on)
    return (
        select(
            Case.id,
            window.current(Case.reported_on).label("current"),
            Case.school_id,
            Case.track,
            Case.source,
            Case.platform,
            MonthScore(Case.reported_on).label("reported_score"),
            MonthScore(resolved_on).label("resolved_score"),
            Case.lado_due_at,
            Case.lado_referred_at,
            func.max(Decision.id).label("decision_id"),
        )
        .select_from(Case)
        .outerjoin(Decision, Decision.case_id == Case.id)
        .where(*scope.conditions(), window.holds(Case.reported_on))
        .group_by(Case.id)
        .cte("per_case")
        .prefix_with("MATERIALIZED")
    )


def _zeros(names: tuple[str, ...]) -> list[Any]:
    return [literal(0).label(name) for name in names]


def cases_query(scope: ReportScope, window: Window, *, today: date, now: datetime) -> Any:
    """The cases reported in either period, counted four ways in one statement (a UNION
    ALL over the cases worked out once): by school and track, with KCSIE's targets and
    the LADO referrals; by source and platform; by the outcome and sanction of the
    decision in force; by clause cited. Rows: (part, current, key, detail, *FIGURES);
    figures a part does not count are 0.

    A case is resolved on the day of its first decision, or the day it was closed or
    withdrawn without one. A target is judged once the case is resolved, or once it has
    passed with the case still open; a case still inside its target is not counted yet.
    An allegation's LADO referral is on time when recorded by its deadline (`lado_due_at`:
    the school's working days after triage, weekends and bank holidays skipped, worked
    out at triage by tracker/workflow/clocks.py).
    """
    p = _per_case(scope, window)
    today_score = month_score(today)
    resolved = p.c.resolved_score.is_not(None)
    targets = []
    for months in TARGET_MONTHS:
        due = p.c.reported_score + 100 * months
        targets += [
            _count_if(and_(resolved, p.c.resolved_score <= due)).label(f"met_{months}"),
            _count_if(or_(resolved, due < today_score)).label(f"judged_{months}"),
        ]
    allegation = p.c.lado_due_at.is_not(None)
    referred = p.c.lado_referred_at.is_not(None)
    by_school = select(
        literal(Part.SCHOOL_TRACK.value).label("part"),
        p.c.current,
        cast(p.c.school_id, String).label("key"),
        p.c.track.label("detail"),
        func.count().label("cases"),
        _count_if(resolved).label("resolved"),
        *targets,
        _count_if(and_(allegation, referred, p.c.lado_referred_at <= p.c.lado_due_at)).label(
            "lado_on_time"
        ),
        _count_if(and_(allegation, referred, p.c.lado_referred_at > p.c.lado_due_at)).label(
            "lado_late"
        ),
        _count_if(and_(allegation, not_(referred), p.c.lado_due_at < now)).label("lado_overdue"),
        _count_if(and_(allegation, not_(referred), p.c.lado_due_at >= now)).label("lado_waiting"),
    ).group_by(p.c.current, p.c.school_id, p.c.track)
    rest = FIGURES[1:]
    by_source = select(
        literal(Part.SOURCE_PLATFORM.value),
        p.c.current,
        p.c.source,
        p.c.platform,
        func.count(),
        *_zeros(rest),
    ).group_by(p.c.current, p.c.source, p.c.platform)
    by_outcome = (
        select(
            literal(Part.OUTCOME.value),
            p.c.current,
            Decision.outcome,
            Decision.sanction,
            func.count(),
            *_zeros(rest),
        )
        .select_from(p)
        .join(Decision, Decision.id == p.c.decision_id)
        .group_by(p.c.current, Decision.outcome, Decision.sanction)
    )
    # By reference, across versions of the policy; a case citing three clauses counts
    # under each (it cites a reference once: its clauses are of one version). Read from
    # the cases themselves, not from per_case: PostgreSQL joins a CTE (which has no
    # statistics or index) to the clause breaches by hashing every breach the trust holds.
    current = window.current(Case.reported_on)
    by_clause = (
        select(
            literal(Part.CLAUSE.value),
            current,
            Clause.reference,
            func.max(Clause.heading),
            func.count(),
            *_zeros(rest),
        )
        .select_from(Case)
        .join(ClauseBreach, ClauseBreach.case_id == Case.id)
        .join(Clause, Clause.id == ClauseBreach.clause_id)
        .where(*scope.conditions(), window.holds(Case.reported_on))
        .group_by(current, Clause.reference)
    )
    return union_all(by_school, by_source, by_outcome, by_clause)


def open_age_query(scope: ReportScope, *, as_at: date, previous_as_at: date) -> Select:
    """Cases open at the end of each period, by how long they had been open: rows of
    (band now, band before, cases), a band None where the case was not open then.

    Open at the end of a day: reported by then, and not closed or withdrawn by then. The
    cases that could be open at either day are those still open and those closed since
    the earlier day: two seeks through the index (trust, closed on), in a UNION ALL (an
    OR of the two reads every case the trust holds), each case's bands worked out once.
    """

    def band(day: date) -> ColumnElement[Any]:
        open_then = and_(
            Case.reported_on <= day, or_(Case.closed_on.is_(None), Case.closed_on > day)
        )
        whens: list[tuple[ColumnElement[bool], Any]] = [(not_(open_then), null())]
        for name, months in AGE_BANDS:
            if months is not None:
                whens.append((Case.reported_on > add_months(day, -months), literal(name)))
        return case(*whens, else_=literal(AGE_BANDS[-1][0]))

    def candidates(closed: ColumnElement[bool]) -> Select:
        return select(band(as_at).label("now"), band(previous_as_at).label("before")).where(
            *scope.conditions(), Case.reported_on <= max(as_at, previous_as_at), closed
        )

    per_case = union_all(
        candidates(Case.closed_on.is_(None)),
        candidates(Case.closed_on > min(as_at, previous_as_at)),
    ).subquery()
    c = per_case.c
    return select(c.now, c.before, func.count().label("cases")).group_by(c.now, c.before)


def suspension_query(scope: ReportScope, window: Window, *, today: date) -> Select:
    """Suspensions that began in each period, by length once ended (both ends counted),
    and the days of those that have ended."""
    ended = and_(Suspension.ends_on.is_not(None), Suspension.ends_on <= today)
    length = DaysBetween(Suspension.ends_on, Suspension.starts_on) + 1
    band = case(
        (not_(ended), literal(ONGOING)),
        *((length <= most, literal(name)) for name, most in SUSPENSION_BANDS if most is not None),
        else_=literal(SUSPENSION_BANDS[-1][0]),
    )
    per_suspension = (
        select(
            window.current(Suspension.starts_on).label("current"),
            band.label("band"),
            case((ended, length), else_=0).label("days"),
        )
        .select_from(Suspension)
        .join(Case, Case.id == Suspension.case_id)
        .where(*scope.conditions(), window.holds(Suspension.starts_on))
        .subquery()
    )
    c = per_suspension.c
    return select(
        c.current, c.band, func.count().label("suspensions"), func.sum(c.days).label("days")
    ).group_by(c.current, c.band)
