"""The governance report as files: a CSV of every figure, and the trustee report as a PDF.

Both carry what the page shows (tracker/reports/present.py), suppressed the same way.
Every text cell of the CSV is made safe for spreadsheets (a cell starting = + - @, a tab
or a carriage return gets a leading apostrophe), numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from tracker.audit.export import spreadsheet_safe
from tracker.clock import uk_date, uk_datetime, uk_time
from tracker.privacy.pdf import render_pdf
from tracker.reports.present import ReportView

CSV_COLUMNS = ("section", "measure", "this_period", "previous_period", "change")


def _about(view: ReportView, produced_at: datetime) -> list[list[Any]]:
    data = view.data
    lines: list[list[Any]] = [
        ["Governance report", data.place],
        [
            "Period",
            data.period.label,
            f"{uk_date(data.period.start)} to {uk_date(data.period.end)}",
        ],
        ["Compared with", data.previous.label],
        ["Produced", uk_datetime(produced_at)],
    ]
    if view.suppressed_below:
        lines.append(
            [
                "Small numbers",
                f"Counts from 1 to {view.suppressed_below - 1} are shown as "
                f"\u201cfewer than {view.suppressed_below}\u201d; shares and changes "
                "worked out from them are not shown.",
            ]
        )
    return lines


def csv_text(view: ReportView, *, produced_at: datetime) -> str:
    """The report as CSV: a few lines saying what it is, a blank line, then one row per
    figure (section, measure, this period, previous period, change)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def write(cells: list[Any]) -> None:
        writer.writerow([spreadsheet_safe(cell) for cell in cells])

    for line in _about(view, produced_at):
        write(line)
    write([])
    write(list(CSV_COLUMNS))
    for section in view.sections:
        for row in section.rows:
            write([section.title, row.label, row.current.csv, row.previous.csv, row.change.csv])
    for school in view.schools:
        for measure, current, previous in (
            ("concerns reported", school.cases, school.previous_cases),
            ("allegations", school.allegations, None),
            ("resolved within 1 month", school.within_a_month, None),
            ("LADO referrals within the deadline", school.lado_on_time, None),
        ):
            write(
                [
                    "By school",
                    f"{school.name}: {measure}",
                    current.csv,
                    previous.csv if previous else "",
                    "",
                ]
            )
    # A byte-order mark, so that spreadsheet programs read the text as UTF-8.
    return "\ufeff" + buffer.getvalue()


def pdf_bytes(view: ReportView, *, produced_at: datetime, trust_name: str) -> bytes:
    """The trustee report (PdfUnavailable if the PDF library cannot load)."""
    return render_pdf(
        "reports/pdf.html", report=view, produced_at=produced_at, trust_name=trust_name
    )


def filename(view: ReportView, produced_at: datetime, extension: str) -> str:
    data = view.data
    return (
        f"governance-report-{data.period.start.isoformat()}-to-{data.period.end.isoformat()}"
        f"-{uk_time(produced_at):%Y%m%d-%H%M}.{extension}"
    )
