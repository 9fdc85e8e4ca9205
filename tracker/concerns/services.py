"""Raising a concern as a member of staff, its draft, and what its receipt says.

A concern raised here opens a case, `reported`, for the school's safeguarding leads, with
`source` staff report or self-report, the reporter recorded and no clause cited (the
lead cites them at triage). The reporter keeps a receipt (`StaffConcern`): the
reference, when it was received and a status in three words. Never the content after
it is sent, the outcome, or anything the lead adds: the case is not theirs to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import BinaryIO

from flask import current_app
from sqlalchemy import delete, func, or_, select

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction, Outcome
from tracker.auth.models import User
from tracker.auth.permissions import is_member_of_staff, own_staff_record, staff_scope
from tracker.cases.evidence import Provenance, checked_source_url, store_evidence
from tracker.cases.models import Case, CaseStatus, PostVisibility, Source
from tracker.cases.services import CaseDetails, checked_details, open_case
from tracker.concerns.models import ConcernDraft, StaffConcern
from tracker.db import utcnow
from tracker.errors import NotAllowed, ValidationFailed
from tracker.extensions import db
from tracker.staff.models import StaffMember

# What the concern is about: a colleague on the register, or the reporter themselves.
ABOUT_COLLEAGUE = "colleague"
ABOUT_MYSELF = "myself"

# A draft nobody has touched for this long is deleted by `flask retention run`.
DRAFT_KEPT_FOR = timedelta(days=30)


class ConcernLimitReached(NotAllowed):
    """The reporter has raised STAFF_CONCERNS_PER_DAY concerns in the last 24 hours."""


@dataclass(frozen=True)
class Screenshot:
    content: BinaryIO
    filename: str


@dataclass(frozen=True)
class StaffReport:
    """What the member of staff wrote, in the form's words."""

    about: str  # ABOUT_COLLEAGUE or ABOUT_MYSELF
    colleague_id: int | None
    what_happened: str
    occurred_on: date
    where_seen: str
    platform: str
    platform_detail: str
    link: str = ""


def colleagues_of(user: User, today: date) -> list[StaffMember]:
    """The people on the register at the schools where the user is a member of staff,
    who have not left, but for the user themselves: whom they may raise a concern about."""
    scope = staff_scope(user)
    return list(
        db.session.scalars(
            select(StaffMember)
            .where(
                StaffMember.trust_id == user.trust_id,
                scope.filter(StaffMember.school_id),
                or_(StaffMember.left_on.is_(None), StaffMember.left_on >= today),
                or_(StaffMember.user_id.is_(None), StaffMember.user_id != user.id),
            )
            .order_by(StaffMember.full_name, StaffMember.id)
        )
    )


def raised_in_last_day(user: User, now: datetime) -> int:
    return (
        db.session.scalar(
            select(func.count(StaffConcern.id)).where(
                StaffConcern.raised_by_id == user.id,
                StaffConcern.received_at > now - timedelta(hours=24),
            )
        )
        or 0
    )


def _subject_of(report: StaffReport, by: User, today: date) -> StaffMember:
    if report.about == ABOUT_MYSELF:
        own = own_staff_record(by)
        if own is None:
            raise ValidationFailed(
                "You are not on the staff register, so a concern about yourself cannot be "
                "recorded here. Speak to your designated safeguarding lead",
                field="about",
            )
        return own
    if report.about != ABOUT_COLLEAGUE:
        raise ValidationFailed("Choose who the concern is about", field="about")
    colleague = next(
        (m for m in colleagues_of(by, today) if m.id == report.colleague_id),
        None,
    )
    if colleague is None:
        raise ValidationFailed("Choose the colleague the concern is about", field="colleague")
    return colleague


def _summary(report: StaffReport) -> str:
    summary = report.what_happened.replace("\r\n", "\n").strip()
    link = checked_source_url(report.link, field="link")
    if link:
        summary += f"\n\nLink given by the person who raised it: {link}"
    return summary


