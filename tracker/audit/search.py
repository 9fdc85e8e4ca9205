"""Reading the audit trail: the search, its exports and a case's complete history.

Statements are built here and executed by the views, as in tracker/cases/listing.py. A
search page costs four statements on top of the one that loads the signed-in user: the
form's choices (the trust's people and the schools in scope, in one UNION ALL), the
number of matching events, one page of them (keyset on seq, so a page deep in a
trail of millions costs the same as the first), and writing the audit.searched event
(two statements: see tracker.audit.services.record). Looking up a case reference adds
one. Names of people and schools come from the form's choices, never one query a row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    String,
    and_,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction, Outcome
from tracker.audit.models import AuditEvent
from tracker.auth.models import User
from tracker.auth.permissions import (
    audit_scope,
    case_scope,
    schools_in_scope,
    visible_audit_events_filter,
    visible_cases_filter,
)
from tracker.auth.roles import Role
from tracker.cases.models import (
    Case,
    CaseRevision,
    CaseStatus,
    LabelledEnum,
    Platform,
    Source,
    Track,
)
from tracker.clock import UK
from tracker.orgs.models import School
from tracker.retention.models import CaseTombstone

PAGE_SIZE = 50
# An export holds at most this many events (the oldest that match); the search page
# says so when the filters match more, and the file's response headers carry it.
EXPORT_LIMIT = 100_000
# Events read per statement while an export streams out.
EXPORT_CHUNK = 2_000

# Filter values for "nobody signed in" (sign-in attempts, scheduled jobs) and "no school"
# (sign-ins, accounts, the policy register).
SYSTEM_ACTOR = "system"
NO_SCHOOL = "none"

CASE_REFERENCE = re.compile(r"^[A-Z0-9]{1,12}-\d{4}-\d{1,6}$")


# --- the filters ---------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """What the auditor asked for, already checked by the search form."""

    date_from: date | None = None  # UK dates, both ends included
    date_to: date | None = None
    actor: int | str | None = None  # a user id, or SYSTEM_ACTOR
    action: str | None = None
    school: int | str | None = None  # a school id, or NO_SCHOOL
    case_id: int | None = None
    case_reference: str | None = None

    @property
    def in_use(self) -> dict[str, Any]:
        """The filters that narrow the search, by the names the form gives them."""
        values = {
            "date_from": self.date_from,
            "date_to": self.date_to,
            "actor": self.actor,
            "action": self.action,
            "school": self.school,
            "case": self.case_reference,
        }
        return {name: value for name, value in values.items() if value not in (None, "")}

    @property
    def names(self) -> list[str]:
        """The names of the filters in use, sorted: what the audit event records (never
        the values, which could be a person or a case the auditor was curious about)."""
        return sorted(self.in_use)

    @property
    def is_filtered(self) -> bool:
        return bool(self.in_use)


def uk_midnight(day: date) -> datetime:
    """The start of a UK day, in UTC (the clocks change, so the offset varies)."""
    return datetime.combine(day, time.min, UK).astimezone(UTC)


def _conditions(filters: AuditFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.date_from is not None:
        conditions.append(AuditEvent.occurred_at >= uk_midnight(filters.date_from))
    if filters.date_to is not None:
        conditions.append(AuditEvent.occurred_at < uk_midnight(filters.date_to + timedelta(1)))
    if filters.actor == SYSTEM_ACTOR:
        conditions.append(AuditEvent.actor_id.is_(None))
    elif filters.actor is not None:
        conditions.append(AuditEvent.actor_id == filters.actor)
    if filters.action:
        conditions.append(AuditEvent.action == filters.action)
    if filters.school == NO_SCHOOL:
        conditions.append(AuditEvent.school_id.is_(None))
    elif filters.school is not None:
        conditions.append(AuditEvent.school_id == filters.school)
    if filters.case_id is not None:
        conditions.append(about_case(filters.case_id))
    return conditions


def about_case(case_id: int) -> ColumnElement[bool]:
    """Events of a case, and the refusals to open it (they carry only the object)."""
    return or_(
        AuditEvent.case_id == case_id,
        and_(
            AuditEvent.case_id.is_(None),
            AuditEvent.object_type == "case",
            AuditEvent.object_id == case_id,
        ),
    )


def case_id_for_reference(user: User, reference: str) -> CompoundSelect:
    """The id of the case with this reference, if the user may read it and its trail, and
    whether it has been disposed of (rows of (id, disposed)).

    A case outside either scope is not found, exactly as one that does not exist. A
    disposed case is found by its tombstone, at a school whose cases and trail the user
    may read, so that its events can still be searched.
    """
    held = select(Case.id.label("id"), literal(False).label("disposed")).where(
        Case.reference == reference,
        visible_cases_filter(user),
        audit_scope(user).filter(Case.school_id),
    )
    disposed = select(CaseTombstone.case_id, literal(True)).where(
        CaseTombstone.reference == reference,
        CaseTombstone.trust_id == user.trust_id,
        case_scope(user).filter(CaseTombstone.school_id),
        audit_scope(user).filter(CaseTombstone.school_id),
    )
    return union_all(held, disposed)


# --- the form's choices --------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    email: str


@dataclass(frozen=True)
class FilterOptions:
    """The trust's people (the actor filter, and every name the results show) and the
    schools in the user's audit scope."""

    people: list[Person] = field(default_factory=list)
    schools: list[tuple[int, str]] = field(default_factory=list)
    whole_trust: bool = False

    @cached_property
    def names(self) -> dict[int, str]:
        return {person.id: person.name for person in self.people}

    @cached_property
    def school_names(self) -> dict[int, str]:
        return dict(self.schools)


