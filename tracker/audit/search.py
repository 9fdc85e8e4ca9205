"""The audit trail search: the filters as SQL, the form's choices, and pages of events.

Statements are built here and executed by the views, as in tracker/cases/listing.py. A
search page costs five statements on top of the one that loads the signed-in user: the
form's choices (the trust's people and the schools in scope, in one UNION ALL), the
number of matching events, one page of them (keyset on seq, so a page deep in a
trail of millions costs the same as the first), what the ids on the page name
(tracker.audit.names, one UNION ALL however many), and writing the audit.searched event
(two statements: see tracker.audit.services.record_search). Looking up a case reference
adds one. Names of people and schools come from the form's choices, never one query a
row.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Row,
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

from tracker.audit.describe import EventRow, present
from tracker.audit.models import AuditEvent
from tracker.audit.names import Names
from tracker.auth.models import User
from tracker.auth.permissions import (
    audit_scope,
    case_scope,
    schools_in_scope,
    visible_audit_events_filter,
    visible_cases_filter,
)
from tracker.cases.models import Case
from tracker.clock import uk_midnight
from tracker.orgs.models import School
from tracker.retention.models import CaseTombstone

PAGE_SIZE = 50

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


def case_id_for_reference(user: User, reference: str) -> CompoundSelect[tuple[int, bool]]:
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


def by_name(people: Iterable[Person]) -> list[Person]:
    """People in the order a list of them shows them: by name, namesakes by e-mail."""
    return sorted(people, key=lambda person: (person.name.casefold(), person.email))


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


def filter_options_query(user: User) -> CompoundSelect[tuple[str, str, str, str]]:
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


def options_from_rows(
    rows: Sequence[Row[tuple[str, str, str, str]]], *, whole_trust: bool
) -> FilterOptions:
    people = by_name(
        Person(int(value), label, email) for kind, value, label, email in rows if kind == "person"
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
    query = select(func.count(), func.max(AuditEvent.seq)).where(*_visible(user, filters))
    # SQLAlchemy types max() as its column's type; over no rows it is NULL.
    return typing.cast(Select[tuple[int, int | None]], query)


# What the statements for pages and exports read: an event, its case's reference, and
# the day the case was disposed of when only its tombstone is left.
EventColumns = tuple[AuditEvent, str | None, date | None]


def _events_with_references() -> Select[EventColumns]:
    """Events with their case's reference, and the day it was disposed of when only its
    tombstone is left (rows of (event, reference, disposed_on))."""
    # Aliased so that the scope filter's own subquery on cases is never correlated to
    # this join (which would silently change its meaning).
    event_case = aliased(Case)
    query = (
        select(
            AuditEvent,
            func.coalesce(event_case.reference, CaseTombstone.reference),
            CaseTombstone.disposed_on,
        )
        .outerjoin(event_case, event_case.id == AuditEvent.case_id)
        .outerjoin(CaseTombstone, CaseTombstone.case_id == AuditEvent.case_id)
    )
    # SQLAlchemy types the joined columns as never NULL; an outer join can leave them so.
    return typing.cast(Select[EventColumns], query)


def page_query(
    user: User, filters: AuditFilters, cursor: Cursor, *, size: int = PAGE_SIZE
) -> Select[EventColumns]:
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


def present_rows(
    rows: Iterable[Row[EventColumns]], options: FilterOptions, names: Names | None = None
) -> list[EventRow]:
    """The events of a page or an export, in words, with the names from the form's choices
    (and, on a page, what the ids in the objects and details name)."""
    return [
        present(
            event,
            reference,
            people=options.names,
            schools=options.school_names,
            disposed_on=disposed_on,
            names=names,
        )
        for event, reference, disposed_on in rows
    ]


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
    rows: list[Row[EventColumns]],
    cursor: Cursor,
    options: FilterOptions,
    *,
    names: Names | None = None,
    size: int = PAGE_SIZE,
) -> EventPage:
    beyond = len(rows) > size
    rows = rows[:size]
    if cursor.after is not None:
        rows.reverse()
        # We came from an older page, so older events exist.
        has_newer, has_older = beyond, True
    else:
        has_newer, has_older = cursor.before is not None, beyond
    shown = present_rows(rows, options, names)
    if not shown:
        has_newer = has_older = False
    return EventPage(rows=shown, has_newer=has_newer, has_older=has_older)


def export_chunk_query(
    user: User, filters: AuditFilters, *, after: int, up_to: int, size: int
) -> Select[EventColumns]:
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
