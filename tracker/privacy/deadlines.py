"""Deadlines for answering a data subject's request (subject access first), by the ICO's rule.

UK GDPR Article 12(3): one month from receipt, extendable by two further months for
complex or numerous requests. The ICO counts a month from the day the request is received
(working day or not) to the corresponding calendar date in the next month; the last day
of that month when it has no such date; the next working day when the date is a weekend or
an England and Wales bank holiday. Pure date arithmetic on `tracker.workflow.clocks`.
"""

from __future__ import annotations

from datetime import date

from tracker.db import LabelledEnum
from tracker.workflow.clocks import add_months, next_working_day

RESPONSE_MONTHS = 1
MAX_FURTHER_MONTHS = 2


class ExtensionReason(LabelledEnum):
    """Article 12(3)'s grounds for extending: the complexity and number of requests."""

    COMPLEX = "complex", "The request is complex"
    NUMEROUS = "numerous", "The person has made a number of requests"


def calendar_months_due(received_on: date, months: int) -> date:
    """The ICO's deadline `months` calendar months after `received_on`.

    The corresponding date (`add_months` clamps to the month's last day when there is
    none), moved on to the next working day when it is a weekend or bank holiday. The
    day of receipt is day one, so a request received on 3 September is due on 3 October.
    Raises ValueError for fewer than one month.
    """
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    return next_working_day(add_months(received_on, months))


def response_due(received_on: date) -> date:
    """The last day to answer a request received on `received_on`: one calendar month.

    Also the last day to tell the person that the deadline is extended, and why.
    """
    return calendar_months_due(received_on, RESPONSE_MONTHS)


def extended_response_due(
    received_on: date, reason: str, further_months: int = MAX_FURTHER_MONTHS
) -> date:
    """The deadline after an extension by `further_months` (1 or 2) for `reason`.

    Counted from the original receipt, not from the first deadline: one plus the further
    months by the same rule, so a weekend that moved the first deadline does not move the
    extended one, and a request received on 31 January is due by 30 April, not 28 April.
    Raises ValueError for a reason that is not an `ExtensionReason` or an extension
    outside 1 to 2 months.
    """
    try:
        ExtensionReason(reason)
    except ValueError:
        raise ValueError(
            f"an extension needs a reason: one of {', '.join(ExtensionReason)}, got {reason!r}"
        ) from None
    if not 1 <= further_months <= MAX_FURTHER_MONTHS:
        raise ValueError(
            f"a deadline extends by 1 to {MAX_FURTHER_MONTHS} further months, got {further_months}"
        )
    return calendar_months_due(received_on, RESPONSE_MONTHS + further_months)
