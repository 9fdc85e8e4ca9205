"""Writing the audit trail: the one function every change and every read goes through,
and the events of the auditor's own reads of the trail."""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Required, TypedDict, Unpack

from flask import current_app, g, has_request_context, request
from sqlalchemy import Table, func, select

from tracker.audit.actions import AuditAction, Outcome
from tracker.audit.chain import (
    CHAINED_FIELDS,
    FORMAT_VERSION,
    canonical_details,
    event_hash,
    key_bytes,
)
from tracker.audit.models import AuditChainHead, AuditEvent
from tracker.db import utcnow
from tracker.extensions import db

if TYPE_CHECKING:
    from tracker.audit.search import AuditFilters
    from tracker.auth.models import User
    from tracker.cases.models import Case

SYSTEM_ROLE = "system"
# The PostgreSQL advisory lock that writers queue on for their turn at the chain.
CHAIN_LOCK_KEY = 0x61756469745F6331

# What a detail may hold: ids, counts, flags, and short codes such as field names,
# states, dates and case references. No spaces, no "@": narrative, names, e-mail
# addresses and search text cannot get in by accident.
_DETAIL_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_DETAIL_TEXT = re.compile(r"^[A-Za-z0-9_.:/+-]{0,64}$")
_MAX_LIST = 100

DetailValue = int | bool | str | None | Sequence[int | bool | str | None]


def _check_value(key: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        if not _DETAIL_TEXT.match(value):
            raise ValueError(f"audit detail {key!r} holds free text; store ids and codes only")
        return value
    raise TypeError(f"audit detail {key!r} has a {type(value).__name__}; use ids and codes")


def check_details(details: Mapping[str, DetailValue] | None) -> dict[str, Any]:
    """The details as stored, or an error if they could carry personal content.

    A programming error, not a user's: it fails the change it belongs to.
    """
    checked: dict[str, Any] = {}
    for key, value in (details or {}).items():
        if not _DETAIL_KEY.match(key):
            raise ValueError(f"audit detail key {key!r} is not a plain name")
        if isinstance(value, list | tuple):
            if len(value) > _MAX_LIST:
                raise ValueError(f"audit detail {key!r} has more than {_MAX_LIST} items")
            checked[key] = [_check_value(key, item) for item in value]
        else:
            checked[key] = _check_value(key, value)
    return checked


def actor_role(actor: User | None, school_id: int | None = None) -> str:
    """The roles the actor acted in: those at the school concerned, or all of them."""
    if actor is None:
        return SYSTEM_ROLE
    grants = actor.grants
    if school_id is not None:
        here = [grant for grant in grants if grant.school_id in (None, school_id)]
        grants = here or grants
    return ",".join(sorted({grant.role for grant in grants}))[:100] or "none"


# Built once: the statements every event runs (their compiled forms are then cached).
_LOCK_HEAD = (
    select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == 1).with_for_update()
)
_LOCK_HEAD_PG = (
    select(AuditChainHead.seq, AuditChainHead.hash)
    .where(AuditChainHead.id == 1, func.pg_advisory_xact_lock(CHAIN_LOCK_KEY).is_not(None))
    .with_for_update()
)
# Declarative types __table__ as any FROM clause; a model's own is always its Table.
_INSERT = typing.cast(Table, AuditEvent.__table__).insert()


def _request_origin() -> tuple[str | None, str | None]:
    if not has_request_context():
        return None, None
    return g.get("request_id"), (request.remote_addr or None)


def record(
    action: AuditAction,
    *,
    actor: User | None,
    object_type: str | None = None,
    object_id: int | None = None,
    trust_id: int | None = None,
    school_id: int | None = None,
    case_id: int | None = None,
    outcome: Outcome = Outcome.ALLOWED,
    details: Mapping[str, DetailValue] | None = None,
    now: datetime | None = None,
) -> int:
    """Append one event to the trail, in the caller's transaction; returns its number.

    Guard: details hold ids and codes only (check_details). Side effects: holds the
    chain until the transaction ends, so concurrent writers take turns and never fork
    it (and the primary key on the number refuses a fork outright); a rollback removes
    the event with the change. On PostgreSQL writers first queue on a transaction
    advisory lock, taken inside the statement that then locks the chain-head row: the
    lock's queue hands the turn to one waiter at a time, where waiters on the row alone
    would all wake at each commit and contend again. The row lock then reads the head's
    newest version, committed by the writer before. SQLite's transactions already hold
    the write lock from BEGIN IMMEDIATE. Two statements; the caller commits.
    """
    action = AuditAction(action)
    stored_details = check_details(details)
    request_id, client_address = _request_origin()
    # Everything that does not depend on the previous event is worked out before the
    # chain is locked (the actor's roles may even need their grants loaded), so that the
    # turn every writer waits for holds only the head's read, the HMAC and the insert.
    fields: dict[str, Any] = {
        "seq": None,
        "format_version": FORMAT_VERSION,
        "occurred_at": now,  # taken in the turn, so that times follow the numbering
        "trust_id": trust_id if trust_id is not None else getattr(actor, "trust_id", None),
        "actor_id": actor.id if actor is not None else None,
        "actor_role": actor_role(actor, school_id),
        "action": action.value,
        "object_type": object_type,
        "object_id": object_id,
        "school_id": school_id,
        "case_id": case_id,
        "outcome": Outcome(outcome).value,
        "request_id": request_id,
        "client_address": client_address,
        "details": canonical_details(stored_details),
        "prev_hash": None,
    }
    key = key_bytes(current_app.config["AUDIT_KEY"])
    connection = db.session.connection()
    head = connection.execute(
        _LOCK_HEAD_PG if connection.dialect.name == "postgresql" else _LOCK_HEAD
    ).first()
    if head is None:
        raise RuntimeError("the audit chain head row is missing; run `flask db upgrade`")
    fields["seq"] = head.seq + 1
    fields["prev_hash"] = head.hash
    fields["occurred_at"] = now or utcnow()
    fields["hash"] = event_hash(key, [fields[name] for name in CHAINED_FIELDS])
    # A trigger on audit_events moves the chain head on to this event.
    connection.execute(_INSERT, fields)
    seq: int = fields["seq"]
    return seq


