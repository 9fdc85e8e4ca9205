"""The governance report: its figures for a period and a school or the trust, read with
tracker/reports/queries.py, and the audit events of viewing and exporting it.

`build_report` runs three grouped statements and sums their few dozen rows into
`ReportData`: plain numbers for this period and the one before, which
tracker/reports/present.py turns into what the page, the CSV and the PDF show (and
suppresses for trustees). The two `record_` functions are the report's only writes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.audit.services import DetailValue
from tracker.auth.models import User
from tracker.cases.models import Track
from tracker.extensions import db
from tracker.reports.periods import Period
from tracker.reports.queries import (
    AGE_BANDS,
    ONGOING,
    SUSPENSION_BANDS,
    TARGET_MONTHS,
    Part,
    ReportScope,
    Window,
    cases_query,
    open_age_query,
    suspension_query,
)

LADO_STATES = ("on_time", "late", "overdue", "waiting")
# The track of a case not yet triaged.
UNTRIAGED = ""


@dataclass
class Pair:
    """A count in the report's period and in the period before it."""

    current: int = 0
    previous: int = 0

    def add(self, current: bool, value: int) -> None:
        if current:
            self.current += value
        else:
            self.previous += value


def _pairs() -> defaultdict[str, Pair]:
    return defaultdict(Pair)


@dataclass
class Timeliness:
    """KCSIE's targets for a set of cases: per target (months), how many were resolved
    within it and how many it can be judged for."""

    met: defaultdict[int, Pair] = field(default_factory=lambda: defaultdict(Pair))
    judged: defaultdict[int, Pair] = field(default_factory=lambda: defaultdict(Pair))


@dataclass
class SchoolFigures:
    school_id: int
    name: str
    cases: Pair = field(default_factory=Pair)
    allegations: Pair = field(default_factory=Pair)
    timeliness: Timeliness = field(default_factory=Timeliness)
    lado: defaultdict[str, Pair] = field(default_factory=_pairs)


@dataclass
class ReportData:
    period: Period
    previous: Period
    # The school reported on, or None for every school the report reaches.
    school_id: int | None
    place: str  # the school's name, or the trust's ("all schools")
    # The days open cases are counted at: each period's end, or today if sooner.
    as_at: date
    previous_as_at: date
    cases: Pair = field(default_factory=Pair)
    resolved: Pair = field(default_factory=Pair)
    by_track: defaultdict[str, Pair] = field(default_factory=_pairs)
    by_source: defaultdict[str, Pair] = field(default_factory=_pairs)
    by_platform: defaultdict[str, Pair] = field(default_factory=_pairs)
    by_clause: defaultdict[str, Pair] = field(default_factory=_pairs)
    clause_headings: dict[str, str] = field(default_factory=dict)
    by_outcome: defaultdict[str, Pair] = field(default_factory=_pairs)
    by_sanction: defaultdict[str, Pair] = field(default_factory=_pairs)
    timeliness: Timeliness = field(default_factory=Timeliness)
    allegation_timeliness: Timeliness = field(default_factory=Timeliness)
    lado: defaultdict[str, Pair] = field(default_factory=_pairs)
    open_by_age: defaultdict[str, Pair] = field(default_factory=_pairs)
    suspensions: defaultdict[str, Pair] = field(default_factory=_pairs)
    suspension_days: Pair = field(default_factory=Pair)
    # Per school, for a report over more than one school (empty for one school).
    schools: list[SchoolFigures] = field(default_factory=list)


