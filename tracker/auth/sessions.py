"""Server-side sessions: started at sign-in, checked on every request, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.auth.models import RoleGrant, User, UserSession
from tracker.db import utcnow
from tracker.extensions import db

# last_seen_at is written at most this often, so that a busy page does not write on
# every request; idle timeouts are measured in minutes, so this costs no precision.
TOUCH_INTERVAL = timedelta(seconds=60)


class EndReason:
    SIGNED_OUT = "signed_out"
    IDLE = "idle"
    EXPIRED = "expired"
    REVOKED = "revoked"
    DISABLED = "disabled"
    # The user changed their password or second factor: their other sessions end.
    CREDENTIALS_CHANGED = "credentials_changed"


@dataclass(frozen=True)
class Resumed:
    """What checking a session token found: the user, or why the session is over."""

    user: User | None
    session: UserSession | None
    ended_because: str | None = None
    # Whether the check wrote anything (last-seen moved on, a session ended), so that a
    # request that only reads opens no write transaction for it.
    wrote: bool = False


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _idle_limit() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def _absolute_limit() -> timedelta:
    return timedelta(hours=current_app.config["SESSION_MAX_HOURS"])


def start_session(user: User, *, ip_address: str | None, user_agent: str | None) -> str:
    """Open a session for a user who has just proved who they are.

    Returns the raw token for the cookie; only its SHA-256 is stored, so a copy of the
    database cannot be used to hijack a session. Flushes; the caller commits.
    """
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        UserSession(
            token_hash=hash_token(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            ip_address=ip_address,
            user_agent=(user_agent or "")[:255] or None,
        )
    )
    db.session.flush()
    return token


@cache
def _session_with_user() -> Select[tuple[UserSession]]:
    """The statement every page runs first, built once (when the models are all known):
    the session by its token's hash, with everything every page needs about the user
    (their trust, their grants with the schools)."""
    return (
        select(UserSession)
        .where(UserSession.token_hash == bindparam("token_hash"))
        .options(
            joinedload(UserSession.user).options(
                joinedload(User.trust),
                joinedload(User.grants).joinedload(RoleGrant.school),
            )
        )
    )


def resume_session(token: str, *, now: datetime | None = None) -> Resumed:
    """Find the open session for a cookie token, ending it if it has run out.

    Guard: the session must exist, be open, be within the idle and absolute limits, and
    belong to an active user. Side effects: ends a session that has run out (recording
    auth.session.ended, or auth.session.revoked for a disabled account: see end_session),
    and moves last_seen_at on (at most once a minute). Flushes; the caller commits.
    """
    now = now or utcnow()
    # One query for everything every page needs about the user: the session, the user,
    # their trust and their role grants with the schools.
    record = (
        db.session.execute(_session_with_user(), {"token_hash": hash_token(token)})
        .unique()
        .scalar_one_or_none()
    )
    if record is None:
        return Resumed(None, None, EndReason.REVOKED)
    if record.ended_at is not None:
        return Resumed(None, record, record.end_reason)
    if now - record.created_at >= _absolute_limit():
        end_session(record, EndReason.EXPIRED, now=now)
        return Resumed(None, record, EndReason.EXPIRED, wrote=True)
    if now - record.last_seen_at >= _idle_limit():
        end_session(record, EndReason.IDLE, now=now)
        return Resumed(None, record, EndReason.IDLE, wrote=True)
    if not record.user.is_active:
        end_session(record, EndReason.DISABLED, now=now)
        return Resumed(None, record, EndReason.DISABLED, wrote=True)
    if now - record.last_seen_at >= TOUCH_INTERVAL:
        record.last_seen_at = now
        db.session.flush()
        return Resumed(record.user, record, wrote=True)
    return Resumed(record.user, record)


def _record_end(record: UserSession, reason: str, by: User | None) -> None:
    """The one audit event for a session that has just ended, chosen by why it ended."""
    owner = record.user
    if reason == EndReason.SIGNED_OUT:
        audit.record_about(AuditAction.LOGOUT, record, actor=owner, trust_id=owner.trust_id)
    elif reason in (EndReason.IDLE, EndReason.EXPIRED):
        # Found out on the owner's own next request (their cookie came back), so the
        # owner is the actor, and the request's address is theirs.
        audit.record_about(
            AuditAction.SESSION_ENDED,
            record,
            actor=owner,
            trust_id=owner.trust_id,
            details={"reason": reason},
        )
    else:
        # Ended by someone else (or by the system): name whose session it was.
        audit.record_about(
            AuditAction.SESSION_REVOKED,
            record,
            actor=by,
            trust_id=owner.trust_id,
            details={"reason": reason, "user_id": owner.id},
        )


def end_session(
    record: UserSession, reason: str, *, now: datetime | None = None, by: User | None = None
) -> None:
    """End one session.

    Guard: none; a session already ended is left alone (and nothing is recorded). Side
    effects: records auth.logout (signed out, the owner acting), auth.session.ended
    (idle or expired, the owner acting, details {"reason"}) or auth.session.revoked
    (revoked or disabled, `by` acting or the system, details {"reason", "user_id"}).
    Flushes; the caller commits.
    """
    if record.ended_at is not None:
        return
    record.ended_at = now or utcnow()
    record.end_reason = reason
    _record_end(record, reason, by)
    db.session.flush()


def end_all_sessions(user: User, reason: str, *, by: User | None = None) -> int:
    """End every open session of a user; returns how many.

    Guard: none. Side effects: each session ends through end_session, so each records
    its own event (auth.session.revoked for revoked or disabled). Flushes; the caller
    commits.
    """
    now = utcnow()
    open_sessions = db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .order_by(UserSession.id)
    ).all()
    for record in open_sessions:
        end_session(record, reason, now=now, by=by)
    return len(open_sessions)


def end_other_sessions(user: User, *, keep: UserSession | None, reason: str) -> int:
    """End every open session of a user but `keep` (the one they are using); returns how
    many. Each records auth.session.revoked with the user acting. Flushes."""
    now = utcnow()
    query = select(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    others = db.session.scalars(query.order_by(UserSession.id)).all()
    for record in others:
        end_session(record, reason, now=now, by=user)
    return len(others)


def open_sessions(user: User) -> list[UserSession]:
    """A user's open sessions, most recently used first."""
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


# Checked in order: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "Mac"),
    ("Macintosh", "Mac"),
    ("Linux", "Linux"),
)


def describe_device(user_agent: str | None) -> str:
    """ "Firefox on Windows": enough to recognise a session, from the browser's own words."""
    text = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in text), None)
    system = next((name for marker, name in _SYSTEMS if marker in text), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown browser"
