"""The case list: filter, search, sort and page through the cases a user may see."""

from tracker.cases import bp  # noqa: F401
