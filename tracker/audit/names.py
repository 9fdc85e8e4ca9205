"""What the ids in audit events and case revisions name now, for the reader of a page.

The trail stores ids only (never a name in an event's details). A page shows what each
id is today: a case's reference, a clause's number and heading, a person's name, a
school. Every id of a page is read in one statement (a UNION ALL over the kinds of
record), built here and executed by the view. A record that is gone reads "no longer
held"; one outside the reader's scope reads "withheld", and its name never leaves the
database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Row,
    Select,
    String,
    and_,
    case,
    cast,
    literal,
    select,
    union_all,
)

from tracker.auth.models import User
from tracker.auth.permissions import audit_scope, case_scope, visible_cases_filter
from tracker.cases.models import Case
from tracker.orgs.models import School
from tracker.policy.models import Clause, Policy, PolicyVersion
from tracker.retention.models import CaseTombstone
from tracker.staff.models import StaffMember

NO_LONGER_HELD = "no longer held"
WITHHELD = "withheld"

# Kinds of record an id can name.
CASE, STAFF, USER, CLAUSE, SCHOOL, POLICY, VERSION = (
    *("case", "staff", "user", "clause"),
    *("school", "policy", "policy_version"),
)

# Keys of event details (and fields of a case revision) that hold ids: their kind and
# their words. A key ending in "_by_id" names a user.
ID_KEYS: dict[str, tuple[str, str]] = {
    "subject_id": (STAFF, "Subject"),
    "staff_member_id": (STAFF, "Member of staff"),
    "staff_id": (STAFF, "Member of staff"),
    "user_id": (USER, "User"),
    "investigator_id": (USER, "Investigator"),
    "decision_maker_id": (USER, "Decision maker"),
    "clause_id": (CLAUSE, "Clause"),
    "clause_ids": (CLAUSE, "Clauses"),
    "school_id": (SCHOOL, "School"),
    "case_id": (CASE, "Case"),
    "linked_case_id": (CASE, "Linked case"),
    "policy_id": (POLICY, "Policy"),
    "version_id": (VERSION, "Policy version"),
    "superseded_id": (VERSION, "Version superseded"),
    "based_on_id": (VERSION, "Based on version"),
}

# Objects of events, by their stored type, that are shown by what they name.
OBJECT_KINDS = {
    "case": CASE,
    "staff_member": STAFF,
    "user": USER,
    "clause": CLAUSE,
    "school": SCHOOL,
    "policy": POLICY,
    "policy_version": VERSION,
}

KEY_WORDS = {
    "fields": "Fields changed",
    "sessions_ended": "Sessions ended",
    "second_factor": "Second factor",
    "provider_mfa": "Provider's second factor",
}


def id_kind(key: str) -> str | None:
    if key in ID_KEYS:
        return ID_KEYS[key][0]
    return USER if key.endswith("_by_id") else None


def key_words(key: str) -> str:
    """A details key as words: "decision_maker_id" reads "Decision maker"."""
    if key in ID_KEYS:
        return ID_KEYS[key][1]
    if key in KEY_WORDS:
        return KEY_WORDS[key]
    words = key.removesuffix("_ids").removesuffix("_id").replace("_", " ")
    return words[:1].upper() + words[1:]


def _ids(value: Any) -> list[int]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]


@dataclass
class IdsToName:
    """The ids a page shows, by kind: gathered from its rows, then read in one statement."""

    by_kind: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    def add(self, kind: str | None, value: Any) -> None:
        if kind is not None:
            self.by_kind[kind].update(_ids(value))

    def add_details(self, details: Mapping[str, Any]) -> None:
        for key, value in details.items():
            self.add(id_kind(key), value)

    def add_object(self, object_type: str | None, object_id: int | None) -> None:
        if object_type is not None and object_id is not None:
            self.add(OBJECT_KINDS.get(object_type), object_id)

    def add_revision_changes(self, changes: Mapping[str, Any]) -> None:
        for key, values in changes.items():
            self.add(id_kind(key), list(values) if isinstance(values, list | tuple) else values)

    def __bool__(self) -> bool:
        return any(self.by_kind.values())


def ids_in_events(events: Iterable[Any], revisions: Iterable[Any] = ()) -> IdsToName:
    """Every id the events' objects and details, and the revisions' changes, hold."""
    ids = IdsToName()
    for event in events:
        ids.add_object(event.object_type, event.object_id)
        ids.add_details(event.details or {})
    for revision in revisions:
        ids.add_revision_changes(revision.changes or {})
    return ids


def _kind(
    kind: str, id_column: Any, label: Any, allowed: Any, *, detail: Any = None
) -> Select[Any]:
    """One kind's rows (kind, id, label, detail): the words only where the reader may see them."""
    return select(
        literal(kind).label("kind"),
        id_column.label("id"),
        case((allowed, cast(label, String)), else_=None).label("label"),
        case(
            (allowed, cast(detail if detail is not None else literal(""), String)), else_=None
        ).label("detail"),
    )


