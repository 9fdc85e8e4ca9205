"""Trust and school set-up, and the trust's name for page headers."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import func, select

from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.orgs.models import School, Trust

SERVICE_NAME = "Safeguarding case tracker"


def create_trust(*, name: str, code: str) -> Trust:
    """Create a trust. Guard: a name and an unused code of 2 to 12 letters. Flushes."""
    code = code.strip().upper()
    if not name.strip():
        raise ValidationFailed("Enter the trust's name", field="name")
    if not (2 <= len(code) <= 12 and code.isalnum()):
        raise ValidationFailed("The trust code must be 2 to 12 letters or digits", field="code")
    if db.session.scalar(select(Trust).where(Trust.code == code)) is not None:
        raise ValidationFailed(f"A trust with code {code} already exists", field="code")
    trust = Trust(name=name.strip(), code=code)
    db.session.add(trust)
    db.session.flush()
    return trust


def add_school(trust: Trust, *, name: str, code: str) -> School:
    """Add a school to a trust. Guard: a name and a code unused in the trust. Flushes."""
    code = code.strip().upper()
    if not name.strip():
        raise ValidationFailed("Enter the school's name", field="name")
    if not (2 <= len(code) <= 12 and code.isalnum()):
        raise ValidationFailed("The school code must be 2 to 12 letters or digits", field="code")
    clash = db.session.scalar(
        select(School).where(School.trust_id == trust.id, School.code == code)
    )
    if clash is not None:
        raise ValidationFailed(f"{trust.name} already has a school with code {code}", field="code")
    school = School(trust_id=trust.id, name=name.strip(), code=code)
    db.session.add(school)
    db.session.flush()
    return school


def find_trust(code: str | None = None) -> Trust | None:
    """The trust with this code, or the only trust when no code is given."""
    if code:
        return db.session.scalar(select(Trust).where(Trust.code == code.strip().upper()))
    trusts = db.session.scalars(select(Trust).limit(2)).all()
    return trusts[0] if len(trusts) == 1 else None


def find_school(trust: Trust, code: str) -> School | None:
    return db.session.scalar(
        select(School).where(School.trust_id == trust.id, School.code == code.strip().upper())
    )


def current_trust_name() -> str | None:
    """The name to show in the header: the signed-in user's trust, or the only trust."""
    if current_user and current_user.is_authenticated:
        return current_user.trust.name
    trust = find_trust()
    return trust.name if trust else None


def count_schools(trust: Trust) -> int:
    return db.session.scalar(select(func.count(School.id)).where(School.trust_id == trust.id)) or 0


def set_lado_arrangements(school: School, *, local_authority: str, lado_working_days: int) -> None:
    """Record the school's local authority and its LADO referral deadline in working days.

    Guard: 1 to 10 working days (KCSIE expects referral within one working day; some
    authorities allow more). Flushes; the caller commits.
    """
    if not 1 <= lado_working_days <= 10:
        raise ValidationFailed(
            "The LADO deadline must be between 1 and 10 working days", field="lado_working_days"
        )
    school.local_authority = local_authority.strip()[:120]
    school.lado_working_days = lado_working_days
    db.session.flush()
