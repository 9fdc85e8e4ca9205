"""Adding and changing staff on the register."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.auth.models import User
from tracker.auth.services import disable_user
from tracker.clock import today
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.orgs.models import School
from tracker.retention.services import recompute_for_subject
from tracker.staff.models import StaffMember

# A normal retirement date before this is a typing mistake, not a member of staff.
EARLIEST_RETIREMENT_DATE = date(1951, 1, 1)
# How far ahead a normal retirement date may be (a new entrant retires within a career).
RETIREMENT_YEARS_AHEAD = 60

NUMBER_TAKEN = "Another member of staff already has this employee number"


def _cleaned(full_name: str, job_title: str, employee_number: str) -> tuple[str, str, str]:
    """The three text fields without surrounding spaces; refuses any left empty."""
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
    return full_name, job_title, employee_number


def _check_number_unused(trust_id: int, employee_number: str, *, other_than: int | None) -> None:
    query = select(StaffMember.id).where(
        StaffMember.trust_id == trust_id, StaffMember.employee_number == employee_number
    )
    if other_than is not None:
        query = query.where(StaffMember.id != other_than)
    if db.session.scalar(query.limit(1)) is not None:
        raise ValidationFailed(NUMBER_TAKEN, field="employee_number")


def check_retirement_date(value: date | None) -> None:
    if value is None:
        return
    if value < EARLIEST_RETIREMENT_DATE:
        raise ValidationFailed(
            "The normal retirement date must be after 1950", field="normal_retirement_date"
        )
    now = today()
    try:
        latest = now.replace(year=now.year + RETIREMENT_YEARS_AHEAD)
    except ValueError:  # 29 February, sixty years on, is not always a date
        latest = now.replace(year=now.year + RETIREMENT_YEARS_AHEAD, day=28)
    if value > latest:
        raise ValidationFailed(
            f"The normal retirement date must be within {RETIREMENT_YEARS_AHEAD} years from today",
            field="normal_retirement_date",
        )


def check_left_on(value: date | None) -> None:
    if value is not None and value < EARLIEST_RETIREMENT_DATE:
        raise ValidationFailed("The leaving date must be after 1950", field="left_on")


@contextmanager
def _number_kept_unique(trust_id: int, employee_number: str) -> Iterator[None]:
    """Make the changes in the block and flush them; refuse a number taken meanwhile.

    The check before it cannot see a number another request is saving at the same
    moment (on PostgreSQL); the unique constraint can. The block runs in a savepoint so
    that a refusal undoes only its changes and leaves the caller's transaction usable.
    """
    try:
        with db.session.begin_nested():
            yield
    except IntegrityError:
        taken = db.session.scalar(
            select(StaffMember.id).where(
                StaffMember.trust_id == trust_id,
                StaffMember.employee_number == employee_number,
            )
        )
        if taken is not None:
            raise ValidationFailed(NUMBER_TAKEN, field="employee_number") from None
        raise


def add_staff_member(
    school: School,
    *,
    full_name: str,
    job_title: str,
    employee_number: str,
    user: User | None = None,
    normal_retirement_date: date | None = None,
    by: User | None = None,
) -> StaffMember:
    """Put a member of staff on the register.

    Guard: a name, a job title and an employee number unused in the trust; a linked user
    must be in the same trust; a retirement date, if given, after 1950 and within 60
    years. Side effects: records staff.created (`by` acting, or the system; details
    {"user_id"}: the linked account, if any, never the name or number). Flushes; the
    caller commits.
    """
    full_name, job_title, employee_number = _cleaned(full_name, job_title, employee_number)
    _check_number_unused(school.trust_id, employee_number, other_than=None)
    if user is not None and user.trust_id != school.trust_id:
        raise ValidationFailed("That account is in a different trust", field="user")
    check_retirement_date(normal_retirement_date)
    member = StaffMember(
        trust_id=school.trust_id,
        school_id=school.id,
        full_name=full_name,
        job_title=job_title,
        employee_number=employee_number,
        user_id=user.id if user else None,
        normal_retirement_date=normal_retirement_date,
    )
    with _number_kept_unique(school.trust_id, employee_number):
        db.session.add(member)
    # After the savepoint: a refused number has undone the member, so no event either.
    audit.record_about(
        AuditAction.STAFF_CREATED, member, actor=by, details={"user_id": member.user_id}
    )
    return member


def update_staff_member(
    member: StaffMember,
    *,
    school: School,
    full_name: str,
    job_title: str,
    employee_number: str,
    normal_retirement_date: date | None,
    left_on: date | None = None,
    by: User | None = None,
) -> list[str]:
    """Change a member of staff's register entry; returns the names of the changed fields.

    Guard: the same as adding them, and the school must be in their trust (a member of
    staff never moves between trusts); a leaving date after 1950 (it may be ahead: notice
    given). Changes nothing when any check fails. Side effects: when anything changed,
    records staff.updated (`by` acting, or the system; details {"fields"}: the changed
    field names, never the values, plus {"previous_school_id"} on a move, so the school
    they left can find it too); when the retirement or leaving date changed, the
    retention of their closed cases is worked out again (case.retention.set for each
    that changes). Flushes; the caller commits.
    """
    full_name, job_title, employee_number = _cleaned(full_name, job_title, employee_number)
    if school.trust_id != member.trust_id:
        raise ValidationFailed("Choose one of the trust's schools", field="school")
    _check_number_unused(member.trust_id, employee_number, other_than=member.id)
    check_retirement_date(normal_retirement_date)
    check_left_on(left_on)
    wanted = {
        "full_name": full_name,
        "job_title": job_title,
        "employee_number": employee_number,
        "normal_retirement_date": normal_retirement_date,
        "left_on": left_on,
    }
    changed = []
    previous_school_id = member.school_id
    with _number_kept_unique(member.trust_id, employee_number):
        if member.school_id != school.id:
            # The relationship, not the column, so that member.school is right at once.
            member.school = school
            changed.append("school")
        for name, value in wanted.items():
            if getattr(member, name) != value:
                setattr(member, name, value)
                changed.append(name)
    if changed:
        details: dict[str, int | list[str]] = {"fields": changed}
        if "school" in changed:
            details["previous_school_id"] = previous_school_id
        audit.record_about(AuditAction.STAFF_UPDATED, member, actor=by, details=details)
    if {"normal_retirement_date", "left_on"} & set(changed):
        recompute_for_subject(member, by=by)
    return changed


def leavers_still_signing_in(on: date) -> list[StaffMember]:
    """Members of staff whose last day of employment is before `on` and whose account is
    still active."""
    return list(
        db.session.scalars(
            select(StaffMember)
            .join(User, User.id == StaffMember.user_id)
            .where(StaffMember.left_on < on, User.disabled_at.is_(None))
            .order_by(StaffMember.id)
        )
    )


def disable_leavers(on: date) -> int:
    """Disable the account of everyone who has left by `on` (their last day is past),
    ending their sessions; returns how many.

    Side effects: user.disabled for each (the system acting) and auth.session.revoked for
    each session ended (disable_user). Flushes; the caller commits.
    """
    leavers = leavers_still_signing_in(on)
    for member in leavers:
        if member.user is not None:
            disable_user(member.user, by=None)
    return len(leavers)