def names_query(user: User, ids: IdsToName) -> CompoundSelect[Any] | None:
    """The ids' records that still exist, each with its words if the user may read them.

    Rows are (kind, id, label, detail); None when there is nothing to look up. A case
    reads as its reference where the user may read it and its trail; a disposed case as
    the reference on its tombstone, under the same scope. People of the trust read as
    their names (the actor filter already lists them all); a member of staff, a school,
    only within the user's audit scope. The policy register is the trust's.
    """
    audit = audit_scope(user)
    trust = user.trust_id
    parts: list[Select[Any]] = []
    wanted = {kind: sorted(values) for kind, values in ids.by_kind.items() if values}
    if CASE in wanted:
        parts.append(
            _kind(
                CASE,
                Case.id,
                Case.reference,
                and_(visible_cases_filter(user), audit.filter(Case.school_id)),
            ).where(Case.id.in_(wanted[CASE]))
        )
        parts.append(
            _kind(
                CASE,
                CaseTombstone.case_id,
                CaseTombstone.reference,
                and_(
                    CaseTombstone.trust_id == trust,
                    case_scope(user).filter(CaseTombstone.school_id),
                    audit.filter(CaseTombstone.school_id),
                ),
                detail=literal("disposed"),
            ).where(CaseTombstone.case_id.in_(wanted[CASE]))
        )
    if STAFF in wanted:
        parts.append(
            _kind(
                STAFF,
                StaffMember.id,
                StaffMember.full_name,
                and_(StaffMember.trust_id == trust, audit.filter(StaffMember.school_id)),
            ).where(StaffMember.id.in_(wanted[STAFF]))
        )
    if USER in wanted:
        parts.append(
            _kind(USER, User.id, User.display_name, User.trust_id == trust).where(
                User.id.in_(wanted[USER])
            )
        )
    if CLAUSE in wanted:
        parts.append(
            _kind(
                CLAUSE, Clause.id, Clause.reference, Policy.trust_id == trust, detail=Clause.heading
            )
            .join(PolicyVersion, PolicyVersion.id == Clause.version_id)
            .join(Policy, Policy.id == PolicyVersion.policy_id)
            .where(Clause.id.in_(wanted[CLAUSE]))
        )
    if SCHOOL in wanted:
        parts.append(
            _kind(
                SCHOOL,
                School.id,
                School.name,
                and_(School.trust_id == trust, audit.filter(School.id)),
            ).where(School.id.in_(wanted[SCHOOL]))
        )
    if POLICY in wanted:
        parts.append(
            _kind(POLICY, Policy.id, Policy.title, Policy.trust_id == trust).where(
                Policy.id.in_(wanted[POLICY])
            )
        )
    if VERSION in wanted:
        parts.append(
            _kind(
                VERSION,
                PolicyVersion.id,
                PolicyVersion.title,
                Policy.trust_id == trust,
                detail=PolicyVersion.version_label,
            )
            .join(Policy, Policy.id == PolicyVersion.policy_id)
            .where(PolicyVersion.id.in_(wanted[VERSION]))
        )
    if not parts:
        return None
    return union_all(*parts)


@dataclass(frozen=True)
class Names:
    """What the ids of a page name now: read once, then asked row by row."""

    words: Mapping[tuple[str, int], str | None] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Sequence[Row[Any]]) -> Names:
        words: dict[tuple[str, int], str | None] = {}
        for kind, id_, label, detail in rows:
            if label is None:
                # Withheld, unless another row (a held case beside its tombstone) names it.
                words.setdefault((kind, id_), None)
            elif kind == CLAUSE:
                words[(kind, id_)] = f"{label} {detail}".strip()
            elif kind == VERSION:
                words[(kind, id_)] = f"{label}, version {detail}" if detail else label
            elif kind == CASE and detail == "disposed":
                words[(kind, id_)] = f"{label} (disposed of)"
            else:
                words[(kind, id_)] = label
        return cls(words)

    def name(self, kind: str, id_: int) -> str:
        if (kind, id_) not in self.words:
            return NO_LONGER_HELD
        return self.words[(kind, id_)] or WITHHELD

    def value(self, key: str, value: Any) -> Any:
        """A detail's (or a revision field's) value in words, ids named."""
        kind = id_kind(key)
        if kind is None or value is None:
            return value
        if isinstance(value, list):
            return ", ".join(self.name(kind, v) for v in _ids(value)) or "none"
        return self.name(kind, value) if _ids(value) else value

    def object_words(self, object_type: str | None, object_id: int | None) -> str:
        """An event's object: "Case HMAT-2026-0008", "Clause 3.4 ...", or its kind."""
        if object_type is None:
            return ""
        kind_words = object_type.replace("_", " ")
        kind_words = kind_words[:1].upper() + kind_words[1:]
        kind = OBJECT_KINDS.get(object_type)
        if object_id is None:
            return kind_words
        if kind is None:
            return f"{kind_words} {object_id}"
        return f"{kind_words}: {self.name(kind, object_id)}"
