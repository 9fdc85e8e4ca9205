"""Every model, imported in one place so that the mappers and Alembic see the whole schema."""

from tracker.auth.models import RoleGrant, SignInAttempt, User, UserSession
from tracker.orgs.models import School, Trust
from tracker.staff.models import StaffMember

__all__ = [
    "RoleGrant",
    "School",
    "SignInAttempt",
    "StaffMember",
    "Trust",
    "User",
    "UserSession",
]
