"""Accounts and sign-in: creating users, granting roles, disabling, authenticating."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction, Outcome
from tracker.auth import mfa, passwords, throttle
from tracker.auth.models import RoleGrant, User, UserSession
from tracker.auth.roles import ROLE_SCOPES, SINGLE_HOLDER_ROLES, Role, Scope
from tracker.auth.sessions import EndReason, end_all_sessions, end_other_sessions
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
    audit.record_added(AuditAction.USER_CREATED, user, actor=by)
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
    # The same role in the same place: at this school, or across the trust.
    same_post = (
        RoleGrant.role == role.value,
        RoleGrant.school_id.is_(None) if school_id is None else RoleGrant.school_id == school_id,
    )
    existing = db.session.scalar(select(RoleGrant).where(RoleGrant.user_id == user.id, *same_post))
    if existing is not None:
        raise ValidationFailed(f"{user.display_name} already has this role there", field="role")
    if role in SINGLE_HOLDER_ROLES:
        holder = db.session.scalar(
            select(RoleGrant).where(RoleGrant.trust_id == user.trust_id, *same_post)
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
    audit.record_about(
        AuditAction.ROLE_GRANTED,
        user,
        actor=granted_by,
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
        audit.record_about(
            AuditAction.USER_DISABLED, user, actor=by, details={"sessions_ended": ended}
        )
    db.session.flush()
    return ended


def set_break_glass(user: User, on: bool, *, by: User | None = None) -> None:
    """Whether the account may use its password when the trust has switched passwords
    off. Side effects: records user.break_glass.changed (details {"on"}) when it changes.
    Flushes; the caller commits."""
    if user.break_glass != on:
        user.break_glass = on
        audit.record_about(AuditAction.USER_BREAK_GLASS_CHANGED, user, actor=by, details={"on": on})
    db.session.flush()


class SignInThrottled(SignInFailed):
    """Too many failed attempts: the message says how long to wait, and nothing else."""


def _refuse_sign_in(
    user: User | None, reason: str, keys: throttle.Keys, *, count: bool = True
) -> None:
    """Record a refused attempt (and count it, unless it was refused for waiting)."""
    if count:
        throttle.record_failure(keys)
    record_login_failed(reason, user=user)


def record_login_failed(
    reason: str, *, user: User | None = None, trust_id: int | None = None, **more: str
) -> None:
    """auth.login.failed: the account (when there is one), its trust, and why (details
    {"reason"} and `more`, such as the method); never what was typed. Flushes; the
    caller commits."""
    audit.record(
        AuditAction.LOGIN_FAILED,
        actor=None,
        object_type="user" if user else None,
        object_id=user.id if user else None,
        trust_id=user.trust_id if user else trust_id,
        outcome=Outcome.DENIED,
        details={"reason": reason, **more},
    )


def _check_not_throttled(user: User | None, keys: throttle.Keys) -> None:
    until = throttle.locked_until(keys)
    if until is not None:
        _refuse_sign_in(user, "throttled", keys, count=False)
        raise SignInThrottled(throttle.wait_message(until))


def authenticate(email: str, password: str, *, ip_address: str | None) -> User:
    """Check an e-mail address and password: the first of the two steps of signing in.

    Guard: neither the e-mail address typed nor the client address is waiting out a
    throttle (checked before the password, so a locked account cannot be guessed at);
    the account exists, is active and the password is right. Raises SignInThrottled
    (with how long to wait) or SignInFailed, with one message for every other failure,
    so nobody can learn which accounts exist. Side effects: records auth.login.failed
    (details {"reason"}) and counts the failure against both throttles, or records
    auth.login.password_accepted; upgrades the stored hash when the Argon2 parameters
    have changed. Signing in is not finished: the second factor comes next. Flushes; the
    caller commits (on failure too, so that the attempt is kept).
    """
    typed = normalise_email(email)
    keys = throttle.keys_for(typed or None, ip_address)
    user = find_user_by_email(typed) if typed else None
    _check_not_throttled(user, keys)
    password_ok = passwords.verify_password(user.password_hash if user else None, password)

    if user is None:
        reason = "unknown_account"
    elif not password_ok:
        reason = "wrong_password"
    elif not user.is_active:
        reason = "disabled"
    elif not user.trust.passwords_allowed and not user.break_glass:
        reason = "passwords_off"  # the trust signs in through its identity provider
    else:
        reason = "ok"

    if reason != "ok" or user is None:
        _refuse_sign_in(user, reason, keys)
        raise SignInFailed("Enter a correct e-mail address and password")
    audit.record_about(AuditAction.LOGIN_PASSWORD_ACCEPTED, user, actor=user)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


WRONG_CODE = "Enter the 6-digit code your authenticator app shows now"
USED_CODE = (
    "That code has already been used. Wait for your authenticator app to show a new code, "
    "then enter it"
)
WRONG_RECOVERY_CODE = "Enter one of your recovery codes that has not been used yet"


def _second_factor_accepted(user: User, keys: throttle.Keys, method: str) -> None:
    throttle.clear_account(keys)
    audit.record_about(
        AuditAction.LOGIN_SUCCEEDED, user, actor=user, details={"second_factor": method}
    )


def _second_factor_guard(user: User, ip_address: str | None) -> throttle.Keys:
    keys = throttle.keys_for(user.email, ip_address)
    _check_not_throttled(user, keys)
    if not user.is_active:
        _refuse_sign_in(user, "disabled", keys)
        raise SignInFailed("Enter a correct e-mail address and password")
    return keys


def verify_second_factor(user: User, code: str, *, ip_address: str | None) -> None:
    """The second step of signing in: a code from the user's authenticator app.

    Guard: not throttled, the account is still active, and the code is right for a time
    step near now that has not been used. Raises SignInThrottled or SignInFailed (saying
    whether the code was wrong or already used: the person has already given the right
    password). Side effects: uses up the time step and clears the account's failures,
    recording auth.login.succeeded (details {"second_factor": "totp"}); or counts the
    failure and records auth.login.failed (reason wrong_code or reused_code). Flushes;
    the caller commits either way.
    """
    keys = _second_factor_guard(user, ip_address)
    if mfa.verify_totp(user, code):
        _second_factor_accepted(user, keys, "totp")
        return
    reused = mfa.code_was_used(user, code)
    _refuse_sign_in(user, "reused_code" if reused else "wrong_code", keys)
    raise SignInFailed(USED_CODE if reused else WRONG_CODE, field="code")


def verify_recovery_code(user: User, code: str, *, ip_address: str | None) -> int:
    """The second step of signing in with a recovery code; returns how many are left.

    Guard and side effects as verify_second_factor, with the code spent (recording
    auth.recovery_code.used) and auth.login.succeeded details {"second_factor":
    "recovery_code"}; a wrong one is reason wrong_recovery_code.
    """
    keys = _second_factor_guard(user, ip_address)
    remaining = mfa.use_recovery_code(user, code)
    if remaining is None:
        _refuse_sign_in(user, "wrong_recovery_code", keys)
        raise SignInFailed(WRONG_RECOVERY_CODE, field="code")
    _second_factor_accepted(user, keys, "recovery_code")
    return remaining


def enrol_second_factor(user: User, code: str, *, ip_address: str | None) -> list[str]:
    """The second step of a first sign-in: prove the new authenticator app works.

    Guard as verify_second_factor, against the secret being set up. Returns the ten
    recovery codes, to be shown once. Side effects: the secret becomes the user's second
    factor (auth.mfa.enrolled), then auth.login.succeeded (details {"second_factor":
    "new_totp"}); a wrong code counts and records auth.login.failed (wrong_code).
    """
    keys = _second_factor_guard(user, ip_address)
    enrolled = mfa.confirm_enrolment(user, code)
    if enrolled is None:
        _refuse_sign_in(user, "wrong_code", keys)
        raise SignInFailed(WRONG_CODE, field="code")
    _second_factor_accepted(user, keys, "new_totp")
    return enrolled.recovery_codes


def _check_current_password(user: User, password: str, *, ip_address: str | None) -> None:
    """Re-check the password of a signed-in user before a change to their credentials.

    Counted by the same throttle as signing in, so a borrowed session cannot be used to
    guess the password. Raises SignInThrottled or ValidationFailed (field
    current_password).
    """
    keys = throttle.keys_for(user.email, ip_address)
    until = throttle.locked_until(keys)
    if until is not None:
        raise SignInThrottled(throttle.wait_message(until), field="current_password")
    if not passwords.verify_password(user.password_hash, password):
        _refuse_sign_in(user, "wrong_password", keys)
        raise ValidationFailed("Your current password is not right", field="current_password")


def change_password(
    user: User,
    *,
    current_password: str,
    new_password: str,
    keep: UserSession | None,
    ip_address: str | None,
) -> int:
    """A user changes their own password; returns how many other sessions ended.

    Guard: the current password is right (and not throttled) and the new one meets the
    rules and differs from it. Side effects: stores the new hash, ends every other session
    of the user (auth.session.revoked each) and records auth.password.changed (details
    {"sessions_ended"}); a wrong current password records auth.login.failed and counts
    against the throttle. Flushes; the caller commits (on failure too).
    """
    _check_current_password(user, current_password, ip_address=ip_address)
    problem = passwords.password_problem(new_password)
    if problem:
        raise ValidationFailed(problem, field="new_password")
    if new_password == current_password:
        raise ValidationFailed(
            "Your new password must be different from your current one", field="new_password"
        )
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()
    ended = end_other_sessions(user, keep=keep, reason=EndReason.CREDENTIALS_CHANGED)
    audit.record_about(
        AuditAction.PASSWORD_CHANGED, user, actor=user, details={"sessions_ended": ended}
    )
    db.session.flush()
    return ended


def set_password(user: User, new_password: str, *, by: User | None = None) -> int:
    """Give a user a new password chosen for them (they forgot theirs); returns how many
    of their sessions ended.

    Guard: the new password meets the rules. Side effects: stores its hash, ends every
    session of the user (auth.session.revoked each) and records auth.password.changed
    (`by` acting, or the system from the command line; details {"sessions_ended",
    "reset": true}). The second factor is left as it is: a new password never lets
    anyone past it. Flushes; the caller commits.
    """
    problem = passwords.password_problem(new_password)
    if problem:
        raise ValidationFailed(problem, field="password")
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()
    ended = end_all_sessions(user, EndReason.CREDENTIALS_CHANGED, by=by)
    audit.record_about(
        AuditAction.PASSWORD_CHANGED,
        user,
        actor=by,
        details={"sessions_ended": ended, "reset": True},
    )
    db.session.flush()
    return ended


def replace_second_factor(
    user: User,
    *,
    current_password: str,
    code: str,
    keep: UserSession | None,
    ip_address: str | None,
) -> list[str]:
    """A signed-in user moves to a new authenticator app; returns new recovery codes.

    Guard: the current password is right (and not throttled) and the code proves the new
    app holds the secret being set up (mfa.pending_secret). Side effects: the new secret
    replaces the old (auth.mfa.enrolled, details {"replacing": true}), ten new recovery
    codes replace the old ones, and every other session of the user ends. A wrong code
    records auth.login.failed (wrong_code) and counts against the throttle. Flushes; the
    caller commits (on failure too).
    """
    _check_current_password(user, current_password, ip_address=ip_address)
    keys = throttle.keys_for(user.email, ip_address)
    enrolled = mfa.confirm_enrolment(user, code, replacing=True)
    if enrolled is None:
        _refuse_sign_in(user, "wrong_code", keys)
        raise ValidationFailed(WRONG_CODE, field="code")
    end_other_sessions(user, keep=keep, reason=EndReason.CREDENTIALS_CHANGED)
    return enrolled.recovery_codes


def count_users(trust: Trust) -> int:
    return db.session.scalar(select(func.count(User.id)).where(User.trust_id == trust.id)) or 0
