"""The DPO's retention list: due now, reviews, coming up, held, and missing facts.

One statement over the kept retention columns (the due date is indexed); the lists are
cut from its rows. References, schools, dates and rules only: no names, no content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, case, func, or_, select

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.auth.models import User
from tracker.auth.permissions import visible_cases_filter
from tracker.cases.models import Case
from tracker.extensions import db
from tracker.orgs.models import School
from tracker.retention.rules import HoldReason, RetentionRule
from tracker.retention.services import CLOSED_STATUSES, MISSING_WORDS


@dataclass(frozen=True)
class RetentionRow:
    case_id: int
    reference: str
    school: str
    closed_on: date | None
    due_on: date | None
    rule: RetentionRule
    is_review: bool
    held: HoldReason | None
    missing: tuple[str, ...]

    @property
    def missing_words(self) -> str:
        return " and ".join(MISSING_WORDS.get(name, name) for name in self.missing)


@dataclass
class RetentionOverview:
    today: date
    warning_days: int
    due_now: list[RetentionRow] = field(default_factory=list)
    reviews: list[RetentionRow] = field(default_factory=list)
    coming: list[RetentionRow] = field(default_factory=list)
    held: list[RetentionRow] = field(default_factory=list)
    missing: list[RetentionRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        ids = {row.case_id for rows in self.lists for row in rows}
        return len(ids)

    @property
    def lists(self) -> list[list[RetentionRow]]:
        return [self.due_now, self.reviews, self.coming, self.held, self.missing]


def retention_overview(user: User, today: date, warning_days: int) -> RetentionOverview:
    """The closed cases the user can read whose retention needs the DPO's eye."""
    horizon = today + timedelta(days=warning_days)
    rows = db.session.execute(
        select(
            Case.id,
            Case.reference,
            School.name,
            Case.closed_on,
            Case.retention_due_on,
            Case.retention_rule,
            Case.retention_is_review,
            Case.retention_held,
            Case.retention_missing,
        )
        .join(School, School.id == Case.school_id)
        .where(
            visible_cases_filter(user),
            Case.status.in_(CLOSED_STATUSES),
            Case.retention_rule.is_not(None),
            or_(
                Case.retention_due_on <= horizon,
                Case.retention_held.is_not(None),
                Case.retention_missing != "",
            ),
        )
        .order_by(Case.retention_due_on, Case.reference)
    ).all()
    overview = RetentionOverview(today=today, warning_days=warning_days)
    for row in rows:
        item = RetentionRow(
            case_id=row.id,
            reference=row.reference,
            school=row.name,
            closed_on=row.closed_on,
            due_on=row.retention_due_on,
            rule=RetentionRule(row.retention_rule),
            is_review=row.retention_is_review,
            held=HoldReason(row.retention_held) if row.retention_held else None,
            missing=tuple(name for name in row.retention_missing.split(",") if name),
        )
        if item.held is not None:
            overview.held.append(item)
        elif item.due_on is not None and item.due_on <= today:
            (overview.reviews if item.is_review else overview.due_now).append(item)
        elif item.due_on is not None and item.due_on <= horizon:
            overview.coming.append(item)
        if item.missing:
            overview.missing.append(item)
    return overview


@dataclass(frozen=True)
class RetentionCounts:
    due_now: int
    reviews: int
    held: int


def retention_counts(user: User, today: date) -> RetentionCounts:
    """How many closed cases the user can read are due for disposal, due for review, or
    held: one statement, for the DPO's home page."""
    due = and_(
        Case.retention_held.is_(None),
        Case.retention_due_on.is_not(None),
        Case.retention_due_on <= today,
    )
    row = db.session.execute(
        select(
            func.count(case((and_(due, Case.retention_is_review.is_(False)), 1))),
            func.count(case((and_(due, Case.retention_is_review.is_(True)), 1))),
            func.count(case((Case.retention_held.is_not(None), 1))),
        ).where(visible_cases_filter(user), Case.status.in_(CLOSED_STATUSES))
    ).one()
    return RetentionCounts(*row)


def record_retention_list_viewed(user: User, overview: RetentionOverview) -> None:
    """retention.list.viewed with how many cases each list showed. Two statements; the
    caller commits."""
    audit.record(
        AuditAction.RETENTION_LIST_VIEWED,
        actor=user,
        object_type="retention_list",
        details={
            "due_now": len(overview.due_now),
            "reviews": len(overview.reviews),
            "coming": len(overview.coming),
            "held": len(overview.held),
            "missing": len(overview.missing),
        },
    )
