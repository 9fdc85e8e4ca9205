"""StaffMember: a member of staff at one of the trust's schools."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.db import UTCDateTime, utcnow
from tracker.extensions import Model
from tracker.orgs.models import School


class StaffMember(Model):
    __tablename__ = "staff_members"
    __table_args__ = (UniqueConstraint("trust_id", "employee_number"),)
    audit_type: ClassVar[str] = "staff_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str] = mapped_column(String(200))
    employee_number: Mapped[str] = mapped_column(String(40))
    # Set when the member of staff also signs in: a case's subject never sees the case.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    # Drives retention of allegation records (DESIGN.md section 6).
    normal_retirement_date: Mapped[date | None] = mapped_column(Date)
    # Their last day in the trust's employment, once known: a low-level concern is kept
    # until then and reviewed (DESIGN.md section 6).
    left_on: Mapped[date | None] = mapped_column(Date)
    # From the MIS or the single central record (the CSV import), for sign-in and contact.
    work_email: Mapped[str | None] = mapped_column(String(254))
    started_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    school: Mapped[School] = relationship(back_populates="staff")
    user: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<StaffMember {self.id}>"
