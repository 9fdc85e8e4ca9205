"""The periods a governance report covers: a school term, an academic year or two dates,
and the period of the same length just before it, to compare with.

Terms follow a simple definition, said on the report's page: autumn from 1 September to
31 December, spring from 1 January to 31 March, summer from 1 April to 31 August. (Real
terms move with Easter and each trust's calendar; a report needing exact dates takes two
dates.) An academic year runs from 1 September to 31 August. Pure date arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from tracker.clock import uk_date
from tracker.db import LabelledEnum

# The dates a report may cover: wide enough for any trust's records, narrow enough that
# the period before a period is still a date.
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
# What the page says of terms.
TERM_DEFINITION = (
    "Terms here are autumn, 1 September to 31 December; spring, 1 January to 31 March; "
    "and summer, 1 April to 31 August. For your own term dates, choose \u201cBetween two "
    "dates\u201d."
)
# How many academic years back the term and year lists go (the current one included).
YEARS_OFFERED = 10


class PeriodKind(LabelledEnum):
    TERM = "term", "A school term"
    YEAR = "year", "An academic year"
    DATES = "dates", "Between two dates"


class Season(LabelledEnum):
    AUTUMN = "autumn", "Autumn term"
    SPRING = "spring", "Spring term"
    SUMMER = "summer", "Summer term"


# (first month and day, last month and day) of each term, within its calendar year.
_TERM_DATES = {
    Season.AUTUMN: ((9, 1), (12, 31)),
    Season.SPRING: ((1, 1), (3, 31)),
    Season.SUMMER: ((4, 1), (8, 31)),
}


@dataclass(frozen=True)
class Period:
    """The days a report covers, both ends included, and what it is called."""

    kind: PeriodKind
    start: date
    end: date
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def dates_label(self) -> str:
        return f"{uk_date(self.start)} to {uk_date(self.end)}"

    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        start = end - timedelta(days=self.days - 1)
        return Period(PeriodKind.DATES, start, end, f"{uk_date(start)} to {uk_date(end)}")


def academic_year_of(day: date) -> int:
    """The calendar year an academic year starts in: 2026 for 1 September 2026 to 31 August
    2027."""
    return day.year if day.month >= 9 else day.year - 1


def term(year: int, season: Season) -> Period:
    """The term `season` in the calendar year `year` (autumn 2026 begins 1 September 2026)."""
    (first_month, first_day), (last_month, last_day) = _TERM_DATES[season]
    start, end = date(year, first_month, first_day), date(year, last_month, last_day)
    first_year = academic_year_of(start)
    return Period(PeriodKind.TERM, start, end, f"{season.label} {first_year} to {first_year + 1}")


def term_of(day: date) -> Period:
    """The term a day falls in."""
    for season, ((first_month, _), (last_month, _)) in _TERM_DATES.items():
        if first_month <= day.month <= last_month:
            return term(day.year, season)
    raise AssertionError("every month belongs to a term")  # pragma: no cover


def academic_year(first_year: int) -> Period:
    start, end = date(first_year, 9, 1), date(first_year + 1, 8, 31)
    return Period(PeriodKind.YEAR, start, end, f"Academic year {first_year} to {first_year + 1}")


def dates(start: date, end: date) -> Period:
    return Period(PeriodKind.DATES, start, end, f"{uk_date(start)} to {uk_date(end)}")


def term_code(period: Period) -> str:
    """How a term travels in an address: 2026-autumn."""
    return f"{period.start.year}-{term_season(period).value}"


def term_season(period: Period) -> Season:
    return next(
        season for season, ((month, _), _) in _TERM_DATES.items() if period.start.month == month
    )


def term_from_code(code: str | None) -> Period | None:
    """The term an address names (2026-autumn), or None when it names none."""
    year, _, season = (code or "").partition("-")
    if not (year.isdigit() and len(year) == 4) or season not in Season._value2member_map_:
        return None
    found = term(int(year), Season(season))
    return found if found.start >= EARLIEST and found.end <= LATEST else None


def year_from_code(code: str | None) -> Period | None:
    """The academic year an address names (2026: 2026 to 2027), or None."""
    text = code or ""
    if not (text.isdigit() and len(text) == 4):
        return None
    found = academic_year(int(text))
    return found if found.start >= EARLIEST and found.end <= LATEST else None


def terms_offered(today: date) -> list[Period]:
    """The terms to choose from, newest first: the current term and those before it, over
    YEARS_OFFERED academic years."""
    first_year = academic_year_of(today) - YEARS_OFFERED + 1
    found = []
    for year in range(academic_year_of(today), first_year - 1, -1):
        for season, calendar_year in (
            (Season.SUMMER, year + 1),
            (Season.SPRING, year + 1),
            (Season.AUTUMN, year),
        ):
            period = term(calendar_year, season)
            if period.start <= today:
                found.append(period)
    return found


def years_offered(today: date) -> list[Period]:
    """The academic years to choose from, newest (the current one) first."""
    current = academic_year_of(today)
    return [academic_year(year) for year in range(current, current - YEARS_OFFERED, -1)]
