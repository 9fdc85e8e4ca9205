"""The second factor: TOTP (RFC 6238) from an authenticator app, and recovery codes.

Every user has one; nobody signs in without it. Secrets are kept encrypted (Fernet under
a key derived from TOTP_KEY), each code is accepted once (the last accepted time step is
stored, and only a later step is accepted), and the ten recovery codes are shown once
and stored as Argon2id hashes, each usable once.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from dataclasses import dataclass

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from markupsafe import Markup
from sqlalchemy import delete, func, select

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.auth import passwords
from tracker.auth.models import RecoveryCode, User
from tracker.auth.sessions import EndReason, end_all_sessions
from tracker.db import utcnow
from tracker.extensions import db

STEP_SECONDS = 30
DIGITS = 6
# Codes from the step before and after now are accepted too, for a phone whose clock is
# a little out; the stored last step still stops any code working twice.
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
# Readable and unambiguous (no 0/o, 1/l/i): two groups of five, about 50 bits.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class SecretUnreadable(RuntimeError):
    """A stored secret does not decrypt under TOTP_KEY or TOTP_OLD_KEYS."""


# --- encryption at rest -------------------------------------------------------------


def _fernet_for(key: str) -> Fernet:
    # HKDF turns the configured key (any length of at least 24 characters) into the
    # 32-byte key Fernet wants, bound to this one purpose.
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"tracker totp secrets v1"
    ).derive(key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _cipher() -> MultiFernet:
    keys = [current_app.config["TOTP_KEY"], *current_app.config.get("TOTP_OLD_KEYS", [])]
    return MultiFernet([_fernet_for(key) for key in keys])


def encrypt_secret(secret: str) -> str:
    return _cipher().encrypt(secret.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _cipher().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable(
            "A second-factor secret does not decrypt: TOTP_KEY has changed without "
            "TOTP_OLD_KEYS naming the key it was encrypted under."
        ) from error


def rotate_secrets() -> int:
    """Re-encrypt every stored secret under the current TOTP_KEY; returns how many.

    Guard: each must decrypt under TOTP_KEY or one of TOTP_OLD_KEYS. Side effects: none
    recorded (the secrets themselves do not change). Flushes; the caller commits.
    """
    cipher = _cipher()
    count = 0
    for user in db.session.scalars(
        select(User).where(User.totp_secret.is_not(None) | User.totp_pending_secret.is_not(None))
    ):
        for column in ("totp_secret", "totp_pending_secret"):
            token = getattr(user, column)
            if token is not None:
                try:
                    setattr(user, column, cipher.rotate(token.encode()).decode())
                except InvalidToken as error:
                    raise SecretUnreadable(
                        f"The second-factor secret of account {user.id} does not decrypt "
                        "under TOTP_KEY or TOTP_OLD_KEYS."
                    ) from error
                count += 1
    db.session.flush()
    return count


# --- codes --------------------------------------------------------------------------


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def current_step(now: float | None = None) -> int:
    return int((utcnow().timestamp() if now is None else now) // STEP_SECONDS)


def code_for(secret: str, step: int) -> str:
    """The code an authenticator app shows during a time step (tests use this too)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def normalise_code(typed: str) -> str:
    """Codes are often typed or pasted with spaces or a hyphen in the middle."""
    return "".join(ch for ch in typed if not ch.isspace() and ch != "-").lower()


def looks_like_totp_code(typed: str) -> bool:
    code = normalise_code(typed)
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def _matching_step(secret: str, code: str, *, after: int | None) -> int | None:
    """The time step near now whose code this is, if later than `after`."""
    now = current_step()
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(code_for(secret, step), code):
            return step
    return None


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=user.email, issuer_name=f"{user.trust.name} safeguarding"
    )


