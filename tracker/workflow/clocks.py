"""Deadlines for the workflow: working days, the LADO clock, KCSIE targets, appeals, warnings.

Everything here is pure date arithmetic: no database, no app. Dates are UK dates (see
`tracker.clock`); datetimes must be timezone-aware and come back in UTC.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Literal

import holidays

from tracker.clock import UK

TargetState = Literal["met", "missed", "due_soon", "running"]
ClockState = Literal["overdue", "due_soon", "running", "met"]

# England and Wales share bank holidays; the `holidays` package files them under ENG.
_COUNTRY = "GB"
_SUBDIVISION = "ENG"

# A LADO office's working day ends at 17:00; a referral due "within 1 working day" is
# due by the close of that day, not at the same clock time as the triage.
END_OF_WORKING_DAY = time(17, 0)
LADO_WORKING_DAYS = 1
TRIAGE_WORKING_DAYS = 1
APPEAL_WORKING_DAYS = 5
DECISION_WORKING_DAYS = 5
DUE_SOON = timedelta(days=7)

# KCSIE Part Four: most cases within 1 month, nearly all within 3, all but exceptional 12.
KCSIE_TARGETS: tuple[tuple[str, int], ...] = (
    ("most cases", 1),
    ("nearly all", 3),
    ("all but exceptional", 12),
)

# Disciplinary warnings are disregarded after these many calendar months.
WARNING_MONTHS: dict[str, int] = {
    "first_written_warning": 6,
    "final_written_warning": 12,
}


@cache
def _bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays in `year`, substitute ("observed") days included.

    A frozenset, not the package's dict: looking up a date of another year in that dict
    silently adds the year to it, which would make a cached, shared object mutable.
    """
    calendar_ = holidays.country_holidays(_COUNTRY, subdiv=_SUBDIVISION, years=year)
    if not calendar_.start_year <= year <= calendar_.end_year:
        # Outside its range the package returns no holidays at all rather than failing,
        # which would quietly turn every bank holiday into a working day.
        raise ValueError(
            f"No bank holiday data for {year}: the holidays package covers "
            f"{calendar_.start_year} to {calendar_.end_year}."
        )
    return frozenset(calendar_.keys())


def is_working_day(day: date) -> bool:
    """Whether `day` is a working day in England and Wales: Monday to Friday, not a bank holiday.

    Substitute days count as bank holidays: when Boxing Day falls on a Saturday, the
    Monday after ("Boxing Day (observed)") is not a working day.
    """
    # The holiday lookup comes first so that a year without data fails even on a weekend.
    return day not in _bank_holidays(day.year) and day.weekday() < 5


def next_working_day(day: date) -> date:
    """`day` itself when it is a working day, otherwise the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start`.

    When `start` is not a working day, counting starts from the next working day, as if
    the matter had arrived then: 0 days from a Saturday is the Monday, 1 day the Tuesday
    (bank holidays permitting). Raises ValueError for a negative `days`.
    """
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    day = next_working_day(start)
    for _ in range(days):
        day = next_working_day(day + timedelta(days=1))
    return day


def working_days_between(start: date, end: date) -> int:
    """How many working days `end` is after `start`: the working days after `start` up to
    and including `end`.

    For a working day `start`, `add_working_days(start, n)` is the first day for which
    this returns `n`. When `end` is before `start` the count is negative (how many working
    days overdue something is), and the same day gives 0.
    """
    if end < start:
        return -working_days_between(end, start)
    count = 0
    day = start + timedelta(days=1)
    while day <= end:
        if is_working_day(day):
            count += 1
        day += timedelta(days=1)
    return count


def _require_aware(moment: datetime, name: str) -> None:
    """Refuse a naive datetime: converting it would silently assume the server's zone."""
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def lado_due_at(triaged_at: datetime, working_days: int = LADO_WORKING_DAYS) -> datetime:
    """When the referral to the LADO is due for an allegation triaged at `triaged_at`.

    The due time is the end of a LADO office's working day, 17:00 UK time, on the date
    that is `working_days` working days after the UK date of the triage (not the UTC
    date: a triage at 23:30 UTC in summer is already the next day in the UK). Triaging
    on a weekend or bank holiday counts from the next working day. The result is an
    aware UTC datetime. Raises ValueError for a naive `triaged_at`.
    """
    _require_aware(triaged_at, "triaged_at")
    uk_date = triaged_at.astimezone(UK).date()
    due_date = add_working_days(uk_date, working_days)
    # 17:00 is never in a clock change's gap or overlap (those happen at 01:00-02:00).
    return datetime.combine(due_date, END_OF_WORKING_DAY, tzinfo=UK).astimezone(UTC)