def filter_options_query(user: User) -> CompoundSelect:
    """The trust's users and the schools in audit scope, in one statement.

    Rows are (kind, id, label, email) with kind "person" or "school".
    """
    people = select(
        literal("person").label("kind"),
        cast(User.id, String).label("value"),
        User.display_name.label("label"),
        User.email.label("email"),
    ).where(User.trust_id == user.trust_id)
    schools = (
        schools_in_scope(audit_scope(user))
        .with_only_columns(literal("school"), cast(School.id, String), School.name, literal(""))
        .order_by(None)
    )
    return union_all(people, schools)


def options_from_rows(rows: list[Any], *, whole_trust: bool) -> FilterOptions:
    people = sorted(
        (
            Person(int(value), label, email)
            for kind, value, label, email in rows
            if kind == "person"
        ),
        key=lambda person: (person.name.casefold(), person.email),
    )
    schools = sorted(
        ((int(value), label) for kind, value, label, _email in rows if kind == "school"),
        key=lambda school: (school[1].casefold(), school[0]),
    )
    return FilterOptions(people=people, schools=schools, whole_trust=whole_trust)


# --- the page of events --------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: events older than `before`, newer than `after`, or the newest."""

    before: int | None = None
    after: int | None = None


def _visible(user: User, filters: AuditFilters) -> list[ColumnElement[bool]]:
    return [visible_audit_events_filter(user), *_conditions(filters)]


def count_query(user: User, filters: AuditFilters) -> Select[tuple[int, int | None]]:
    """How many events match, and the newest one's number (an export's upper bound)."""
    return select(func.count(), func.max(AuditEvent.seq)).where(*_visible(user, filters))


def _events_with_references() -> Select[Any]:
    """Events with their case's reference, and the day it was disposed of when only its
    tombstone is left (rows of (event, reference, disposed_on))."""
    # Aliased so that the scope filter's own subquery on cases is never correlated to
    # this join (which would silently change its meaning).
    event_case = aliased(Case)
    return (
        select(
            AuditEvent,
            func.coalesce(event_case.reference, CaseTombstone.reference),
            CaseTombstone.disposed_on,
        )
        .outerjoin(event_case, event_case.id == AuditEvent.case_id)
        .outerjoin(CaseTombstone, CaseTombstone.case_id == AuditEvent.case_id)
    )


def page_query(
    user: User, filters: AuditFilters, cursor: Cursor, *, size: int = PAGE_SIZE
) -> Select[Any]:
    """One page of matching events and their case references, newest first.

    One row more than the page is asked for, to tell whether there is a page beyond.
    Rows come back in the order they are fetched (oldest first for a "newer" page);
    `page_from_rows` puts them newest first.
    """
    query = _events_with_references().where(*_visible(user, filters))
    if cursor.after is not None:
        return query.where(AuditEvent.seq > cursor.after).order_by(AuditEvent.seq).limit(size + 1)
    if cursor.before is not None:
        query = query.where(AuditEvent.seq < cursor.before)
    return query.order_by(AuditEvent.seq.desc()).limit(size + 1)