def qr_svg(uri: str) -> Markup:
    """The enrolment QR code as inline SVG: drawn here, so no script or image service."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, dark="#0b0c0c", light="#ffffff", svgclass="app-qr", lineclass=None
    )
    # Only path data and our own attributes: segno draws the modules, no text is copied in.
    return Markup(svg)  # noqa: S704 # nosec B704


def format_secret(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


# --- enrolment ----------------------------------------------------------------------


def pending_secret(user: User) -> str:
    """The secret being set up for this user, made (and stored encrypted) if there is none.

    Kept until it is proved by a code, so reloading the page does not change the QR code
    a person has just scanned. Flushes; the caller commits.
    """
    if user.totp_pending_secret is None:
        user.totp_pending_secret = encrypt_secret(new_secret())
        db.session.flush()
    return decrypt_secret(user.totp_pending_secret)


@dataclass(frozen=True)
class Enrolled:
    recovery_codes: list[str]


def confirm_enrolment(user: User, typed_code: str, *, replacing: bool = False) -> Enrolled | None:
    """Make the pending secret the user's second factor, if the code proves they hold it.

    Guard: there is a pending secret and the code is its code for a step near now.
    Returns None when the code is wrong (the caller counts the failure). Side effects:
    the pending secret becomes the secret, the step is used, ten new recovery codes
    replace any old ones, and auth.mfa.enrolled is recorded (details {"replacing"}).
    Replacing a second factor ends the user's other sessions (the caller ends them, as it
    knows which session is the current one). Flushes.
    """
    if user.totp_pending_secret is None:
        return None
    secret = decrypt_secret(user.totp_pending_secret)
    # A new secret: the steps used with an old one say nothing about its codes.
    step = _matching_step(secret, normalise_code(typed_code), after=None)
    if step is None:
        return None
    user.totp_secret = user.totp_pending_secret
    user.totp_pending_secret = None
    user.totp_enrolled_at = utcnow()
    user.totp_last_step = step
    codes = _issue_recovery_codes(user)
    audit.record_about(AuditAction.MFA_ENROLLED, user, actor=user, details={"replacing": replacing})
    return Enrolled(recovery_codes=codes)


def provision(user: User, secret: str, *, by: User | None = None) -> None:
    """Give a user a known TOTP secret without a code (the demo trust only).

    Guard: none: only `flask demo` calls this, to print each demo user's secret so a
    person can add it to an authenticator app. Side effects: records auth.mfa.enrolled
    (details {"provisioned": true}). Issues no recovery codes. Flushes.
    """
    user.totp_secret = encrypt_secret(secret)
    user.totp_pending_secret = None
    user.totp_enrolled_at = utcnow()
    user.totp_last_step = None
    audit.record_about(AuditAction.MFA_ENROLLED, user, actor=by, details={"provisioned": True})
    db.session.flush()


def _issue_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(5)) for _ in range(2))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=passwords.hash_password(normalise_code(code)))
        for code in codes
    )
    db.session.flush()
    return codes


# --- signing in ---------------------------------------------------------------------


def verify_totp(user: User, typed_code: str) -> bool:
    """Check a code from the user's app, using up its time step when it is right.

    Guard: the user has a second factor. Side effects: moves totp_last_step on. Records
    nothing (the sign-in records the outcome). Flushes; the caller commits.
    """
    if user.totp_secret is None:
        return False
    code = normalise_code(typed_code)
    if not looks_like_totp_code(code):
        return False
    step = _matching_step(decrypt_secret(user.totp_secret), code, after=user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    db.session.flush()
    return True


def code_was_used(user: User, typed_code: str) -> bool:
    """Whether a refused code was right but already used (for the audit reason only)."""
    if user.totp_secret is None or user.totp_last_step is None:
        return False
    code = normalise_code(typed_code)
    secret = decrypt_secret(user.totp_secret)
    return any(
        hmac.compare_digest(code_for(secret, step), code)
        for step in range(current_step() - DRIFT_STEPS, user.totp_last_step + 1)
    )


def use_recovery_code(user: User, typed_code: str) -> int | None:
    """Spend a recovery code; returns how many are left, or None if it is not one.

    Guard: an unused code of this user's. Side effects: marks it used and records
    auth.recovery_code.used (details {"remaining"}). Flushes; the caller commits.
    """
    code = normalise_code(typed_code)
    if not code or len(code) > 32:
        return None
    unused = db.session.scalars(
        select(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        .order_by(RecoveryCode.id)
    ).all()
    match = next((r for r in unused if passwords.verify_password(r.code_hash, code)), None)
    if match is None:
        return None
    match.used_at = utcnow()
    remaining = len(unused) - 1
    audit.record_about(
        AuditAction.RECOVERY_CODE_USED, user, actor=user, details={"remaining": remaining}
    )
    db.session.flush()
    return remaining


def recovery_codes_left(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


# --- resetting ----------------------------------------------------------------------


def reset_second_factor(user: User, *, by: User | None) -> int:
    """Take away a user's second factor so they must set one up at their next sign-in.

    For a lost or replaced phone. Guard: none here (the view checks the administrator's
    role and trust). Side effects: clears the secret, the pending secret and the used
    step, deletes the recovery codes, ends every session of the user (auth.session.revoked
    each), and records auth.mfa.reset (`by` acting, or the system from the command line;
    details {"sessions_ended"}). Returns how many sessions ended. Flushes.
    """
    user.totp_secret = None
    user.totp_pending_secret = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    ended = end_all_sessions(user, EndReason.REVOKED, by=by)
    audit.record_about(AuditAction.MFA_RESET, user, actor=by, details={"sessions_ended": ended})
    db.session.flush()
    return ended
