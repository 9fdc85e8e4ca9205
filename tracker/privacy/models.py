"""Subject access requests, the phrases a reviewer redacts, and each export produced."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.cases.models import Case
from tracker.db import LabelledEnum, UTCDateTime, utcnow
from tracker.extensions import Model
from tracker.privacy.deadlines import ExtensionReason
from tracker.staff.models import StaffMember


class RequestStatus(LabelledEnum):
    OPEN = "open"
    RELEASED = "released", "Released to the person"  # the response has been sent to the person
    CLOSED = (
        "closed",
        "Closed without a release",
    )  # ended without a release (withdrawn, for example)


class ClosureReason(LabelledEnum):
    """Why a request ended without a release. The values are stored and audited."""

    WITHDRAWN = "withdrawn", "The person withdrew the request"
    IDENTITY_NOT_CONFIRMED = (
        "identity_not_confirmed",
        "The person's identity could not be confirmed",
    )
    # Article 12(5): the person must be told why, and of their right to complain to the ICO.
    REFUSED = "refused", "Refused as manifestly unfounded or excessive (Article 12(5))"
    OTHER = "other", "Another reason"

    @property
    def needs_note(self) -> bool:
        """A refusal is explained to the person and the ICO; "other" says what it was."""
        return self in {ClosureReason.REFUSED, ClosureReason.OTHER}


class RedactionReason(LabelledEnum):
    """Why a reviewer removed a phrase. The values are stored and listed in the log."""

    THIRD_PARTY_PUPIL = "third_party_pupil", "Identifies a pupil"
    THIRD_PARTY_PARENT = "third_party_parent", "Identifies a parent or carer"
    THIRD_PARTY_WITNESS = "third_party_witness", "Identifies a witness"
    THIRD_PARTY_OTHER = "third_party_other", "Identifies another person"
    LEGAL_PRIVILEGE = "legal_privilege", "Legal professional privilege"
    CRIME_PREVENTION = "crime_prevention", "Prevention or detection of crime"
    SAFEGUARDING_RISK = "safeguarding_risk", "Disclosure would put a child at risk of serious harm"


class SubjectAccessRequest(Model):
    """A member of staff asked for their data (UK GDPR Article 15); due in one month."""

    __tablename__ = "subject_access_requests"
    audit_type: ClassVar[str] = "subject_access_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), index=True)
    staff_member_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    # Set when the deadline is extended (Article 12(3)), with the reason and a note.
    extended_due_on: Mapped[date | None] = mapped_column(Date)
    extension_reason: Mapped[str | None] = mapped_column(String(16))
    extension_note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=RequestStatus.OPEN.value)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Set when the request is closed without a release, with the reason and a note.
    closure_reason: Mapped[str | None] = mapped_column(String(32))
    closure_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    staff_member: Mapped[StaffMember] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    released_by: Mapped[User | None] = relationship(foreign_keys=[released_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    redactions: Mapped[list[ManualRedaction]] = relationship(
        back_populates="request", order_by="ManualRedaction.id"
    )
    exports: Mapped[list[SubjectAccessExport]] = relationship(
        back_populates="request", order_by="SubjectAccessExport.id"
    )

    @property
    def status_enum(self) -> RequestStatus:
        return RequestStatus(self.status)

    @property
    def is_open(self) -> bool:
        return self.status == RequestStatus.OPEN

    @property
    def closed_without_release(self) -> bool:
        return self.status == RequestStatus.CLOSED

    @property
    def effective_due_on(self) -> date:
        return self.extended_due_on or self.due_on

    @property
    def extension_reason_enum(self) -> ExtensionReason | None:
        return ExtensionReason(self.extension_reason) if self.extension_reason else None

    @property
    def closure_reason_enum(self) -> ClosureReason | None:
        return ClosureReason(self.closure_reason) if self.closure_reason else None

    def is_overdue(self, today: date) -> bool:
        return self.is_open and today > self.effective_due_on


class ManualRedaction(Model):
    """A phrase a reviewer removes from free text: for one request's export, or for every
    export of one case (its hearing pack, and any subject access export including it)."""

    __tablename__ = "manual_redactions"
    __table_args__ = (
        CheckConstraint("(request_id IS NULL) <> (case_id IS NULL)", name="request_or_case"),
    )
    audit_type: ClassVar[str] = "manual_redaction"

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("subject_access_requests.id"), index=True
    )
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    phrase: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(32))
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[SubjectAccessRequest | None] = relationship(back_populates="redactions")
    case: Mapped[Case | None] = relationship()
    added_by: Mapped[User] = relationship()

    @property
    def reason_enum(self) -> RedactionReason:
        return RedactionReason(self.reason)


class SubjectAccessExport(Model):
    """One export produced for a request: when, by whom, and the SHA-256 of the ZIP."""

    __tablename__ = "subject_access_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("subject_access_requests.id"), index=True)
    exported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    exported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    cases: Mapped[int] = mapped_column(Integer)
    redactions: Mapped[int] = mapped_column(Integer)

    request: Mapped[SubjectAccessRequest] = relationship(back_populates="exports")
    exported_by: Mapped[User] = relationship()