@dataclass(frozen=True)
class EventPage:
    rows: list[EventRow]
    has_newer: bool
    has_older: bool

    @property
    def newest_seq(self) -> int | None:
        return self.rows[0].seq if self.rows else None

    @property
    def oldest_seq(self) -> int | None:
        return self.rows[-1].seq if self.rows else None


def page_from_rows(
    rows: list[Any], cursor: Cursor, options: FilterOptions, *, size: int = PAGE_SIZE
) -> EventPage:
    beyond = len(rows) > size
    rows = rows[:size]
    if cursor.after is not None:
        rows.reverse()
        # We came from an older page, so older events exist.
        has_newer, has_older = beyond, True
    else:
        has_newer, has_older = cursor.before is not None, beyond
    shown = [
        present(event, reference, options, disposed_on) for event, reference, disposed_on in rows
    ]
    if not shown:
        has_newer = has_older = False
    return EventPage(rows=shown, has_newer=has_newer, has_older=has_older)


# --- what a row shows ----------------------------------------------------------------

OUTCOME_LABELS = {
    Outcome.ALLOWED.value: "Allowed",
    Outcome.DENIED.value: "Refused",
    Outcome.ERROR.value: "Failed",
}


def role_words(actor_role: str) -> str:
    """The stored roles ("dsl,headteacher") in words."""
    if actor_role == audit.SYSTEM_ROLE:
        return "System"
    words = []
    for value in actor_role.split(","):
        try:
            words.append(Role(value).label)
        except ValueError:
            words.append("No role" if value == "none" else value)
    return ", ".join(words)


@dataclass(frozen=True)
class EventRow:
    """One event as the pages and exports show it."""

    seq: int
    occurred_at: datetime
    actor_id: int | None
    actor_name: str
    actor_role: str  # as stored
    action: str
    action_label: str
    object_type: str | None
    object_id: int | None
    school_id: int | None
    school_name: str
    case_id: int | None
    case_reference: str | None
    outcome: str
    request_id: str | None
    client_address: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str
    case_disposed_on: date | None = None  # the case is gone; only its tombstone is left

    @property
    def actor_role_words(self) -> str:
        return role_words(self.actor_role)

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, self.outcome)

    @property
    def is_refusal(self) -> bool:
        return self.outcome != Outcome.ALLOWED.value

    @property
    def is_read(self) -> bool:
        try:
            return AuditAction(self.action).is_read
        except ValueError:
            return False

    @property
    def is_change(self) -> bool:
        return not self.is_refusal and not self.is_read

    @property
    def object_words(self) -> str:
        if self.object_type is None:
            return ""
        kind = self.object_type.replace("_", " ")
        kind = kind[:1].upper() + kind[1:]
        return f"{kind} {self.object_id}" if self.object_id is not None else kind

    def detail_words(self) -> list[tuple[str, str]]:
        """The details as (key, value) pairs a person can read."""
        return [(key, _detail_value(value)) for key, value in sorted(self.details.items())]

    def as_record(self) -> dict[str, Any]:
        """The event as an export carries it (times in UTC, ISO 8601)."""
        return {
            "seq": self.seq,
            "occurred_at": self.occurred_at.astimezone(UTC).isoformat(),
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "actor_role": self.actor_role,
            "action": self.action,
            "action_label": self.action_label,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "school_id": self.school_id,
            "school": self.school_name,
            "case_id": self.case_id,
            "case_reference": self.case_reference,
            "outcome": self.outcome,
            "request_id": self.request_id,
            "client_address": self.client_address,
            "details": self.details,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def _detail_value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_detail_value(item) for item in value) or "none"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def present(
    event: AuditEvent,
    reference: str | None,
    options: FilterOptions,
    disposed_on: date | None = None,
) -> EventRow:
    """Shape a stored event for reading, with names from the form's choices."""
    if event.actor_id is None:
        actor_name = "Nobody signed in" if event.action == AuditAction.LOGIN_FAILED else "System"
    else:
        actor_name = options.names.get(event.actor_id, f"User {event.actor_id}")
    if event.school_id is None:
        school_name = ""
    else:
        school_name = options.school_names.get(event.school_id, f"School {event.school_id}")
    return EventRow(
        seq=event.seq,
        occurred_at=event.occurred_at,
        actor_id=event.actor_id,
        actor_name=actor_name,
        actor_role=event.actor_role,
        action=event.action,
        action_label=event.action_label,
        object_type=event.object_type,
        object_id=event.object_id,
        school_id=event.school_id,
        school_name=school_name,
        case_id=event.case_id,
        case_reference=reference,
        outcome=event.outcome,
        request_id=event.request_id,
        client_address=event.client_address,
        details=dict(event.details or {}),
        prev_hash=event.prev_hash,
        hash=event.hash,
        case_disposed_on=disposed_on,
    )


