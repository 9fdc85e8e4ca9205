"""Evidence pages: upload, download and removal."""

from tracker.cases import bp  # noqa: F401
