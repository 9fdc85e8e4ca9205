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
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
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
from sqlalchemy.orm import aliased, contains_eager

from tracker.auth.models import User
from tracker.auth.permissions import case_scope, schools_in_scope, visible_cases_filter
from tracker.cases.models import OPEN_STATUSES, Case, CaseStatus, ClauseBreach, Platform, Track
from tracker.cases.waiting import NextStep, next_step, submitted_for_decision_at, waiting_for
from tracker.db import LabelledEnum
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
    case: Case
    cited_references: list[str]
    # How many cases about the same member of staff the user may read (this one too).
    about_subject: int = 1
    next_step: NextStep | None = None


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


def _key_of(case: Case, sort: Sort) -> list[Any]:
    keys: dict[Sort, list[Any]] = {
        Sort.NEWEST: [case.reported_on, case.id],
        Sort.OLDEST: [case.reported_on, case.id],
        Sort.REFERENCE: [case.reference],
        Sort.STATUS: [_status_rank(case.status), case.reported_on, case.id],
    }
    return keys[sort]


def encode_cursor(case: Case, sort: Sort) -> str:
    """The case's place in the ordering, as a short opaque token for an address."""
    values = [v.isoformat() if isinstance(v, date) else v for v in _key_of(case, sort)]
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


def _beyond(keys: list[_SortKey], cursor: tuple[Any, ...], backwards: bool) -> Any:
    """Rows after the cursor in the ordering (before it, going backwards)."""
    if len({key.descending for key in keys}) == 1:
        # One direction throughout: a row-value comparison, which an index can seek to.
        columns = tuple_(*(key.column for key in keys))
        values = tuple_(*(literal(value) for value in cursor))
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


def case_list_query(user: User, filters: CaseFilters) -> Select[Any]:
    """One page of the cases the user may read that match the filters, and one more.

    Rows are (Case with school and subject loaded, cited references joined by commas,
    total matching, when it was last submitted for decision, how many cases about its
    subject the user may read). School and subject are many-to-one joins, so they never multiply
    rows. The extra row, when it comes back, says there is a page beyond this one; going
    backwards (`filters.before`) the rows come in reverse order (see `page_from_rows`).
    """
    # Aliased to keep the join apart from visible_cases_filter's own subquery on
    # staff_members: were that subquery ever an EXISTS, SQLAlchemy would correlate it to
    # an unaliased join and silently change its meaning.
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
        .where(Case.subject_id == subject.id, visible_cases_filter(user))
        .correlate_except(Case)
        .scalar_subquery()
    )
    keys = _sort_keys(filters.sort)
    backwards = filters.before is not None
    conditions = [visible_cases_filter(user), *_conditions(filters, user)]
    paged = list(conditions)
    if filters.cursor is not None:
        paged.append(_beyond(keys, filters.cursor, backwards))
    return (
        select(
            Case,
            cited.label("cited_references"),
            _count_matching(user, filters).label("total"),
            submitted_for_decision_at().label("submitted_at"),
            about_subject.label("about_subject"),
        )
        .join(Case.school)
        .join(subject, Case.subject.of_type(subject))
        .options(contains_eager(Case.school), contains_eager(Case.subject.of_type(subject)))
        .where(*paged)
        .order_by(
            *(
                key.column.desc() if key.descending != backwards else key.column.asc()
                for key in keys
            )
        )
        .limit(filters.per_page + 1)
    )


def _count_matching(user: User, filters: CaseFilters) -> Any:
    """How many cases match, counted up to COUNT_LIMIT + 1, whatever the page.

    A scalar subquery that does not depend on the outer row, so the database computes it
    once, without the cursor, the sort or the joins the page needs for display; the
    LIMIT inside bounds its work however many cases the trust holds.
    """
    matching = select(Case.id).where(visible_cases_filter(user), *_conditions(filters, user))
    limited = matching.limit(COUNT_LIMIT + 1).subquery()
    return select(func.count()).select_from(limited).scalar_subquery()


def _known(value: str, allowed: type[StrEnum]) -> Any:
    """A filter's value written into the SQL (see `_conditions`) when it is one of the
    enum's own values; anything else stays a bound parameter, and matches nothing."""
    literal = value in allowed._value2member_map_
    return bindparam(None, value, type_=String(), literal_execute=literal)


