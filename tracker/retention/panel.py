"""The case page's retention section and legal hold banner, worked out by the view from
what the case page has loaded (tracker/cases/loads.py CASE_PAGE)."""

from __future__ import annotations

from dataclasses import dataclass

from tracker.auth.models import User
from tracker.auth.permissions import can_manage_retention
from tracker.cases.models import Case
from tracker.retention import services
from tracker.retention.models import LegalHold
from tracker.retention.rules import Retention


@dataclass(frozen=True)
class RetentionPanel:
    retention: Retention
    closed: bool
    hold: LegalHold | None
    past_holds: list[LegalHold]
    missing_words: list[str]
    can_manage: bool


def retention_panel(case: Case, user: User) -> RetentionPanel:
    """What the case page's retention section shows `user`. Worked out from the facts now
    (the same answer the kept columns hold), so the words follow them."""
    retention = services.retention_of(case)
    return RetentionPanel(
        retention=retention,
        closed=not case.is_open,
        hold=services.active_legal_hold(case),
        past_holds=[hold for hold in case.legal_holds if not hold.is_active],
        missing_words=[services.MISSING_WORDS.get(name, name) for name in retention.missing],
        can_manage=can_manage_retention(user, case),
    )
