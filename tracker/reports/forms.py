"""The governance report's choices: a GET form (no CSRF token), never a 500 on a hand-made
address, every problem shown at once with what was typed kept."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovSelect
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from tracker.clock import uk_date
from tracker.forms import GetForm, GovDateField, enum_choices, radios
from tracker.reports import periods
from tracker.reports.periods import EARLIEST, LATEST, TERM_DEFINITION, Period, PeriodKind


def _unchecked_select(label: str, *, description: str = "") -> SelectField:
    """A drop-down list whose answer the form checks itself, and only when it matters."""
    return SelectField(
        label, widget=GovSelect(), description=description, coerce=str, validate_choice=False
    )


@dataclass(frozen=True)
class ReportChoice:
    """What the report is for: the kind of period, its dates, and one school or none."""

    kind: PeriodKind
    period: Period
    school_id: int | None

    def args(self) -> dict[str, Any]:
        """The same choice as an address's query string (for the download links)."""
        found: dict[str, Any] = {"period": self.kind.value}
        if self.kind is PeriodKind.TERM:
            found["term"] = periods.term_code(self.period)
        elif self.kind is PeriodKind.YEAR:
            found["year"] = str(self.period.start.year)
        else:
            found["start"] = _date_parts(self.period.start)
            found["end"] = _date_parts(self.period.end)
        if self.school_id is not None:
            found["school"] = str(self.school_id)
        return found


def _date_parts(day: date) -> list[str]:
    """A date as the three boxes of the date input send it: day, month, year."""
    return [str(day.day), str(day.month), str(day.year)]


class ReportForm(GetForm):
    period = radios(
        "Which period should the report cover?",
        enum_choices(PeriodKind),
        default=PeriodKind.TERM.value,
        invalid_choice_message="Choose which period the report should cover",
    )
    term = _unchecked_select("Term", description=TERM_DEFINITION)
    year = _unchecked_select(
        "Academic year", description="From 1 September to 31 August the year after."
    )
    start = GovDateField(
        "Start date",
        required=False,
        description="For example, 1 9 2026",
        invalid="The start date must be a real date",
    )
    end = GovDateField(
        "End date",
        required=False,
        description="For example, 31 12 2026",
        invalid="The end date must be a real date",
    )
    school = _unchecked_select("School")

    def offer(self, *, today: date, schools: list[tuple[int, str]], whole_trust: bool) -> None:
        """Fill the choices: terms and years up to today, the schools in the viewer's
        reach (no school list for one school)."""
        self._terms = {periods.term_code(p): p for p in periods.terms_offered(today)}
        self._years = {str(p.start.year): p for p in periods.years_offered(today)}
        self.term.choices = [SelectChoice(code, p.label) for code, p in self._terms.items()]
        self.year.choices = [SelectChoice(code, p.label) for code, p in self._years.items()]
        self._school_ids = {str(school_id) for school_id, _ in schools}
        if len(schools) > 1:
            everyone = "All schools in the trust" if whole_trust else "All your schools"
            self.school.choices = [
                SelectChoice("", everyone),
                *(SelectChoice(str(school_id), name) for school_id, name in schools),
            ]
        else:
            del self.school
        if not self.term.data:
            self.term.data = periods.term_code(periods.term_of(today))
        if not self.year.data:
            self.year.data = str(periods.academic_year_of(today))

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        valid: bool = super().validate(extra_validators)
        kind = self.period.data
        if kind == PeriodKind.TERM and self.term.data not in self._terms:
            self.term.errors = ["Choose a term from the list"]
            valid = False
        elif kind == PeriodKind.YEAR and self.year.data not in self._years:
            self.year.errors = ["Choose an academic year from the list"]
            valid = False
        elif kind == PeriodKind.DATES and not self._dates_valid():
            valid = False
        school = getattr(self, "school", None)
        if school is not None and school.data and school.data not in self._school_ids:
            school.errors = ["Choose a school from the list"]
            valid = False
        return valid

    def _dates_valid(self) -> bool:
        start, end = self.start.data, self.end.data
        if start is None and not self.start.errors:
            self.start.errors.append("Enter the start date")
        if end is None and not self.end.errors:
            self.end.errors.append("Enter the end date")
        if start is not None and start < EARLIEST:
            self.start.errors.append(f"The start date must be on or after {uk_date(EARLIEST)}")
        if end is not None and end > LATEST:
            self.end.errors.append(f"The end date must be on or before {uk_date(LATEST)}")
        if start is not None and end is not None and end <= start and not self.end.errors:
            self.end.errors.append("The end date must be after the start date")
        return not (self.start.errors or self.end.errors)

    def choice(self) -> ReportChoice:
        """The checked choice (call after `validate`)."""
        kind = PeriodKind(self.period.data)
        if kind is PeriodKind.TERM:
            period = self._terms[self.term.data]
        elif kind is PeriodKind.YEAR:
            period = self._years[self.year.data]
        else:
            period = periods.dates(self.start.data, self.end.data)
        school = getattr(self, "school", None)
        school_id = int(school.data) if school is not None and school.data else None
        return ReportChoice(kind=kind, period=period, school_id=school_id)
