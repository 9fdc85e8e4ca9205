"""Case pages: report a concern, the case page, editing, people and chronology."""

from tracker.cases import bp  # noqa: F401
