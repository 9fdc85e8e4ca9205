"""The app's template filters, in one module (`init_app` registers them): dates and times
(written by tracker/clock.py, which Python code that puts a date into words uses too),
long values that may wrap, the words for an evidence file and a sanction, and the
colours of the case status tags."""

from __future__ import annotations

from flask import Flask
from markupsafe import Markup, escape

from tracker.cases.evidence import file_size_in_words, type_label
from tracker.cases.models import PostVisibility
from tracker.clock import clock_time, uk_date, uk_datetime, uk_timestamp
from tracker.workflow.models import Sanction


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


# The GOV.UK tag colour of each case status (no modifier is blue in GOV.UK Frontend 6):
# the case_status_tag macro's and the case list's rows'.
STATUS_TAG_COLOURS = {
    "reported": "",
    "triage": "teal",
    "investigation": "purple",
    "awaiting_decision": "orange",
    "decided": "green",
    "appeal": "pink",
    "closed": "grey",
    "withdrawn": "grey",
}


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals["status_tag_colours"] = STATUS_TAG_COLOURS
