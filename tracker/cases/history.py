"""The case history page: each revision of a case's details, in words a reader follows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from tracker.cases.models import CaseRevision, Platform, Source
from tracker.clock import uk_date
from tracker.db import LabelledEnum

# Each field a revision may hold, in the order the case page shows them.
FIELD_LABELS: dict[str, str] = {
    "source": "How it came to light",
    "source_detail": "Who raised it",
    "occurred_on": "Conduct happened",
    "reported_on": "Reported to the school",
    "platform": "Where",
    "platform_detail": "Where, if somewhere else",
    "summary": "What happened",
    # Written by workflow steps, and kept here when a step writes them again.
    "triage_rationale": "Reasons for the triage decision",
    "lado_advice": "The LADO's advice",
    "lado_advice_on": "Date of the LADO's advice",
    "investigation_summary": "Investigation summary",
}
# What workflow steps write (the rest are the details the edit form changes).
STEP_FIELDS = frozenset(
    {"triage_rationale", "lado_advice_on", "lado_advice", "investigation_summary"}
)
# Long free text: shown as whole before and after blocks rather than in a table cell.
NARRATIVE_FIELDS = frozenset(
    {"summary", "triage_rationale", "lado_advice", "investigation_summary"}
)
_ENUMS: dict[str, type[LabelledEnum]] = {"source": Source, "platform": Platform}


@dataclass(frozen=True)
class FieldChange:
    name: str
    label: str
    before: str | None  # in words; None when the field had no value
    after: str | None

    @property
    def is_narrative(self) -> bool:
        return self.name in NARRATIVE_FIELDS


@dataclass(frozen=True)
class RevisionView:
    number: int
    changed_at: datetime
    changed_by: str | None
    changes: list[FieldChange]

    @property
    def is_first(self) -> bool:
        """Revision 1 is the case as logged: every field, nothing before it."""
        return self.number == 1

    @property
    def headline(self) -> str:
        """What the change was, for its heading: the details, or what a step wrote."""
        written = [change for change in self.changes if change.name in STEP_FIELDS]
        if not written:
            return "details changed"
        first = written[0]
        return f"{first.label} {'recorded' if first.before is None else 'changed'}"

    @property
    def short_changes(self) -> list[FieldChange]:
        return [change for change in self.changes if not change.is_narrative]

    @property
    def narrative_changes(self) -> list[FieldChange]:
        return [change for change in self.changes if change.is_narrative]


def value_in_words(name: str, value: object) -> str | None:
    """A stored value as the case page would show it (None for no value)."""
    if value is None or value == "":
        return None
    if name in _ENUMS and isinstance(value, str):
        try:
            return _ENUMS[name](value).label
        except ValueError:
            return str(value)  # a value retired since: show it as stored
    if name.endswith("_on") and isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return value
        return uk_date(day)
    return str(value)


def _field_order(name: str) -> tuple[int, str]:
    known = list(FIELD_LABELS)
    return (known.index(name) if name in FIELD_LABELS else len(known), name)


def revision_view(revision: CaseRevision) -> RevisionView:
    changes = [
        FieldChange(
            name=name,
            label=FIELD_LABELS.get(name, name.replace("_", " ").capitalize()),
            before=value_in_words(name, values[0]),
            after=value_in_words(name, values[1]),
        )
        for name, values in sorted(revision.changes.items(), key=lambda item: _field_order(item[0]))
    ]
    return RevisionView(
        number=revision.number,
        changed_at=revision.changed_at,
        changed_by=revision.changed_by.display_name if revision.changed_by else None,
        changes=changes,
    )


def revision_views(revisions: Iterable[CaseRevision]) -> list[RevisionView]:
    """The revisions oldest first, ready for the page."""
    return [revision_view(r) for r in sorted(revisions, key=lambda r: r.number)]
