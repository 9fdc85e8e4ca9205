"""A member of staff raises a concern and follows its receipt."""

from tracker.concerns import bp

__all__ = ["bp"]
