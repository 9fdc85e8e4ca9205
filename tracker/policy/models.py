"""Policy, PolicyVersion, Clause and the record that a member of staff read a version."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.db import LabelledEnum, UTCDateTime, utcnow
from tracker.extensions import Model
from tracker.staff.models import StaffMember


class VersionStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class ClauseKind(StrEnum):
    RULE = "rule"  # a member of staff can break it; a case can cite it
    INFO = "info"  # context a case never cites

    @property
    def label(self) -> str:
        return {"rule": "Rule", "info": "Information"}[self.value]


class Significance(StrEnum):
    HIGH = "high"  # may meet the harm threshold: think about the LADO
    MEDIUM = "medium"  # professional boundaries with parents
    LOW = "low"  # reputation and conduct

    @property
    def label(self) -> str:
        return self.value.capitalize()


class AcknowledgementMethod(LabelledEnum):
    SIGNED_FORM = "signed_form", "Signed form"
    TRAINING_SESSION = "training_session", "Training session"
    E_LEARNING = "e_learning", "E-learning"
    # Read and acknowledged by the member of staff themselves, signed in.
    ONLINE = "online", "Online, by the member of staff"


# The ways a DSL records that someone read a version; "online" is the member of staff's own.
RECORDED_METHODS: tuple[AcknowledgementMethod, ...] = tuple(
    m for m in AcknowledgementMethod if m is not AcknowledgementMethod.ONLINE
)


class Policy(Model):
    __tablename__ = "policies"
    __table_args__ = (UniqueConstraint("trust_id", "title"),)
    audit_type: ClassVar[str] = "policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), index=True)
    # The policy's stable name across versions, e.g. "Staff Use of Social Media Policy".
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[PolicyVersion]] = relationship(
        back_populates="policy", order_by="PolicyVersion.id"
    )


class PolicyVersion(Model):
    __tablename__ = "policy_versions"
    __table_args__ = (
        UniqueConstraint("policy_id", "version_label"),
        # At most one published version of a policy, whatever the services do.
        Index(
            "uq_policy_versions_one_published",
            "policy_id",
            unique=True,
            sqlite_where=text("status = 'published'"),
            postgresql_where=text("status = 'published'"),
        ),
    )
    audit_type: ClassVar[str] = "policy_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    version_label: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default=VersionStatus.DRAFT.value)
    approved_on: Mapped[date | None] = mapped_column(Date)
    review_due: Mapped[date | None] = mapped_column(Date)
    # From this date the version is the one in force (set when it is published).
    effective_from: Mapped[date | None] = mapped_column(Date)
    full_text: Mapped[str] = mapped_column(Text, default="")
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("policy_versions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    policy: Mapped[Policy] = relationship(back_populates="versions")
    based_on: Mapped[PolicyVersion | None] = relationship(remote_side=[id])
    clauses: Mapped[list[Clause]] = relationship(
        back_populates="version",
        order_by="Clause.position",
        cascade="all, delete-orphan",
    )

    @property
    def status_enum(self) -> VersionStatus:
        return VersionStatus(self.status)

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT

    def review_overdue(self, today: date) -> bool:
        return (
            self.status == VersionStatus.PUBLISHED
            and self.review_due is not None
            and self.review_due < today
        )

    def clause(self, reference: str) -> Clause | None:
        return next((c for c in self.clauses if c.reference == reference), None)


class Clause(Model):
    __tablename__ = "clauses"
    __table_args__ = (UniqueConstraint("version_id", "reference"),)
    audit_type: ClassVar[str] = "clause"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id"), index=True)
    # The policy's own numbering, e.g. 3.4 or 3.2(e): part of the product's contract.
    reference: Mapped[str] = mapped_column(String(20))
    heading: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(8))
    # Only rules carry a safeguarding significance.
    significance: Mapped[str | None] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(default=0)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("clauses.id"))

    version: Mapped[PolicyVersion] = relationship(back_populates="clauses")
    parent: Mapped[Clause | None] = relationship(remote_side=[id])

    @property
    def is_rule(self) -> bool:
        return self.kind == ClauseKind.RULE

    @property
    def kind_enum(self) -> ClauseKind:
        return ClauseKind(self.kind)

    @property
    def significance_enum(self) -> Significance | None:
        return Significance(self.significance) if self.significance else None


class PolicyAcknowledgement(Model):
    """A member of staff read a version of a policy, on a date, in a recorded way."""

    __tablename__ = "policy_acknowledgements"
    __table_args__ = (UniqueConstraint("version_id", "staff_member_id"),)
    audit_type: ClassVar[str] = "policy_acknowledgement"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id"), index=True)
    staff_member_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"), index=True)
    acknowledged_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    version: Mapped[PolicyVersion] = relationship()
    staff_member: Mapped[StaffMember] = relationship()
    recorded_by: Mapped[User | None] = relationship()

    @property
    def method_enum(self) -> AcknowledgementMethod:
        return AcknowledgementMethod(self.method)
