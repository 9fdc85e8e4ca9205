"""The governance report at trust scale, through the real pages: the chief executive's
report for the last full academic year, for the current term (the page with no choices)
and for the trust's whole history; a headteacher's year for one school; the chair's year
(small numbers suppressed); the year's CSV and PDF. Beside them, a reference measured in
the same run: the report's three grouped statements for the chief executive's year, run
through SQLAlchemy Core on a connection of their own, without the page around them."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from bench.run import PageFigures, signed_in, time_pages
from bench.seed import YEARS, BenchUser
from tracker.auth.permissions import SchoolScope
from tracker.cases.models import Case
from tracker.db import utcnow
from tracker.extensions import db
from tracker.reports import periods, queries

# The budget of issue 19: the report at 100,000 cases, p95, on either database.
REPORT_P95_MS = 300.0
# A PDF is rendered by WeasyPrint; timed fewer times (not budgeted).
PDF_REQUESTS = 10

PAGES = {
    "report_year": "chief executive, last academic year, the trust",
    "report_term": "chief executive, this term, the trust",
    "report_history": f"chief executive, {YEARS} years, the trust",
    "report_head": "headteacher, last academic year, one school",
    "report_chair": "chair of trustees, last academic year (suppressed)",
    "report_csv": "CSV of the last academic year, the trust",
}


@dataclass
class ReportFigures:
    pages: dict[str, PageFigures] = field(default_factory=dict)
    pdf: PageFigures | None = None
    # Cases the year's and the history's reports count (this period and the one before).
    cases_year: int = 0
    cases_history: int = 0
    reference_p50_ms: float = 0.0
    reference_p95_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "pages": {name: figures.as_dict() for name, figures in self.pages.items()},
            "pdf": self.pdf.as_dict() if self.pdf else None,
            "cases_year": self.cases_year,
            "cases_history": self.cases_history,
            "reference_p50_ms": self.reference_p50_ms,
            "reference_p95_ms": self.reference_p95_ms,
        }


def _urls(today: date) -> dict[str, str]:
    year = periods.academic_year_of(today) - 1
    start = today - timedelta(days=365 * YEARS + 3)
    history = (
        f"period=dates&start={start.day}&start={start.month}&start={start.year}"
        f"&end={today.day}&end={today.month}&end={today.year}"
    )
    return {
        "year": f"/reports/?period=year&year={year}",
        "term": "/reports/",
        "history": f"/reports/?{history}",
        "csv": f"/reports/report.csv?period=year&year={year}",
        "pdf": f"/reports/report.pdf?period=year&year={year}",
    }


def _count(start: date, end: date) -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(Case).where(Case.reported_on.between(start, end))
        )
        or 0
    )


def _reference(ceo: BenchUser, trust_id: int, today: date, requests: int) -> list[float]:
    """The year's three statements, without the page: ms per run."""
    period = periods.academic_year(periods.academic_year_of(today) - 1)
    previous = period.previous()
    scope = queries.ReportScope(
        trust_id=trust_id,
        schools=SchoolScope(trust_id=trust_id, whole_trust=True, school_ids=frozenset()),
    )
    window = queries.Window(start=previous.start, split=period.start, end=period.end)
    now = utcnow()
    statements = [
        queries.cases_query(scope, window, today=today, now=now),
        queries.open_age_query(
            scope, as_at=min(period.end, today), previous_as_at=min(previous.end, today)
        ),
        queries.suspension_query(scope, window, today=today),
    ]
    db.session.remove()
    times = []
    with db.engine.connect() as connection:
        for number in range(requests + 5):
            started = time.perf_counter()
            for statement in statements:
                connection.execute(statement).fetchall()
            elapsed = (time.perf_counter() - started) * 1000
            connection.rollback()
            if number >= 5:
                times.append(elapsed)
    return times


def measure_report(
    app: Flask,
    users: list[BenchUser],
    requests: int,
    *,
    today: date,
    pdf_requests: int = PDF_REQUESTS,
) -> ReportFigures:
    ceo = next(user for user in users if user.role == "ceo")
    chair = next(user for user in users if user.role == "chair")
    head = next(user for user in users if user.role == "headteacher")
    urls = _urls(today)
    figures = ReportFigures()
    year = periods.academic_year(periods.academic_year_of(today) - 1)
    figures.cases_year = _count(year.previous().start, year.end)
    figures.cases_history = _count(today - timedelta(days=2 * (365 * YEARS + 3)), today)
    trust_id = db.session.scalar(select(Case.trust_id).limit(1)) or 0
    db.session.remove()
    ceo_client, chair_client, head_client = (signed_in(app, user) for user in (ceo, chair, head))
    scenarios = [
        ("report_year", ceo_client, urls["year"]),
        ("report_term", ceo_client, urls["term"]),
        ("report_history", ceo_client, urls["history"]),
        ("report_head", head_client, urls["year"]),
        ("report_chair", chair_client, urls["year"]),
        ("report_csv", ceo_client, urls["csv"]),
    ]
    for name, client, url in scenarios:
        figures.pages[name] = time_pages(name, client, lambda _n, url=url: url, requests)
    if pdf_requests:
        figures.pdf = time_pages("report_pdf", ceo_client, lambda _n: urls["pdf"], pdf_requests)
    times = _reference(ceo, trust_id, today, requests)
    figures.reference_p50_ms = round(statistics.median(times), 2)
    figures.reference_p95_ms = round(sorted(times)[round(0.95 * (len(times) - 1))], 2)
    return figures


def budgets(figures: ReportFigures) -> list[tuple[str, float, str, float]]:
    return [
        (f"governance report p95 (ms), {PAGES[name]}", page.p95_ms, "<=", REPORT_P95_MS)
        for name, page in figures.pages.items()
        if name != "report_csv"
    ]
