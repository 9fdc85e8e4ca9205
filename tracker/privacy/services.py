"""Subject access requests and hearing packs: recording, deadlines, redactions, exports.

Each function checks its guard, changes what it must, writes its audit event in the same
transaction and flushes; the view commits. Exports and hearing packs are reads, and are
recorded as such (sar.exported, hearing_pack.downloaded) with counts only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.auth.models import User
from tracker.auth.permissions import can_handle_subject_access, can_prepare_hearing_pack
from tracker.cases.models import Case, CaseRevision, ChronologyEntry, ClauseBreach, Evidence
from tracker.cases.timeline import subject_read_receipts
from tracker.clock import uk_date
from tracker.db import utcnow
from tracker.errors import NotAllowed, ValidationFailed, one_of
from tracker.extensions import db
from tracker.orgs.models import Trust
from tracker.policy.models import Clause, PolicyAcknowledgement
from tracker.privacy import exports
from tracker.privacy.deadlines import (
    MAX_FURTHER_MONTHS,
    ExtensionReason,
    extended_response_due,
    response_due,
)
from tracker.privacy.models import (
    ClosureReason,
    ManualRedaction,
    RedactionReason,
    RequestStatus,
    SubjectAccessExport,
    SubjectAccessRequest,
)
from tracker.privacy.pdf import check_available, render_pdf
from tracker.privacy.redaction import Phrase, Redactor
from tracker.staff.models import StaffMember
from tracker.workflow.models import Appeal, CaseTransition, Decision

# A request's receipt date cannot be further back than this (a typing mistake otherwise).
EARLIEST_RECEIPT = date(2018, 5, 25)  # UK GDPR's first day
MIN_PHRASE = 2
MAX_PHRASE = 200
MAX_NOTE = 2000


def _require_dpo(by: User) -> None:
    if not can_handle_subject_access(by):
        raise NotAllowed("Only the data protection officer handles subject access requests")


def _require_open(request: SubjectAccessRequest) -> None:
    if not request.is_open:
        raise NotAllowed(
            f"This request is {request.status_enum.label.lower()}: it can no longer be changed"
        )


# --- recording and the deadline --------------------------------------------------------


def record_request(
    staff: StaffMember, *, received_on: date | None, by: User, today: date
) -> SubjectAccessRequest:
    """Record that `staff` asked for their data on `received_on`; due one calendar month on.

    Guard: the user is the trust's data protection officer; the member of staff is in
    their trust and is not themselves; the date is given, not in the future and not
    before UK GDPR. Side effects: a subject_access_requests row with its due date
    (tracker.privacy.deadlines.response_due); sar.recorded. Flushes.
    """
    _require_dpo(by)
    if staff.trust_id != by.trust_id:
        raise NotAllowed("Choose a member of staff of your trust")
    if staff.user_id is not None and staff.user_id == by.id:
        raise NotAllowed(
            "You cannot handle a request about yourself: ask another data protection officer",
            field="staff_member",
        )
    if received_on is None:
        raise ValidationFailed("Enter the date the request was received", field="received_on")
    if received_on > today:
        raise ValidationFailed(
            "The date the request was received must be today or in the past", field="received_on"
        )
    if received_on < EARLIEST_RECEIPT:
        raise ValidationFailed(
            "The date the request was received must be after 25 May 2018", field="received_on"
        )
    request = SubjectAccessRequest(
        trust_id=by.trust_id,
        staff_member=staff,
        received_on=received_on,
        due_on=response_due(received_on),
        created_by=by,
    )
    audit.record_added(
        AuditAction.SAR_RECORDED,
        request,
        actor=by,
        details={"staff_member_id": staff.id, "received_on": received_on.isoformat()},
    )
    return request


def extend_deadline(
    request: SubjectAccessRequest,
    *,
    reason: str | None,
    further_months: int | None,
    note: str,
    by: User,
    today: date,
) -> date:
    """Extend the deadline by one or two further months (Article 12(3)); returns it.

    Guard: the data protection officer; the request is open and not extended already;
    the first month has not passed (the person must be told within it); a reason
    (complex or numerous) and a note of what the person was told. Side effects: sets
    extended_due_on, the reason and note; sar.extended. Flushes.
    """
    _require_dpo(by)
    _require_open(request)
    if request.extended_due_on is not None:
        raise NotAllowed("The deadline has already been extended")
    if today > request.due_on:
        raise NotAllowed(
            f"The deadline can only be extended within the first month, by "
            f"{uk_date(request.due_on)}"
        )
    reason_code = one_of(
        ExtensionReason, reason, "Choose why the deadline is extended", field="reason"
    )
    if further_months is None or further_months not in range(1, MAX_FURTHER_MONTHS + 1):
        raise ValidationFailed("Choose one or two further months", field="further_months")
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(
            "Say why the extension is needed, as you told the person", field="note"
        )
    if len(note) > MAX_NOTE:
        raise ValidationFailed(f"Keep the note to {MAX_NOTE:,} characters or fewer", field="note")
    request.extended_due_on = extended_response_due(
        request.received_on, reason_code, further_months
    )
    request.extension_reason = reason_code.value
    request.extension_note = note
    db.session.flush()
    audit.record_about(
        AuditAction.SAR_EXTENDED,
        request,
        actor=by,
        details={"reason": reason_code.value, "further_months": further_months},
    )
    return request.extended_due_on


def release_request(
    request: SubjectAccessRequest, *, by: User, now: datetime | None = None
) -> None:
    """Mark the response as sent to the person.

    Guard: the data protection officer; the request is open and has at least one export.
    Side effects: status released, released_at/by; sar.released. Flushes.
    """
    _require_dpo(by)
    _require_open(request)
    if not request.exports:
        raise NotAllowed("Produce the export before you release the response")
    request.status = RequestStatus.RELEASED.value
    request.released_at = now or utcnow()
    request.released_by = by
    db.session.flush()
    audit.record_about(
        AuditAction.SAR_RELEASED, request, actor=by, details={"exports": len(request.exports)}
    )


def close_request(
    request: SubjectAccessRequest,
    *,
    reason: str | None,
    note: str,
    by: User,
    now: datetime | None = None,
) -> None:
    """Close the request without releasing anything (withdrawn, identity not confirmed,
    refused under Article 12(5), or another reason).

    Guard: the data protection officer; the request is open; a reason, and a note for a
    refusal (what the person was told) or another reason. Side effects: status closed,
    the reason and note, closed_at/by; sar.closed with the reason code (never the note).
    Flushes.
    """
    _require_dpo(by)
    _require_open(request)
    reason_code = one_of(ClosureReason, reason, "Choose why the request is closed", field="reason")
    note = (note or "").strip()
    if reason_code.needs_note and not note:
        message = (
            "Say why the request is refused, as you told the person"
            if reason_code is ClosureReason.REFUSED
            else "Say why the request is closed"
        )
        raise ValidationFailed(message, field="note")
    if len(note) > MAX_NOTE:
        raise ValidationFailed(f"Keep the note to {MAX_NOTE:,} characters or fewer", field="note")
    request.status = RequestStatus.CLOSED.value
    request.closure_reason = reason_code.value
    request.closure_note = note
    request.closed_at = now or utcnow()
    request.closed_by = by
    db.session.flush()
    audit.record_about(
        AuditAction.SAR_CLOSED, request, actor=by, details={"reason": reason_code.value}
    )


# --- manual redactions ------------------------------------------------------------------


def _checked_phrase(phrase: str, reason: str | None, existing: list[ManualRedaction]) -> str:
    phrase = " ".join((phrase or "").split())
    if len(phrase) < MIN_PHRASE:
        raise ValidationFailed(
            f"Enter the words to redact, at least {MIN_PHRASE} characters", field="phrase"
        )
    if len(phrase) > MAX_PHRASE:
        raise ValidationFailed(
            f"Keep the words to redact to {MAX_PHRASE} characters or fewer", field="phrase"
        )
    one_of(RedactionReason, reason, "Choose why these words are redacted", field="reason")
    if any(item.phrase.lower() == phrase.lower() for item in existing):
        raise ValidationFailed("These words are already redacted", field="phrase")
    return phrase


def add_request_redaction(
    request: SubjectAccessRequest, *, phrase: str, reason: str | None, by: User
) -> ManualRedaction:
    """Redact a phrase everywhere in this request's export (case-insensitive).

    Guard: the data protection officer; the request is open; 2 to 200 characters, a
    reason, not the same words twice. Side effects: a manual_redactions row;
    sar.redaction.added with the reason code (never the words). Flushes.
    """
    _require_dpo(by)
    _require_open(request)
    phrase = _checked_phrase(phrase, reason, request.redactions)
    redaction = ManualRedaction(
        trust_id=request.trust_id, request=request, phrase=phrase, reason=reason, added_by=by
    )
    audit.record_added(
        AuditAction.SAR_REDACTION_ADDED,
        redaction,
        actor=by,
        details={"request_id": request.id, "reason": redaction.reason},
    )
    return redaction


def case_redactions(case_ids: list[int]) -> list[ManualRedaction]:
    if not case_ids:
        return []
    return list(
        db.session.scalars(
            select(ManualRedaction)
            .where(ManualRedaction.case_id.in_(case_ids))
            .options(joinedload(ManualRedaction.added_by))
            .order_by(ManualRedaction.id)
        )
    )


def add_case_redaction(case: Case, *, phrase: str, reason: str | None, by: User) -> ManualRedaction:
    """Redact a phrase in every export of this case: its hearing pack, and any subject
    access export that includes it.

    Guard: the user may prepare the case's hearing pack; 2 to 200 characters, a reason,
    not the same words twice. Side effects: a manual_redactions row;
    hearing_pack.redaction.added (filed under the case) with the reason code. Flushes.
    """
    if not can_prepare_hearing_pack(by, case):
        raise NotAllowed("You cannot prepare this case's hearing pack")
    phrase = _checked_phrase(phrase, reason, case_redactions([case.id]))
    redaction = ManualRedaction(
        trust_id=case.trust_id, case=case, phrase=phrase, reason=reason, added_by=by
    )
    audit.record_added(
        AuditAction.HEARING_PACK_REDACTION_ADDED,
        redaction,
        actor=by,
        details={"reason": redaction.reason},
    )
    return redaction


# --- what is held -----------------------------------------------------------------------

_CASE_CONTENT = (
    joinedload(Case.school),
    joinedload(Case.subject).joinedload(StaffMember.school),
    joinedload(Case.reported_by),
    joinedload(Case.investigator),
    joinedload(Case.decision_maker),
    selectinload(Case.breaches).joinedload(ClauseBreach.clause).joinedload(Clause.version),
    selectinload(Case.people),
    selectinload(Case.evidence).joinedload(Evidence.uploaded_by),
    selectinload(Case.chronology).joinedload(ChronologyEntry.author),
    selectinload(Case.transitions).joinedload(CaseTransition.actor),
    selectinload(Case.decisions).joinedload(Decision.decided_by),
    selectinload(Case.appeals).joinedload(Appeal.heard_by),
    selectinload(Case.suspensions),
    selectinload(Case.revisions).joinedload(CaseRevision.changed_by),
)


def cases_about(staff: StaffMember) -> list[Case]:
    """Every case whose subject is this member of staff, oldest first, with its content."""
    return list(
        db.session.scalars(
            select(Case)
            .where(Case.trust_id == staff.trust_id, Case.subject_id == staff.id)
            .options(*_CASE_CONTENT)
            .order_by(Case.reported_on, Case.id)
        )
    )


def case_with_content(case_id: int) -> Case:
    return db.session.scalars(select(Case).where(Case.id == case_id).options(*_CASE_CONTENT)).one()


def requests_for(trust_id: int) -> list[SubjectAccessRequest]:
    """The trust's requests: open ones first, soonest deadline first, then the rest."""
    requests = db.session.scalars(
        select(SubjectAccessRequest)
        .where(SubjectAccessRequest.trust_id == trust_id)
        .options(joinedload(SubjectAccessRequest.staff_member).joinedload(StaffMember.school))
    ).all()
    return sorted(
        requests,
        key=lambda r: (not r.is_open, r.effective_due_on if r.is_open else date.max, -r.id),
    )


