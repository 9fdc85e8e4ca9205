"""Who decides a case, and who hears an appeal: separation of duties (Acas Code).

The decision goes to the school's headteacher; to the CEO when the headteacher is the
subject, reported the case or investigated it; to the chair of trustees when the CEO is
conflicted too. An appeal is heard by someone not involved before: the CEO, else the
chair.
"""

from __future__ import annotations

from sqlalchemy import select

from tracker.auth.models import RoleGrant, User
from tracker.auth.permissions import is_conflicted_in_decision
from tracker.auth.roles import Role
from tracker.cases.models import Case
from tracker.extensions import db


def holder_of(role: Role, *, trust_id: int, school_id: int | None = None) -> User | None:
    """The active user holding a single-holder role (a school's head, the CEO, the chair)."""
    at = RoleGrant.school_id.is_(None) if school_id is None else RoleGrant.school_id == school_id
    grant = db.session.scalar(
        select(RoleGrant)
        .join(User, User.id == RoleGrant.user_id)
        .where(
            RoleGrant.trust_id == trust_id,
            RoleGrant.role == role.value,
            at,
            User.disabled_at.is_(None),
        )
        .limit(1)
    )
    return grant.user if grant else None


def involved_before_appeal(user: User, case: Case) -> bool:
    """An appeal is heard by someone with no earlier part in the case."""
    decided_by = {decision.decided_by_id for decision in case.decisions}
    return is_conflicted_in_decision(user, case) or user.id in decided_by


def decision_maker_for(case: Case) -> User | None:
    """The first of headteacher, CEO, chair of trustees who is not conflicted."""
    candidates = [
        holder_of(Role.HEADTEACHER, trust_id=case.trust_id, school_id=case.school_id),
        holder_of(Role.CEO, trust_id=case.trust_id),
        holder_of(Role.CHAIR, trust_id=case.trust_id),
    ]
    return next((u for u in candidates if u and not is_conflicted_in_decision(u, case)), None)


def appeal_hearer_for(case: Case) -> User | None:
    """The CEO, or the chair when the CEO was involved; None when both were."""
    candidates = [
        holder_of(Role.CEO, trust_id=case.trust_id),
        holder_of(Role.CHAIR, trust_id=case.trust_id),
    ]
    return next((u for u in candidates if u and not involved_before_appeal(u, case)), None)