def raise_concern(
    report: StaffReport,
    *,
    by: User,
    screenshot: Screenshot | None = None,
    today: date,
    now: datetime | None = None,
) -> StaffConcern:
    """A member of staff raises a concern about a colleague, or about themselves.

    Guard: the user holds the staff role; the colleague is on the register at a school
    where the user is a member of staff and has not left (or, for a self-report, the
    user is on the register); the details are complete, the date not in the future;
    the link, if any, is a web address; the screenshot, if any, passes the evidence
    checks; fewer than STAFF_CONCERNS_PER_DAY concerns in the last 24 hours (the caller
    records that refusal with `record_limit_refusal`, once this one is rolled back).
    Side effects: a case, `reported`, at the subject's school, through
    `tracker.cases.services.open_case` (case.created, revision 1) with source staff
    report or self-report and the reporter as `reported_by`; the screenshot as its
    evidence (evidence.added); the receipt; concern.raised (the case and receipt ids,
    whether it is about themselves); the user's draft deleted. Flushes; the caller
    commits, then calls `notify_after_commit(case.id)`: the school's safeguarding leads
    get an e-mail with no content.
    """
    now = now or utcnow()
    if not is_member_of_staff(by):
        raise NotAllowed("Only members of staff can raise a concern here")
    limit = current_app.config["STAFF_CONCERNS_PER_DAY"]
    if raised_in_last_day(by, now) >= limit:
        raise ConcernLimitReached(
            f"You have raised {limit} concerns in the last 24 hours, the most this form "
            "takes in a day. What you typed is saved as a draft. Speak to your designated "
            "safeguarding lead today, and straight away if a child may be at risk"
        )
    subject = _subject_of(report, by, today)
    about_self = report.about == ABOUT_MYSELF
    details = checked_details(
        CaseDetails(
            source=(Source.SELF_REPORT if about_self else Source.STAFF_REPORT).value,
            source_detail=" ".join(report.where_seen.split())[:500],
            occurred_on=report.occurred_on,
            reported_on=today,
            platform=report.platform,
            platform_detail=report.platform_detail,
            summary=_summary(report),
        ),
        today,
    )
    case = open_case(
        school=subject.school, subject=subject, details=details, breaches=[], by=by, today=today
    )
    if screenshot is not None:
        store_evidence(
            case,
            content=screenshot.content,
            filename=screenshot.filename,
            provenance=Provenance(
                description="Sent with the concern by the person who raised it",
                post_visibility=PostVisibility.UNKNOWN.value,
            ),
            by=by,
            now=now,
        )
    receipt = StaffConcern(
        trust_id=case.trust_id,
        school_id=case.school_id,
        case_id=case.id,
        reference=case.reference,
        raised_by_id=by.id,
        about_self=about_self,
        received_at=now,
    )
    db.session.add(receipt)
    db.session.flush()
    audit.record_about(
        AuditAction.CONCERN_RAISED,
        receipt,
        actor=by,
        case=case,
        details={"case_id": case.id, "about_self": about_self},
    )
    db.session.execute(delete(ConcernDraft).where(ConcernDraft.user_id == by.id))
    return receipt


def record_limit_refusal(*, by: User) -> None:
    """concern.refused, denied, with the limit: a concern refused for the daily limit, in
    its own transaction after the refused one rolled back. The caller commits."""
    audit.record(
        AuditAction.CONCERN_REFUSED,
        actor=by,
        trust_id=by.trust_id,
        outcome=Outcome.DENIED,
        details={"limit": current_app.config["STAFF_CONCERNS_PER_DAY"]},
    )


# --- the draft -------------------------------------------------------------------------


def draft_of(user: User) -> ConcernDraft | None:
    return db.session.get(ConcernDraft, user.id)


