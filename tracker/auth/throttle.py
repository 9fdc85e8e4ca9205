"""Sign-in throttling: failures counted per account and per client address, in the database.

Kept in the database, not in process memory, so every server process (and every server)
counts the same failures. After THROTTLE_ACCOUNT_ATTEMPTS failures against one e-mail
address, or THROTTLE_ADDRESS_ATTEMPTS from one client address, each further attempt
must wait: one minute after the first failure over the limit, then two, four, eight...
up to THROTTLE_MAX_MINUTES. A failure more than THROTTLE_FORGET_HOURS after the last one
starts the count again; a full sign-in (password and second factor) clears the account's
count, never the address's (one valid account must not let an attacker reset it).

The account key is made from the e-mail address typed, whether or not an account has
it, so a locked-out answer says nothing about which accounts exist. Keys are HMACs under
SECRET_KEY: neither addresses nor e-mail addresses are stored in the clear.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from tracker.auth.models import SignInThrottle
from tracker.db import utcnow
from tracker.extensions import db

ACCOUNT = "account"
ADDRESS = "address"
BASE_DELAY = timedelta(minutes=1)


@dataclass(frozen=True)
class Keys:
    """The throttle rows one attempt counts against."""

    account: str | None
    address: str | None

    def all(self) -> list[str]:
        return [key for key in (self.account, self.address) if key]


def _key(kind: str, value: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"throttle:{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def keys_for(email: str | None, client_address: str | None) -> Keys:
    """`email` already normalised (trimmed, lower case); either may be missing."""
    return Keys(
        account=_key(ACCOUNT, email) if email else None,
        address=_key(ADDRESS, client_address) if client_address else None,
    )


def _free_attempts(kind: str) -> int:
    name = "THROTTLE_ACCOUNT_ATTEMPTS" if kind == ACCOUNT else "THROTTLE_ADDRESS_ATTEMPTS"
    attempts: int = current_app.config[name]
    return attempts


def delay_after(kind: str, failures: int) -> timedelta:
    """How long to wait after this many failures in a row (zero below the limit)."""
    over = failures - _free_attempts(kind)
    if over < 0:
        return timedelta(0)
    cap = timedelta(minutes=current_app.config["THROTTLE_MAX_MINUTES"])
    # 2**over grows fast; stop doubling well before it could overflow a timedelta.
    doubled: timedelta = BASE_DELAY * (2 ** min(over, 20))
    return min(doubled, cap)


def _forget_before(now: datetime) -> datetime:
    return now - timedelta(hours=current_app.config["THROTTLE_FORGET_HOURS"])


def locked_until(keys: Keys, *, now: datetime | None = None) -> datetime | None:
    """When the next attempt may be made, if it must wait; None when it may go ahead.

    One query. Records nothing.
    """
    now = now or utcnow()
    wanted = keys.all()
    if not wanted:
        return None
    rows = db.session.scalars(select(SignInThrottle).where(SignInThrottle.key.in_(wanted))).all()
    latest: datetime | None = None
    for row in rows:
        if row.last_failure_at < _forget_before(now):
            continue
        until = row.last_failure_at + delay_after(row.kind, row.failures)
        if until > now and (latest is None or until > latest):
            latest = until
    return latest


def record_failure(keys: Keys, *, now: datetime | None = None) -> None:
    """Count one failed attempt against the account and the address.

    An upsert per key (INSERT ... ON CONFLICT DO UPDATE), so two processes counting the
    same key at once both count, and neither fails on the other's new row. Also drops
    rows long forgotten. Flushes; the caller commits (with the attempt's audit event).
    """
    now = now or utcnow()
    forget_before = _forget_before(now)
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = SignInThrottle.__table__
    for kind, key in ((ACCOUNT, keys.account), (ADDRESS, keys.address)):
        if not key:
            continue
        statement = insert(SignInThrottle).values(
            key=key, kind=kind, failures=1, first_failure_at=now, last_failure_at=now
        )
        stale = table.c.last_failure_at < forget_before
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.key],
                set_={
                    "failures": case((stale, 1), else_=table.c.failures + 1),
                    "first_failure_at": case(
                        (stale, statement.excluded.first_failure_at),
                        else_=table.c.first_failure_at,
                    ),
                    "last_failure_at": statement.excluded.last_failure_at,
                },
            )
        )
    db.session.execute(delete(SignInThrottle).where(SignInThrottle.last_failure_at < forget_before))


def clear_account(keys: Keys) -> None:
    """Forget the account's failures after a full sign-in. Flushes; the caller commits."""
    if keys.account:
        db.session.execute(delete(SignInThrottle).where(SignInThrottle.key == keys.account))


def wait_message(until: datetime, *, now: datetime | None = None) -> str:
    """The one message for a throttled attempt, whatever the reason and whoever it is."""
    now = now or utcnow()
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"There have been too many attempts to sign in. Wait {minutes} {unit}, then try again."
