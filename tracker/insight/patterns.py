"""The pattern rule and the earlier concerns shown on a case.

KCSIE asks schools to keep low-level concerns so that a pattern can be spotted. The rule
is the trust's (`Trust.pattern_*`): at least `pattern_concerns` concerns about one person
reported within `pattern_months` months up to this one, or at least `pattern_same_clause`
of them citing the same clause (by its reference, whatever the policy version). It is
worked out over every case the trust holds about the person, at every school, so a
viewer who may read only some of them still learns that a review is needed, and nothing
else: the notice names no case, school or count.

Concerns that were withdrawn, or decided false, malicious or unfounded, do not count
(KCSIE: such allegations are not to be referred to again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, exists, func, select

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.auth.models import User
from tracker.auth.permissions import Viewer, visible_cases_filter
from tracker.cases.models import Case, CaseStatus, ClauseBreach, Track
from tracker.db import utcnow
from tracker.extensions import db
from tracker.orgs.models import Trust
from tracker.policy.models import Clause
from tracker.workflow.clocks import add_months
from tracker.workflow.models import AllegationOutcome, Decision, LowLevelOutcome

# Outcomes after which a concern is not part of any pattern.
NOT_COUNTED_OUTCOMES = (
    AllegationOutcome.FALSE.value,
    AllegationOutcome.MALICIOUS.value,
    AllegationOutcome.UNFOUNDED.value,
)


@dataclass(frozen=True)
class PatternRule:
    concerns: int
    months: int
    same_clause: int

    @classmethod
    def of(cls, trust: Trust) -> PatternRule:
        return cls(trust.pattern_concerns, trust.pattern_months, trust.pattern_same_clause)


def _counted(subject_id: int, trust_id: int, since: date, until: date):
    """The cases about the person that count, reported in (since, until]."""
    set_aside = exists().where(
        Decision.case_id == Case.id, Decision.outcome.in_(NOT_COUNTED_OUTCOMES)
    )
    return and_(
        Case.trust_id == trust_id,
        Case.subject_id == subject_id,
        Case.reported_on > since,
        Case.reported_on <= until,
        Case.status != CaseStatus.WITHDRAWN,
        ~set_aside,
    )


def pattern_holds(case: Case, rule: PatternRule) -> str | None:
    """Which part of the rule holds for the case's subject, as of its report date:
    "concerns" or "same_clause"; None when neither. Two statements."""
    since = add_months(case.reported_on, -rule.months)
    counted = _counted(case.subject_id, case.trust_id, since, case.reported_on)
    how_many = db.session.scalar(select(func.count(Case.id)).where(counted)) or 0
    if how_many >= rule.concerns:
        return "concerns"
    if how_many < rule.same_clause:
        return None
    most = db.session.scalar(
        select(func.count(func.distinct(Case.id)))
        .select_from(Case)
        .join(ClauseBreach, ClauseBreach.case_id == Case.id)
        .join(Clause, Clause.id == ClauseBreach.clause_id)
        .where(counted)
        .group_by(Clause.reference)
        .order_by(func.count(func.distinct(Case.id)).desc())
        .limit(1)
    )
    return "same_clause" if (most or 0) >= rule.same_clause else None


def refresh_pattern(case: Case, *, by: User | None) -> bool:
    """Flag the case when the trust's pattern rule now holds for its subject (once: a case
    flagged stays flagged until reviewed, and is not flagged again).

    Called when a case is logged and when a clause is cited on it. Side effects: the
    case's `pattern_flagged_at`; pattern.flagged with which part of the rule held (a
    code). Notifying the trust-wide roles is the notifications' (due_notifications).
    Flushes; the caller commits. Returns whether it flagged the case now.
    """
    if case.pattern_flagged_at is not None:
        return False
    trust = db.session.get_one(Trust, case.trust_id)
    held = pattern_holds(case, PatternRule.of(trust))
    if held is None:
        return False
    case.pattern_flagged_at = utcnow()
    db.session.flush()
    audit.record_for_case(AuditAction.PATTERN_FLAGGED, case, actor=by, details={"rule": held})
    return True


# --- earlier concerns on the case --------------------------------------------------------

# How many of a person's other cases the panel lists: the newest, with the number of the
# rest, so the case page costs the same for someone with forty concerns as with two.
EARLIER_SHOWN = 10


@dataclass(frozen=True)
class EarlierConcern:
    case_id: int
    reference: str
    reported_on: date
    closed_on: date | None
    status: str
    track: str | None
    clauses: tuple[str, ...]
    outcome: str | None  # in words

    @property
    def track_label(self) -> str:
        return Track(self.track).label if self.track else "Not triaged yet"


def _outcome_label(value: str | None) -> str | None:
    if value is None:
        return None
    for enum in (AllegationOutcome, LowLevelOutcome):
        if value in enum._value2member_map_:
            return enum(value).label
    return value


@dataclass(frozen=True)
class EarlierConcerns:
    """The newest of the other cases the viewer may read, and how many there are in all."""

    shown: tuple[EarlierConcern, ...]
    total: int

    def __iter__(self):
        return iter(self.shown)

    def __len__(self) -> int:
        return len(self.shown)

    @property
    def more(self) -> int:
        return self.total - len(self.shown)


@lru_cache(maxsize=32)
def _earlier_statement(shape: tuple[str, str], shown: int) -> Select[Any]:
    # Built for a stand-in viewer whose values are never used (Viewer.stand_in).
    latest_outcome = (
        select(Decision.outcome)
        .where(Decision.case_id == Case.id)
        .order_by(Decision.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            Case.id,
            Case.reference,
            Case.reported_on,
            Case.closed_on,
            Case.status,
            Case.track,
            latest_outcome.label("outcome"),
            func.count().over().label("total"),
        )
        .where(
            Case.subject_id == bindparam("subject_id", type_=Integer),
            Case.id != bindparam("case_id", type_=Integer),
            visible_cases_filter(Viewer.stand_in(shape)),
        )
        .order_by(Case.reported_on.desc(), Case.id.desc())
        .limit(shown)
    )


@cache
def _cited_statement() -> Select[Any]:
    return (
        select(ClauseBreach.case_id, Clause.reference)
        .join(Clause, Clause.id == ClauseBreach.clause_id)
        .where(ClauseBreach.case_id.in_(bindparam("case_ids", expanding=True)))
        .order_by(ClauseBreach.case_id, Clause.position, Clause.id)
    )


def earlier_concerns(case: Case, viewer: User, *, shown: int = EARLIER_SHOWN) -> EarlierConcerns:
    """The other cases about the same member of staff that the viewer may read, newest
    first, with their clauses and latest outcome, at most `shown` of them with the number
    of all: two statements, whatever their number, each built once (per shape of the
    viewer's reach) and run with the values bound."""
    reader = Viewer.of(viewer)
    rows = db.session.execute(
        _earlier_statement(reader.shape, shown),
        {**reader.params(), "subject_id": case.subject_id, "case_id": case.id},
    ).all()
    if not rows:
        return EarlierConcerns(shown=(), total=0)
    cited: dict[int, list[str]] = {}
    for case_id, reference in db.session.execute(
        _cited_statement(), {"case_ids": [row.id for row in rows]}
    ):
        cited.setdefault(case_id, []).append(reference)
    return EarlierConcerns(
        shown=tuple(
            EarlierConcern(
                case_id=row.id,
                reference=row.reference,
                reported_on=row.reported_on,
                closed_on=row.closed_on,
                status=row.status,
                track=row.track,
                clauses=tuple(cited.get(row.id, ())),
                outcome=_outcome_label(row.outcome),
            )
            for row in rows
        ),
        total=rows[0].total,
    )
