"""Retention of a case: working it out from the case's facts, keeping it on the case, legal
holds, the facts only the DPO or CEO record, and disposal.

The rules themselves are pure (`rules.py`); this module feeds them the case's facts and
keeps the answer on the case (`Case.retention_*`) so that lists and the disposal command
query an indexed date. The words are not stored: the case page works them out again from
the same facts, so they always say what the stored codes say and follow any rewording.

Each function is one business action: it checks its guard, changes objects, records its
audit event in the same transaction and flushes. Callers commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.auth.models import User
from tracker.auth.permissions import can_manage_retention
from tracker.cases.evidence import delete_files_after_commit, stored_name
from tracker.cases.models import Case, CaseStatus, Track
from tracker.db import utcnow
from tracker.errors import NotAllowed, ValidationFailed, required_text
from tracker.extensions import db
from tracker.retention.models import CaseTombstone, LegalHold
from tracker.retention.rules import (
    Retention,
    RetentionRule,
    compute_retention,
    under_legal_hold,
)
from tracker.staff.models import StaffMember
from tracker.workflow.models import (
    AllegationOutcome,
    AppealOutcome,
    LowLevelOutcome,
    SentNotification,
)

CLOSED_STATUSES = (CaseStatus.CLOSED.value, CaseStatus.WITHDRAWN.value)
REASON_LIMIT = 2_000

# Words for the facts a rule can report missing, and where they are recorded.
MISSING_WORDS = {
    "normal_retirement_date": "the subject's normal retirement date",
    "left_employment_on": "the subject's leaving date",
}


# --- working it out ----------------------------------------------------------------------


def outcome_in_force(case: Case) -> str | None:
    """The outcome the retention follows: the latest decision's, unless an appeal set it
    aside (overturned), or it belongs to the other track (a reopened case escalated
    after a low-level decision): then there is no finding in force."""
    decision = case.decision
    if decision is None:
        return None
    appeal = case.appeal
    if (
        appeal is not None
        and appeal.decision_id == decision.id
        and appeal.outcome == AppealOutcome.OVERTURNED.value
    ):
        return None
    outcomes = AllegationOutcome if case.track == Track.ALLEGATION else LowLevelOutcome
    return decision.outcome if decision.outcome in outcomes._value2member_map_ else None


def active_legal_hold(case: Case) -> LegalHold | None:
    return next((hold for hold in case.legal_holds if hold.is_active), None)


def retention_of(case: Case) -> Retention:
    """The case's retention from its facts as they are now, any legal hold applied."""
    subject = case.subject
    retention = compute_retention(
        track=case.track,
        outcome=outcome_in_force(case),
        reported_on=case.reported_on,
        closed_on=None if case.is_open else case.closed_on,
        normal_retirement_date=subject.normal_retirement_date,
        left_employment_on=subject.left_on,
        sexual_abuse=case.sexual_abuse,
        subject_consents_to_keep=case.keep_consent_on is not None,
    )
    if active_legal_hold(case) is not None:
        retention = under_legal_hold(retention)
    return retention


def _stored_values(case: Case, retention: Retention) -> dict[str, Any]:
    if case.is_open:
        return {
            "retention_rule": None,
            "retention_due_on": None,
            "retention_is_review": False,
            "retention_held": None,
            "retention_missing": "",
        }
    return {
        "retention_rule": retention.rule.value,
        "retention_due_on": retention.due_on,
        "retention_is_review": retention.is_review,
        "retention_held": retention.held_because.value if retention.held_because else None,
        "retention_missing": ",".join(retention.missing),
    }


