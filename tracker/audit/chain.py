"""The hash chain: the canonical form of an event, its HMAC, and checking a whole trail.

Each event's hash is HMAC-SHA-256, keyed with AUDIT_KEY (configuration, never the
database), over a canonical JSON serialisation of its fields, which include the previous
event's hash. Changing, removing or reordering a stored event breaks the chain at that
event; removing the newest events is caught by checkpoints kept outside the database.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeAlias

from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, scoped_session

from tracker.audit.models import AuditChainHead, AuditEvent

# Flask-SQLAlchemy's db.session, or a plain session (a worker, a script).
AnySession: TypeAlias = Session | scoped_session[Any]

# Bump when the serialisation changes; old events keep the version they were made with.
FORMAT_VERSION = 1
GENESIS_HASH = "0" * 64

# Every stored field but the hash itself, in the order the serialisation lists them.
# `details` is the stored canonical JSON text of the details (see canonical_details).
CHAINED_FIELDS = (
    "seq",
    "format_version",
    "occurred_at",
    "trust_id",
    "actor_id",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "school_id",
    "case_id",
    "outcome",
    "request_id",
    "client_address",
    "details",
    "prev_hash",
)


def canonical_details(details: Mapping[str, Any]) -> str:
    """The one text form of an event's details: sorted keys, no spaces."""
    return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# One encoder for every event: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
# And the C encoder beneath it, made once: JSONEncoder.encode makes a new one for every
# call (a tenth of the cost of verifying an event). The same options as
# _ENCODER (no circular check: an event's fields are flat), so the same bytes.
_ENCODE_ARRAY = (
    json.encoder.c_make_encoder(  # type: ignore[attr-defined]
        None,
        _ENCODER.default,
        json.encoder.encode_basestring,
        None,
        ":",
        ",",
        False,
        False,
        False,
    )
    if json.encoder.c_make_encoder is not None  # type: ignore[attr-defined]
    else None
)
# SQLite's stored form of a UTC time (SQLAlchemy always writes the microseconds).
_SQLITE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$")
# The canonical form itself, as verification reads it from PostgreSQL.
_CANONICAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$")


def _timestamp(value: datetime | str) -> str:
    """A UTC time as ISO 8601 with microseconds, whichever database it came from.

    SQLite hands back the stored text ("YYYY-MM-DD HH:MM:SS.ffffff", UTC, no zone);
    PostgreSQL a datetime with its zone.
    """
    if isinstance(value, str):
        # The common cases without building a datetime. Each maps one stored text to one
        # form (no two texts to the same), so a changed time still fails its HMAC.
        if len(value) == 26 and value[10] == " " and _SQLITE_TIME.match(value):
            return f"{value[:10]}T{value[11:]}+00:00"
        if len(value) == 32 and _CANONICAL_TIME.match(value):  # PostgreSQL's to_char
            return value
        value = datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(values: Sequence[Any]) -> bytes:
    """The bytes an event's HMAC covers (serialisation version 1).

    `values` are the CHAINED_FIELDS in order. Version 1 is the compact JSON array of
    them, with the time as ISO 8601 UTC and the details as their canonical JSON text.
    """
    if values[1] != 1:
        raise ValueError(f"unknown audit serialisation version {values[1]}")
    document = list(values)
    document[2] = _timestamp(values[2])
    if _ENCODE_ARRAY is None:
        return _ENCODER.encode(document).encode()
    return "".join(_ENCODE_ARRAY(document, 0)).encode()


def event_hash(key: bytes, values: Sequence[Any]) -> str:
    return hmac.digest(key, canonical(values), "sha256").hex()


def key_bytes(key: str) -> bytes:
    if not key:
        raise RuntimeError("AUDIT_KEY is not set: the audit trail cannot be written or checked")
    return key.encode()


# --- checkpoints -----------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at a moment, written somewhere the database cannot reach."""

    seq: int
    hash: str
    at: datetime

    def to_line(self) -> str:
        return json.dumps({"seq": self.seq, "hash": self.hash, "at": _timestamp(self.at)}) + "\n"


class CheckpointFileError(ValueError):
    """A checkpoint file that cannot be read; the message names the line."""


def current_head(session: AnySession) -> tuple[int, str]:
    """The newest stored event's number and hash (0 and the genesis hash when empty)."""
    row = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return (row.seq, row.hash) if row else (0, GENESIS_HASH)