# --- exports -------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_name",
    "actor_role",
    "action",
    "action_label",
    "object_type",
    "object_id",
    "school_id",
    "school",
    "case_id",
    "case_reference",
    "outcome",
    "request_id",
    "client_address",
    "details",
    "prev_hash",
    "hash",
)

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text rather than running as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_cells(row: EventRow) -> list[Any]:
    record = row.as_record()
    record["details"] = json.dumps(record["details"], sort_keys=True, separators=(",", ":"))
    return [
        spreadsheet_safe("" if record[name] is None else record[name]) for name in EXPORT_COLUMNS
    ]


def export_chunk_query(
    user: User, filters: AuditFilters, *, after: int, up_to: int, size: int
) -> Select[Any]:
    """The next events of an export, oldest first: numbered after `after`, up to `up_to`.

    `up_to` is the newest matching event when the export was counted, so the file holds
    exactly what was counted (the trail only grows), and never its own audit event.
    """
    return (
        _events_with_references()
        .where(*_visible(user, filters), AuditEvent.seq > after, AuditEvent.seq <= up_to)
        .order_by(AuditEvent.seq)
        .limit(size)
    )


# --- a case's complete history -------------------------------------------------------


class HistoryView(StrEnum):
    ALL = "all"
    CHANGES = "changes"
    READS = "reads"
    REFUSALS = "refusals"

    @property
    def label(self) -> str:
        return {
            "all": "Everything",
            "changes": "Changes only",
            "reads": "Reads only",
            "refusals": "Refusals only",
        }[self.value]


def case_events_query(case: Case) -> Select[tuple[AuditEvent]]:
    return select(AuditEvent).where(about_case(case.id)).order_by(AuditEvent.seq)


def case_revisions_query(case: Case) -> Select[tuple[CaseRevision]]:
    return select(CaseRevision).where(CaseRevision.case_id == case.id).order_by(CaseRevision.number)


def people_query(user_ids: Iterable[int]) -> Select[Any]:
    return select(User.id, User.display_name, User.email).where(User.id.in_(sorted(user_ids)))


# Words for the case's fields in a revision; anything else is shown by its name.
FIELD_LABELS = {
    "school_id": "School",
    "subject_id": "Member of staff",
    "reported_by_id": "Reported by",
    "source": "How it came to light",
    "source_detail": "Who raised it and how",
    "occurred_on": "When it happened",
    "reported_on": "When it was reported",
    "platform": "Platform",
    "platform_detail": "Platform (other)",
    "summary": "Summary",
    "status": "Status",
    "track": "Track",
    "triage_rationale": "Reasons for the triage",
    "investigator_id": "Investigator",
    "investigation_summary": "Investigation summary",
    "decision_maker_id": "Decision maker",
    "lado_advice": "The LADO's advice",
    "closure_reason": "Reason for closing",
}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name) or (name.replace("_", " ").capitalize())


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    before: Any
    after: Any


@dataclass(frozen=True)
class RevisionRow:
    number: int
    changed_at: datetime
    changed_by_id: int | None
    changed_by_name: str
    audit_seq: int | None
    changes: list[FieldChange]


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


