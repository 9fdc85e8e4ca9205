"""The governance report as people read it: sections of rows, each figure in words, the
bars of its chart, and a sentence that sums it up. The page, the CSV and the PDF all show
these, so small numbers are suppressed here, once, for all three.

Suppression (the report that goes to trustees): a count from 1 to `below` - 1 is shown as
"fewer than `below`"; a share worked out from such a count (its cases, those on time, or
those not) and a change from or to one are "not shown"; so is an average over one. Zero
is shown: it identifies nobody.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tracker.cases.listing import reference_sort_key
from tracker.cases.models import Platform, Source, Track
from tracker.clock import uk_date
from tracker.db import LabelledEnum
from tracker.reports.periods import Period
from tracker.reports.queries import ONGOING
from tracker.reports.services import UNTRIAGED, Pair, ReportData, SchoolFigures, Timeliness
from tracker.workflow.models import AllegationOutcome, LowLevelOutcome, Sanction

NOT_SHOWN = "not shown"
# A change with nothing to compare: no cases in one of the periods.
NO_COMPARISON = "no comparison"
# The chart's drawing: its width, the room for labels and values, one bar's band.
CHART_WIDTH = 760
LABEL_WIDTH = 300
VALUE_ROOM = 130
ROW_HEIGHT = 30
BAR_HEIGHT = 18
BAR_SPACE = CHART_WIDTH - LABEL_WIDTH - VALUE_ROOM - 20

TARGET_WORDS = {1: "most cases", 3: "nearly all", 12: "all but exceptional"}
AGE_WORDS = {
    "under_1": "Under 1 month",
    "under_3": "1 to 3 months",
    "under_12": "3 to 12 months",
    "over_12": "More than 12 months",
}
SUSPENSION_WORDS = {
    "up_to_14": "Up to 2 weeks",
    "up_to_31": "2 weeks to 1 month",
    "up_to_92": "1 to 3 months",
    "longer": "More than 3 months",
    ONGOING: "Not ended yet",
}
OUTCOME_CHART_LABELS = {
    **{f"Allegation: {o.label.lower()}": o.label for o in AllegationOutcome},
    **{f"Low-level concern: {o.label.lower()}": o.label for o in LowLevelOutcome},
}
LADO_WORDS = {
    "on_time": "Referred within the deadline",
    "late": "Referred after the deadline",
    "overdue": "Not referred yet, past the deadline",
    "waiting": "Not referred yet, deadline still to come",
}


@dataclass(frozen=True)
class Figure:
    """One figure: the words a page shows, what a CSV cell holds (a number where it is
    one), and the value a chart draws (None: no bar)."""

    text: str
    csv: int | str
    value: float | None = None


@dataclass(frozen=True)
class Row:
    label: str
    current: Figure
    previous: Figure
    change: Figure
    chart_label: str = ""
    bar_width: int = 0  # in the chart's units; 0 draws no bar
    in_chart: bool = True  # False: a row of the table only (an average under the counts)

    @property
    def value_x(self) -> int:
        return LABEL_WIDTH + 10 + self.bar_width + 6


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    summary: str  # one sentence, for screen readers (and under the chart's title)
    rows: list[Row]
    label_heading: str
    current_heading: str = "This period"
    previous_heading: str = "Previous period"
    notes: tuple[str, ...] = ()
    chart: bool = True

    @property
    def chart_rows(self) -> list[Row]:
        return [row for row in self.rows if row.in_chart]

    @property
    def chart_height(self) -> int:
        return ROW_HEIGHT * len(self.chart_rows) + 10

    @property
    def chart_id(self) -> str:
        return f"chart-{self.key}"


@dataclass(frozen=True)
class SchoolRow:
    name: str
    cases: Figure
    previous_cases: Figure
    allegations: Figure
    within_a_month: Figure
    lado_on_time: Figure


@dataclass(frozen=True)
class ReportView:
    data: ReportData
    suppressed_below: int | None
    sections: list[Section]
    schools: list[SchoolRow] = field(default_factory=list)

    @property
    def period(self) -> Period:
        return self.data.period

    @property
    def previous(self) -> Period:
        return self.data.previous


class Suppressor:
    """Figures in words, with small counts suppressed when `below` is set."""

    def __init__(self, below: int | None) -> None:
        self.below = below if below and below > 1 else None

    def hides(self, count: int) -> bool:
        return self.below is not None and 0 < count < self.below

    def count(self, count: int) -> Figure:
        if self.hides(count):
            words = f"fewer than {self.below}"
            return Figure(words, words)
        return Figure(f"{count:,}", count, count)

    def change(self, pair: Pair) -> Figure:
        if self.hides(pair.current) or self.hides(pair.previous):
            return Figure(NOT_SHOWN, NOT_SHOWN)
        return _difference(pair.current - pair.previous, "")

    def share(self, met: int, judged: int) -> Figure:
        """`met` of `judged` as a percentage, with the counts it comes from."""
        if judged == 0:
            return Figure("no cases", "no cases")
        if self.hides(met) or self.hides(judged) or self.hides(judged - met):
            return Figure(NOT_SHOWN, NOT_SHOWN)
        percent = round(100 * met / judged)
        text = f"{percent}% ({met:,} of {judged:,})"
        return Figure(text, text, percent)

    def share_change(self, met: Pair, judged: Pair) -> Figure:
        if not (judged.current and judged.previous):
            return Figure(NO_COMPARISON, NO_COMPARISON)
        now = self.share(met.current, judged.current)
        before = self.share(met.previous, judged.previous)
        if now.value is None or before.value is None:
            return Figure(NOT_SHOWN, NOT_SHOWN)
        return _difference(int(now.value - before.value), " percentage points")

    def average(self, total: int, count: int, unit: str) -> Figure:
        if count == 0:
            return Figure("none", "none")
        if self.hides(count):
            return Figure(NOT_SHOWN, NOT_SHOWN)
        value = round(total / count)
        return Figure(f"{value:,} {unit}", value, value)


def _difference(difference: int, unit: str) -> Figure:
    if difference == 0:
        return Figure("no change", 0)
    way = "up" if difference > 0 else "down"
    return Figure(f"{way} {abs(difference):,}{unit}", difference)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _short(label: str) -> str:
    """A chart's label: the words before any bracket."""
    return label.split(" (")[0]


