"""Staff register pages."""

from tracker.staff import bp  # noqa: F401
