"""The scheduled retention run (`flask retention run`): what is due, warnings, disposal.

A unit of work for a command, not a service: each disposal is its own transaction (its
evidence files go once it commits), and each warning e-mail its own, as the reminders
are sent. Without `apply` nothing is written: the run works out what it would do, then
rolls back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from tracker.auth.models import RoleGrant, User
from tracker.auth.roles import Role
from tracker.cases.models import Case
from tracker.db import utcnow
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.notifications.messages import NotificationKind
from tracker.notifications.services import Due, SendReport, deliver
from tracker.retention.rules import RetentionRule
from tracker.retention.services import (
    CLOSED_STATUSES,
    backfill_retention,
    dispose_case,
    record_retention,
)

log = logging.getLogger(__name__)


class Step(StrEnum):
    """What the run does about a case."""

    DISPOSE = "dispose"  # due: delete it
    REVIEW = "review"  # due for a person's review: listed, and the DPO warned
    HELD = "held"  # due, but a legal hold stands
    WARN = "warn"  # due within the warning window


@dataclass
class PlannedCase:
    case_id: int
    reference: str
    school: str
    due_on: date
    rule: RetentionRule
    step: Step
    outcome: str = ""  # what the run did, in words (the CLI's last column)


@dataclass
class RunReport:
    cases: list[PlannedCase] = field(default_factory=list)
    backfilled: int = 0
    disposed: int = 0
    mail: SendReport = field(default_factory=SendReport)


def plan(today: date, warning_days: int) -> list[PlannedCase]:
    """Closed cases whose kept retention falls due by `today` plus the warning window,
    soonest first. Held cases are listed only once due (they would otherwise be due)."""
    cases = db.session.scalars(
        select(Case)
        .where(
            Case.status.in_(CLOSED_STATUSES),
            Case.retention_due_on.is_not(None),
            Case.retention_due_on <= today + timedelta(days=warning_days),
        )
        .options(joinedload(Case.school))
        .order_by(Case.retention_due_on, Case.reference)
    ).all()
    planned = []
    for case in cases:
        due_on, rule = case.retention_due_on, case.retention_rule
        if due_on is None or rule is None:
            continue  # never: the query asked for a due date, and the rule is kept with it
        held = case.retention_held is not None
        if due_on > today:
            if held:
                continue
            step = Step.WARN
        elif held:
            step = Step.HELD
        elif case.retention_is_review:
            step = Step.REVIEW
        else:
            step = Step.DISPOSE
        planned.append(
            PlannedCase(
                case.id,
                case.reference,
                case.school.name,
                due_on,
                RetentionRule(rule),
                step,
            )
        )
    return planned


def warning_recipients(case: Case) -> list[User]:
    """The school's designated safeguarding leads (and deputies) and the trust's DPO:
    active, and never the subject of the case."""
    grants = db.session.scalars(
        select(RoleGrant)
        .where(
            RoleGrant.trust_id == case.trust_id,
            or_(
                and_(
                    RoleGrant.school_id == case.school_id,
                    RoleGrant.role.in_([Role.DSL.value, Role.DEPUTY_DSL.value]),
                ),
                RoleGrant.role == Role.DPO.value,
            ),
        )
        .options(joinedload(RoleGrant.user))
    )
    people = {grant.user.id: grant.user for grant in grants if grant.user.is_active}
    subject_user = case.subject.user_id
    return [user for user_id, user in sorted(people.items()) if user_id != subject_user]


def run(*, apply: bool, today: date, warning_days: int, now: datetime | None = None) -> RunReport:
    """Work out what is due and, with `apply`, warn and dispose.

    Closed cases with no retention kept yet get it first (the system acting). Each due
    disposal is checked again from the case's facts by `dispose_case` and committed on
    its own; one that is refused (its facts changed) is recorded again and skipped. A
    warning goes once per case, due date and person (its key in `sent_notifications`);
    reviews due are warned about too, as they wait for the DPO.
    """
    now = now or utcnow()
    report = RunReport()
    report.backfilled = backfill_retention(now=now)
    report.cases = plan(today, warning_days)
    if not apply:
        for item in report.cases:
            item.outcome = {
                Step.DISPOSE: "would dispose",
                Step.REVIEW: "review (would warn)",
                Step.HELD: "held",
                Step.WARN: "would warn",
            }[item.step]
        db.session.rollback()
        return report
    db.session.commit()
    for item in report.cases:
        if item.step is Step.DISPOSE:
            case = db.session.get_one(Case, item.case_id)
            try:
                dispose_case(case, by=None, today=today, now=now)
            # On purpose: a case that changed since the plan (a hold placed, the case
            # reopened) is refused by the service; the run skips it and goes on.
            except DomainError:
                db.session.rollback()
                case = db.session.get_one(Case, item.case_id)
                record_retention(case, by=None, now=now)
                db.session.commit()
                item.outcome = "skipped: no longer due"
                continue
            db.session.commit()
            report.disposed += 1
            item.outcome = "disposed"
        elif item.step is Step.HELD:
            item.outcome = "held"
    pending: list[Due] = []
    for item in report.cases:
        if item.step not in (Step.WARN, Step.REVIEW):
            continue
        case = db.session.get_one(Case, item.case_id)
        recipients = warning_recipients(case)
        pending.extend(
            Due(
                f"retention_due:{case.id}:{item.due_on:%Y%m%d}:{person.id}",
                NotificationKind.RETENTION_DUE,
                case,
                person,
            )
            for person in recipients
        )
        item.outcome = f"{'review, ' if item.step is Step.REVIEW else ''}warned {len(recipients)}"
    report.mail = deliver(pending, now)
    return report
