"""A pattern review on a case, and a link between two cases."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.db import LabelledEnum, UTCDateTime, utcnow
from tracker.extensions import Model


class PatternReview(Model):
    """The safeguarding lead's review of a pattern of concerns about the case's subject:
    do the concerns, taken together, now meet the harm threshold, and is the case
    escalated to an allegation, with why. One per flag (a case is flagged once)."""

    __tablename__ = "pattern_reviews"
    audit_type: ClassVar[str] = "pattern_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    meets_threshold: Mapped[str] = mapped_column(String(8))  # "yes", "no"
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    rationale: Mapped[str] = mapped_column(Text)
    reviewed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviewed_by: Mapped[User] = relationship()


class LinkKind(LabelledEnum):
    SAME_INCIDENT = "same_incident", "The same incident (several members of staff)"
    SAME_PERSON = "same_person", "The same person"
    OTHER = "other", "Related in another way"


class CaseLink(Model):
    """Two cases linked, stored once with the lower id first; shown on both."""

    __tablename__ = "case_links"
    __table_args__ = (
        UniqueConstraint("case_id", "linked_case_id"),
        CheckConstraint("case_id < linked_case_id", name="ordered"),
    )
    audit_type: ClassVar[str] = "case_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    linked_case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(24))
    linked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    linked_by: Mapped[User] = relationship()

    def other_than(self, case_id: int) -> int:
        return self.linked_case_id if self.case_id == case_id else self.case_id