def read_checkpoints(path: Path) -> list[Checkpoint]:
    checkpoints = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            checkpoint = Checkpoint(
                seq=int(data["seq"]),
                hash=str(data["hash"]),
                at=datetime.fromisoformat(data["at"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointFileError(f"{path}, line {number}: not a checkpoint ({exc})") from exc
        checkpoints.append(checkpoint)
    return checkpoints


# --- verification ----------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    seq: int
    message: str


@dataclass(frozen=True)
class Verification:
    events: int
    head_seq: int
    head_hash: str
    checkpoints: int
    problem: Problem | None

    @property
    def intact(self) -> bool:
        return self.problem is None


_SEQ, _PREV, _HASH = 0, len(CHAINED_FIELDS) - 1, len(CHAINED_FIELDS)
# PostgreSQL hands the time over already in the canonical text form, so that no
# datetime is built and formatted again for each of millions of events.
_PG_TIME = "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"


def _statements(time_column: str, placeholder: str) -> dict[str, str]:
    # Our own column names and the driver's placeholder only: values are parameters.
    columns = ", ".join(
        time_column if name == "occurred_at" else name for name in (*CHAINED_FIELDS, "hash")
    )
    read = f"SELECT {columns} FROM audit_events WHERE seq > {placeholder}"  # noqa: S608 # nosec B608
    return {
        "batch": f"{read} ORDER BY seq LIMIT {placeholder}",
        "range": f"{read} AND seq <= {placeholder} ORDER BY seq",
    }


# The two reads of verification, in each driver's SQL: a batch after a number (a limit),
# and a range of numbers.
_READS = {
    "postgresql": _statements(_PG_TIME, "%s"),
    "sqlite": _statements("occurred_at", "?"),
}


def _fetch(connection: Connection, read: str, params: tuple[int, int]) -> list[Sequence[Any]]:
    """Rows as the driver returns them: plain tuples, with no result objects around
    them, as the walk must manage millions of events quickly."""
    driver_connection = connection.connection.driver_connection
    if driver_connection is None:
        raise RuntimeError("the connection to read the audit trail through is closed")
    cursor = driver_connection.cursor()
    try:
        cursor.execute(_READS[connection.dialect.name][read], params)
        rows: list[Sequence[Any]] = cursor.fetchall()
        return rows
    finally:
        cursor.close()


def _batches(session: AnySession, batch_size: int) -> Iterator[Sequence[Sequence[Any]]]:
    """The stored rows in order, a batch at a time."""
    connection = session.connection()
    last = 0
    while True:
        rows = _fetch(connection, "batch", (last, batch_size))
        if not rows:
            return
        yield rows
        last = rows[-1][_SEQ]


def _link_problem(
    previous_seq: int, previous_hash: str | None, seq: int, prev_hash: str | None
) -> Problem | None:
    """What is wrong with event `seq` (naming `prev_hash`) coming after event
    `previous_seq` (of `previous_hash`): a gap, a step back, or a broken link."""
    if seq > previous_seq + 1:
        missing = previous_seq + 1
        return Problem(missing, f"event {missing} is missing (the next stored is {seq})")
    if seq != previous_seq + 1:
        return Problem(seq, f"event {seq} is out of order")
    if prev_hash != previous_hash:
        return Problem(
            seq,
            f"event {seq} does not follow event {previous_seq}: the events "
            "around it were removed, reordered or changed",
        )
    return None


@dataclass
class _Walk:
    """Where a walk over some stored rows got to: what `verify_chain` carries between
    batches, and what each worker of a parallel verification reports for its range."""

    previous_seq: int
    previous_hash: str | None  # None: the first row's link is checked by the caller
    count: int = 0
    seen_checkpoints: int = 0
    problem: Problem | None = None
    first_seq: int | None = None
    first_prev_hash: str | None = None


def _walk(
    walk: _Walk, rows: Iterable[Sequence[Any]], key: bytes, expected: dict[int, Checkpoint]
) -> _Walk:
    """Check rows in order from where `walk` stands; stop at the first problem.

    For each event: its number follows the last one's (no event removed, none moved), it
    names the last event's hash, its own HMAC matches its contents (no field edited), and
    it is the event any checkpoint at its number recorded.
    """
    for row in rows:
        seq = row[_SEQ]
        if walk.first_seq is None:
            walk.first_seq, walk.first_prev_hash = seq, row[_PREV]
        if walk.previous_hash is not None:
            walk.problem = _link_problem(walk.previous_seq, walk.previous_hash, seq, row[_PREV])
            if walk.problem is not None:
                return walk
        try:
            recomputed = event_hash(key, row[:_HASH])
        except (ValueError, TypeError) as exc:
            walk.problem = Problem(seq, f"event {seq} cannot be read ({exc})")
            return walk
        if not hmac.compare_digest(recomputed, row[_HASH]):
            walk.problem = Problem(
                seq,
                f"event {seq} has been changed since it was written (or AUDIT_KEY "
                "is not the key it was written with)",
            )
            return walk
        checkpoint = expected.get(seq)
        if checkpoint is not None:
            if checkpoint.hash != row[_HASH]:
                walk.problem = Problem(
                    seq,
                    f"event {seq} is not the event checkpointed at {_timestamp(checkpoint.at)}",
                )
                return walk
            walk.seen_checkpoints += 1
        walk.previous_seq, walk.previous_hash = seq, row[_HASH]
        walk.count += 1
    return walk


# Events one worker checks at a time in a parallel verification.
RANGE_SIZE = 50_000


def _check_range(
    url: str, key: bytes, after: int, upto: int, expected: dict[int, Checkpoint]
) -> _Walk:
    """A worker process: read and check the events numbered after `after` up to `upto`.

    The first row's number and link are left to the caller, which knows the range
    before; everything else is checked here, reading through a connection of its own.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = _worker_engines.get(url)
    if engine is None:
        engine = _worker_engines[url] = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        rows = _fetch(connection, "range", (after, upto))
    return _walk(_Walk(previous_seq=after, previous_hash=None), rows, key, expected)


_worker_engines: dict[str, Any] = {}


def _parallel_walks(
    session: AnySession,
    key: bytes,
    expected: dict[int, Checkpoint],
    workers: int,
    newest: int,
    range_size: int,
) -> Iterator[_Walk]:
    """The walks of consecutive ranges of numbers, in order, checked by worker processes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    bounds = [(after, min(after + range_size, newest)) for after in range(0, newest, range_size)]
    # spawn: a fresh interpreter per worker, not a fork of one holding open connections.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [
            pool.submit(
                _check_range,
                url,
                key,
                after,
                upto,
                {seq: c for seq, c in expected.items() if after < seq <= upto},
            )
            for after, upto in bounds
        ]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def verify_chain(
    session: AnySession,
    key: bytes,
    *,
    checkpoints: Iterable[Checkpoint] = (),
    batch_size: int = 20_000,
    workers: int = 1,
    range_size: int = RANGE_SIZE,
) -> Verification:
    """Walk the whole trail in order and report the first event that breaks the chain.

    Checks, for each event: its number follows the last one's (no event removed, none
    moved), it names the last event's hash, and its own HMAC matches its contents (no
    field edited). Then every checkpoint must still be in the chain with the same hash
    (the newest events were not removed), and the chain-head row must agree.

    With `workers` above 1 and more than `range_size` events, ranges of events are read
    and their HMACs checked by that many processes at once (each event's HMAC depends
    only on its own row); only the links between ranges are checked here, in order, so
    the answer is the same.
    """
    expected = {checkpoint.seq: checkpoint for checkpoint in checkpoints}
    walk = _Walk(previous_seq=0, previous_hash=GENESIS_HASH)
    if 0 in expected:
        walk.seen_checkpoints += 1

    def result(problem: Problem | None) -> Verification:
        return Verification(
            walk.count,
            walk.previous_seq,
            walk.previous_hash or GENESIS_HASH,
            walk.seen_checkpoints,
            problem,
        )

    newest = 0
    if workers > 1:
        newest = session.execute(text("SELECT max(seq) FROM audit_events")).scalar() or 0
    if newest > range_size:
        for part in _parallel_walks(session, key, expected, workers, newest, range_size):
            if part.first_seq is None:
                continue  # no events stored in that range: the next range's first says so
            # The range's first event, checked against the end of the range before.
            link = _link_problem(
                walk.previous_seq, walk.previous_hash, part.first_seq, part.first_prev_hash
            )
            if link is not None:
                return result(link)
            walk.count += part.count
            walk.seen_checkpoints += part.seen_checkpoints
            if part.count:
                walk.previous_seq, walk.previous_hash = part.previous_seq, part.previous_hash
            if part.problem is not None:
                return result(part.problem)
    else:
        for rows in _batches(session, batch_size):
            _walk(walk, rows, key, expected)
            if walk.problem is not None:
                return result(walk.problem)

    previous_seq, previous_hash = walk.previous_seq, walk.previous_hash
    beyond = [c for c in expected.values() if c.seq > previous_seq]
    if beyond:
        last_checkpoint = max(beyond, key=lambda c: c.seq)
        return result(
            Problem(
                previous_seq + 1,
                f"the trail ends at event {previous_seq}, but event "
                f"{last_checkpoint.seq} was checkpointed at {_timestamp(last_checkpoint.at)}: "
                "the newest events have been removed",
            )
        )
    head = session.execute(select(AuditChainHead.seq, AuditChainHead.hash)).first()
    if head is not None and (head.seq, head.hash) != (previous_seq, previous_hash):
        return result(
            Problem(
                previous_seq + 1,
                f"the trail ends at event {previous_seq}, but the chain "
                f"head records event {head.seq}: events have been removed",
            )
        )
    return result(None)
