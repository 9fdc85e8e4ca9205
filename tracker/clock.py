"""The current date as the trust sees it (schools work in UK time, not UTC), and how dates
and times are written, on pages and in messages alike."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from tracker.db import utcnow

UK = ZoneInfo("Europe/London")


def today() -> date:
    """Today's date in England and Wales (deadlines and review dates are UK dates)."""
    return utcnow().astimezone(UK).date()


def uk_time(moment: datetime) -> datetime:
    return moment.astimezone(UK)


def uk_midnight(day: date) -> datetime:
    """The start of a UK day, in UTC (the clocks change, so the offset varies)."""
    return datetime.combine(day, time.min, UK).astimezone(UTC)


def uk_date(day: date | None) -> str:
    """27 March 2026 (no leading zero, the month in words, as GOV.UK writes dates)."""
    if day is None:
        return ""
    return f"{day.day} {day:%B %Y}"


def clock_time(at: time | None) -> str:
    """14:05, on the 24-hour clock."""
    return at.strftime("%H:%M") if at else ""


def uk_datetime(moment: datetime | None, *, date_only_at_midnight: bool = False) -> str:
    """27 March 2026, 14:05 in UK time (just the date, if asked, for a time of 00:00)."""
    if moment is None:
        return ""
    local = uk_time(moment)
    if date_only_at_midnight and local.time() == time(0):
        return uk_date(local)
    return f"{uk_date(local)}, {clock_time(local.time())}"


def uk_timestamp(moment: datetime) -> str:
    """27 March 2026, 14:05:09 in UK time: to the second, as an auditor needs it."""
    local = uk_time(moment)
    return f"{uk_date(local)}, {local:%H:%M:%S}"