def build_report(
    scope: ReportScope,
    period: Period,
    *,
    place: str,
    school_names: dict[int, str],
    today: date,
    now: datetime,
) -> ReportData:
    """The report's figures for `period` and the period of the same length before it.

    Guard: none here (the view checks `can_read_reports` and builds `scope` from
    `report_scope`, narrowed to a school in it). Side effects: none; three statements.
    """
    previous = period.previous()
    window = Window(start=previous.start, split=period.start, end=period.end)
    data = ReportData(
        period=period,
        previous=previous,
        school_id=scope.school_id,
        place=place,
        as_at=min(period.end, today),
        previous_as_at=min(previous.end, today),
    )
    per_school = len(school_names) > 1 and scope.school_id is None
    schools = {
        school_id: SchoolFigures(school_id, name) for school_id, name in school_names.items()
    }
    for row in db.session.execute(cases_query(scope, window, today=today, now=now)):
        current = bool(row.current)
        if row.part == Part.SCHOOL_TRACK:
            _add_school_track(data, schools.get(int(row.key)), row, current)
        elif row.part == Part.SOURCE_PLATFORM:
            data.by_source[row.key].add(current, row.cases)
            data.by_platform[row.detail].add(current, row.cases)
        elif row.part == Part.OUTCOME:
            data.by_outcome[row.key].add(current, row.cases)
            data.by_sanction[row.detail].add(current, row.cases)
        else:
            data.by_clause[row.key].add(current, row.cases)
            data.clause_headings.setdefault(row.key, row.detail)
    if per_school:
        data.schools = [
            figures
            for figures in schools.values()
            if figures.cases.current or figures.cases.previous
        ]
    for band, _months in AGE_BANDS:
        data.open_by_age[band] = Pair()
    ages = open_age_query(scope, as_at=data.as_at, previous_as_at=data.previous_as_at)
    for row in db.session.execute(ages):
        if row.now is not None:
            data.open_by_age[row.now].current += row.cases
        if row.before is not None:
            data.open_by_age[row.before].previous += row.cases
    for band in (*(name for name, _most in SUSPENSION_BANDS), ONGOING):
        data.suspensions[band] = Pair()  # every band, in order, even at 0
    for row in db.session.execute(suspension_query(scope, window, today=today)):
        data.suspensions[row.band].add(row.current, row.suspensions)
        data.suspension_days.add(row.current, row.days or 0)
    return data


def _add_school_track(
    data: ReportData, school: SchoolFigures | None, row: Any, current: bool
) -> None:
    track = row.detail or UNTRIAGED
    data.cases.add(current, row.cases)
    data.resolved.add(current, row.resolved)
    data.by_track[track].add(current, row.cases)
    sets = [data.timeliness]
    if track == Track.ALLEGATION:
        sets.append(data.allegation_timeliness)
    if school is not None:
        school.cases.add(current, row.cases)
        if track == Track.ALLEGATION:
            school.allegations.add(current, row.cases)
        sets.append(school.timeliness)
    for months in TARGET_MONTHS:
        for figures in sets:
            figures.met[months].add(current, getattr(row, f"met_{months}"))
            figures.judged[months].add(current, getattr(row, f"judged_{months}"))
    for state in LADO_STATES:
        value = getattr(row, f"lado_{state}")
        data.lado[state].add(current, value)
        if school is not None:
            school.lado[state].add(current, value)


# --- the audit trail ----------------------------------------------------------------------


def _details(data: ReportData, filters: dict[str, DetailValue]) -> dict[str, DetailValue]:
    """The filters as codes and the report's size as counts: never a figure by category
    (a count of one could point at a person)."""
    return {
        **filters,
        "from": data.period.start.isoformat(),
        "to": data.period.end.isoformat(),
        "school_id": data.school_id,
        "cases": data.cases.current,
        "cases_before": data.cases.previous,
    }


def record_report_viewed(data: ReportData, *, period_kind: str, suppressed: bool, by: User) -> None:
    """report.viewed: the kind of period, its dates, the school (or none: every school in
    the viewer's reach), whether small numbers were suppressed, and how many cases it
    counted in each period.

    Guard: none here (the view checks the viewer may read the report). Side effects: one
    event, two statements; the caller commits.
    """
    audit.record(
        AuditAction.REPORT_VIEWED,
        actor=by,
        object_type="report",
        school_id=data.school_id,
        details=_details(data, {"period": period_kind, "suppressed": suppressed}),
    )


def record_report_exported(
    data: ReportData, *, period_kind: str, file_format: str, suppressed: bool, by: User
) -> None:
    """report.exported: as report.viewed, with the file's format (csv or pdf).

    Guard: none here (the view checks the viewer may read the report). Side effects: one
    event, two statements; the caller commits before the file is sent, so that a file
    whose event could not be written is never sent.
    """
    audit.record(
        AuditAction.REPORT_EXPORTED,
        actor=by,
        object_type="report",
        school_id=data.school_id,
        details=_details(
            data, {"period": period_kind, "format": file_format, "suppressed": suppressed}
        ),
    )
