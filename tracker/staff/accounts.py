"""Accounts from the staff register: the trust administrator gives the people on it an
account in bulk, with their work e-mail, for signing in through the trust's identity
provider (tracker/auth/oidc.py). The accounts have no password and the member-of-staff
role at the person's school (raise a concern, acknowledge the policy, ask consent): the
provider proves who they are, and other roles are granted as before."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_, select

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.auth.models import User
from tracker.auth.passwords import NO_PASSWORD
from tracker.auth.roles import Role
from tracker.auth.services import grant_role, looks_like_email, normalise_email
from tracker.extensions import db
from tracker.staff.models import StaffMember


def without_accounts(trust_id: int, today: date) -> list[StaffMember]:
    """People on the register with a work e-mail and no account, who have not left."""
    return list(
        db.session.scalars(
            select(StaffMember)
            .where(
                StaffMember.trust_id == trust_id,
                StaffMember.user_id.is_(None),
                StaffMember.work_email.is_not(None),
                or_(StaffMember.left_on.is_(None), StaffMember.left_on >= today),
            )
            .order_by(StaffMember.full_name, StaffMember.id)
        )
    )


@dataclass
class Given:
    created: int = 0
    linked: int = 0  # an account with their work e-mail already existed: now theirs
    skipped: list[tuple[StaffMember, str]] = field(default_factory=list)


def give_accounts(members: list[StaffMember], *, by: User) -> Given:
    """Give each member of staff an account (or link the one with their work e-mail).

    Guard: each is in the administrator's trust, has no account yet and has a valid work
    e-mail not used by an account in another trust or linked to someone else; the others
    are skipped, with why. Each account made or linked holds the member-of-staff role at
    the person's school. Side effects: user.created for each account made (no details),
    role.granted for each staff role given, and one staff.accounts.given event with the
    counts. Flushes; the caller commits.
    """
    result = Given()
    emails = {normalise_email(m.work_email or "") for m in members}
    existing = {
        user.email: user
        for user in db.session.scalars(select(User).where(User.email.in_(sorted(emails))))
    }
    linked_users = set(
        db.session.scalars(select(StaffMember.user_id).where(StaffMember.user_id.is_not(None)))
    )
    for member in members:
        email = normalise_email(member.work_email or "")
        if member.trust_id != by.trust_id or member.user_id is not None:
            result.skipped.append((member, "already has an account"))
            continue
        if not looks_like_email(email):
            result.skipped.append((member, "has no valid work e-mail"))
            continue
        user = existing.get(email)
        if user is not None:
            if user.trust_id != member.trust_id or user.id in linked_users:
                result.skipped.append((member, "their work e-mail is another person's account"))
                continue
            member.user_id = user.id
            linked_users.add(user.id)
            give_staff_role(user, member, by=by)
            result.linked += 1
            continue
        user = User(
            trust_id=member.trust_id,
            email=email,
            display_name=member.full_name,
            password_hash=NO_PASSWORD,
        )
        audit.record_added(AuditAction.USER_CREATED, user, actor=by)
        member.user = user
        existing[email] = user
        linked_users.add(user.id)
        give_staff_role(user, member, by=by)
        result.created += 1
    db.session.flush()
    audit.record(
        AuditAction.STAFF_ACCOUNTS_GIVEN,
        actor=by,
        trust_id=by.trust_id,
        details={
            "created": result.created,
            "linked": result.linked,
            "skipped": len(result.skipped),
        },
    )
    return result


def give_staff_role(user: User, member: StaffMember, *, by: User | None = None) -> None:
    """The member-of-staff role at the person's school, unless they already hold it.
    Flushes; the caller commits."""
    db.session.flush()
    held = any(
        grant.role == Role.STAFF and grant.school_id == member.school_id for grant in user.grants
    )
    if not held:
        grant_role(user, Role.STAFF, school=member.school, granted_by=by)
