"""Load a policy from a TOML file (the format is described in README.md).

The importer goes through the same services as the pages: it drafts a version, adds its
clauses and publishes it, so an imported policy obeys every rule a drafted one does.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select

from config import PROJECT_ROOT
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.orgs.models import Trust
from tracker.policy.models import Clause, Policy, PolicyVersion
from tracker.policy.services import (
    ClauseInput,
    add_clause,
    create_draft,
    create_policy,
    publish_version,
    update_version_details,
)

SEED_FILE = PROJECT_ROOT / "policies" / "staff-social-media-policy-2020.toml"

T = TypeVar("T")


class PolicyFileError(ValueError):
    """The file is not a policy in the expected format; the message says where."""


@dataclass(frozen=True)
class PolicyDocument:
    policy_title: str
    version_title: str
    version_label: str
    approved_on: date
    review_due: date
    effective_from: date
    full_text: str
    clauses: list[tuple[ClauseInput, str | None]]  # each clause and its parent's reference


def _require(table: dict[str, Any], key: str, where: str, kind: type[T]) -> T:
    if key not in table:
        raise PolicyFileError(f"{where}: missing '{key}'")
    value = table[key]
    if not isinstance(value, kind):
        raise PolicyFileError(f"{where}: '{key}' must be a {kind.__name__}")
    return value


def read_policy_file(path: Path) -> PolicyDocument:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyFileError(f"cannot read {path}: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise PolicyFileError(f"{path.name} is not valid TOML: {error}") from error

    policy = data.get("policy")
    version = data.get("version")
    if not isinstance(policy, dict) or not isinstance(version, dict):
        raise PolicyFileError(f"{path.name}: needs a [policy] and a [version] table")
    if "full_text_file" in version:
        text_path = path.parent / str(_require(version, "full_text_file", "[version]", str))
        try:
            full_text = text_path.read_text(encoding="utf-8")
        except OSError as error:
            raise PolicyFileError(f"cannot read the full text {text_path.name}: {error}") from error
    else:
        full_text = str(version.get("full_text", ""))

    clauses = []
    for number, entry in enumerate(data.get("clauses", []), start=1):
        where = f"clause {number}"
        if not isinstance(entry, dict):
            raise PolicyFileError(f"{where}: must be a [[clauses]] table")
        clauses.append(
            (
                ClauseInput(
                    reference=str(_require(entry, "reference", where, str)),
                    heading=str(_require(entry, "heading", where, str)),
                    text=str(entry.get("text", "")),
                    kind=str(_require(entry, "kind", where, str)),
                    significance=entry.get("significance"),
                ),
                entry.get("parent"),
            )
        )
    if not clauses:
        raise PolicyFileError(f"{path.name}: has no [[clauses]]")
    approved_on = _require(version, "approved_on", "[version]", date)
    return PolicyDocument(
        policy_title=str(_require(policy, "title", "[policy]", str)),
        version_title=str(_require(version, "title", "[version]", str)),
        version_label=str(_require(version, "label", "[version]", str)),
        approved_on=approved_on,
        review_due=_require(version, "review_due", "[version]", date),
        effective_from=version.get("effective_from", approved_on),
        full_text=full_text,
        clauses=clauses,
    )


def import_policy(trust: Trust, document: PolicyDocument) -> PolicyVersion | None:
    """Load a published version of a policy; None if that version is already loaded.

    Raises ValidationFailed (with the clause reference) when a clause breaks a rule.
    Side effects: the events of the services it goes through, with the system acting
    (policy.created for a new policy, policy.version.drafted, policy.version.updated,
    one policy.clause.added per clause, policy.version.published), so every row it
    creates can be traced like one made on the pages. Flushes; the caller commits.
    """
    policy = db.session.scalar(
        select(Policy).where(Policy.trust_id == trust.id, Policy.title == document.policy_title)
    )
    if policy is None:
        policy = create_policy(trust, title=document.policy_title)
    elif any(v.version_label == document.version_label for v in policy.versions):
        return None

    # The file holds every clause, so the draft starts empty rather than as a copy.
    version = create_draft(
        policy, version_label=document.version_label, by=None, copy_clauses=False
    )
    update_version_details(
        version,
        title=document.version_title,
        version_label=document.version_label,
        approved_on=document.approved_on,
        review_due=document.review_due,
        full_text=document.full_text,
    )
    added: dict[str, Clause] = {}
    for data, _parent in document.clauses:
        try:
            added[data.reference.strip()] = add_clause(version, data)
        except ValidationFailed as error:
            raise ValidationFailed(f"Clause {data.reference}: {error.message}") from error
    for data, parent_reference in document.clauses:
        if parent_reference:
            parent = added.get(parent_reference)
            if parent is None:
                raise ValidationFailed(
                    f"Clause {data.reference}: its parent {parent_reference} is not in the file"
                )
            added[data.reference.strip()].parent_id = parent.id
    publish_version(version, effective_from=document.effective_from, by=None)
    return version
