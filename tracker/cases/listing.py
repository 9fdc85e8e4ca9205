"""The case list's queries: filters, search, sort and one page of rows, built as SQL.

Everything here is pure: functions take the user and the parsed filters and return
statements (or shape rows that came back), and the view executes them. A list page
costs two statements whatever its size, on top of the one that loads the signed-in
user (tracker/auth/sessions.py):

1. `filter_options_query`: the schools in the user's case scope and the clause
   references a case can cite, in one UNION ALL (the form's choices).
2. `case_list_query`: one page of cases with their school and subject joined, the
   references they cite aggregated into one column, the number of cases matching
   (an uncorrelated scalar subquery, which the database computes once), and for each
   row when it was last submitted for decision (its decision's deadline) and how many
   cases about its subject the user may read (correlated scalar subqueries, one index
   lookup per row shown).

Pages are keyset pages: a page starts after (or, going back, ends before) the sort key of
the row at its edge, carried in the address as a cursor, so the database seeks to it
through an index instead of reading and discarding every row before it, and page 4,000
costs what page 1 does. Every ordering ends on a unique column, so pages never overlap
or skip a case, even when cases are added between two clicks.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Date,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import NullType

from tracker.auth.models import User
from tracker.auth.permissions import (
    VIEWER_TRUST,
    Viewer,
    case_scope,
    schools_in_scope,
    visible_cases_filter,
)
from tracker.cases.models import (
    OPEN_STATUSES,
    Case,
    CaseStatus,
    ClauseBreach,
    Platform,
    Track,
    lado_is_overdue,
    platform_label,
)
from tracker.cases.waiting import NextStep, next_step, submitted_for_decision_at, waiting_for
from tracker.db import PLAN_FOR_ITS_VALUES, LabelledEnum, missing_parameters, named_parameters
from tracker.orgs.models import School
from tracker.policy.models import Clause, ClauseKind, Policy, PolicyVersion, VersionStatus
from tracker.staff.models import StaffMember

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
# The list counts the matching cases up to this many, and says "more than" beyond: an
# exact count of a whole trust's history would read every row on every page, and nobody
# pages through more than a thousand cases (they filter).
COUNT_LIMIT = 1000
# The page number is only what the page says ("Showing 26 to 50"); the cursor decides
# which cases are on it. Bounded so that a hand-edited number stays a small integer.
MAX_PAGE = 1_000_000
# The track filter's value for cases not triaged yet (track is NULL).
NOT_TRIAGED = "none"
# The status filter's value for every open status (not closed or withdrawn).
OPEN = "open"
# The "waiting" filter's value for the cases whose next step is the user's own.
WAITING_FOR_YOU = "you"
# Clause references are digits, dots, brackets and a letter, so a comma never occurs in one.
_REFERENCE_SEPARATOR = ","


class Sort(LabelledEnum):
    NEWEST = "newest", "Most recently reported"
    OLDEST = "oldest", "Least recently reported"
    REFERENCE = "reference"
    STATUS = "status"


@dataclass(frozen=True)
class CaseFilters:
    """What the user asked the list for, already checked by the filter form."""

    school_id: int | None = None
    status: str | None = None
    track: str | None = None  # a Track value, or NOT_TRIAGED
    clause: str | None = None  # a clause reference, e.g. 3.4, in any version
    platform: str | None = None
    reported_from: date | None = None
    reported_to: date | None = None
    search: str = ""
    waiting: str | None = None  # WAITING_FOR_YOU, or None for anyone's
    sort: Sort = Sort.NEWEST
    page: int = 1
    per_page: int = DEFAULT_PAGE_SIZE
    # The sort key of the last case of the page before (forwards) or of the first case of
    # the page after (backwards, for "Previous"); neither on the first page.
    after: tuple[Any, ...] | None = None
    before: tuple[Any, ...] | None = None

    @property
    def names_in_use(self) -> list[str]:
        """The names of the filters that narrow the list, sorted (sorting and paging do
        not narrow it). Names only: the audit trail records these, never the values."""
        values = {name: getattr(self, name) for name in _FILTER_NAMES}
        values["search"] = self.search.strip()  # as the query uses it
        return sorted(name for name, value in values.items() if value not in (None, ""))

    @property
    def is_filtered(self) -> bool:
        """Whether anything narrows the list (sorting and paging do not)."""
        return bool(self.names_in_use)

    @property
    def cursor(self) -> tuple[Any, ...] | None:
        return self.before if self.before is not None else self.after


_FILTER_NAMES = (
    "school_id",
    "status",
    "track",
    "clause",
    "platform",
    "reported_from",
    "reported_to",
    "search",
    "waiting",
)


def clamp_page(raw: Any) -> int:
    """A page number from the query string: bad or out-of-range values are pulled in."""
    number = _to_int(raw, default=1)
    return min(max(number, 1), MAX_PAGE)


def clamp_page_size(raw: Any) -> int:
    number = _to_int(raw, default=DEFAULT_PAGE_SIZE)
    return min(max(number, 1), MAX_PAGE_SIZE)


def _to_int(raw: Any, *, default: int) -> int:
    try:
        return int(str(raw).strip()) if raw not in (None, "") else default
    except ValueError:
        return default


def reference_sort_key(reference: str) -> tuple[tuple[int, int | str], ...]:
    """Order clause references as a reader does: 3.2 < 3.2(a) < 3.2(b) < 3.4 < 3.10."""
    parts = [part for part in re.split(r"[.()]", reference) if part]
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in parts)


# --- the page of cases -----------------------------------------------------------------


@dataclass(frozen=True)
class CaseRow:
    """One listed case, as plain values (the list needs no case objects): what its row
    shows, its address, and the sort keys its cursor is made of."""

    id: int
    reference: str
    status: str
    reported_on: date
    subject_name: str
    school_name: str
    track: str | None
    platform_label: str
    lado_overdue: bool
    cited_references: list[str]
    # How many cases about the same member of staff the user may read (this one too).
    about_subject: int = 1
    next_step: NextStep | None = None
    url: str = ""
    # The list searched for the subject's name ("N cases about this person").
    subject_cases_url: str = ""

    @property
    def status_label(self) -> str:
        return CaseStatus(self.status).label

    @property
    def track_label(self) -> str:
        return Track(self.track).label if self.track else "Not triaged"


@dataclass(frozen=True)
class CasePage:
    rows: list[CaseRow]
    # How many cases match, up to COUNT_LIMIT + 1 (see is_count_capped); None when a
    # cursor led past the end (nothing came back).
    total: int | None
    page: int
    per_page: int
    has_previous: bool = False
    has_next: bool = False
    # Cursors for the links: the sort keys of the first and the last case shown.
    previous_cursor: str | None = None
    next_cursor: str | None = None

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.per_page + 1

    @property
    def last_number(self) -> int:
        return (self.page - 1) * self.per_page + len(self.rows)

    @property
    def is_past_the_end(self) -> bool:
        return self.total is None

    @property
    def is_count_capped(self) -> bool:
        """More than COUNT_LIMIT cases match: the page says "more than" that."""
        return self.total is not None and self.total > COUNT_LIMIT

    @property
    def count_limit(self) -> int:
        return COUNT_LIMIT


@dataclass(frozen=True)
class _SortKey:
    """One column of an ordering: how to order by it and how its cursor value is typed."""

    column: Any
    descending: bool
    kind: type  # date, int or str: what a cursor value must be


def _status_rank(status: str) -> int:
    return _STATUS_RANK.get(status, len(CaseStatus))


def _sort_keys(sort: Sort) -> list[_SortKey]:
    # Every ordering ends on a unique column so that pages never overlap or skip.
    if sort is Sort.OLDEST:
        return [_SortKey(Case.reported_on, False, date), _SortKey(Case.id, False, int)]
    if sort is Sort.REFERENCE:
        return [_SortKey(Case.reference, False, str)]
    if sort is Sort.STATUS:
        return [
            _SortKey(_STATUS_ORDER, False, int),
            _SortKey(Case.reported_on, True, date),
            _SortKey(Case.id, True, int),
        ]
    return [_SortKey(Case.reported_on, True, date), _SortKey(Case.id, True, int)]


def _key_of(row: CaseRow | Case, sort: Sort) -> list[Any]:
    keys: dict[Sort, list[Any]] = {
        Sort.NEWEST: [row.reported_on, row.id],
        Sort.OLDEST: [row.reported_on, row.id],
        Sort.REFERENCE: [row.reference],
        Sort.STATUS: [_status_rank(row.status), row.reported_on, row.id],
    }
    return keys[sort]


def encode_cursor(row: CaseRow | Case, sort: Sort) -> str:
    """The case's place in the ordering, as a short opaque token for an address."""
    values = [v.isoformat() if isinstance(v, date) else v for v in _key_of(row, sort)]
    text = json.dumps(values, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(token: Any, sort: Sort) -> tuple[Any, ...] | None:
    """The sort key a cursor carries, or None when it is not one for this ordering (a
    hand-edited or stale address: the list then starts at the first page)."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        values = json.loads(text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    keys = _sort_keys(sort)
    if not isinstance(values, list) or len(values) != len(keys):
        return None
    key: list[Any] = []
    for value, sort_key in zip(values, keys, strict=True):
        if sort_key.kind is date:
            try:
                key.append(date.fromisoformat(value))
            except (TypeError, ValueError):
                return None
        elif sort_key.kind is int:
            if not isinstance(value, int) or isinstance(value, bool) or abs(value) > 2**62:
                return None
            key.append(value)
        elif isinstance(value, str) and len(value) <= 32:
            key.append(value)
        else:
            return None
    return tuple(key)


def _beyond(keys: list[_SortKey], cursor: list[Any], backwards: bool) -> Any:
    """Rows after the cursor in the ordering (before it, going backwards)."""
    if len({key.descending for key in keys}) == 1:
        # One direction throughout: a row-value comparison, which an index can seek to.
        columns = tuple_(*(key.column for key in keys))
        values = tuple_(*cursor)
        later = keys[0].descending == backwards
        return columns > values if later else columns < values
    # Mixed directions (status, then newest first): spelt out column by column.
    condition = None
    for key, value in reversed(list(zip(keys, cursor, strict=True))):
        later = key.descending == backwards
        beyond = key.column > value if later else key.column < value
        condition = (
            beyond if condition is None else or_(beyond, and_(key.column == value, condition))
        )
    return condition


# --- one statement per shape ------------------------------------------------------------
#
# The list's statement depends on which filters are in use, the ordering, the direction,
# the page size and the shape of the viewer's reach, never on their values: it is built
# once per shape (per process) and run with the values as named parameters. Building it
# afresh on every page cost as much as running it.


@dataclass(frozen=True)
class _Shape:
    viewer: tuple[str, str]  # Viewer.shape
    school: bool
    status: str | None  # OPEN, "known" (an enum value, written into the SQL) or "other"
    waiting: bool
    track: str | None  # NOT_TRIAGED, "known" or "other"
    clause: bool
    platform: str | None  # "known" or "other"
    reported_from: bool
    reported_to: bool
    search: str | None  # "reference" (a reference or a name) or "name" (only a name)
    sort: Sort
    cursor: bool
    backwards: bool
    per_page: int


def _kind(value: str | None, allowed: type[StrEnum]) -> str | None:
    if not value:
        return None
    return "known" if value in allowed._value2member_map_ else "other"


def _may_begin_reference(term: str, trust_code: str) -> bool:
    """Whether a search term could begin one of the trust's references: every reference
    is the trust's code, the year and a number (allocate_reference), in upper-case ASCII,
    and a trust's code never changes. A term that cannot (most names) is searched for
    among names alone, which the subjects' index finds; matching references too would
    read cases one by one on PostgreSQL, whose index on references cannot find a
    prefix."""
    upper = term.upper()
    return term.isascii() and (upper.startswith(trust_code) or trust_code.startswith(upper))


def _shape(viewer: Viewer, filters: CaseFilters, trust_code: str) -> _Shape:
    term = filters.search.strip()
    return _Shape(
        viewer=viewer.shape,
        school=filters.school_id is not None,
        status=OPEN if filters.status == OPEN else _kind(filters.status, CaseStatus),
        waiting=filters.waiting == WAITING_FOR_YOU,
        track=NOT_TRIAGED if filters.track == NOT_TRIAGED else _kind(filters.track, Track),
        clause=bool(filters.clause),
        platform=_kind(filters.platform, Platform),
        reported_from=filters.reported_from is not None,
        reported_to=filters.reported_to is not None,
        search=(
            ("reference" if _may_begin_reference(term, trust_code) else "name") if term else None
        ),
        sort=filters.sort,
        cursor=filters.cursor is not None,
        backwards=filters.before is not None,
        per_page=filters.per_page,
    )


def _like_escaped(text: str) -> str:
    """`text` for a LIKE with ESCAPE '/': its wildcards (and the escape) taken literally."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


_GLOB_SPECIAL = re.compile(r"([*?\[])")


def _glob_prefix(text: str) -> str:
    """A GLOB pattern for what begins with `text`: its wildcards taken literally, each
    as a one-character set ("[*]")."""
    return _GLOB_SPECIAL.sub(r"[\1]", text) + "*"


class ReferenceBegins(FunctionElement[Any]):
    """A reference begins with an (upper-case) term: LIKE 'TERM%' on PostgreSQL, GLOB
    'TERM*' on SQLite. SQLite's LIKE ignores case, so it cannot seek through the
    references' unique index, and a search's OR of name and reference read every case in
    turn; GLOB is case-sensitive, which references (upper-case ASCII, allocate_reference)
    allow, and seeks, so both halves of the OR use an index. Arguments: the column, the
    LIKE pattern's parameter (escaped with '/'), the GLOB pattern's."""

    # No Boolean type: SQLite's dialect would write "... = 1" after a Boolean function,
    # which hides the GLOB from its planner.
    type = NullType()
    inherit_cache = True
    name = "reference_begins"


@compiles(ReferenceBegins)
def _reference_begins(element: ReferenceBegins, compiler: Any, **kw: Any) -> str:
    column, like, _glob = element.clauses
    return str(compiler.process(column.startswith(like, escape="/"), **kw))


@compiles(ReferenceBegins, "sqlite")
def _reference_begins_sqlite(element: ReferenceBegins, compiler: Any, **kw: Any) -> str:
    column, _like, glob = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"{column} GLOB {glob}"


def _params(viewer: Viewer, filters: CaseFilters) -> dict[str, Any]:
    """The values of the parameters `_conditions` and `_beyond` name."""
    term = filters.search.strip()
    params: dict[str, Any] = {
        **viewer.params(),
        "f_school": filters.school_id,
        "f_status": filters.status,
        "f_track": filters.track,
        "f_clause": filters.clause,
        "f_platform": filters.platform,
        "f_from": filters.reported_from,
        "f_to": filters.reported_to,
        "f_name": _like_escaped(term),
        "f_reference": _like_escaped(term.upper()),
        "f_reference_glob": _glob_prefix(term.upper()),
    }
    for number, value in enumerate(filters.cursor or ()):
        params[f"f_cursor_{number}"] = value
    return params


_SQL_TYPES: dict[type, Any] = {date: Date(), int: Integer(), str: String()}


def _conditions(shape: _Shape, viewer: Viewer) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if shape.school:
        conditions.append(Case.school_id == bindparam("f_school", type_=Integer()))
    # Status, track and platform are each one of a few known values (the form refuses any
    # other), some far rarer than others: written into the statement's text when they
    # are an enum's own value (literal_execute, rendered as each statement runs), rather
    # than bound, so that PostgreSQL plans each value as itself even with a prepared
    # statement and a generic plan (a bound status once read the trust's whole history:
    # 21 ms against 11). Values, not user text: the form has already matched them.
    if shape.status == OPEN:
        conditions.append(Case.status.in_(sorted(status.value for status in OPEN_STATUSES)))
    elif shape.status:
        conditions.append(Case.status == _filter_value("f_status", shape.status))
    if shape.waiting:
        conditions.append(waiting_for(viewer))
    if shape.track == NOT_TRIAGED:
        conditions.append(Case.track.is_(None))
    elif shape.track:
        conditions.append(Case.track == _filter_value("f_track", shape.track))
    if shape.clause:
        # By reference, not clause id: "3.4" finds cases under every version of the
        # policy. EXISTS rather than a join, so a case is never listed twice.
        conditions.append(
            exists()
            .where(ClauseBreach.case_id == Case.id)
            .where(
                ClauseBreach.clause_id == Clause.id,
                Clause.reference == bindparam("f_clause", type_=String()),
            )
        )
    if shape.platform:
        conditions.append(Case.platform == _filter_value("f_platform", shape.platform))
    if shape.reported_from:
        conditions.append(Case.reported_on >= bindparam("f_from", type_=Date()))
    if shape.reported_to:
        conditions.append(Case.reported_on <= bindparam("f_to", type_=Date()))
    if shape.search:
        # The staff whose names match, found once among the trust's few thousand,
        # rather than the name of every case's subject read and matched in turn.
        named = select(StaffMember.id).where(
            StaffMember.trust_id == bindparam(VIEWER_TRUST, viewer.trust_id, type_=Integer()),
            StaffMember.full_name.icontains(bindparam("f_name", type_=String()), escape="/"),
        )
        by_name = Case.subject_id.in_(named)
        # A reference is the trust's upper-case ASCII code, the year and a number
        # (allocate_reference), so a term begins one, in any case, only as its upper-case
        # ASCII self, and only if it could begin the trust's code (_may_begin_reference):
        # a plain prefix match finds it without folding the case of every row.
        if shape.search == "reference":
            by_reference = ReferenceBegins(
                Case.reference,
                bindparam("f_reference", type_=String()),
                bindparam("f_reference_glob", type_=String()),
            )
            conditions.append(or_(by_reference, by_name))
        else:
            conditions.append(by_name)
    return conditions


def _filter_value(name: str, kind: str) -> Any:
    return bindparam(name, type_=String(), literal_execute=kind == "known")


@dataclass(frozen=True)
class _Built:
    statement: Select[Any]
    names: frozenset[str]  # the parameters it names, each of which a run must be given


def _named_parameters(statement: Any) -> frozenset[str]:
    return named_parameters(statement, ("f_", "viewer_"))


def _planned(statement: Select[Any], shape: _Shape) -> Select[Any]:
    """A search's statement is planned for its own term on PostgreSQL (tracker/db.py
    PLAN_FOR_ITS_VALUES): a generic plan cannot know how many people a name matches, and
    walked the whole trust by date looking for a rare name's cases (70 ms p95 against 20
    at 100,000 cases) rather than finding them through the subject's index."""
    return statement.execution_options(**PLAN_FOR_ITS_VALUES) if shape.search else statement


@lru_cache(maxsize=512)
def _statement(shape: _Shape) -> _Built:
    """The list's statement for one shape, built for a stand-in viewer (Viewer.stand_in)
    whose values are never used: each run binds its own."""
    viewer = Viewer.stand_in(shape.viewer)
    subject = aliased(StaffMember)
    cited = (
        select(func.aggregate_strings(Clause.reference, _REFERENCE_SEPARATOR))
        .select_from(ClauseBreach)
        .join(Clause, ClauseBreach.clause_id == Clause.id)
        .where(ClauseBreach.case_id == Case.id)
        .scalar_subquery()
    )
    # The user's cases about the same member of staff: a fresh `cases` inside (not the
    # row's own), matched to the row through the aliased subject, one index lookup each.
    about_subject = (
        select(func.count(Case.id))
        .where(Case.subject_id == subject.id, visible_cases_filter(viewer))
        .correlate_except(Case)
        .scalar_subquery()
    )
    conditions = [visible_cases_filter(viewer), *_conditions(shape, viewer)]
    # How many cases match, counted up to COUNT_LIMIT + 1, whatever the page: a scalar
    # subquery that does not depend on the outer row, so the database computes it once,
    # without the cursor, the sort or the joins the page needs for display; the LIMIT
    # inside bounds its work however many cases the trust holds.
    matching = select(Case.id).where(*conditions).limit(COUNT_LIMIT + 1).subquery()
    total = select(func.count()).select_from(matching).scalar_subquery()
    keys = _sort_keys(shape.sort)
    paged = list(conditions)
    if shape.cursor:
        cursor = [
            bindparam(f"f_cursor_{number}", type_=_SQL_TYPES[key.kind])
            for number, key in enumerate(keys)
        ]
        paged.append(_beyond(keys, cursor, shape.backwards))
    order = [
        key.column.desc() if key.descending != shape.backwards else key.column.asc() for key in keys
    ]
    # The page's cases chosen first, by their ids alone, and only those read for display:
    # the sort then carries two columns of each matching case rather than every column
    # and correlated count the page shows (a search by a common name matches thousands).
    page = select(Case.id).where(*paged).order_by(*order).limit(shape.per_page + 1).subquery()
    statement = (
        select(
            Case.id,
            Case.reference,
            Case.status,
            Case.reported_on,
            subject.full_name.label("subject_name"),
            School.name.label("school_name"),
            Case.track,
            Case.platform,
            Case.platform_detail,
            Case.lado_due_at,
            Case.lado_referred_at,
            Case.lado_advice,
            cited.label("cited_references"),
            total.label("total"),
            submitted_for_decision_at().label("submitted_at"),
            about_subject.label("about_subject"),
        )
        .select_from(page)
        .join(Case, Case.id == page.c.id)
        .join(School, School.id == Case.school_id)
        .join(subject, subject.id == Case.subject_id)
        .order_by(*order)
    )
    return _Built(_planned(statement, shape), _named_parameters(statement))


def case_list_query(user: User, filters: CaseFilters) -> tuple[Select[Any], dict[str, Any]]:
    """One page of the cases the user may read that match the filters, and one more: the
    statement and its parameters, for `db.session.execute(statement, parameters)`.

    Rows are (id, reference, status, reported on, subject's name, school's name, track,
    platform, platform detail, the LADO columns, cited references joined by commas,
    total matching, when it was last submitted for decision, how many cases about its
    subject the user may read). School and subject are many-to-one joins, so they never
    multiply rows. The extra row, when it comes back, says there is a page beyond this
    one; going backwards (`filters.before`) the rows come in reverse order (see
    `page_from_rows`).
    """
    viewer = Viewer.of(user)
    built = _statement(_shape(viewer, filters, user.trust.code))
    params = _params(viewer, filters)
    # A condition named a parameter nobody gives: refuse, never run it.
    missing_parameters(built.names, params)
    return built.statement, params


_STATUS_RANK = {status.value: position for position, status in enumerate(CaseStatus)}
_STATUS_ORDER = case(_STATUS_RANK, value=Case.status, else_=len(CaseStatus))


@dataclass(frozen=True)
class RowAddresses:
    """How the rows' links are made: the router's address for a case and for the list
    searched for a name, each taken once per page rather than once per row."""

    case_prefix: str
    case_suffix: str
    list_url: str

    @classmethod
    def from_router(cls, url_for: Callable[..., str]) -> RowAddresses:
        marker = 987654321
        prefix, _, suffix = url_for("cases.show", case_id=marker).partition(str(marker))
        return cls(case_prefix=prefix, case_suffix=suffix, list_url=url_for("cases.index"))

    def case(self, case_id: int) -> str:
        return f"{self.case_prefix}{case_id}{self.case_suffix}"

    def cases_about(self, name: str) -> str:
        return f"{self.list_url}?{urlencode({'q': name})}"


def page_from_rows(
    rows: list[Any], filters: CaseFilters, now: datetime, addresses: RowAddresses
) -> CasePage:
    """Shape what `case_list_query` returned into a page: each case with what it waits
    for next and when that is due, as at `now`."""
    more = len(rows) > filters.per_page
    rows = rows[: filters.per_page]
    page_number = filters.page
    if filters.before is not None:
        rows = list(reversed(rows))
        has_previous, has_next = more, True
        if not more:
            page_number = 1  # back at the start, whatever the address said
    else:
        has_previous, has_next = filters.after is not None, more
    case_rows = [_case_row(row, now, addresses) for row in rows]
    if rows:
        total: int | None = rows[0].total
    else:
        # An empty first page means nothing matches; an empty page after a cursor is past
        # the end (the cases after it have gone, or the address was made up).
        total = 0 if filters.cursor is None else None
    return CasePage(
        rows=case_rows,
        total=total,
        page=page_number,
        per_page=filters.per_page,
        has_previous=has_previous and bool(rows),
        has_next=has_next and bool(rows),
        previous_cursor=encode_cursor(case_rows[0], filters.sort) if rows else None,
        next_cursor=encode_cursor(case_rows[-1], filters.sort) if rows else None,
    )


def _case_row(row: Any, now: datetime, addresses: RowAddresses) -> CaseRow:
    about_subject = row.about_subject or 1
    return CaseRow(
        id=row.id,
        reference=row.reference,
        status=row.status,
        reported_on=row.reported_on,
        subject_name=row.subject_name,
        school_name=row.school_name,
        track=row.track,
        platform_label=platform_label(row.platform, row.platform_detail),
        lado_overdue=lado_is_overdue(row.status, row.lado_due_at, row.lado_referred_at, now),
        cited_references=cited_in_order(row.cited_references),
        about_subject=about_subject,
        next_step=next_step(
            status=row.status,
            track=row.track,
            reported_on=row.reported_on,
            lado_due_at=row.lado_due_at,
            lado_referred_at=row.lado_referred_at,
            lado_advice_given=bool(row.lado_advice.strip()),
            submitted_at=row.submitted_at,
            now=now,
        ),
        url=addresses.case(row.id),
        subject_cases_url=addresses.cases_about(row.subject_name) if about_subject > 1 else "",
    )


# --- the whole list, for a download -----------------------------------------------------

# A download of the list holds at most this many cases, the first in the list's order;
# the file says so on its last line when more match.
EXPORT_LIMIT = 10_000


def export_query(
    user: User, filters: CaseFilters, *, limit: int = EXPORT_LIMIT
) -> tuple[Select[Any], dict[str, Any]]:
    """Every case the list matches (all its pages), in the list's order, up to `limit` and
    one more (which says there were more), as plain columns: (reference, school, subject's
    name, status, track, cited references joined by commas, platform, platform detail,
    source, occurred on, reported on). One statement, whatever the number of cases; with
    its parameters, as `case_list_query` gives them."""
    viewer = Viewer.of(user)
    shape = _shape(viewer, replace(filters, after=None, before=None), user.trust.code)
    subject = aliased(StaffMember)
    cited = (
        select(func.aggregate_strings(Clause.reference, _REFERENCE_SEPARATOR))
        .select_from(ClauseBreach)
        .join(Clause, ClauseBreach.clause_id == Clause.id)
        .where(ClauseBreach.case_id == Case.id)
        .scalar_subquery()
    )
    statement = (
        select(
            Case.reference,
            School.name.label("school"),
            subject.full_name.label("subject"),
            Case.status,
            Case.track,
            cited.label("cited_references"),
            Case.platform,
            Case.platform_detail,
            Case.source,
            Case.occurred_on,
            Case.reported_on,
        )
        .join(School, School.id == Case.school_id)
        .join(subject, subject.id == Case.subject_id)
        .where(visible_cases_filter(viewer), *_conditions(shape, viewer))
        .order_by(
            *(
                key.column.desc() if key.descending else key.column.asc()
                for key in _sort_keys(filters.sort)
            )
        )
        .limit(limit + 1)
    )
    return _planned(statement, shape), _params(viewer, filters)


def cited_in_order(joined: str | None) -> list[str]:
    """The references of `cited_references`, in reading order."""
    references = (ref for ref in (joined or "").split(_REFERENCE_SEPARATOR) if ref)
    return sorted(references, key=reference_sort_key)


# --- the filter form's choices ---------------------------------------------------------


@dataclass(frozen=True)
class FilterOptions:
    schools: list[tuple[int, str]] = field(default_factory=list)
    clause_references: list[str] = field(default_factory=list)


def filter_options_query(user: User) -> CompoundSelect:
    """The schools the user may read cases at and every citable clause reference.

    One statement for both, to keep the list page within its query budget: rows are
    (kind, value, label) with kind "school" or "clause". References come from every
    published or superseded version of the trust's policies, matching the clause
    filter, which looks across versions.
    """
    schools = (
        schools_in_scope(case_scope(user))
        .with_only_columns(
            literal("school").label("kind"),
            cast(School.id, String).label("value"),
            School.name.label("label"),
        )
        .order_by(None)
    )
    references = (
        select(literal("clause"), Clause.reference, Clause.reference)
        .join(PolicyVersion, Clause.version_id == PolicyVersion.id)
        .join(Policy, PolicyVersion.policy_id == Policy.id)
        .where(
            and_(
                Policy.trust_id == user.trust_id,
                PolicyVersion.status != VersionStatus.DRAFT.value,
                Clause.kind == ClauseKind.RULE.value,
            )
        )
        .distinct()
    )
    return union_all(schools, references)


def options_from_rows(rows: list[Any]) -> FilterOptions:
    schools = sorted(
        ((int(value), label) for kind, value, label in rows if kind == "school"),
        key=lambda school: (school[1].casefold(), school[0]),
    )
    references = sorted(
        {value for kind, value, _label in rows if kind == "clause"}, key=reference_sort_key
    )
    return FilterOptions(schools=schools, clause_references=references)