def open_requests_count(trust_id: int, today: date) -> tuple[int, int]:
    """How many requests are open, and how many of them are overdue."""
    due = func.coalesce(SubjectAccessRequest.extended_due_on, SubjectAccessRequest.due_on)
    row = db.session.execute(
        select(
            func.count(SubjectAccessRequest.id),
            func.count(SubjectAccessRequest.id).filter(due < today),
        ).where(
            SubjectAccessRequest.trust_id == trust_id,
            SubjectAccessRequest.status == RequestStatus.OPEN.value,
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


def staff_of_trust(trust_id: int, *, excluding_user: User) -> list[StaffMember]:
    return list(
        db.session.scalars(
            select(StaffMember)
            .where(
                StaffMember.trust_id == trust_id,
                or_(StaffMember.user_id.is_(None), StaffMember.user_id != excluding_user.id),
            )
            .options(joinedload(StaffMember.school))
            .order_by(StaffMember.full_name, StaffMember.id)
        )
    )


def _phrases(redactions: list[ManualRedaction]) -> list[Phrase]:
    return [Phrase(item.id, item.phrase, item.reason) for item in redactions]


@dataclass
class Prepared:
    """A subject access export's content, redacted, before it is rendered."""

    cases: list[Case]
    data: dict[str, Any]
    redactor: Redactor


def prepare_subject_access(
    request: SubjectAccessRequest, *, now: datetime | None = None
) -> Prepared:
    """Everything held about the request's member of staff, redacted, as plain data.

    Applies the request's manual redactions and those of each case included. Reads only;
    the callers record the read (`record_request_viewed`, `produce_export`).
    """
    subject = request.staff_member
    cases = cases_about(subject)
    redactions = list(request.redactions) + case_redactions([case.id for case in cases])
    redactor = Redactor(
        [person for case in cases for person in case.people],
        _phrases(redactions),
        keep=exports.kept_names(cases, subject),
    )
    records = [exports.case_record(case, redactor, subject_read_receipts(case)) for case in cases]
    acknowledgements = db.session.scalars(
        select(PolicyAcknowledgement)
        .where(PolicyAcknowledgement.staff_member_id == subject.id)
        .options(joinedload(PolicyAcknowledgement.version))
        .order_by(PolicyAcknowledgement.acknowledged_on, PolicyAcknowledgement.id)
    ).all()
    data = exports.subject_access_data(
        request,
        trust_name=db.session.get_one(Trust, request.trust_id).name,
        case_records=records,
        acknowledgements=acknowledgements,
        redactor=redactor,
        generated_at=now or utcnow(),
    )
    return Prepared(cases, data, redactor)


def record_request_viewed(request: SubjectAccessRequest, prepared: Prepared, *, by: User) -> None:
    """The request page showed what is held, redacted (a read of case content).

    Guard: the data protection officer. Side effects: sar.viewed with the number of
    cases. The caller commits.
    """
    _require_dpo(by)
    audit.record_about(
        AuditAction.SAR_VIEWED,
        request,
        actor=by,
        details={"request_id": request.id, "cases": len(prepared.cases)},
    )


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content: bytes
    sha256: str


def produce_export(
    request: SubjectAccessRequest, *, by: User, now: datetime | None = None
) -> ExportFile:
    """Build the ZIP (PDF, JSON, redaction log, README) and record that it was produced.

    Guard: the data protection officer; the request is not closed without a release
    (nothing is to be sent); the PDF library can load (PdfUnavailable otherwise, before
    anything is recorded). Allowed after release too (a copy again).
    Side effects: a subject_access_exports row with the ZIP's SHA-256; sar.exported (a
    read) with the request id and the numbers of cases and redactions. Flushes.
    """
    _require_dpo(by)
    if request.closed_without_release:
        raise NotAllowed("This request was closed without a release: nothing is to be exported")
    check_available()
    now = now or utcnow()
    prepared = prepare_subject_access(request, now=now)
    pdf = render_pdf("privacy/pdf/subject_access.html", export=prepared.data)
    content = exports.subject_access_zip(pdf=pdf, data=prepared.data, redactor=prepared.redactor)
    digest = hashlib.sha256(content).hexdigest()
    db.session.add(
        SubjectAccessExport(
            request=request,
            exported_by=by,
            exported_at=now,
            sha256=digest,
            size_bytes=len(content),
            cases=len(prepared.cases),
            redactions=prepared.redactor.count,
        )
    )
    db.session.flush()
    audit.record_about(
        AuditAction.SAR_EXPORTED,
        request,
        actor=by,
        details={
            "request_id": request.id,
            "cases": len(prepared.cases),
            "redactions": prepared.redactor.count,
        },
    )
    filename = f"subject-access-{request.id}-{now:%Y%m%d}.zip"
    return ExportFile(filename, content, digest)


# --- the hearing pack -------------------------------------------------------------------


def prepare_hearing_pack(case: Case, *, now: datetime | None = None) -> dict[str, Any]:
    """A case's hearing pack as plain data, redacted (third parties and the case's manual
    redactions); the subject's name and the staff acting in role are kept."""
    redactor = Redactor(
        case.people,
        _phrases(case_redactions([case.id])),
        keep=exports.kept_names([case], case.subject),
    )
    record = exports.case_record(case, redactor, subject_read_receipts(case))
    return exports.hearing_pack_data(
        case,
        trust_name=db.session.get_one(Trust, case.trust_id).name,
        record=record,
        redactor=redactor,
        generated_at=now or utcnow(),
    )


def produce_hearing_pack(case: Case, *, by: User, now: datetime | None = None) -> ExportFile:
    """The case's hearing pack as a PDF, and the record that it was downloaded.

    Guard: the user may prepare the case's hearing pack; the PDF library can load.
    Side effects: hearing_pack.downloaded (a read, filed under the case) with the number
    of redactions. The caller commits.
    """
    if not can_prepare_hearing_pack(by, case):
        raise NotAllowed("You cannot prepare this case's hearing pack")
    check_available()
    now = now or utcnow()
    data = prepare_hearing_pack(case, now=now)
    pdf = render_pdf("privacy/pdf/hearing_pack.html", pack=data)
    audit.record_for_case(
        AuditAction.HEARING_PACK_DOWNLOADED,
        case,
        actor=by,
        details={"redactions": data["redactions"]["count"]},
    )
    return ExportFile(f"hearing-pack-{case.reference}.pdf", pdf, hashlib.sha256(pdf).hexdigest())