def _revision_row(revision: CaseRevision, names: Mapping[int, str]) -> RevisionRow:
    changes = [
        FieldChange(name, field_label(name), *(field_value(name, v) for v in _pair(values)))
        for name, values in (revision.changes or {}).items()
    ]
    return RevisionRow(
        number=revision.number,
        changed_at=revision.changed_at,
        changed_by_id=revision.changed_by_id,
        changed_by_name=(
            names.get(revision.changed_by_id, f"User {revision.changed_by_id}")
            if revision.changed_by_id is not None
            else "System"
        ),
        audit_seq=revision.audit_seq,
        changes=changes,
    )


def _pair(values: Any) -> tuple[Any, Any]:
    values = list(values) if isinstance(values, list | tuple) else [None, values]
    return (values + [None, None])[0], (values + [None, None])[1]


_VALUE_LABELS: dict[str, type[LabelledEnum]] = {
    "source": Source,
    "platform": Platform,
    "status": CaseStatus,
    "track": Track,
}


def field_value(name: str, value: Any) -> Any:
    """A stored value in words: labels for coded values, UK dates for ISO dates."""
    if value is None or not isinstance(value, str):
        return value
    labels = _VALUE_LABELS.get(name)
    if labels is not None:
        try:
            return labels(value).label
        except ValueError:
            return value
    if _ISO_DATE.match(value):
        day = date.fromisoformat(value)
        return f"{day.day} {day:%B %Y}"
    return value


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def case_history(
    case: Case,
    events: list[AuditEvent],
    revisions: list[CaseRevision],
    people: Mapping[int, str],
) -> list[HistoryItem]:
    """Events and revisions merged, oldest first; a revision sits with its event."""
    options = FilterOptions(
        people=[Person(id_, name, "") for id_, name in people.items()],
        schools=[(case.school_id, case.school.name)],
    )
    revision_rows = [_revision_row(revision, people) for revision in revisions]
    seqs = {event.seq for event in events}
    by_seq = {row.audit_seq: row for row in revision_rows if row.audit_seq in seqs}
    reference = case.reference
    items = []
    for event in events:
        # A refusal names the case only as its object; it is still about this case.
        row = present(event, reference, options)
        items.append(
            HistoryItem(
                at=row.occurred_at, actor_id=row.actor_id, event=row, revision=by_seq.get(row.seq)
            )
        )
    for row in revision_rows:
        if row.audit_seq not in by_seq:
            items.append(HistoryItem(at=row.changed_at, actor_id=row.changed_by_id, revision=row))
    return sorted(items, key=lambda item: item.sort_key)


def actors_in(events: Iterable[AuditEvent], revisions: Iterable[CaseRevision]) -> set[int]:
    ids = {event.actor_id for event in events if event.actor_id is not None}
    ids |= {rev.changed_by_id for rev in revisions if rev.changed_by_id is not None}
    return ids


# --- recording the reads -------------------------------------------------------------


def record_search(user: User, filters: AuditFilters, results: int) -> None:
    """audit.searched: which filters were used and how many events matched, never what
    was typed into them. Two statements; the caller commits."""
    audit.record(
        AuditAction.AUDIT_SEARCHED,
        actor=user,
        object_type="audit_trail",
        details={"filters": filters.names, "results": results},
    )


def record_export(
    user: User, filters: AuditFilters, *, file_format: str, results: int, truncated: bool
) -> None:
    """audit.exported: the format, the filters' names, how many events matched and
    whether the file holds fewer (over EXPORT_LIMIT). The caller commits before sending:
    an export whose event could not be written is never sent."""
    audit.record(
        AuditAction.AUDIT_EXPORTED,
        actor=user,
        object_type="audit_trail",
        details={
            "format": file_format,
            "filters": filters.names,
            "results": results,
            "truncated": truncated,
        },
    )


def iter_json(header: Mapping[str, Any], records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A JSON document, {header fields..., "events": [...]}, written a piece at a time."""
    fields = [f" {json.dumps(key)}: {json.dumps(value)}" for key, value in header.items()]
    yield "{\n" + "".join(f"{line},\n" for line in fields) + ' "events": [\n'
    first = True
    for record in records:
        yield ("" if first else ",\n") + "  " + json.dumps(record)
        first = False
    yield "\n ]\n}\n"
