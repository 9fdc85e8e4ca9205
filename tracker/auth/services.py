"""Accounts and sign-in: creating users, granting roles, disabling, authenticating."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction, Outcome
from tracker.auth import passwords
from tracker.auth.models import RoleGrant, User
from tracker.auth.roles import ROLE_SCOPES, SINGLE_HOLDER_ROLES, Role, Scope
from tracker.auth.sessions import EndReason, end_all_sessions
from tracker.db import utcnow
from tracker.errors import SignInFailed, ValidationFailed
from tracker.extensions import db
from tracker.orgs.models import School, Trust


def normalise_email(value: str) -> str:
    return value.strip().lower()


def looks_like_email(value: str) -> bool:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    trust: Trust, *, email: str, display_name: str, password: str, by: User | None = None
) -> User:
    """Create an account that can sign in.

    Guard: a valid, unused e-mail address, a name, and a password of 12 to 128
    characters. Side effects: adds the user and records user.created (`by` acting, or
    the system from the command line; no details: never the address or the name).
    Flushes; the caller commits.
    """
    email = normalise_email(email)
    if not looks_like_email(email):
        raise ValidationFailed(
            "Enter an e-mail address in the correct format, like name@example.org", field="email"
        )
    if find_user_by_email(email) is not None:
        raise ValidationFailed("An account with this e-mail address already exists", field="email")
    display_name = display_name.strip()
    if not display_name:
        raise ValidationFailed("Enter the person's name", field="display_name")
    problem = passwords.password_problem(password)
    if problem:
        raise ValidationFailed(problem, field="password")
    user = User(
        trust_id=trust.id,
        email=email,
        display_name=display_name,
        password_hash=passwords.hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        AuditAction.USER_CREATED,
        actor=by,
        object_type="user",
        object_id=user.id,
        trust_id=trust.id,
    )
    return user


def grant_role(
    user: User, role: Role, *, school: School | None = None, granted_by: User | None = None
) -> RoleGrant:
    """Give a user a role at a school or across the trust.

    Guard: the scope must suit the role (a headteacher at one school, a CEO across the
    trust), the school must be in the user's trust, the grant must not already exist,
    and a headteacher, CEO or chair post must be vacant. Side effects: adds the grant and
    records role.granted about the user (`granted_by` acting, or the system; details
    {"role", "school_id", "grant_id"}). Flushes; the caller commits.
    """
    scope = ROLE_SCOPES[role]
    if scope is Scope.SCHOOL and school is None:
        raise ValidationFailed(f"A {role.label.lower()} must be given a school", field="school")
    if scope is Scope.TRUST and school is not None:
        raise ValidationFailed(
            f"A {role.label.lower()} works across the whole trust, not at one school",
            field="school",
        )
    if school is not None and school.trust_id != user.trust_id:
        raise ValidationFailed("That school is not in this person's trust", field="school")

    school_id = school.id if school is not None else None
    existing = db.session.scalar(
        select(RoleGrant).where(
            RoleGrant.user_id == user.id,
            RoleGrant.role == role.value,
            RoleGrant.school_id.is_(None)
            if school_id is None
            else RoleGrant.school_id == school_id,
        )
    )
    if existing is not None:
        raise ValidationFailed(f"{user.display_name} already has this role there", field="role")
    if role in SINGLE_HOLDER_ROLES:
        holder = db.session.scalar(
            select(RoleGrant).where(
                RoleGrant.trust_id == user.trust_id,
                RoleGrant.role == role.value,
                RoleGrant.school_id.is_(None)
                if school_id is None
                else RoleGrant.school_id == school_id,
            )
        )
        if holder is not None:
            raise ValidationFailed(
                f"{holder.user.display_name} is already {role.label.lower()} "
                f"({holder.scope_label}); remove that role first",
                field="role",
            )

    grant = RoleGrant(
        user_id=user.id,
        trust_id=user.trust_id,
        role=role.value,
        school_id=school_id,
        granted_by_id=granted_by.id if granted_by else None,
    )
    db.session.add(grant)
    db.session.flush()
    # Keep the already-loaded collection in step with the row just added.
    if grant not in user.grants:
        user.grants.append(grant)
    audit.record(
        AuditAction.ROLE_GRANTED,
        actor=granted_by,
        object_type="user",
        object_id=user.id,
        trust_id=user.trust_id,
        school_id=school_id,
        details={"role": role.value, "school_id": school_id, "grant_id": grant.id},
    )
    return grant


def disable_user(user: User, *, by: User | None = None) -> int:
    """Stop a user signing in and end all their sessions; returns how many ended.

    Guard: none (disabling twice is harmless). Side effects: records user.disabled
    (`by` acting, or the system; details {"sessions_ended"}) when the account was
    active, and one auth.session.revoked per session ended (end_all_sessions), so each
    session's end can be found by its id. Flushes; the caller commits.
    """
    newly_disabled = user.disabled_at is None
    if newly_disabled:
        user.disabled_at = utcnow()
    ended = end_all_sessions(user, EndReason.DISABLED, by=by)
    if newly_disabled:
        audit.record(
            AuditAction.USER_DISABLED,
            actor=by,
            object_type="user",
            object_id=user.id,
            trust_id=user.trust_id,
            details={"sessions_ended": ended},
        )
    db.session.flush()
    return ended


def authenticate(email: str, password: str, *, ip_address: str | None) -> User:
    """Check an e-mail address and password, recording the attempt either way.

    Raises SignInFailed with one message for every failure, so nobody can learn which
    accounts exist. Side effects: records auth.login.succeeded or auth.login.failed;
    upgrades the stored hash when the Argon2 parameters have changed. Flushes; the caller
    commits (on failure too, so that the attempt is kept).
    """
    typed = normalise_email(email)
    user = find_user_by_email(typed) if typed else None
    password_ok = passwords.verify_password(user.password_hash if user else None, password)

    if user is None:
        reason = "unknown_account"
    elif not password_ok:
        reason = "wrong_password"
    elif not user.is_active:
        reason = "disabled"
    else:
        reason = "ok"

    if reason != "ok" or user is None:
        # The account (when there is one) and why; never what was typed.
        audit.record(
            AuditAction.LOGIN_FAILED,
            actor=None,
            object_type="user" if user else None,
            object_id=user.id if user else None,
            trust_id=user.trust_id if user else None,
            outcome=Outcome.DENIED,
            details={"reason": reason},
        )
        raise SignInFailed("Enter a correct e-mail address and password")
    audit.record(AuditAction.LOGIN_SUCCEEDED, actor=user, object_type="user", object_id=user.id)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


def count_users(trust: Trust) -> int:
    return db.session.scalar(select(func.count(User.id)).where(User.trust_id == trust.id)) or 0