def _count_rows(
    figures: Suppressor, pairs: Iterable[tuple[str, Pair]], *, chart_labels: Mapping[str, str]
) -> list[Row]:
    return [
        Row(
            label=label,
            current=figures.count(pair.current),
            previous=figures.count(pair.previous),
            change=figures.change(pair),
            chart_label=chart_labels.get(label, _short(label)),
        )
        for label, pair in pairs
    ]


def _with_bars(rows: list[Row], *, scale: float | None = None) -> list[Row]:
    """The rows with their bars drawn to the largest value shown (or to `scale`)."""
    shown = [row.current.value for row in rows if row.current.value is not None]
    top = scale or max(shown, default=0)
    return [
        Row(
            label=row.label,
            current=row.current,
            previous=row.previous,
            change=row.change,
            chart_label=row.chart_label,
            bar_width=round(BAR_SPACE * row.current.value / top)
            if top and row.current.value
            else 0,
        )
        for row in rows
    ]


def _summary(title: str, period_label: str, rows: list[Row], empty: str) -> str:
    if not rows:
        return empty
    parts = "; ".join(f"{row.label.lower()}: {row.current.text}" for row in rows)
    return f"{title}, {period_label[:1].lower()}{period_label[1:]}: {parts}."


def _labelled(enum_members: Iterable[LabelledEnum], pairs: Mapping[str, Pair], *, all_: bool):
    """(label, pair) for each member, in the enum's order: all of them, or those with a
    case in either period."""
    for member in enum_members:
        pair = pairs.get(member.value, Pair())
        if all_ or pair.current or pair.previous:
            yield member.label, pair


def _count_section(
    key: str,
    title: str,
    rows: list[Row],
    *,
    period_label: str,
    label_heading: str,
    notes: tuple[str, ...] = (),
    empty: str = "No concerns were reported in this period or the one before.",
) -> Section:
    return Section(
        key=key,
        title=title,
        summary=_summary(title, period_label, rows, empty),
        rows=_with_bars(rows),
        label_heading=label_heading,
        notes=notes,
        chart=bool(rows),
    )


