"""The governance report's pages and exports."""

from tracker.reports import bp

__all__ = ["bp"]
