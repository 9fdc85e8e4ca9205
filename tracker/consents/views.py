"""Asking consent to post pictures (clause 3.5), deciding it, and the register."""

from tracker.consents import bp

__all__ = ["bp"]