def record_for_case(
    action: AuditAction,
    case: Case,
    *,
    actor: User | None,
    object_type: str = "case",
    object_id: int | None = None,
    outcome: Outcome = Outcome.ALLOWED,
    details: Mapping[str, DetailValue] | None = None,
) -> int:
    """Append an event about a case or something on it (the object defaults to the case)."""
    return record(
        action,
        actor=actor,
        object_type=object_type,
        object_id=object_id if object_id is not None else case.id,
        trust_id=case.trust_id,
        school_id=case.school_id,
        case_id=case.id,
        outcome=outcome,
        details=details,
    )


class Audited(Protocol):
    """A record the trail can name: by its model's `audit_type` (stored in every event
    about it, so never renamed) and its id."""

    audit_type: ClassVar[str]

    @property
    def id(self) -> int: ...


def record_about(
    action: AuditAction,
    target: Audited,
    *,
    actor: User | None,
    case: Case | None = None,
    trust_id: int | None = None,
    school_id: int | None = None,
    outcome: Outcome = Outcome.ALLOWED,
    details: Mapping[str, DetailValue] | None = None,
) -> int:
    """Append an event about one record, filed where the record belongs.

    A record on a case (its `case`, or the `case` given) is filed under the case, its
    school and its trust, as `record_for_case` files them. Any other is filed under the
    trust and school given, else under its own `trust_id` and `school_id` where it has
    them (a school has no school_id, nor a session a trust_id: their callers give them).

    Guard: as `record` (details hold ids and codes only). Side effects: one event, in the
    caller's transaction; the caller commits.
    """
    # Not every audited model has these attributes: those that have them say where it goes.
    on_case: Case | None = case if case is not None else getattr(target, "case", None)
    if on_case is not None:
        return record_for_case(
            action,
            on_case,
            actor=actor,
            object_type=target.audit_type,
            object_id=target.id,
            outcome=outcome,
            details=details,
        )
    return record(
        action,
        actor=actor,
        object_type=target.audit_type,
        object_id=target.id,
        trust_id=trust_id if trust_id is not None else getattr(target, "trust_id", None),
        school_id=school_id if school_id is not None else getattr(target, "school_id", None),
        outcome=outcome,
        details=details,
    )


class About(TypedDict, total=False):
    """What `record_about` takes besides the action and the record."""

    actor: Required[User | None]
    case: Case | None
    trust_id: int | None
    school_id: int | None
    outcome: Outcome
    details: Mapping[str, DetailValue] | None


def record_added(action: AuditAction, target: Audited, **about: Unpack[About]) -> int:
    """A new record and its event: adds it to the session (where appending it to its
    case's list has not already) and flushes, so that it has its id, then `record_about`.
    The details are worked out before the flush: they name what the caller set, never a
    value the database fills in.

    Guard: as `record_about`. Side effects: the INSERT and one event, in the caller's
    transaction; the caller commits.
    """
    db.session.add(target)
    db.session.flush()
    return record_about(action, target, **about)


# --- the auditor's reads of the trail --------------------------------------------------


def record_search(user: User, filters: AuditFilters, results: int) -> None:
    """audit.searched: which filters were used and how many events matched, never what
    was typed into them.

    Guard: none here (the page checks that the user may read the trail). Side effects:
    one event, two statements; the caller commits.
    """
    _record_trail_read(AuditAction.AUDIT_SEARCHED, user, filters, results=results)


def record_export(
    user: User, filters: AuditFilters, *, file_format: str, results: int, truncated: bool
) -> None:
    """audit.exported: the format, the filters' names, how many events matched and
    whether the file holds fewer (over the export's limit).

    Guard: none here (the page checks that the user may read the trail). Side effects:
    one event, two statements; the caller commits before sending, so that an export
    whose event could not be written is never sent.
    """
    _record_trail_read(
        AuditAction.AUDIT_EXPORTED,
        user,
        filters,
        format=file_format,
        results=results,
        truncated=truncated,
    )


def _record_trail_read(
    action: AuditAction, user: User, filters: AuditFilters, **details: DetailValue
) -> None:
    # The filters' names only: their values could name a person or a case the auditor
    # was curious about.
    record(
        action,
        actor=user,
        object_type="audit_trail",
        details={"filters": filters.names, **details},
    )
