"""Workflow date arithmetic: working days, the LADO clock, KCSIE targets, appeals, warnings.

Pure functions, so no app or database fixtures: these run once, not once per backend.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import pytest

from tracker.clock import UK
from tracker.workflow.clocks import (
    Clock,
    Target,
    _bank_holidays,
    add_months,
    add_working_days,
    appeal_deadline,
    clock_state,
    is_spent,
    is_working_day,
    kcsie_targets,
    lado_due_at,
    next_working_day,
    warning_expires_on,
    working_days_between,
)

D = date


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- Working days -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(D(2026, 3, 13), True, id="ordinary Friday"),
        pytest.param(D(2026, 3, 14), False, id="Saturday"),
        pytest.param(D(2026, 3, 15), False, id="Sunday"),
        pytest.param(D(2026, 1, 1), False, id="New Year's Day 2026"),
        pytest.param(D(2026, 4, 2), True, id="Maundy Thursday"),
        pytest.param(D(2026, 4, 3), False, id="Good Friday 2026"),
        pytest.param(D(2026, 4, 6), False, id="Easter Monday 2026"),
        pytest.param(D(2026, 4, 7), True, id="Tuesday after Easter"),
        pytest.param(D(2026, 5, 4), False, id="Early May bank holiday 2026"),
        pytest.param(D(2026, 5, 25), False, id="Spring bank holiday 2026"),
        pytest.param(D(2026, 8, 31), False, id="Summer bank holiday 2026"),
        pytest.param(D(2026, 12, 24), True, id="Christmas Eve is a working day"),
        pytest.param(D(2026, 12, 25), False, id="Christmas Day 2026"),
        pytest.param(D(2026, 12, 28), False, id="Boxing Day observed 2026"),
        pytest.param(D(2026, 12, 29), True, id="29 December 2026"),
        pytest.param(D(2027, 1, 1), False, id="New Year's Day 2027"),
        pytest.param(D(2027, 1, 4), True, id="first working day of 2027"),
        pytest.param(D(2027, 12, 27), False, id="Christmas Day observed 2027"),
        pytest.param(D(2027, 12, 28), False, id="Boxing Day observed 2027"),
        pytest.param(D(2022, 1, 3), False, id="New Year's Day observed 2022"),
        pytest.param(D(2022, 9, 19), False, id="one-off: state funeral 2022"),
        pytest.param(D(2020, 5, 8), False, id="one-off: May Day moved to VE Day 2020"),
        pytest.param(D(2020, 5, 4), True, id="the usual May Day Monday in 2020"),
    ],
)
def test_is_working_day(day: date, expected: bool) -> None:
    assert is_working_day(day) is expected


@pytest.mark.parametrize("day", [D(2101, 1, 3), D(2101, 1, 1), D(1800, 6, 2)])
def test_years_without_holiday_data_are_refused(day: date) -> None:
    # Silently treating every bank holiday as a working day would be worse.
    with pytest.raises(ValueError, match="No bank holiday data"):
        is_working_day(day)


def test_holiday_calendar_is_built_once_per_year() -> None:
    assert _bank_holidays(2026) is _bank_holidays(2026)
    assert D(2026, 12, 28) in _bank_holidays(2026)
    assert D(2027, 1, 1) not in _bank_holidays(2026)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 3, 13), D(2026, 3, 13)),
        (D(2026, 3, 14), D(2026, 3, 16)),
        (D(2026, 4, 3), D(2026, 4, 7)),
        (D(2026, 12, 25), D(2026, 12, 29)),
        (D(2027, 1, 1), D(2027, 1, 4)),
    ],
)
def test_next_working_day(day: date, expected: date) -> None:
    assert next_working_day(day) == expected


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        pytest.param(D(2026, 3, 11), 1, D(2026, 3, 12), id="midweek"),
        pytest.param(D(2026, 3, 13), 1, D(2026, 3, 16), id="Friday over a weekend"),
        pytest.param(D(2026, 3, 13), 5, D(2026, 3, 20), id="a working week"),
        pytest.param(D(2026, 3, 13), 0, D(2026, 3, 13), id="0 from a working day"),
        pytest.param(D(2026, 3, 14), 0, D(2026, 3, 16), id="0 from Saturday"),
        pytest.param(D(2026, 3, 15), 0, D(2026, 3, 16), id="0 from Sunday"),
        pytest.param(D(2026, 3, 14), 1, D(2026, 3, 17), id="1 from Saturday"),
        pytest.param(D(2026, 4, 2), 1, D(2026, 4, 7), id="over Easter 2026"),
        pytest.param(D(2026, 4, 2), 2, D(2026, 4, 8), id="2 over Easter 2026"),
        pytest.param(D(2026, 4, 3), 0, D(2026, 4, 7), id="0 from Good Friday"),
        pytest.param(D(2026, 4, 6), 1, D(2026, 4, 8), id="1 from Easter Monday"),
        pytest.param(D(2026, 12, 18), 1, D(2026, 12, 21), id="Friday before Christmas"),
        pytest.param(D(2026, 12, 23), 1, D(2026, 12, 24), id="23 December 2026"),
        pytest.param(D(2026, 12, 24), 1, D(2026, 12, 29), id="Christmas Eve 2026"),
        pytest.param(D(2026, 12, 24), 0, D(2026, 12, 24), id="0 from Christmas Eve"),
        pytest.param(D(2026, 12, 30), 1, D(2026, 12, 31), id="30 December 2026"),
        pytest.param(D(2026, 12, 31), 1, D(2027, 1, 4), id="over New Year 2027"),
        pytest.param(D(2026, 12, 29), 3, D(2027, 1, 4), id="3 into 2027"),
        pytest.param(D(2026, 12, 24), 5, D(2027, 1, 5), id="5 over Christmas and New Year"),
        pytest.param(D(2027, 12, 24), 1, D(2027, 12, 29), id="Christmas 2027: two observed"),
        pytest.param(D(2021, 12, 31), 1, D(2022, 1, 4), id="New Year observed 2022"),
    ],
)
def test_add_working_days(start: date, days: int, expected: date) -> None:
    assert add_working_days(start, days) == expected


def test_add_working_days_refuses_negative_days() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        add_working_days(D(2026, 3, 13), -1)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(D(2026, 3, 13), D(2026, 3, 13), 0, id="same day"),
        pytest.param(D(2026, 3, 13), D(2026, 3, 16), 1, id="Friday to Monday"),
        pytest.param(D(2026, 3, 13), D(2026, 3, 15), 0, id="Friday to Sunday"),
        pytest.param(D(2026, 3, 14), D(2026, 3, 16), 1, id="Saturday to Monday"),
        pytest.param(D(2026, 4, 2), D(2026, 4, 9), 3, id="over Easter"),
        pytest.param(D(2026, 12, 24), D(2026, 12, 29), 1, id="over Christmas"),
        pytest.param(D(2026, 12, 24), D(2027, 1, 4), 4, id="over Christmas and New Year"),
        pytest.param(D(2026, 3, 16), D(2026, 3, 13), -1, id="backwards: overdue"),
        pytest.param(D(2026, 1, 1), D(2026, 12, 31), 253, id="the whole of 2026"),
    ],
)
def test_working_days_between(start: date, end: date, expected: int) -> None:
    assert working_days_between(start, end) == expected


@pytest.mark.parametrize(
    "start", [D(2026, 3, 13), D(2026, 4, 2), D(2026, 12, 23), D(2026, 12, 31), D(2027, 12, 24)]
)
@pytest.mark.parametrize("days", range(0, 12))
def test_working_days_between_undoes_add_working_days(start: date, days: int) -> None:
    assert working_days_between(start, add_working_days(start, days)) == days


# --- The LADO clock -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("triaged_at", "working_days", "expected"),
    [
        pytest.param(utc(2026, 12, 18, 15), 1, utc(2026, 12, 21, 17), id="Friday: weekend"),
        pytest.param(utc(2026, 12, 23, 11), 1, utc(2026, 12, 24, 17), id="23 Dec"),
        pytest.param(utc(2026, 12, 24, 9), 1, utc(2026, 12, 29, 17), id="Christmas Eve"),
        pytest.param(utc(2026, 12, 31, 16, 59), 1, utc(2027, 1, 4, 17), id="New Year"),
        pytest.param(utc(2026, 12, 18, 15), 2, utc(2026, 12, 22, 17), id="2 working days"),
        # Summer time: 17:00 BST is 16:00 UTC.
        pytest.param(utc(2026, 6, 12, 10), 1, utc(2026, 6, 15, 16), id="BST weekend"),
        pytest.param(utc(2026, 4, 2, 9), 1, utc(2026, 4, 7, 16), id="Easter bank holidays"),
        pytest.param(utc(2026, 5, 22, 14), 1, utc(2026, 5, 26, 16), id="Spring bank holiday"),
        # Spring forward on Sunday 29 March 2026: due after the change, in BST.
        pytest.param(utc(2026, 3, 27, 16), 1, utc(2026, 3, 30, 16), id="BST begins"),
        # 23:30 UTC on Saturday 24 October is 00:30 BST on Sunday 25 October; due on
        # Tuesday (Monday is the first working day) at 17:00 GMT, after the change.
        pytest.param(utc(2026, 10, 24, 23, 30), 1, utc(2026, 10, 27, 17), id="BST ends"),
        # The UK date decides: 23:30 UTC on Thursday 22 October is Friday in the UK, so
        # due Monday, not Friday; 23:30 UTC on Friday is Saturday, so due Tuesday.
        pytest.param(utc(2026, 10, 22, 23, 30), 1, utc(2026, 10, 26, 17), id="UK Friday"),
        pytest.param(utc(2026, 10, 23, 23, 30), 1, utc(2026, 10, 27, 17), id="UK Saturday"),
        pytest.param(utc(2026, 10, 22, 22, 59), 1, utc(2026, 10, 23, 16), id="UK Thursday"),
    ],
)
def test_lado_due_at(triaged_at: datetime, working_days: int, expected: datetime) -> None:
    due = lado_due_at(triaged_at, working_days)
    assert due == expected
    assert due.tzinfo is UTC


def test_lado_due_at_is_1700_uk_time() -> None:
    for triaged_at in (utc(2026, 1, 14, 9), utc(2026, 7, 14, 9), utc(2026, 10, 24, 23, 30)):
        local = lado_due_at(triaged_at).astimezone(UK)
        assert (local.hour, local.minute) == (17, 0)


def test_lado_due_at_defaults_to_one_working_day() -> None:
    assert lado_due_at(utc(2026, 12, 18, 15)) == utc(2026, 12, 21, 17)


def test_lado_due_at_accepts_any_aware_zone() -> None:
    triaged_at = datetime(2026, 10, 25, 0, 30, tzinfo=UK)
    assert lado_due_at(triaged_at) == lado_due_at(utc(2026, 10, 24, 23, 30))


def test_lado_due_at_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        lado_due_at(datetime(2026, 12, 18, 15))


# --- KCSIE target timescales --------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 1, 15), 1, D(2026, 2, 15)),
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),
        (D(2026, 3, 31), 1, D(2026, 4, 30)),
        (D(2026, 12, 31), 1, D(2027, 1, 31)),
        (D(2026, 11, 30), 3, D(2027, 2, 28)),
        (D(2028, 2, 29), 12, D(2029, 2, 28)),
        (D(2028, 2, 29), 48, D(2032, 2, 29)),
        (D(2026, 3, 31), -1, D(2026, 2, 28)),
        (D(2026, 1, 31), -2, D(2025, 11, 30)),
        (D(2026, 5, 5), 0, D(2026, 5, 5)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("reported_on", "one_month", "three_months", "twelve_months"),
    [
        pytest.param(D(2026, 3, 10), D(2026, 4, 10), D(2026, 6, 10), D(2027, 3, 10), id="mid"),
        pytest.param(D(2026, 1, 31), D(2026, 2, 28), D(2026, 4, 30), D(2027, 1, 31), id="31 Jan"),
        pytest.param(D(2028, 1, 31), D(2028, 2, 29), D(2028, 4, 30), D(2029, 1, 31), id="leap"),
        pytest.param(D(2028, 2, 29), D(2028, 3, 29), D(2028, 5, 29), D(2029, 2, 28), id="29 Feb"),
        pytest.param(D(2026, 8, 31), D(2026, 9, 30), D(2026, 11, 30), D(2027, 8, 31), id="31 Aug"),
        pytest.param(D(2026, 11, 30), D(2026, 12, 30), D(2027, 2, 28), D(2027, 11, 30), id="Nov"),
        pytest.param(D(2026, 12, 31), D(2027, 1, 31), D(2027, 3, 31), D(2027, 12, 31), id="Dec"),
    ],
)
def test_kcsie_targets(
    reported_on: date, one_month: date, three_months: date, twelve_months: date
) -> None:
    assert kcsie_targets(reported_on) == [
        Target("most cases", one_month),
        Target("nearly all", three_months),
        Target("all but exceptional", twelve_months),
    ]


def test_kcsie_targets_are_calendar_not_working_days() -> None:
    # Reported on Christmas Eve: one month later is a Sunday, and stays one.
    assert kcsie_targets(D(2026, 12, 24))[0].due == D(2027, 1, 24)


@pytest.mark.parametrize(
    ("today", "closed_on", "expected"),
    [
        pytest.param(D(2026, 6, 1), None, "running", id="open, a month to go"),
        pytest.param(D(2026, 6, 22), None, "running", id="open, 8 days to go"),
        pytest.param(D(2026, 6, 23), None, "due_soon", id="open, 7 days to go"),
        pytest.param(D(2026, 6, 30), None, "due_soon", id="open, due today"),
        pytest.param(D(2026, 7, 1), None, "missed", id="open, a day late"),
        pytest.param(D(2027, 6, 30), None, "missed", id="open, a year late"),
        pytest.param(D(2026, 6, 1), D(2026, 6, 1), "met", id="closed early"),
        pytest.param(D(2026, 7, 1), D(2026, 6, 30), "met", id="closed on the due date"),
        pytest.param(D(2027, 1, 1), D(2026, 6, 15), "met", id="closed long ago, in time"),
        pytest.param(D(2026, 7, 1), D(2026, 7, 1), "missed", id="closed a day late"),
        pytest.param(D(2026, 6, 1), D(2026, 7, 1), "missed", id="closed late, odd today"),
    ],
)
def test_target_state(today: date, closed_on: date | None, expected: str) -> None:
    assert Target("most cases", D(2026, 6, 30)).state(today, closed_on) == expected


def test_target_is_frozen() -> None:
    target = Target("most cases", D(2026, 6, 30))
    with pytest.raises(AttributeError):
        target.due = D(2026, 7, 30)  # type: ignore[misc]


# --- Appeals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decided_on", "working_days", "expected"),
    [
        pytest.param(D(2026, 6, 1), 5, D(2026, 6, 8), id="a plain week"),
        pytest.param(D(2026, 6, 5), 5, D(2026, 6, 12), id="decided on a Friday"),
        pytest.param(D(2026, 6, 6), 5, D(2026, 6, 15), id="decided on a Saturday"),
        pytest.param(D(2026, 3, 30), 5, D(2026, 4, 8), id="over Easter"),
        pytest.param(D(2026, 12, 18), 5, D(2026, 12, 29), id="over Christmas"),
        pytest.param(D(2026, 12, 24), 5, D(2027, 1, 5), id="over Christmas and New Year"),
        pytest.param(D(2026, 6, 1), 10, D(2026, 6, 15), id="a policy of 10 days"),
    ],
)
def test_appeal_deadline(decided_on: date, working_days: int, expected: date) -> None:
    assert appeal_deadline(decided_on, working_days) == expected


def test_appeal_deadline_defaults_to_five_working_days() -> None:
    assert appeal_deadline(D(2026, 3, 30)) == D(2026, 4, 8)


# --- Warnings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sanction", "decided_on", "expected"),
    [
        ("first_written_warning", D(2026, 1, 15), D(2026, 7, 15)),
        ("first_written_warning", D(2026, 8, 31), D(2027, 2, 28)),
        ("first_written_warning", D(2027, 8, 31), D(2028, 2, 29)),
        ("final_written_warning", D(2026, 3, 10), D(2027, 3, 10)),
        ("final_written_warning", D(2028, 2, 29), D(2029, 2, 28)),
        ("none", D(2026, 3, 10), None),
        ("management_advice", D(2026, 3, 10), None),
        ("dismissal", D(2026, 3, 10), None),
        ("", D(2026, 3, 10), None),
        ("First written warning", D(2026, 3, 10), None),
    ],
)
def test_warning_expires_on(sanction: str, decided_on: date, expected: date | None) -> None:
    assert warning_expires_on(sanction, decided_on) == expected


def test_warning_expires_on_accepts_a_string_enum() -> None:
    class Sanction(StrEnum):
        FIRST_WRITTEN_WARNING = "first_written_warning"

    assert warning_expires_on(Sanction.FIRST_WRITTEN_WARNING, D(2026, 1, 15)) == D(2026, 7, 15)


@pytest.mark.parametrize(
    ("expires_on", "today", "expected"),
    [
        pytest.param(D(2026, 7, 15), D(2026, 7, 14), False, id="the day before"),
        pytest.param(D(2026, 7, 15), D(2026, 7, 15), False, id="the expiry date"),
        pytest.param(D(2026, 7, 15), D(2026, 7, 16), True, id="the day after"),
        pytest.param(D(2026, 7, 15), D(2030, 1, 1), True, id="years later"),
        pytest.param(None, D(2030, 1, 1), False, id="no expiry"),
    ],
)
def test_is_spent(expires_on: date | None, today: date, expected: bool) -> None:
    assert is_spent(expires_on, today) is expected


# --- Clocks for display -------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "now", "done", "expected"),
    [
        pytest.param(utc(2026, 12, 21, 17), utc(2026, 12, 18, 15), False, "due_soon", id="dt"),
        pytest.param(utc(2026, 12, 21, 17), utc(2026, 12, 21, 17), False, "due_soon", id="at"),
        pytest.param(utc(2026, 12, 21, 17), utc(2026, 12, 21, 17, 1), False, "overdue", id="late"),
        pytest.param(utc(2026, 12, 21, 17), utc(2026, 12, 14, 17), False, "due_soon", id="7d"),
        pytest.param(utc(2026, 12, 21, 17), utc(2026, 12, 14, 16), False, "running", id="7d+1h"),
        pytest.param(utc(2026, 12, 21, 17), utc(2026, 12, 22, 9), True, "met", id="dt done"),
        pytest.param(D(2026, 6, 30), D(2026, 6, 30), False, "due_soon", id="date due today"),
        pytest.param(D(2026, 6, 30), D(2026, 7, 1), False, "overdue", id="date late"),
        pytest.param(D(2026, 6, 30), D(2026, 6, 23), False, "due_soon", id="date 7 days"),
        pytest.param(D(2026, 6, 30), D(2026, 6, 22), False, "running", id="date 8 days"),
        pytest.param(D(2026, 6, 30), D(2026, 7, 30), True, "met", id="date done"),
        # A date deadline against a moment: the UK date of the moment counts. 23:30 UTC
        # on 30 June is 00:30 on 1 July in the UK.
        pytest.param(D(2026, 6, 30), utc(2026, 6, 30, 22, 59), False, "due_soon", id="mix"),
        pytest.param(D(2026, 6, 30), utc(2026, 6, 30, 23, 30), False, "overdue", id="mix UK"),
    ],
)
def test_clock_state(due: datetime | date, now: datetime | date, done: bool, expected: str) -> None:
    assert clock_state(due, now, done) == expected


def test_clock_state_refuses_a_date_now_for_a_datetime_deadline() -> None:
    with pytest.raises(TypeError, match="datetime now"):
        clock_state(utc(2026, 12, 21, 17), D(2026, 12, 21), done=False)


@pytest.mark.parametrize(
    ("due", "now"),
    [
        (datetime(2026, 12, 21, 17), utc(2026, 12, 18, 15)),
        (utc(2026, 12, 21, 17), datetime(2026, 12, 18, 15)),
        (D(2026, 12, 21), datetime(2026, 12, 18, 15)),
    ],
)
def test_clock_state_refuses_naive_datetimes(due: datetime | date, now: datetime) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        clock_state(due, now, done=False)


def test_clock_for_the_lado_referral() -> None:
    triaged_at = utc(2026, 12, 24, 9)
    due = lado_due_at(triaged_at)
    now = triaged_at + timedelta(hours=1)
    clock = Clock("LADO referral", due, clock_state(due, now, done=False))
    assert clock == Clock("LADO referral", utc(2026, 12, 29, 17), "due_soon")
    with pytest.raises(AttributeError):
        clock.state = "met"  # type: ignore[misc]
