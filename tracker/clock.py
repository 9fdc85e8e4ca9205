"""The current date as the trust sees it: schools work in UK time, not UTC."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from tracker.db import utcnow

UK = ZoneInfo("Europe/London")


def today() -> date:
    """Today's date in England and Wales (deadlines and review dates are UK dates)."""
    return utcnow().astimezone(UK).date()


def uk_time(moment: datetime) -> datetime:
    return moment.astimezone(UK)
