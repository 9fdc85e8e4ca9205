"""Adding and changing staff on the register."""

from __future__ import annotations

from sqlalchemy import select

from tracker.auth.models import User
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.orgs.models import School
from tracker.staff.models import StaffMember


def add_staff_member(
    school: School,
    *,
    full_name: str,
    job_title: str,
    employee_number: str,
    user: User | None = None,
) -> StaffMember:
    """Put a member of staff on the register.

    Guard: a name, a job title and an employee number unused in the trust; a linked user
    must be in the same trust. Flushes; the caller commits.
    """
    full_name, job_title, employee_number = (
        full_name.strip(),
        job_title.strip(),
        employee_number.strip(),
    )
    if not full_name:
        raise ValidationFailed("Enter the member of staff's full name", field="full_name")
    if not job_title:
        raise ValidationFailed("Enter their job title", field="job_title")
    if not employee_number:
        raise ValidationFailed("Enter their employee number", field="employee_number")
    clash = db.session.scalar(
        select(StaffMember).where(
            StaffMember.trust_id == school.trust_id,
            StaffMember.employee_number == employee_number,
        )
    )
    if clash is not None:
        raise ValidationFailed(
            "Another member of staff already has this employee number", field="employee_number"
        )
    if user is not None and user.trust_id != school.trust_id:
        raise ValidationFailed("That account is in a different trust", field="user")
    member = StaffMember(
        trust_id=school.trust_id,
        school_id=school.id,
        full_name=full_name,
        job_title=job_title,
        employee_number=employee_number,
        user_id=user.id if user else None,
    )
    db.session.add(member)
    db.session.flush()
    return member