def record_retention(case: Case, *, by: User | None, now: datetime | None = None) -> Retention:
    """Work out the case's retention again and keep it on the case.

    Guard: none (it follows from the facts; the service that changed them checked its
    own guard). Side effects: when the kept values change (closing, reopening, an appeal,
    a retirement or leaving date, a hold or a retention fact), the case's retention
    columns and case.retention.set with {"rule", "due_on", "review", "held", "missing"}
    (codes and an ISO date; `by` acting, or the system). An open case keeps nothing: the
    event then says "not_closed". Flushes; the caller commits.
    """
    retention = retention_of(case)
    values = _stored_values(case, retention)
    if all(getattr(case, name) == value for name, value in values.items()):
        return retention
    for name, value in values.items():
        setattr(case, name, value)
    case.retention_computed_at = now or utcnow()
    db.session.flush()
    rule = values["retention_rule"] or RetentionRule.NOT_CLOSED.value
    due_on = values["retention_due_on"]
    audit.record_for_case(
        AuditAction.CASE_RETENTION_SET,
        case,
        actor=by,
        details={
            "rule": rule,
            "due_on": due_on.isoformat() if due_on else None,
            "review": values["retention_is_review"],
            "held": values["retention_held"] is not None,
            "missing": list(retention.missing) if not case.is_open else [],
        },
    )
    return retention


def recompute_for_subject(member: StaffMember, *, by: User | None) -> int:
    """Work out again the retention of every closed case about this member of staff
    (their retirement or leaving date changed). Returns how many changed.

    Side effects: record_retention's, for each case whose retention changed. Flushes.
    """
    cases = db.session.scalars(
        select(Case)
        .where(Case.subject_id == member.id, Case.status.in_(CLOSED_STATUSES))
        .order_by(Case.id)
    ).all()
    changed = 0
    for case in cases:
        before = case.retention_computed_at
        record_retention(case, by=by)
        changed += case.retention_computed_at != before
    return changed


def backfill_retention(*, now: datetime | None = None) -> int:
    """Work out the retention of closed cases that have none kept (closed before
    retention was recorded). The system acts. Returns how many. Flushes."""
    cases = db.session.scalars(
        select(Case)
        .where(Case.status.in_(CLOSED_STATUSES), Case.retention_rule.is_(None))
        .order_by(Case.id)
    ).all()
    for case in cases:
        record_retention(case, by=None, now=now)
    return len(cases)


# --- legal holds and the facts the DPO or CEO record -------------------------------------


def _reason(text: str, message: str) -> str:
    text = required_text(text, message, field="reason")
    if len(text) > REASON_LIMIT:
        raise ValidationFailed("Keep the reason to 2,000 characters or fewer", field="reason")
    return text


def _check_manager(case: Case, by: User) -> None:
    if not can_manage_retention(by, case):
        raise NotAllowed("Only the data protection officer or the CEO can do this")


def place_legal_hold(
    case: Case, *, reason: str, by: User, now: datetime | None = None
) -> LegalHold:
    """Put the case on legal hold: nothing of it is disposed of until the hold is lifted.

    Guard: the DPO or the CEO, who can see the case; no hold already stands; a reason.
    Side effects: a LegalHold row; legal_hold.set (never the reason); the kept retention
    shows the hold (case.retention.set, for a closed case). Flushes; the caller commits.
    """
    _check_manager(case, by)
    if active_legal_hold(case) is not None:
        raise ValidationFailed("This case is already on legal hold")
    now = now or utcnow()
    hold = LegalHold(
        case_id=case.id,
        reason=_reason(reason, "Say why the case must be kept"),
        set_by_id=by.id,
        set_at=now,
    )
    case.legal_holds.append(hold)
    audit.record_added(AuditAction.LEGAL_HOLD_SET, hold, actor=by)
    record_retention(case, by=by, now=now)
    return hold


def lift_legal_hold(case: Case, *, reason: str, by: User, now: datetime | None = None) -> LegalHold:
    """Lift the legal hold that stands on the case; its history is kept.

    Guard: the DPO or the CEO, who can see the case; a hold stands; a reason. Side
    effects: the hold records who lifted it, when and why; legal_hold.lifted (never the
    reason); the kept retention loses the hold, so disposal can fall due again.
    Flushes; the caller commits.
    """
    _check_manager(case, by)
    hold = active_legal_hold(case)
    if hold is None:
        raise ValidationFailed("There is no legal hold on this case to lift")
    now = now or utcnow()
    hold.lift_reason = _reason(reason, "Say why the hold can be lifted")
    hold.lifted_by_id = by.id
    hold.lifted_at = now
    db.session.flush()
    audit.record_about(AuditAction.LEGAL_HOLD_LIFTED, hold, actor=by)
    record_retention(case, by=by, now=now)
    return hold


