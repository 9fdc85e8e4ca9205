"""Test helpers for the audit trail: reading events, and lifting its append-only guard.

Lifting the guard is what a person with the database owner's rights could do; the tests
use it to empty the table between tests and to tamper with events that `verify` must
then catch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tracker.audit.chain import GENESIS_HASH
from tracker.audit.models import AuditEvent


@contextmanager
def append_only_guard_lifted(session: Session) -> Iterator[None]:
    """Take the triggers off audit_events for the block, then put them back."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        try:
            yield
        finally:
            session.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        return
    triggers = session.execute(
        text(
            "SELECT name, sql FROM sqlite_master"
            " WHERE type = 'trigger' AND tbl_name = 'audit_events'"
        )
    ).all()
    for name, _sql in triggers:
        session.execute(text(f'DROP TRIGGER "{name}"'))
    try:
        yield
    finally:
        for _name, sql in triggers:
            session.execute(text(sql))


def reset_chain_head(session: Session) -> None:
    """Put the chain head back to an empty trail (after the tables have been emptied)."""
    session.execute(
        text("INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, :genesis)"),
        {"genesis": GENESIS_HASH},
    )


def events(session: Session, *, action: str | None = None) -> list[AuditEvent]:
    """Every event so far (or of one action), oldest first."""
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(session.scalars(query))


def last_event(session: Session) -> AuditEvent:
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).first()
    assert event is not None, "no audit event was written"
    return event
