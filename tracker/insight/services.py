"""Reviewing a pattern of concerns, and linking cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.auth.models import User
from tracker.auth.permissions import can_view_case, visible_cases_filter
from tracker.cases.models import Case, CaseStatus, Track
from tracker.db import utcnow
from tracker.errors import NotAllowed, ValidationFailed, one_of, required_text
from tracker.extensions import db
from tracker.insight.models import CaseLink, LinkKind, PatternReview
from tracker.workflow.models import Action

YES_NO = ("yes", "no")
ESCALATABLE = frozenset({CaseStatus.TRIAGE, CaseStatus.INVESTIGATION, CaseStatus.AWAITING_DECISION})


def _refused(case: Case, action: Action, by: User) -> None:
    # Imported here: the registry names this module's step functions, so it imports it.
    from tracker.workflow.registry import refusal

    if problem := refusal(case, action, by):
        raise NotAllowed(problem)


def review_pattern(
    case: Case,
    *,
    meets_threshold: str,
    escalate: str,
    rationale: str,
    by: User,
    now: datetime | None = None,
) -> PatternReview:
    """The lead's review of the pattern flagged on the case.

    Guard: the registry's (a case worker; the case flagged and not yet reviewed, in
    triage or later and open); both questions answered; a reason; escalating only a
    low-level concern in triage, investigation or awaiting a decision, and a low-level
    concern whose pattern meets the harm threshold is escalated. Side effects: the
    review; the case's `pattern_reviewed_at`; pattern.reviewed (the two answers, as
    codes); when escalated, the workflow's escalation (case.transitioned) with the same
    reason. Flushes; the caller commits.
    """
    from tracker.workflow.services import escalate_to_allegation

    _refused(case, Action.REVIEW_PATTERN, by)
    now = now or utcnow()
    if meets_threshold not in YES_NO:
        raise ValidationFailed(
            "Choose whether the concerns now meet the harm threshold", field="meets_threshold"
        )
    if escalate not in YES_NO:
        raise ValidationFailed(
            "Choose whether to escalate this case to an allegation", field="escalate"
        )
    why = required_text(rationale, "Say why you decided this", field="rationale")
    can_escalate = case.track == Track.LOW_LEVEL and case.status in ESCALATABLE
    if escalate == "yes" and not can_escalate:
        raise ValidationFailed(
            "Only a low-level concern in triage, under investigation or awaiting a decision "
            "can be escalated: answer no",
            field="escalate",
        )
    if meets_threshold == "yes" and escalate == "no" and can_escalate:
        raise ValidationFailed(
            "The concerns meet the harm threshold, so escalate this case to an allegation",
            field="escalate",
        )
    review = PatternReview(
        case_id=case.id,
        meets_threshold=meets_threshold,
        escalated=escalate == "yes",
        rationale=why,
        reviewed_by_id=by.id,
        reviewed_at=now,
    )
    case.pattern_reviewed_at = now
    audit.record_added(
        AuditAction.PATTERN_REVIEWED,
        review,
        actor=by,
        case=case,
        details={"meets_threshold": meets_threshold, "escalated": escalate == "yes"},
    )
    if escalate == "yes":
        escalate_to_allegation(case, reason=why, by=by, now=now)
    return review


def reviews_of(case: Case) -> list[PatternReview]:
    """The case's pattern reviews, with who made them: one statement."""
    return list(
        db.session.scalars(
            select(PatternReview)
            .where(PatternReview.case_id == case.id)
            .options(joinedload(PatternReview.reviewed_by))
            .order_by(PatternReview.reviewed_at)
        )
    )


# --- links between cases -----------------------------------------------------------------


def link_cases(case: Case, *, reference: str, kind: str, by: User) -> CaseLink:
    """Link the case to another the user may read, found by its reference.

    Guard: the registry's (a case worker, the case open); the other case exists, is not
    this one, and the user may read it (a case they may not read is "not found", as if it
    did not exist); not linked already; a kind. Side effects: the link (stored once, lower
    id first); case.linked on both cases (the other case's id, the kind). Flushes; the
    caller commits.
    """
    _refused(case, Action.LINK_CASE, by)
    link_kind = one_of(LinkKind, kind, "Choose how the cases are related", field="kind")
    wanted = " ".join(reference.split()).upper()
    if not wanted:
        raise ValidationFailed("Enter the reference of the other case", field="reference")
    other = db.session.scalar(
        select(Case).where(Case.reference == wanted, visible_cases_filter(by))
    )
    if other is None or not can_view_case(by, other):
        raise ValidationFailed(f"No case you can see has the reference {wanted}", field="reference")
    if other.id == case.id:
        raise ValidationFailed("Enter the reference of another case", field="reference")
    low, high = sorted((case.id, other.id))
    existing = db.session.scalar(
        select(CaseLink.id).where(CaseLink.case_id == low, CaseLink.linked_case_id == high)
    )
    if existing is not None:
        raise ValidationFailed(
            f"This case is already linked to {other.reference}", field="reference"
        )
    link = CaseLink(case_id=low, linked_case_id=high, kind=link_kind.value, linked_by_id=by.id)
    db.session.add(link)
    db.session.flush()
    for one, another in ((case, other), (other, case)):
        audit.record_for_case(
            AuditAction.CASE_LINKED,
            one,
            actor=by,
            object_type=CaseLink.audit_type,
            object_id=link.id,
            details={"linked_case_id": another.id, "kind": link_kind.value},
        )
    return link


def unlink_cases(case: Case, link: CaseLink, *, by: User) -> None:
    """Remove a link of the case. Guard: the registry's; the link is the case's. Side
    effects: the link deleted; case.unlinked on both cases. Flushes; the caller commits."""
    _refused(case, Action.UNLINK_CASE, by)
    if case.id not in {link.case_id, link.linked_case_id}:
        raise NotAllowed("That link is not this case's")
    other = db.session.get_one(Case, link.other_than(case.id))
    link_id = link.id
    db.session.delete(link)
    db.session.flush()
    for one, another in ((case, other), (other, case)):
        audit.record_for_case(
            AuditAction.CASE_UNLINKED,
            one,
            actor=by,
            object_type=CaseLink.audit_type,
            object_id=link_id,
            details={"linked_case_id": another.id},
        )


@dataclass(frozen=True)
class LinkedCase:
    link_id: int
    case_id: int
    reference: str
    kind_label: str


def links_of(case: Case, viewer: User) -> list[LinkedCase]:
    """The case's links, both ways, to the cases the viewer may read (a link to one they
    may not is not shown: its existence is not theirs to learn). Two statements."""
    links = list(
        db.session.scalars(
            select(CaseLink)
            .where(or_(CaseLink.case_id == case.id, CaseLink.linked_case_id == case.id))
            .order_by(CaseLink.linked_at, CaseLink.id)
        )
    )
    if not links:
        return []
    others = [link.other_than(case.id) for link in links]
    rows = db.session.execute(
        select(Case.id, Case.reference).where(Case.id.in_(others), visible_cases_filter(viewer))
    )
    readable = dict(rows.tuples().all())
    return [
        LinkedCase(
            link_id=link.id,
            case_id=other,
            reference=readable[other],
            kind_label=LinkKind(link.kind).label,
        )
        for link, other in zip(links, others, strict=True)
        if other in readable
    ]