def set_retention_facts(
    case: Case,
    *,
    sexual_abuse: bool,
    keep_consent_on: date | None,
    by: User,
    today: date,
    now: datetime | None = None,
) -> list[str]:
    """Record whether the case is about sexual abuse (an inquiry hold) and whether, and
    since when, the subject consents to keeping a false or malicious allegation.

    Guard: the DPO or the CEO, who can see the case; a consent date not in the future
    and not before the case was reported. Side effects, when something changed:
    case.retention_facts.changed naming the fields (never their values), and the
    retention worked out again. Returns the changed fields. Flushes; the caller commits.
    """
    _check_manager(case, by)
    if keep_consent_on is not None:
        if keep_consent_on > today:
            raise ValidationFailed(
                "The date of the consent cannot be in the future", field="keep_consent_on"
            )
        if keep_consent_on < case.reported_on:
            raise ValidationFailed(
                "The date of the consent cannot be before the concern was reported",
                field="keep_consent_on",
            )
    wanted: Mapping[str, object] = {
        "sexual_abuse": sexual_abuse,
        "keep_consent_on": keep_consent_on,
    }
    changed = [name for name, value in wanted.items() if getattr(case, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(case, name, wanted[name])
    db.session.flush()
    audit.record_for_case(
        AuditAction.CASE_RETENTION_FACTS_CHANGED, case, actor=by, details={"fields": changed}
    )
    record_retention(case, by=by, now=now)
    return changed


# --- disposal ----------------------------------------------------------------------------


# What a disposed case leaves of itself: where it was, its reference and its dates.
KEPT_ON_TOMBSTONE = ("trust_id", "school_id", "reference", "reported_on", "closed_on")


def dispose_case(
    case: Case, *, by: User | None, today: date, now: datetime | None = None
) -> CaseTombstone:
    """Delete the case's content and leave its tombstone.

    Guard: the case is closed or withdrawn and its retention, worked out again from the
    facts now (any legal hold applied), is due on `today` and is a disposal, not a
    review. Side effects: case.disposed ({"rule", "reference"}; `by` acting, or the
    system from the scheduled command), a CaseTombstone (reference, school, dates, the
    rule, who disposed of it, the event's number); every row of the case deleted: the
    case, its clause breaches, people involved, evidence records, chronology, revisions,
    transitions, decisions, appeals, suspensions, legal holds and the notifications
    sent about it; the evidence files deleted once the transaction commits (never if it
    rolls back). The audit trail is append-only and keeps its events, which name ids
    and codes only. Flushes; the caller commits.
    """
    if case.is_open:
        raise NotAllowed("An open case is never disposed of")
    retention = retention_of(case)
    if not retention.is_due(today):
        raise NotAllowed("This case is not due for disposal")
    if retention.is_review:
        raise NotAllowed("This case is due for review, not disposal: a person decides")
    now = now or utcnow()
    files = [stored_name(item) for item in case.evidence]
    seq = audit.record_for_case(
        AuditAction.CASE_DISPOSED,
        case,
        actor=by,
        details={"rule": retention.rule.value, "reference": case.reference},
    )
    tombstone = CaseTombstone(
        case_id=case.id,
        **{name: getattr(case, name) for name in KEPT_ON_TOMBSTONE},
        retention_rule=retention.rule.value,
        due_on=retention.due_on,
        disposed_on=today,
        disposed_at=now,
        disposed_by_id=by.id if by is not None else None,
        audit_seq=seq,
    )
    db.session.add(tombstone)
    # Rows about the case that the case does not own through a relationship.
    db.session.execute(delete(SentNotification).where(SentNotification.case_id == case.id))
    # The rest go with the case (cascade="all, delete-orphan" on each relationship).
    db.session.delete(case)
    db.session.flush()
    delete_files_after_commit(files)
    return tombstone
