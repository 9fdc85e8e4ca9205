"""The audit trail's tables: append-only events and the head of their hash chain.

Ids here are plain integers, not foreign keys: an event must outlive the rows it names
(a disposed case, say), and a foreign key would try to change or block it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.audit.actions import AuditAction, Outcome, known_action
from tracker.db import UTCDateTime
from tracker.extensions import Model


class AuditEvent(Model):
    """One thing that happened. The database refuses UPDATE and DELETE on this table
    (triggers made by the migration), and each row carries the HMAC of its contents and
    of the row before it (tracker/audit/chain.py)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_case_id_seq", "case_id", "seq"),
        Index("ix_audit_events_actor_id_seq", "actor_id", "seq"),
        Index("ix_audit_events_action_seq", "action", "seq"),
        Index("ix_audit_events_school_id_seq", "school_id", "seq"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
    )

    # The position in the chain, from 1 with no gaps; the primary key is the safety net
    # that makes a forked chain impossible to store.
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    format_version: Mapped[int] = mapped_column(SmallInteger)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    trust_id: Mapped[int | None] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    # The actor's roles where it happened (e.g. "dsl" or "ceo"), or "system".
    actor_role: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[int | None] = mapped_column(BigInteger)
    school_id: Mapped[int | None] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(45))
    # Ids, field names and states only (checked by tracker.audit.services.check_details),
    # stored as canonical JSON text: the chain covers these exact bytes, so verifying
    # never has to parse them.
    details_json: Mapped[str] = mapped_column("details", Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    @property
    def details(self) -> dict[str, Any]:
        details: dict[str, Any] = json.loads(self.details_json)
        return details

    @property
    def action_enum(self) -> AuditAction | None:
        return known_action(self.action)

    @property
    def action_label(self) -> str:
        action = self.action_enum
        return action.label if action else self.action

    @property
    def is_read(self) -> bool:
        action = self.action_enum
        return bool(action and action.is_read)

    @property
    def outcome_enum(self) -> Outcome:
        return Outcome(self.outcome)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.seq} {self.action}>"


class AuditChainHead(Model):
    """The last event's number and hash, in the one row writers lock to take their turn.

    A trigger on audit_events keeps it in step with every insert; the row exists from the
    migration on (seq 0 and the genesis hash).
    """

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
