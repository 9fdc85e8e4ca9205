"""The case list as a CSV file: every case the filters match, in the list's order, with
what the list shows. Cells a spreadsheet would run as a formula are made text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from tracker.audit.export import spreadsheet_safe
from tracker.cases.listing import cited_in_order
from tracker.cases.models import CaseStatus, Platform, Source, Track

CSV_COLUMNS = (
    "reference",
    "school",
    "member_of_staff",
    "status",
    "track",
    "clauses_cited",
    "platform",
    "how_it_came_to_light",
    "occurred_on",
    "reported_on",
)


def _label(enum: Any, value: str | None, default: str = "") -> str:
    if not value:
        return default
    member = enum._value2member_map_.get(value)
    return member.label if member is not None else value


def cells(row: Any) -> list[Any]:
    """One case from `export_query` as the file's cells."""
    platform = (
        row.platform_detail
        if row.platform == Platform.OTHER and row.platform_detail
        else _label(Platform, row.platform)
    )
    return [
        row.reference,
        row.school,
        row.subject,
        _label(CaseStatus, row.status),
        _label(Track, row.track, "Not triaged"),
        ", ".join(cited_in_order(row.cited_references)),
        platform,
        _label(Source, row.source),
        row.occurred_on.isoformat(),
        row.reported_on.isoformat(),
    ]


def csv_text(rows: Iterable[Any], *, truncated_at: int | None) -> str:
    """The file: a header line, a line per case and, when more cases matched than a file
    holds (`truncated_at`), a last line saying so."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in cells(row)])
    if truncated_at is not None:
        writer.writerow(
            [
                f"This file holds the first {truncated_at:,} cases in the list's order; more "
                "match. Narrow the filters (by dates, say) and download the rest separately."
            ]
        )
    # A byte-order mark, so that spreadsheet programs read the names as UTF-8.
    return "\ufeff" + buffer.getvalue()