def triage_due_at(reported_on: date, working_days: int = TRIAGE_WORKING_DAYS) -> datetime:
    """When the triage of a concern reported to the school on `reported_on` is due: the
    end of the working day (17:00 UK time) `working_days` working days after it, as an
    aware UTC datetime. A concern reported on a weekend or bank holiday counts from the
    next working day. The triage has its own short deadline: KCSIE's month is for
    resolving the case, while a possible allegation must be triaged at once.
    """
    due_date = add_working_days(reported_on, working_days)
    return datetime.combine(due_date, END_OF_WORKING_DAY, tzinfo=UK).astimezone(UTC)


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` calendar months after `day`, clamped to the
    month's last day: 31 January plus one month is 28 (or 29) February.
    """
    month_index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(month_index, 12)
    month += 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last_day))


@dataclass(frozen=True)
class Target:
    """A KCSIE target timescale for dealing with an allegation: a label and the date due."""

    label: str
    due: date

    def state(self, today: date, closed_on: date | None) -> TargetState:
        """Where the case stands against this target.

        "met" when closed on or before the due date; "missed" when closed after it, or
        still open after it; "due_soon" when open and due within 7 days (today included);
        otherwise "running".
        """
        if closed_on is not None:
            return "met" if closed_on <= self.due else "missed"
        if today > self.due:
            return "missed"
        if self.due - today <= DUE_SOON:
            return "due_soon"
        return "running"


def kcsie_targets(reported_on: date) -> list[Target]:
    """KCSIE's target timescales for an allegation reported on `reported_on`, in calendar
    months: most cases within 1 month, nearly all within 3, all but exceptional within 12.
    """
    return [Target(label, add_months(reported_on, months)) for label, months in KCSIE_TARGETS]


def appeal_deadline(decided_on: date, working_days: int = APPEAL_WORKING_DAYS) -> date:
    """The last day an appeal against a decision made on `decided_on` may be lodged:
    `working_days` working days after it.
    """
    return add_working_days(decided_on, working_days)


def decision_deadline(submitted_on: date, working_days: int = DECISION_WORKING_DAYS) -> date:
    """The date the decision on a case submitted for decision on `submitted_on` is due:
    `working_days` working days after it (the trust's own target; KCSIE sets none).
    """
    return add_working_days(submitted_on, working_days)


def warning_expires_on(sanction: str, decided_on: date) -> date | None:
    """The date a written warning is disregarded from: 6 calendar months after the decision
    for a first written warning, 12 for a final one; None for any other sanction.
    """
    months = WARNING_MONTHS.get(sanction)
    if months is None:
        return None
    return add_months(decided_on, months)


def is_spent(expires_on: date | None, today: date) -> bool:
    """Whether a warning expiring on `expires_on` is spent: once `today` is after that
    date. A sanction with no expiry is never spent.
    """
    return expires_on is not None and today > expires_on


@dataclass(frozen=True)
class Clock:
    """A deadline as shown on a case page: what it is for, when it is due, its state."""

    label: str
    due: date | datetime
    state: ClockState


def clock_state(due: datetime | date, now: datetime | date, done: bool) -> ClockState:
    """The state of a clock due at `due`: "met" once done, otherwise "overdue" when `now`
    is past `due`, "due_soon" within 7 days of it, else "running".

    A date deadline runs to the end of its day, so a clock due today is not overdue.
    Given a datetime `now` against a date `due`, the UK date of `now` is used. A date
    `now` against a datetime `due` is a TypeError: the time of day would be guessed.
    Datetimes must be timezone-aware.
    """
    if done:
        return "met"
    if isinstance(now, datetime):
        _require_aware(now, "now")
    if isinstance(due, datetime):
        _require_aware(due, "due")
        if not isinstance(now, datetime):
            raise TypeError("a datetime deadline needs a datetime now")
        remaining = due - now
    else:
        if isinstance(now, datetime):
            now = now.astimezone(UK).date()
        remaining = due - now
    if remaining < timedelta(0):
        return "overdue"
    if remaining <= DUE_SOON:
        return "due_soon"
    return "running"
