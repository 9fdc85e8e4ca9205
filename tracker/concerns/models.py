"""The receipt of a concern a member of staff raised, and the draft of one being written."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.cases.models import Case
from tracker.db import UTCDateTime, utcnow
from tracker.extensions import Model


class StaffConcern(Model):
    """A concern raised through the staff form: what its reporter may know of it.

    The case holds the content; this row holds the reference and when it was received,
    so that the reporter's receipt outlives the case (disposal deletes the case and sets
    `case_id` to NULL: the receipt then reads "closed").
    """

    __tablename__ = "staff_concerns"
    __table_args__ = (
        Index("ix_staff_concerns_raised_by_id_received_at", "raised_by_id", "received_at"),
    )
    audit_type: ClassVar[str] = "staff_concern"

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), unique=True
    )
    reference: Mapped[str] = mapped_column(String(32))
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    about_self: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case | None] = relationship()
    raised_by: Mapped[User] = relationship()


class ConcernDraft(Model):
    """What a member of staff has typed into the concern form and not yet sent: kept on
    every save, so that a failed upload or a lost session loses nothing. Deleted when the
    concern is sent, when they discard it, and by `flask retention run` once stale."""

    __tablename__ = "concern_drafts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
