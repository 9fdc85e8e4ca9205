"""The audit trail's exports: events as CSV or JSON, written a piece at a time.

The view reads the events a chunk at a time (search.export_chunk_query) and hands them
here as they come, so that a file of many thousands of events never sits in memory.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from tracker.audit.describe import EventRow
from tracker.audit.search import AuditFilters
from tracker.auth.models import User

# An export holds at most this many events (the oldest that match); the search page
# says so when the filters match more, and the file's response headers carry it.
EXPORT_LIMIT = 100_000
# Events read per statement while an export streams out.
EXPORT_CHUNK = 2_000

EXPORT_COLUMNS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_name",
    "actor_role",
    "action",
    "action_label",
    "object_type",
    "object_id",
    "school_id",
    "school",
    "case_id",
    "case_reference",
    "outcome",
    "request_id",
    "client_address",
    "details",
    "prev_hash",
    "hash",
)


def export_record(row: EventRow) -> dict[str, Any]:
    """The event as an export carries it (EXPORT_COLUMNS; times in UTC, ISO 8601)."""
    return {
        "seq": row.seq,
        "occurred_at": row.occurred_at.astimezone(UTC).isoformat(),
        "actor_id": row.actor_id,
        "actor_name": row.actor_name,
        "actor_role": row.actor_role,
        "action": row.action,
        "action_label": row.action_label,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "school_id": row.school_id,
        "school": row.school_name,
        "case_id": row.case_id,
        "case_reference": row.case_reference,
        "outcome": row.outcome,
        "request_id": row.request_id,
        "client_address": row.client_address,
        "details": row.details,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


# --- CSV -----------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Text gathered before a piece of the file is sent.
_CSV_PIECE = 64_000


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text rather than running as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_cells(row: EventRow) -> list[Any]:
    record = export_record(row)
    record["details"] = json.dumps(record["details"], sort_keys=True, separators=(",", ":"))
    return [
        spreadsheet_safe("" if record[name] is None else record[name]) for name in EXPORT_COLUMNS
    ]


def csv_lines(rows: Iterable[EventRow]) -> Iterator[str]:
    """A CSV file, a header line and then a row an event, in pieces of about 64 kB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # A byte-order mark, so that spreadsheet programs read the names as UTF-8.
    writer.writerow(EXPORT_COLUMNS)
    yield "\ufeff" + _drain(buffer)
    for row in rows:
        writer.writerow(csv_cells(row))
        if buffer.tell() > _CSV_PIECE:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


# --- JSON ----------------------------------------------------------------------------


def json_header(
    *,
    exported_at: datetime,
    exported_by: User,
    filters: AuditFilters,
    matching: int,
    limit: int,
    truncated: bool,
) -> dict[str, Any]:
    """What a JSON export says of itself before its events: when, by whom, and of what."""
    return {
        "exported_at": exported_at.isoformat(),
        "exported_by": {"id": exported_by.id, "name": exported_by.display_name},
        "filters": {key: str(value) for key, value in filters.in_use.items()},
        "matching_events": matching,
        "limit": limit,
        "truncated": truncated,
    }


def json_lines(header: Mapping[str, Any], rows: Iterable[EventRow]) -> Iterator[str]:
    """A JSON document, {header fields..., "events": [...]}, written a piece at a time."""
    fields = [f" {json.dumps(key)}: {json.dumps(value)}" for key, value in header.items()]
    yield "{\n" + "".join(f"{line},\n" for line in fields) + ' "events": [\n'
    first = True
    for row in rows:
        yield ("" if first else ",\n") + "  " + json.dumps(export_record(row))
        first = False
    yield "\n ]\n}\n"
