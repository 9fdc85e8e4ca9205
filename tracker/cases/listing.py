"""The case list's queries: filters, search, sort and one page of rows, built as SQL.

Everything here is pure: functions take the user and the parsed filters and return
statements (or shape rows that came back), and the view executes them. A list page
costs two statements whatever its size, on top of the one that loads the signed-in
user (tracker/auth/sessions.py):

1. `filter_options_query`: the schools in the user's case scope and the clause
   references a case can cite, in one UNION ALL (the form's choices).
2. `case_list_query`: one page of cases with their school and subject joined, the
   references they cite aggregated into one column, and the number of cases matching
   (`count(*) OVER ()`, computed before LIMIT).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased, contains_eager

from tracker.auth.models import User
from tracker.auth.permissions import case_scope, schools_in_scope, visible_cases_filter
from tracker.cases.models import Case, CaseStatus, ClauseBreach
from tracker.orgs.models import School
from tracker.policy.models import Clause, ClauseKind, Policy, PolicyVersion, VersionStatus
from tracker.staff.models import StaffMember

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
# OFFSET reads and discards every row before the page; this keeps that work bounded
# (100,000 rows at the largest page size), far beyond any trust's case history.
MAX_PAGE = 1000
# The track filter's value for cases not triaged yet (track is NULL).
NOT_TRIAGED = "none"
# Clause references are digits, dots, brackets and a letter, so a comma never occurs in one.
_REFERENCE_SEPARATOR = ","


class Sort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    REFERENCE = "reference"
    STATUS = "status"

    @property
    def label(self) -> str:
        return {
            "newest": "Most recently reported",
            "oldest": "Least recently reported",
            "reference": "Reference",
            "status": "Status",
        }[self.value]


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
    sort: Sort = Sort.NEWEST
    page: int = 1
    per_page: int = DEFAULT_PAGE_SIZE

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
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


_FILTER_NAMES = (
    "school_id",
    "status",
    "track",
    "clause",
    "platform",
    "reported_from",
    "reported_to",
    "search",
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


@dataclass(frozen=True)
class CasePage:
    rows: list[CaseRow]
    # How many cases match; None when the page is past the end (nothing came back to
    # carry the count, and a second count query would break the query budget).
    total: int | None
    page: int
    per_page: int

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.per_page + 1

    @property
    def last_number(self) -> int:
        return (self.page - 1) * self.per_page + len(self.rows)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.total is not None and self.last_number < self.total and self.page < MAX_PAGE

    @property
    def is_past_the_end(self) -> bool:
        return self.total is None


def case_list_query(user: User, filters: CaseFilters) -> Select[Any]:
    """One page of the cases the user may read that match the filters.

    Rows are (Case with school and subject loaded, cited references joined by commas,
    total matching). School and subject are many-to-one joins, so they never multiply
    rows and the window count is the number of matching cases.
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
    return (
        select(Case, cited.label("cited_references"), func.count().over().label("total"))
        .join(Case.school)
        .join(subject, Case.subject.of_type(subject))
        .options(contains_eager(Case.school), contains_eager(Case.subject.of_type(subject)))
        .where(visible_cases_filter(user), *_conditions(filters, subject))
        .order_by(*_ordering(filters.sort))
        .limit(filters.per_page)
        .offset(filters.offset)
    )


def _conditions(filters: CaseFilters, subject: Any) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.school_id is not None:
        conditions.append(Case.school_id == filters.school_id)
    if filters.status:
        conditions.append(Case.status == filters.status)
    if filters.track == NOT_TRIAGED:
        conditions.append(Case.track.is_(None))
    elif filters.track:
        conditions.append(Case.track == filters.track)
    if filters.clause:
        # By reference, not clause id: "3.4" finds cases under every version of the
        # policy. EXISTS rather than a join, so a case is never listed twice.
        conditions.append(
            exists()
            .where(ClauseBreach.case_id == Case.id)
            .where(ClauseBreach.clause_id == Clause.id, Clause.reference == filters.clause)
        )
    if filters.platform:
        conditions.append(Case.platform == filters.platform)
    if filters.reported_from is not None:
        conditions.append(Case.reported_on >= filters.reported_from)
    if filters.reported_to is not None:
        conditions.append(Case.reported_on <= filters.reported_to)
    term = filters.search.strip()
    if term:
        conditions.append(
            or_(
                Case.reference.istartswith(term, autoescape=True),
                subject.full_name.icontains(term, autoescape=True),
            )
        )
    return conditions


_STATUS_ORDER = case(
    {status.value: position for position, status in enumerate(CaseStatus)},
    value=Case.status,
    else_=len(CaseStatus),
)


def _ordering(sort: Sort) -> list[Any]:
    # Every ordering ends on a unique column so that pages never overlap or skip.
    if sort is Sort.OLDEST:
        return [Case.reported_on.asc(), Case.id.asc()]
    if sort is Sort.REFERENCE:
        return [Case.reference.asc()]
    if sort is Sort.STATUS:
        return [_STATUS_ORDER, Case.reported_on.desc(), Case.id.desc()]
    return [Case.reported_on.desc(), Case.id.desc()]


def page_from_rows(rows: list[Any], filters: CaseFilters) -> CasePage:
    """Shape what `case_list_query` returned into a page."""
    case_rows = [
        CaseRow(
            case=row[0],
            cited_references=sorted(
                (ref for ref in (row[1] or "").split(_REFERENCE_SEPARATOR) if ref),
                key=reference_sort_key,
            ),
        )
        for row in rows
    ]
    if rows:
        total: int | None = rows[0][2]
    else:
        # An empty first page means nothing matches; an empty later page is past the end.
        total = 0 if filters.page == 1 else None
    return CasePage(rows=case_rows, total=total, page=filters.page, per_page=filters.per_page)


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
