"""Audit events and case revisions in words: what the auditor's pages and exports show.

Nothing here reads the database: names of people and schools come in as mappings,
read once for a whole page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tracker.audit.actions import AuditAction, Outcome, known_action
from tracker.audit.models import AuditEvent
from tracker.audit.names import Names, id_kind, key_words
from tracker.audit.services import SYSTEM_ROLE
from tracker.auth.roles import Role
from tracker.cases.models import (
    CaseRevision,
    CaseStatus,
    LabelledEnum,
    Platform,
    Source,
    Track,
)

# --- an event ------------------------------------------------------------------------

OUTCOME_LABELS = {
    Outcome.ALLOWED.value: "Allowed",
    Outcome.DENIED.value: "Refused",
    Outcome.ERROR.value: "Failed",
}


def role_words(actor_role: str) -> str:
    """The stored roles ("dsl,headteacher") in words."""
    if actor_role == SYSTEM_ROLE:
        return "System"
    words = []
    for value in actor_role.split(","):
        try:
            words.append(Role(value).label)
        except ValueError:
            words.append("No role" if value == "none" else value)
    return ", ".join(words)


def _person_name(user_id: int, people: Mapping[int, str]) -> str:
    # Someone whose name was not read for the page (gone from the trust) by number.
    return people.get(user_id, f"User {user_id}")


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
    # What the ids in the object and the details name now, for this page's reader; an
    # export leaves it out and keeps the ids.
    names: Names | None = None

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
        action = known_action(self.action)
        return action is not None and action.is_read

    @property
    def is_change(self) -> bool:
        return not self.is_refusal and not self.is_read

    @property
    def object_is_its_case(self) -> bool:
        """The object is the case the event belongs to (shown already, by its reference)."""
        return self.object_type == "case" and self.object_id == self.case_id

    @property
    def object_words(self) -> str:
        if self.object_type is None:
            return ""
        if self.names is not None:
            return self.names.object_words(self.object_type, self.object_id)
        kind = self.object_type.replace("_", " ")
        kind = kind[:1].upper() + kind[1:]
        return f"{kind} {self.object_id}" if self.object_id is not None else kind

    def detail_words(self) -> list[tuple[str, str]]:
        """The details as (words, value) pairs a person can read, ids named."""
        if self.names is None:
            return [(key, _detail_value(value)) for key, value in sorted(self.details.items())]
        return [
            (key_words(key), _detail_value(_named(key, value, self.names)))
            for key, value in sorted(self.details.items())
        ]


def _named(key: str, value: Any, names: Names) -> Any:
    if key == "fields" and isinstance(value, list):
        return [field_label(str(name)) for name in value]
    return names.value(key, value)


def _detail_value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_detail_value(item) for item in value) or "none"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


# The event's own fields that a row shows as they are stored (the rest are put into words).
STORED_AS_IS = (
    *("seq", "occurred_at", "actor_id", "actor_role", "action", "action_label"),
    *("object_type", "object_id", "school_id", "case_id", "outcome"),
    *("request_id", "client_address", "prev_hash", "hash"),
)


def present(
    event: AuditEvent,
    reference: str | None,
    *,
    people: Mapping[int, str],
    schools: Mapping[int, str],
    disposed_on: date | None = None,
    names: Names | None = None,
) -> EventRow:
    """Shape a stored event for reading, with the names of people and schools given."""
    if event.actor_id is None:
        actor_name = "Nobody signed in" if event.action == AuditAction.LOGIN_FAILED else "System"
    else:
        actor_name = _person_name(event.actor_id, people)
    if event.school_id is None:
        school_name = ""
    else:
        school_name = schools.get(event.school_id, f"School {event.school_id}")
    return EventRow(
        **{name: getattr(event, name) for name in STORED_AS_IS},
        actor_name=actor_name,
        school_name=school_name,
        case_reference=reference,
        details=dict(event.details or {}),
        case_disposed_on=disposed_on,
        names=names,
    )


# --- a revision of a case ------------------------------------------------------------

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


_VALUE_LABELS: dict[str, type[LabelledEnum]] = {
    "source": Source,
    "platform": Platform,
    "status": CaseStatus,
    "track": Track,
}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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


def _pair(values: Any) -> tuple[Any, Any]:
    values = list(values) if isinstance(values, list | tuple) else [None, values]
    return (values + [None, None])[0], (values + [None, None])[1]


def describe_revision(
    revision: CaseRevision, people: Mapping[int, str], names: Names | None = None
) -> RevisionRow:
    """Shape a stored revision for reading: each field's label, and its values in words
    (ids named, when the names are given)."""

    def words(name: str, value: Any) -> Any:
        if names is not None and id_kind(name) is not None and value is not None:
            return names.value(name, value)
        return field_value(name, value)

    changes = [
        FieldChange(name, field_label(name), *(words(name, v) for v in _pair(values)))
        for name, values in (revision.changes or {}).items()
    ]
    return RevisionRow(
        number=revision.number,
        changed_at=revision.changed_at,
        changed_by_id=revision.changed_by_id,
        changed_by_name=(
            _person_name(revision.changed_by_id, people)
            if revision.changed_by_id is not None
            else "System"
        ),
        audit_seq=revision.audit_seq,
        changes=changes,
    )
