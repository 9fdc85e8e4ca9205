"""How dates, times and long text are written on every page and in every message: the
app's template filters, in one module (`init_app` registers them). Python code that puts
a date into words (a flash message, a service's refusal) uses the same functions."""

from __future__ import annotations

from datetime import date, datetime, time

from flask import Flask
from markupsafe import Markup, escape

from tracker.cases.evidence import file_size_in_words, type_label
from tracker.cases.models import PostVisibility
from tracker.clock import uk_time
from tracker.workflow.models import Sanction


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


def breakable(value: str, every: int = 16) -> Markup:
    """Text that may wrap every few characters (a hash or a web address in a table)."""
    pieces = [escape(value[i : i + every]) for i in range(0, len(value), every)]
    return Markup("<wbr>").join(pieces)


_VISIBILITY_WORDS = {
    PostVisibility.PUBLIC.value: "Public post: anyone could see it",
    PostVisibility.PRIVATE.value: "Private post: friends, followers or a closed group",
    PostVisibility.UNKNOWN.value: "Not known whether the post was public",
}


def post_visibility(value: str) -> str:
    return _VISIBILITY_WORDS.get(value, value)


def sanction_label(value: str | None) -> str:
    return Sanction(value).label if value else ""


FILTERS = {
    "uk_date": uk_date,
    "clock_time": clock_time,
    "uk_datetime": uk_datetime,
    "uk_timestamp": uk_timestamp,
    "breakable": breakable,
    "post_visibility": post_visibility,
    "sanction_label": sanction_label,
    "file_size": file_size_in_words,
    "evidence_type": type_label,
}


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(FILTERS)