def present(data: ReportData, *, suppress_below: int | None) -> ReportView:
    """The report as shown, suppressed for trustees when `suppress_below` is set."""
    figures = Suppressor(suppress_below)
    label = data.period.label
    sections = [
        _overview(data, figures),
        _count_section(
            "track",
            "Concerns by track",
            _count_rows(
                figures,
                [
                    *_labelled(Track, data.by_track, all_=True),
                    ("Not triaged yet", data.by_track.get(UNTRIAGED, Pair())),
                ],
                chart_labels={},
            ),
            period_label=label,
            label_heading="Track",
        ),
        _count_section(
            "source",
            "Concerns by how they came to light",
            _count_rows(figures, _labelled(Source, data.by_source, all_=True), chart_labels={}),
            period_label=label,
            label_heading="How it came to light",
        ),
        _count_section(
            "platform",
            "Concerns by platform",
            _count_rows(
                figures, _labelled(Platform, data.by_platform, all_=False), chart_labels={}
            ),
            period_label=label,
            label_heading="Platform",
            notes=("Platforms with no concerns in either period are left out.",),
        ),
        _clause_section(data, figures),
        _count_section(
            "outcome",
            "Outcomes of decided cases",
            _count_rows(
                figures,
                [
                    *(
                        (f"Allegation: {outcome.label.lower()}", pair)
                        for outcome, pair in _members(AllegationOutcome, data.by_outcome)
                    ),
                    *(
                        (f"Low-level concern: {outcome.label.lower()}", pair)
                        for outcome, pair in _members(LowLevelOutcome, data.by_outcome)
                    ),
                ],
                chart_labels=OUTCOME_CHART_LABELS,
            ),
            period_label=label,
            label_heading="Outcome",
            notes=(
                "Cases reported in the period that have been decided, by the decision in "
                "force (after any appeal). Outcomes no case has had are left out.",
            ),
            empty="No case reported in this period or the one before has been decided.",
        ),
        _count_section(
            "sanction",
            "Sanctions of decided cases",
            _count_rows(
                figures, _labelled(Sanction, data.by_sanction, all_=False), chart_labels={}
            ),
            period_label=label,
            label_heading="Sanction",
            notes=(
                "The sanction in force after any appeal. Sanctions no case has had are left out.",
            ),
            empty="No case reported in this period or the one before has been decided.",
        ),
        _timeliness_section(data, figures),
        _count_section(
            "lado",
            "Referrals of allegations to the LADO",
            _count_rows(
                figures,
                [(LADO_WORDS[state], data.lado[state]) for state in LADO_WORDS],
                chart_labels={},
            ),
            period_label=label,
            label_heading="Referral",
            notes=(
                "Allegations reported in the period. The deadline is the school's number of "
                "working days after triage (1 unless the school sets another), weekends and "
                "England and Wales bank holidays not counted, at 17:00.",
            ),
            empty="No allegations were reported in this period or the one before.",
        ),
        _open_section(data, figures),
        _suspension_section(data, figures),
    ]
    return ReportView(
        data=data,
        suppressed_below=figures.below,
        sections=sections,
        schools=[_school_row(school, figures) for school in data.schools],
    )


def _members(enum: Iterable[LabelledEnum], pairs: Mapping[str, Pair]):
    for member in enum:
        pair = pairs.get(member.value)
        if pair is not None and (pair.current or pair.previous):
            yield member, pair


def _overview(data: ReportData, figures: Suppressor) -> Section:
    open_now = Pair(
        sum(pair.current for pair in data.open_by_age.values()),
        sum(pair.previous for pair in data.open_by_age.values()),
    )
    suspensions = Pair(
        sum(pair.current for pair in data.suspensions.values()),
        sum(pair.previous for pair in data.suspensions.values()),
    )
    rows = _count_rows(
        figures,
        [
            ("Concerns reported", data.cases),
            ("Of which allegations", data.by_track.get(Track.ALLEGATION.value, Pair())),
            ("Of which decided, closed or withdrawn by now", data.resolved),
            (
                f"Cases open at the end of the period ({uk_date(data.as_at)} and "
                f"{uk_date(data.previous_as_at)})",
                open_now,
            ),
            ("Suspensions begun", suspensions),
        ],
        chart_labels={},
    )
    return Section(
        key="overview",
        title="At a glance",
        summary=_sentence(
            f"{rows[0].current.text} concerns were reported in this period, against "
            f"{rows[0].previous.text} in the period before."
        ),
        rows=rows,
        label_heading="Figure",
        chart=False,
    )


def _clause_section(data: ReportData, figures: Suppressor) -> Section:
    references = sorted(data.by_clause, key=reference_sort_key)
    labels = {ref: f"{ref} {data.clause_headings.get(ref, '')}".strip() for ref in references}
    rows = _count_rows(
        figures,
        [(labels[ref], data.by_clause[ref]) for ref in references],
        chart_labels={labels[ref]: f"Clause {ref}" for ref in references},
    )
    return _count_section(
        "clause",
        "Concerns by clause of the policy cited",
        rows,
        period_label=data.period.label,
        label_heading="Clause",
        notes=(
            "A case citing several clauses is counted under each; clauses are matched by "
            "reference across versions of the policy.",
        ),
    )


