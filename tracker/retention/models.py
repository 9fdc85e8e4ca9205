"""What retention keeps: legal holds on cases, and the tombstone a disposed case leaves."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.db import UTCDateTime, utcnow
from tracker.extensions import Model
from tracker.orgs.models import School

if TYPE_CHECKING:
    from tracker.cases.models import Case


class LegalHold(Model):
    """A hold on a case for legal proceedings or an inquiry: nothing is disposed of while
    it stands. Set and lifted by the DPO or the CEO, each with a reason; lifted holds are
    kept as the case's hold history (and disposed of with the case)."""

    __tablename__ = "legal_holds"
    audit_type: ClassVar[str] = "legal_hold"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lift_reason: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship(back_populates="legal_holds")
    set_by: Mapped[User] = relationship(foreign_keys=[set_by_id])
    lifted_by: Mapped[User | None] = relationship(foreign_keys=[lifted_by_id])

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None


class CaseTombstone(Model):
    """What is left of a disposed case: enough to say that it existed and why it went.

    The case's id is kept (not as a foreign key: the case is gone) so that the audit
    trail, which names cases by id, can still say which case an event was about. No
    subject, no track, no outcome: those would keep the allegation on record.
    """

    __tablename__ = "case_tombstones"

    case_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    reported_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    retention_rule: Mapped[str] = mapped_column(String(40))
    due_on: Mapped[date | None] = mapped_column(Date)
    disposed_on: Mapped[date] = mapped_column(Date)
    disposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None: the scheduled disposal command (the system).
    disposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The case.disposed event that records the disposal.
    audit_seq: Mapped[int | None] = mapped_column(BigInteger)

    school: Mapped[School] = relationship()
    disposed_by: Mapped[User | None] = relationship()
