"""Redaction for exports that leave the tracker: third parties out, every change logged.

One `Redactor` serves one export (a subject access export or a hearing pack), so that
the labels it gives are the same everywhere in it:

- **People involved** (pupils, parents and carers, witnesses, other members of staff) are
  third parties. Their structured records become a label ("Witness 1", "Pupil 2"): the
  identifier, year group and the description of their part are left out. The label is
  the same for the same kind and identifier across the whole export.
- **Their identifiers in free text** (summaries, chronology, rationales, advice...) are
  replaced by the same label in brackets. Initials match with or without dots and
  spaces ("J.S.", "J. S.", "JS"); a name of several words also matches each word of
  three letters or more that is not a title ("Mrs Dana Oakes" also matches "Oakes").
- **Manual redactions**: a reviewer's phrase is replaced by "[Redacted]" everywhere in
  free text, whatever its case.
- **Names that are kept** (the data subject's, and the trust's staff acting in role) are
  never changed by the automatic matching, even when a third party shares a word of
  them; a manual phrase still applies to them.

Every change is logged (`LogEntry`): what kind, where (record type, id, field), the
reason, the label put in and how many times. The log holds codes and labels only, never
the text it removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from tracker.cases.models import PersonInvolved, PersonKind
from tracker.privacy.models import RedactionReason

MANUAL_REPLACEMENT = "[Redacted]"

# The label of each kind of third party, numbered per export: "Witness 1".
KIND_LABELS = {
    PersonKind.PUPIL: "Pupil",
    PersonKind.PARENT_CARER: "Parent or carer",
    PersonKind.WITNESS: "Witness",
    PersonKind.OTHER_STAFF: "Other staff member",
}
# Why a person's details are redacted, by kind.
KIND_REASONS = {
    PersonKind.PUPIL: RedactionReason.THIRD_PARTY_PUPIL,
    PersonKind.PARENT_CARER: RedactionReason.THIRD_PARTY_PARENT,
    PersonKind.WITNESS: RedactionReason.THIRD_PARTY_WITNESS,
    PersonKind.OTHER_STAFF: RedactionReason.THIRD_PARTY_OTHER,
}
# Words of a multi-word identifier that are not searched for on their own.
_NOT_NAMES = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "sir",
        "the",
        "and",
        "pupil",
        "child",
        "student",
        "parent",
        "carer",
        "mother",
        "father",
        "mum",
        "dad",
        "witness",
        "staff",
        "member",
        "teacher",
        "year",
        "class",
        "form",
    }
)
_INITIALS = re.compile(r"^(?:[A-Za-z]\.?\s?){2,4}$")
_WORD = re.compile(r"[^\W\d_]{3,}")
# Each replacement (and each kept name) is parked in the text as one private-use
# character, so that no later pattern can match inside a label already put in.
_SLOT_BASE = 0xF0000


class RedactionKind(StrEnum):
    PERSON_RECORD = "person_record"  # a structured field of a person involved, left out
    PERSON_IN_TEXT = "person_in_text"  # a person's identifier found in free text
    MANUAL_PHRASE = "manual_phrase"  # a reviewer's phrase


@dataclass(frozen=True)
class Phrase:
    """A manual redaction as the redactor uses it."""

    id: int
    phrase: str
    reason: str


@dataclass(frozen=True)
class LogEntry:
    kind: RedactionKind
    record_type: str
    record_id: int
    field: str
    reason: str
    replacement: str
    occurrences: int = 1
    manual_redaction_id: int | None = None

    @property
    def reason_label(self) -> str:
        return RedactionReason(self.reason).label

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "record_type": self.record_type,
            "record_id": self.record_id,
            "field": self.field,
            "reason": self.reason,
            "reason_label": self.reason_label,
            "replacement": self.replacement,
            "occurrences": self.occurrences,
            "manual_redaction_id": self.manual_redaction_id,
        }


LOG_COLUMNS = (
    "kind",
    "record_type",
    "record_id",
    "field",
    "reason",
    "reason_label",
    "replacement",
    "occurrences",
    "manual_redaction_id",
)


@dataclass(frozen=True)
class _Term:
    pattern: re.Pattern[str]
    length: int
    replacement: str
    reason: str
    kind: RedactionKind
    manual_redaction_id: int | None = None


_TITLE = r"(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+)?"


def _phrase_pattern(text: str, *, with_title: bool = False) -> re.Pattern[str]:
    """The words of `text`, any run of spaces between them, not inside a longer word,
    whatever the case; `with_title` takes a title before it too ("Mrs Oakes")."""
    words = [re.escape(word) for word in text.split()]
    body = (_TITLE if with_title else "") + r"\s+".join(words)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _initials_pattern(identifier: str) -> re.Pattern[str]:
    """J.S. as "J.S.", "J. S.", "J S" or "JS": capitals only, so "am" is never "A.M."."""
    letters = [letter.upper() for letter in identifier if letter.isalpha()]
    body = r"\.?\s?".join(letters) + r"\.?"
    return re.compile(rf"(?<!\w){body}(?![\w])")


def _identity(person: PersonInvolved) -> tuple[str, str]:
    """What makes two records the same third party within one export."""
    identifier = person.identifier.strip()
    if _INITIALS.match(identifier):
        return person.kind, "".join(c for c in identifier.upper() if c.isalpha())
    return person.kind, " ".join(identifier.lower().split())


class Redactor:
    """Redacts one export. Build it with every person involved in the export's cases,
    the manual phrases that apply and the names to keep; then call `person` for each
    person's record and `text` for each free-text field. `log` collects what was done."""

    def __init__(
        self,
        people: Iterable[PersonInvolved],
        phrases: Iterable[Phrase] = (),
        keep: Iterable[str] = (),
    ) -> None:
        self.log: list[LogEntry] = []
        self._label_of: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}
        self._person_terms: list[_Term] = []
        seen_terms: set[tuple[str, str]] = set()
        for person in sorted(people, key=lambda p: p.id):
            label = self.label_for(person)
            reason = KIND_REASONS[person.kind_enum].value
            for key, pattern in self._patterns_for(person.identifier):
                if key in seen_terms:
                    continue  # the first person with this word keeps it
                seen_terms.add(key)
                self._person_terms.append(
                    _Term(pattern, len(key[1]), f"[{label}]", reason, RedactionKind.PERSON_IN_TEXT)
                )
        self._person_terms.sort(key=lambda term: -term.length)
        self._manual_terms = sorted(
            (
                _Term(
                    _phrase_pattern(phrase.phrase),
                    len(phrase.phrase),
                    MANUAL_REPLACEMENT,
                    phrase.reason,
                    RedactionKind.MANUAL_PHRASE,
                    phrase.id,
                )
                for phrase in phrases
                if phrase.phrase.strip()
            ),
            key=lambda term: -term.length,
        )
        self._keep = sorted(
            (_phrase_pattern(name) for name in {n.strip() for n in keep} if name),
            key=lambda pattern: -len(pattern.pattern),
        )

    # --- people ---------------------------------------------------------------------

    def label_for(self, person: PersonInvolved) -> str:
        identity = _identity(person)
        if identity not in self._label_of:
            kind = person.kind_enum
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self._label_of[identity] = f"{KIND_LABELS[kind]} {self._counts[kind]}"
        return self._label_of[identity]

    @staticmethod
    def _patterns_for(identifier: str) -> list[tuple[tuple[str, str], re.Pattern[str]]]:
        identifier = identifier.strip()
        if _INITIALS.match(identifier):
            letters = "".join(c for c in identifier.upper() if c.isalpha())
            return [(("initials", letters), _initials_pattern(identifier))]
        if len(identifier) < 2:
            return []  # a single character would take every "A" in the text with it
        found = [(("phrase", identifier.lower()), _phrase_pattern(identifier))]
        words = identifier.split()
        if len(words) > 1:
            # "Mrs Dana Oakes" is also written "Dana Oakes": one label for the whole name.
            names = [word for word in words if word.lower().strip(".") not in _NOT_NAMES]
            if 1 < len(names) < len(words):
                short = " ".join(names)
                found.append((("phrase", short.lower()), _phrase_pattern(short, with_title=True)))
            for word in _WORD.findall(identifier):
                if word.lower() not in _NOT_NAMES:
                    found.append((("phrase", word.lower()), _phrase_pattern(word, with_title=True)))
        return found

    def person(self, person: PersonInvolved) -> dict[str, object]:
        """A person involved as the export shows them: a label and their kind."""
        label = self.label_for(person)
        reason = KIND_REASONS[person.kind_enum].value
        for field, present in (
            ("identifier", True),
            ("year_group", bool(person.year_group)),
            ("role_in_case", bool(person.role_in_case)),
        ):
            if present:
                self.log.append(
                    LogEntry(
                        RedactionKind.PERSON_RECORD,
                        "person_involved",
                        person.id,
                        field,
                        reason,
                        label,
                    )
                )
        return {"label": label, "kind": person.kind, "kind_label": person.kind_enum.label}

    # --- free text ------------------------------------------------------------------

    def text(self, value: str | None, *, record_type: str, record_id: int, field: str) -> str:
        """`value` with every manual phrase and every person's identifier replaced."""
        if not value:
            return value or ""
        slots: list[str] = []

        def park(replacement: str) -> str:
            slots.append(replacement)
            return chr(_SLOT_BASE + len(slots) - 1)

        def apply(term: _Term, text: str) -> str:
            text, count = term.pattern.subn(lambda _m: park(term.replacement), text)
            if count:
                self.log.append(
                    LogEntry(
                        term.kind,
                        record_type,
                        record_id,
                        field,
                        term.reason,
                        term.replacement.strip("[]"),
                        count,
                        term.manual_redaction_id,
                    )
                )
            return text

        text = value
        for term in self._manual_terms:
            text = apply(term, text)
        for pattern in self._keep:
            text = pattern.sub(lambda match: park(match.group(0)), text)
        for term in self._person_terms:
            text = apply(term, text)
        # Unpark, newest first: a kept name may have been parked inside nothing else, and
        # replacements never contain slots.
        for index in range(len(slots) - 1, -1, -1):
            text = text.replace(chr(_SLOT_BASE + index), slots[index])
        return text

    @property
    def count(self) -> int:
        """How many redactions were made (each occurrence in text counts)."""
        return sum(entry.occurrences for entry in self.log)