def save_draft(answers: dict[str, list[str]], *, by: User) -> ConcernDraft:
    """Keep what the member of staff has typed so far (replacing their earlier draft).

    Guard: the user holds the staff role. The answers are each field's values as posted
    (a date has three), cut to the form's own limits.
    Side effects: the draft row; concern.draft.saved (no details: never what was typed).
    Flushes; the caller commits.
    """
    if not is_member_of_staff(by):
        raise NotAllowed("Only members of staff can raise a concern here")
    kept = {
        str(name)[:40]: [str(value)[:10_000] for value in values[:3]]
        for name, values in answers.items()
    }
    draft = draft_of(by)
    if draft is None:
        draft = ConcernDraft(user_id=by.id, answers=kept)
        db.session.add(draft)
    else:
        draft.answers = kept
        draft.updated_at = utcnow()
    db.session.flush()
    audit.record(AuditAction.CONCERN_DRAFT_SAVED, actor=by, trust_id=by.trust_id)
    return draft


def discard_draft(*, by: User) -> bool:
    """Delete the user's draft, if they have one (concern.draft.discarded). Flushes."""
    deleted = db.session.execute(delete(ConcernDraft).where(ConcernDraft.user_id == by.id))
    if not getattr(deleted, "rowcount", 0):
        return False
    audit.record(AuditAction.CONCERN_DRAFT_DISCARDED, actor=by, trust_id=by.trust_id)
    return True


def delete_stale_drafts(now: datetime) -> int:
    """Drafts untouched for DRAFT_KEPT_FOR, which `flask retention run --apply` deletes:
    an unsent draft is still an allegation about someone. Returns how many. Side effects:
    concern.drafts.expired with the count, by the system, when there were any. Flushes;
    the caller commits."""
    result = db.session.execute(
        delete(ConcernDraft).where(ConcernDraft.updated_at < now - DRAFT_KEPT_FOR)
    )
    deleted = int(getattr(result, "rowcount", 0) or 0)
    if deleted:
        audit.record(AuditAction.CONCERN_DRAFTS_EXPIRED, actor=None, details={"count": deleted})
    return deleted


# --- the receipt -----------------------------------------------------------------------


class ReceiptStatus(StrEnum):
    """All the reporter is told of what happens next."""

    RECEIVED = "Received"
    BEING_DEALT_WITH = "Being dealt with"
    CLOSED = "Closed"


_DEALT_WITH = frozenset(
    {
        CaseStatus.TRIAGE,
        CaseStatus.INVESTIGATION,
        CaseStatus.AWAITING_DECISION,
        CaseStatus.DECIDED,
        CaseStatus.APPEAL,
    }
)


@dataclass(frozen=True)
class Receipt:
    id: int
    reference: str
    received_at: datetime
    about_self: bool
    status: ReceiptStatus


def receipt_status(case_status: str | None) -> ReceiptStatus:
    if case_status is None:  # the case has been disposed of
        return ReceiptStatus.CLOSED
    if case_status == CaseStatus.REPORTED:
        return ReceiptStatus.RECEIVED
    if case_status in _DEALT_WITH:
        return ReceiptStatus.BEING_DEALT_WITH
    return ReceiptStatus.CLOSED


def receipts_of(user: User) -> list[Receipt]:
    """The concerns the user raised, newest first, with their status: one statement that
    reads the case's status and nothing else of it."""
    rows = db.session.execute(
        select(
            StaffConcern.id,
            StaffConcern.reference,
            StaffConcern.received_at,
            StaffConcern.about_self,
            Case.status,
        )
        .outerjoin(Case, Case.id == StaffConcern.case_id)
        .where(StaffConcern.raised_by_id == user.id)
        .order_by(StaffConcern.received_at.desc(), StaffConcern.id.desc())
    )
    return [
        Receipt(row.id, row.reference, row.received_at, row.about_self, receipt_status(row.status))
        for row in rows
    ]


def receipt_of(user: User, receipt_id: int) -> Receipt | None:
    """One of the user's receipts; None for anyone else's (the view answers 404)."""
    return next((r for r in receipts_of(user) if r.id == receipt_id), None)