def _target_rows(figures: Suppressor, timeliness: Timeliness, prefix: str) -> list[Row]:
    rows = []
    for months, words in TARGET_WORDS.items():
        met, judged = timeliness.met[months], timeliness.judged[months]
        unit = "month" if months == 1 else "months"
        label = f"{prefix}resolved within {months} {unit} ({words})"
        rows.append(
            Row(
                label=label[:1].upper() + label[1:],
                current=figures.share(met.current, judged.current),
                previous=figures.share(met.previous, judged.previous),
                change=figures.share_change(met, judged),
                chart_label=f"{prefix}within {months} {unit}".capitalize(),
            )
        )
    return rows


def _timeliness_section(data: ReportData, figures: Suppressor) -> Section:
    lado_judged = Pair(
        *(
            sum(getattr(data.lado[state], side) for state in ("on_time", "late", "overdue"))
            for side in ("current", "previous")
        )
    )
    lado_met = data.lado["on_time"]
    rows = [
        *_target_rows(figures, data.timeliness, ""),
        *_target_rows(figures, data.allegation_timeliness, "Allegations "),
        Row(
            label="Allegations referred to the LADO within the deadline",
            current=figures.share(lado_met.current, lado_judged.current),
            previous=figures.share(lado_met.previous, lado_judged.previous),
            change=figures.share_change(lado_met, lado_judged),
            chart_label="LADO referral in time",
        ),
    ]
    summary = "; ".join(f"{row.label.lower()}: {row.current.text}" for row in rows)
    return Section(
        key="timeliness",
        title="KCSIE timeliness",
        summary=f"Of the cases reported in this period, {summary}.",
        rows=_with_bars(rows, scale=100),
        label_heading="Target",
        notes=(
            "Keeping children safe in education (Part Four) expects most cases to be "
            "resolved within 1 month, nearly all within 3 and all but exceptional cases "
            "within 12. A case is resolved on the day of its first decision, or the day it "
            "was closed or withdrawn without one. Each target counts the cases reported in "
            "the period that are resolved, and those still open after it has passed; a "
            "case still open within it is not counted yet.",
        ),
    )


def _open_section(data: ReportData, figures: Suppressor) -> Section:
    rows = _count_rows(
        figures,
        [(AGE_WORDS[band], data.open_by_age[band]) for band in AGE_WORDS],
        chart_labels={},
    )
    title = "Open cases by time since they were reported"
    return Section(
        key="open",
        title=title,
        summary=_summary(title, f"at {uk_date(data.as_at)}", rows, ""),
        rows=_with_bars(rows),
        label_heading="Open for",
        current_heading=f"At {uk_date(data.as_at)}",
        previous_heading=f"At {uk_date(data.previous_as_at)}",
        notes=(
            "Cases not closed or withdrawn at the end of each period (or today, for a "
            "period not over yet), whenever they were reported.",
        ),
    )


def _suspension_section(data: ReportData, figures: Suppressor) -> Section:
    rows = _count_rows(
        figures,
        [(SUSPENSION_WORDS[band], data.suspensions[band]) for band in SUSPENSION_WORDS],
        chart_labels={},
    )
    ended = Pair(
        *(
            sum(getattr(pair, side) for band, pair in data.suspensions.items() if band != ONGOING)
            for side in ("current", "previous")
        )
    )
    now = figures.average(data.suspension_days.current, ended.current, "days")
    before = figures.average(data.suspension_days.previous, ended.previous, "days")
    if not (ended.current and ended.previous):
        change = Figure(NO_COMPARISON, NO_COMPARISON)
    elif now.value is None or before.value is None:
        change = Figure(NOT_SHOWN, NOT_SHOWN)
    else:
        change = _difference(int(now.value - before.value), " days")
    title = "Suspensions begun, by length"
    summary = _summary(title, data.period.label, rows, "")
    charted = _with_bars(rows)
    average = Row("Average length of those ended", now, before, change, in_chart=False)
    return Section(
        key="suspensions",
        title=title,
        summary=f"{summary[:-1]}; average length of those ended: {now.text}.",
        rows=[*charted, average],
        label_heading="Length",
        notes=(
            "Suspensions that began in each period, of the subjects of cases in the "
            "report. Length counts the first and last days.",
        ),
    )


def _school_row(school: SchoolFigures, figures: Suppressor) -> SchoolRow:
    lado_judged = sum(school.lado[state].current for state in ("on_time", "late", "overdue"))
    return SchoolRow(
        name=school.name,
        cases=figures.count(school.cases.current),
        previous_cases=figures.count(school.cases.previous),
        allegations=figures.count(school.allegations.current),
        within_a_month=figures.share(
            school.timeliness.met[1].current, school.timeliness.judged[1].current
        ),
        lado_on_time=figures.share(school.lado["on_time"].current, lado_judged),
    )
