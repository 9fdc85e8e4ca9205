"""A case's complete history for the auditor: its events and revisions, merged in order.

Three statements, built here and executed by the view: the case's events (with the
refusals to open it), its revisions, and the names of the people in them; a fourth
(tracker.audit.names) names every other id they hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, Select, select

from tracker.audit.describe import EventRow, RevisionRow, describe_revision, present
from tracker.audit.models import AuditEvent
from tracker.audit.names import Names
from tracker.audit.search import SYSTEM_ACTOR, Person, about_case, by_name
from tracker.auth.models import User
from tracker.cases.models import Case, CaseRevision
from tracker.db import LabelledEnum


class HistoryView(LabelledEnum):
    ALL = "all", "Everything"
    CHANGES = "changes", "Changes only"
    READS = "reads", "Reads only"
    REFUSALS = "refusals", "Refusals only"


def case_events_query(case: Case) -> Select[tuple[AuditEvent]]:
    return select(AuditEvent).where(about_case(case.id)).order_by(AuditEvent.seq)


def case_revisions_query(case: Case) -> Select[tuple[CaseRevision]]:
    return select(CaseRevision).where(CaseRevision.case_id == case.id).order_by(CaseRevision.number)


def actors_in(events: Iterable[AuditEvent], revisions: Iterable[CaseRevision]) -> set[int]:
    ids = {event.actor_id for event in events if event.actor_id is not None}
    ids |= {rev.changed_by_id for rev in revisions if rev.changed_by_id is not None}
    return ids


def people_query(user_ids: Iterable[int]) -> Select[tuple[int, str, str]]:
    return select(User.id, User.display_name, User.email).where(User.id.in_(sorted(user_ids)))


def people_from_rows(rows: Sequence[Row[tuple[int, str, str]]]) -> list[Person]:
    return by_name(Person(id_, name, email) for id_, name, email in rows)


@dataclass(frozen=True)
class HistoryItem:
    """A line of the history: an event (with the revision it recorded, if any), or a
    revision no event names."""

    at: datetime
    actor_id: int | None
    event: EventRow | None = None
    revision: RevisionRow | None = None

    @property
    def sort_key(self) -> tuple[datetime, int, int]:
        if self.event is not None:
            return (self.at, self.event.seq, 0)
        return (self.at, (self.revision.audit_seq if self.revision else None) or 0, 1)

    @property
    def is_change(self) -> bool:
        return self.event.is_change if self.event is not None else True

    @property
    def is_read(self) -> bool:
        return self.event is not None and self.event.is_read

    @property
    def is_refusal(self) -> bool:
        return self.event is not None and self.event.is_refusal

    def shown_in(self, view: HistoryView) -> bool:
        if view is HistoryView.CHANGES:
            return self.is_change
        if view is HistoryView.READS:
            return self.is_read
        if view is HistoryView.REFUSALS:
            return self.is_refusal
        return True

    def is_by(self, actor: int | str | None) -> bool:
        """Whether the line is the actor filter's: anyone (None), a user id, or SYSTEM_ACTOR."""
        if actor is None:
            return True
        if actor == SYSTEM_ACTOR:
            return self.actor_id is None
        return self.actor_id == actor


def case_history(
    case: Case,
    events: list[AuditEvent],
    revisions: list[CaseRevision],
    people: Mapping[int, str],
    names: Names | None = None,
) -> list[HistoryItem]:
    """Events and revisions merged, oldest first; a revision sits with its event."""
    schools = {case.school_id: case.school.name}
    revision_rows = [describe_revision(revision, people, names) for revision in revisions]
    seqs = {event.seq for event in events}
    by_seq = {row.audit_seq: row for row in revision_rows if row.audit_seq in seqs}
    items = []
    for event in events:
        # A refusal names the case only as its object; it is still about this case.
        event_row = present(event, case.reference, people=people, schools=schools, names=names)
        items.append(
            HistoryItem(
                at=event_row.occurred_at,
                actor_id=event_row.actor_id,
                event=event_row,
                revision=by_seq.get(event_row.seq),
            )
        )
    for revision_row in revision_rows:
        if revision_row.audit_seq not in by_seq:
            items.append(
                HistoryItem(
                    at=revision_row.changed_at,
                    actor_id=revision_row.changed_by_id,
                    revision=revision_row,
                )
            )
    return sorted(items, key=lambda item: item.sort_key)