def _conditions(filters: CaseFilters, user: User) -> list[ColumnElement[bool]]:
    trust_id = user.trust_id
    conditions: list[ColumnElement[bool]] = []
    if filters.school_id is not None:
        conditions.append(Case.school_id == filters.school_id)
    # Status, track and platform are each one of a few known values (the form refuses any
    # other), some far rarer than others: written into the statement's text, rather than
    # bound, so that PostgreSQL plans each value as itself even with a prepared statement
    # and a generic plan (a bound status once read the trust's whole history: 21 ms
    # against 11). Values, not user text: the form has already matched them to the enum.
    if filters.status == OPEN:
        conditions.append(Case.status.in_(sorted(status.value for status in OPEN_STATUSES)))
    elif filters.status:
        conditions.append(Case.status == _known(filters.status, CaseStatus))
    if filters.waiting == WAITING_FOR_YOU:
        conditions.append(waiting_for(user))
    if filters.track == NOT_TRIAGED:
        conditions.append(Case.track.is_(None))
    elif filters.track:
        conditions.append(Case.track == _known(filters.track, Track))
    if filters.clause:
        # By reference, not clause id: "3.4" finds cases under every version of the
        # policy. EXISTS rather than a join, so a case is never listed twice.
        conditions.append(
            exists()
            .where(ClauseBreach.case_id == Case.id)
            .where(ClauseBreach.clause_id == Clause.id, Clause.reference == filters.clause)
        )
    if filters.platform:
        conditions.append(Case.platform == _known(filters.platform, Platform))
    if filters.reported_from is not None:
        conditions.append(Case.reported_on >= filters.reported_from)
    if filters.reported_to is not None:
        conditions.append(Case.reported_on <= filters.reported_to)
    term = filters.search.strip()
    if term:
        # The staff whose names match, found once among the trust's few thousand,
        # rather than the name of every case's subject read and matched in turn.
        named = select(StaffMember.id).where(
            StaffMember.trust_id == trust_id,
            StaffMember.full_name.icontains(term, autoescape=True),
        )
        by_name = Case.subject_id.in_(named)
        # A reference is the trust's upper-case ASCII code, the year and a number
        # (allocate_reference), so a term begins one, in any case, only as its upper-case
        # ASCII self: a plain LIKE finds it without folding the case of every row.
        if term.isascii():
            by_reference = Case.reference.startswith(term.upper(), autoescape=True)
            conditions.append(or_(by_reference, by_name))
        else:
            conditions.append(by_name)
    return conditions


_STATUS_RANK = {status.value: position for position, status in enumerate(CaseStatus)}
_STATUS_ORDER = case(_STATUS_RANK, value=Case.status, else_=len(CaseStatus))


def page_from_rows(rows: list[Any], filters: CaseFilters, now: datetime) -> CasePage:
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
    case_rows = [
        CaseRow(
            case=row[0],
            cited_references=sorted(
                (ref for ref in (row[1] or "").split(_REFERENCE_SEPARATOR) if ref),
                key=reference_sort_key,
            ),
            about_subject=row[4] or 1,
            next_step=next_step(
                status=row[0].status,
                track=row[0].track,
                reported_on=row[0].reported_on,
                lado_due_at=row[0].lado_due_at,
                lado_referred_at=row[0].lado_referred_at,
                lado_advice_given=bool(row[0].lado_advice.strip()),
                submitted_at=row[3],
                now=now,
            ),
        )
        for row in rows
    ]
    if rows:
        total: int | None = rows[0][2]
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
        previous_cursor=encode_cursor(rows[0][0], filters.sort) if rows else None,
        next_cursor=encode_cursor(rows[-1][0], filters.sort) if rows else None,
    )


# --- the whole list, for a download -----------------------------------------------------

# A download of the list holds at most this many cases, the first in the list's order;
# the file says so on its last line when more match.
EXPORT_LIMIT = 10_000


def export_query(user: User, filters: CaseFilters, *, limit: int = EXPORT_LIMIT) -> Select[Any]:
    """Every case the list matches (all its pages), in the list's order, up to `limit` and
    one more (which says there were more), as plain columns: (reference, school, subject's
    name, status, track, cited references joined by commas, platform, platform detail,
    source, occurred on, reported on). One statement, whatever the number of cases."""
    subject = aliased(StaffMember)
    cited = (
        select(func.aggregate_strings(Clause.reference, _REFERENCE_SEPARATOR))
        .select_from(ClauseBreach)
        .join(Clause, ClauseBreach.clause_id == Clause.id)
        .where(ClauseBreach.case_id == Case.id)
        .scalar_subquery()
    )
    return (
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
        .where(visible_cases_filter(user), *_conditions(filters, user))
        .order_by(
            *(
                key.column.desc() if key.descending else key.column.asc()
                for key in _sort_keys(filters.sort)
            )
        )
        .limit(limit + 1)
    )


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
