"""The words of every notification e-mail, in one place so that they are easy to review.

DESIGN.md section 4: an e-mail says only that something needs the recipient's attention
and links to it. It never carries a case reference, the name of anyone but the recipient,
what is alleged, a school or a policy clause: mail is copied, forwarded and read over
shoulders, and the tracker is where access is checked and recorded. Nothing from a case
may be passed in here; `compose` takes only the link and the recipient's own name.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from enum import StrEnum


class NotificationKind(StrEnum):
    """Why someone is being e-mailed; the values are stable (reminder records store them)."""

    DECISION_NEEDED = "decision_needed"
    LADO_REFERRAL_DUE = "lado_referral_due"
    RETURNED_FOR_INVESTIGATION = "returned_for_investigation"
    APPEAL_LODGED = "appeal_lodged"
    RETENTION_DUE = "retention_due"
    CONCERN_RAISED = "concern_raised"
    PATTERN_FLAGGED = "pattern_flagged"


@dataclass(frozen=True)
class Wording:
    subject: str
    sentence: str  # what needs attention, leading into the link


WORDING: dict[NotificationKind, Wording] = {
    NotificationKind.DECISION_NEEDED: Wording(
        "A case is waiting for your decision",
        "A case in the safeguarding case tracker is waiting for your decision.",
    ),
    NotificationKind.LADO_REFERRAL_DUE: Wording(
        "A LADO referral is due",
        "A referral to the local authority designated officer (LADO) is due on a case "
        "in the safeguarding case tracker.",
    ),
    NotificationKind.RETURNED_FOR_INVESTIGATION: Wording(
        "A case has been returned to you",
        "A case in the safeguarding case tracker has been returned to you for more work.",
    ),
    NotificationKind.APPEAL_LODGED: Wording(
        "An appeal has been lodged",
        "An appeal has been lodged on a case in the safeguarding case tracker.",
    ),
    NotificationKind.CONCERN_RAISED: Wording(
        "A concern has been raised",
        "A member of staff has raised a concern in the safeguarding case tracker. It is "
        "waiting for triage.",
    ),
    NotificationKind.PATTERN_FLAGGED: Wording(
        "A pattern of concerns needs review",
        "The concerns recorded about one member of staff in the safeguarding case tracker "
        "meet the trust's pattern rule. A review is needed.",
    ),
    NotificationKind.RETENTION_DUE: Wording(
        "A record is due for disposal or review",
        "A case record in the safeguarding case tracker will soon be due for disposal "
        "or review under the trust's retention rules. Check whether it must be kept "
        "longer, for example under a legal hold.",
    ),
}

BODY = """\
{greeting}

{sentence}

Open it here:
{case_url}

This e-mail deliberately contains no details.
Sign in to the tracker to see them.

You are receiving this because of your role in the safeguarding case tracker.
"""


def compose(kind: NotificationKind, *, case_url: str, recipient_name: str) -> tuple[str, str]:
    """The (subject, body) of a notification of `kind` to one person.

    `case_url` must be absolute (built from BASE_URL): the e-mail is read outside the
    tracker. Raises ValueError for anything else, or for a name that spans lines.
    """
    wording = WORDING[NotificationKind(kind)]
    if not case_url.startswith(("https://", "http://")) or any(c.isspace() for c in case_url):
        raise ValueError(f"case_url must be an absolute http(s) address, not {case_url!r}.")
    name = recipient_name.strip()
    if "\n" in name or "\r" in name:
        raise ValueError("recipient_name must be on one line.")
    body = BODY.format(
        greeting=f"Hello {name}," if name else "Hello,",
        # Short lines: plain text mail that any client shows as written.
        sentence=textwrap.fill(wording.sentence, width=72),
        case_url=case_url,
    )
    return wording.subject, body
