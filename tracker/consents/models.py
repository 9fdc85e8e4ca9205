"""PictureConsent: one request for consent to post pictures of a school event."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.db import LabelledEnum, UTCDateTime, utcnow
from tracker.extensions import Model
from tracker.orgs.models import School
from tracker.staff.models import StaffMember


class ConsentStatus(LabelledEnum):
    ASKED = "asked", "Waiting for a decision"
    GRANTED = "granted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn", "Withdrawn by the person who asked"


class PictureConsent(Model):
    """Consent asked under clause 3.5 ("should not post pictures of ... school events"
    without the CEO's or headteacher's consent), and the answer.

    Routed to the headteacher of the asker's school; to the CEO when the asker is that
    headteacher, when the school has no headteacher (the trust's central team), or when
    the headteacher refers it (`referred_at`). The asker is a StaffMember, so that a case
    about them finds their consents around the date of the conduct.
    """

    __tablename__ = "picture_consents"
    __table_args__ = (
        Index("ix_picture_consents_school_id_status", "school_id", "status"),
        Index("ix_picture_consents_staff_member_id_event_on", "staff_member_id", "event_on"),
    )
    audit_type: ClassVar[str] = "picture_consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    staff_member_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"))
    asked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What is asked: the event, its date, what will be posted, where, and who will see it.
    event: Mapped[str] = mapped_column(String(200))
    event_on: Mapped[date] = mapped_column(Date)
    content: Mapped[str] = mapped_column(Text)
    platform: Mapped[str] = mapped_column(String(32))
    platform_detail: Mapped[str] = mapped_column(String(200), default="")
    audience: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=ConsentStatus.ASKED.value)
    # The headteacher passed it to the CEO (they may be conflicted, or unsure).
    referred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    conditions: Mapped[str] = mapped_column(Text, default="")
    expires_on: Mapped[date | None] = mapped_column(Date)
    # Why it was refused, in the decider's words, shown to the asker.
    reason: Mapped[str] = mapped_column(Text, default="")

    school: Mapped[School] = relationship()
    staff_member: Mapped[StaffMember] = relationship()
    asked_by: Mapped[User] = relationship(foreign_keys=[asked_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    referred_by: Mapped[User | None] = relationship(foreign_keys=[referred_by_id])

    @property
    def status_enum(self) -> ConsentStatus:
        return ConsentStatus(self.status)

    def in_force_on(self, day: date) -> bool:
        """Granted, and not expired on that day."""
        return self.status == ConsentStatus.GRANTED and (
            self.expires_on is None or day <= self.expires_on
        )
