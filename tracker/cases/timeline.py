"""What the case page reads: the combined timeline and the subject's policy read receipts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select

from tracker.cases.models import Case
from tracker.clock import uk_time
from tracker.extensions import db
from tracker.policy.models import PolicyAcknowledgement


@dataclass(frozen=True)
class TimelineItem:
    on: date
    at: time | None
    title: str
    text: str
    by: str | None
    is_case_event: bool  # recorded by the tracker itself, not written by a person
    written_on: date | None = None  # set when a chronology entry was written later
    order: int = 0

    @property
    def sort_key(self) -> tuple:
        return (self.on, self.at or time.min, self.order)


def _local(moment: datetime) -> tuple[date, time]:
    local = uk_time(moment)
    return local.date(), local.time().replace(microsecond=0)


def case_timeline(case: Case) -> list[TimelineItem]:
    """The chronology and the case's own events, in the order they happened."""
    items = [
        TimelineItem(
            case.occurred_on,
            None,
            "Conduct happened",
            "Date of the conduct, as reported.",
            None,
            True,
            order=0,
        ),
        TimelineItem(case.reported_on, None, "Reported to the school", "", None, True, order=1),
    ]
    logged_on, logged_at = _local(case.created_at)
    items.append(
        TimelineItem(
            logged_on,
            logged_at,
            f"Concern logged as {case.reference}",
            "",
            case.reported_by.display_name,
            True,
            order=2,
        )
    )
    for entry in case.chronology:
        written_on = uk_time(entry.recorded_at).date()
        items.append(
            TimelineItem(
                entry.occurred_on,
                entry.occurred_time,
                entry.kind_enum.label,
                entry.summary,
                entry.author.display_name,
                False,
                written_on=written_on if entry.is_backdated else None,
                order=3,
            )
        )
    for item in case.evidence:
        on, at = _local(item.uploaded_at)
        name = item.description or item.original_filename
        items.append(
            TimelineItem(
                on, at, "Evidence added", name, item.uploaded_by.display_name, True, order=4
            )
        )
        if item.removed_at is not None:
            on, at = _local(item.removed_at)
            removed_by = item.removed_by.display_name if item.removed_by else None
            items.append(
                TimelineItem(
                    on,
                    at,
                    "Evidence removed",
                    f"{name}: {item.removal_reason}",
                    removed_by,
                    True,
                    order=5,
                )
            )
    for person in case.people:
        on, at = _local(person.added_at)
        items.append(
            TimelineItem(
                on,
                at,
                "Person involved added",
                f"{person.identifier} ({person.kind_enum.label})",
                None,
                True,
                order=6,
            )
        )
    return sorted(items, key=lambda item: item.sort_key)


def subject_read_receipts(case: Case) -> dict[int, PolicyAcknowledgement | None]:
    """For each cited clause's policy version: the subject's read receipt, if any (the
    page says whether it came before the conduct)."""
    version_ids = {breach.clause.version_id for breach in case.breaches}
    if not version_ids:
        return {}
    receipts = db.session.scalars(
        select(PolicyAcknowledgement).where(
            PolicyAcknowledgement.staff_member_id == case.subject_id,
            PolicyAcknowledgement.version_id.in_(version_ids),
        )
    ).all()
    found: dict[int, PolicyAcknowledgement | None] = dict.fromkeys(version_ids)
    for receipt in receipts:
        found[receipt.version_id] = receipt
    return found
