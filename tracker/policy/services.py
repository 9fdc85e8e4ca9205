"""Policy versions: drafting, editing, publishing, comparing, and the version in force.

A published or superseded version and its clauses never change: every editing service
refuses them (`_require_draft`), and a flush-time guard (tracker/policy/guards.py)
catches any change made around the services.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.auth.models import User
from tracker.clock import uk_date
from tracker.db import utcnow
from tracker.errors import NotAllowed, ValidationFailed, one_of
from tracker.extensions import db
from tracker.orgs.models import Trust
from tracker.policy.models import (
    Clause,
    ClauseKind,
    Policy,
    PolicyVersion,
    Significance,
    VersionStatus,
)

REFERENCE_PATTERN = re.compile(r"^\d+(\.\d+)*(\([a-z]\))?$")


# --- reading ---------------------------------------------------------------------------


def policies_of(trust_id: int) -> list[Policy]:
    return list(
        db.session.scalars(
            select(Policy)
            .where(Policy.trust_id == trust_id)
            .options(selectinload(Policy.versions))
            .order_by(Policy.title)
        )
    )


def current_version(policy: Policy) -> PolicyVersion | None:
    """The published version (there is at most one)."""
    return next((v for v in policy.versions if v.status == VersionStatus.PUBLISHED), None)


def draft_version(policy: Policy) -> PolicyVersion | None:
    return next((v for v in policy.versions if v.status == VersionStatus.DRAFT), None)


def version_in_force(policy: Policy, on: date) -> PolicyVersion | None:
    """The version that applied on a date: the latest one published that had taken effect.

    Drafts never apply. A version takes effect on its effective date (inclusive), so
    conduct on that very day falls under the new version.
    """
    return db.session.scalar(
        select(PolicyVersion)
        .where(
            PolicyVersion.policy_id == policy.id,
            PolicyVersion.status != VersionStatus.DRAFT.value,
            PolicyVersion.effective_from <= on,
        )
        .order_by(PolicyVersion.effective_from.desc(), PolicyVersion.id.desc())
        .limit(1)
    )


def citable_clauses(version: PolicyVersion) -> list[Clause]:
    """The clauses a case may cite: rules only, in the policy's order."""
    return [clause for clause in version.clauses if clause.is_rule]


def rules_in_force(policy: Policy, on: date) -> tuple[PolicyVersion | None, list[Clause]]:
    """For the case forms: the version in force on the date of conduct and its rules."""
    version = version_in_force(policy, on)
    return version, (citable_clauses(version) if version else [])


@dataclass(frozen=True)
class ReviewWarning:
    policy_id: int
    version_id: int
    title: str
    review_due: date


def overdue_reviews(trust_id: int, today: date) -> list[ReviewWarning]:
    """Published versions whose review date has passed."""
    rows = db.session.scalars(
        select(PolicyVersion)
        .join(Policy)
        .where(
            Policy.trust_id == trust_id,
            PolicyVersion.status == VersionStatus.PUBLISHED.value,
            PolicyVersion.review_due < today,
        )
        .order_by(PolicyVersion.review_due)
    )
    # review_due is never None here (the query compared it): the `if` is for the type checker.
    return [
        ReviewWarning(v.policy_id, v.id, v.title, v.review_due)
        for v in rows
        if v.review_due is not None
    ]


# --- comparing -------------------------------------------------------------------------


@dataclass(frozen=True)
class ClauseChange:
    reference: str
    before: Clause
    after: Clause
    fields: tuple[str, ...]  # which of heading, text, kind, significance changed


@dataclass
class VersionDiff:
    older: PolicyVersion
    newer: PolicyVersion
    added: list[Clause] = field(default_factory=list)
    removed: list[Clause] = field(default_factory=list)
    changed: list[ClauseChange] = field(default_factory=list)
    unchanged: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


COMPARED_FIELDS = ("heading", "text", "kind", "significance")


def compare_versions(older: PolicyVersion, newer: PolicyVersion) -> VersionDiff:
    """What changed between two versions, clause by clause, matched on reference."""
    if older.policy_id != newer.policy_id:
        raise ValidationFailed("Only versions of the same policy can be compared")
    diff = VersionDiff(older=older, newer=newer)
    before = {clause.reference: clause for clause in older.clauses}
    after = {clause.reference: clause for clause in newer.clauses}
    for clause in newer.clauses:
        old = before.get(clause.reference)
        if old is None:
            diff.added.append(clause)
            continue
        fields = tuple(f for f in COMPARED_FIELDS if getattr(old, f) != getattr(clause, f))
        if fields:
            diff.changed.append(ClauseChange(clause.reference, old, clause, fields))
        else:
            diff.unchanged += 1
    diff.removed = [clause for clause in older.clauses if clause.reference not in after]
    return diff


# --- drafting and editing --------------------------------------------------------------


def _require_draft(version: PolicyVersion) -> None:
    if version.status != VersionStatus.DRAFT:
        raise NotAllowed(
            f"Version {version.version_label} is {version.status} and can no longer be "
            "changed. Create a draft of the next version to make changes."
        )


def _check_label(policy: Policy, label: str, *, exclude: PolicyVersion | None = None) -> str:
    label = label.strip()
    if not label:
        raise ValidationFailed("Enter a version label, like 2 or 2025", field="version_label")
    if len(label) > 40:
        raise ValidationFailed(
            "Version label must be 40 characters or fewer", field="version_label"
        )
    for version in policy.versions:
        if version is not exclude and version.version_label == label:
            raise ValidationFailed(
                f"This policy already has a version labelled {label}", field="version_label"
            )
    return label


def _check_dates(approved_on: date | None, review_due: date | None) -> None:
    if approved_on and review_due and review_due <= approved_on:
        raise ValidationFailed(
            "The review date must be after the approval date", field="review_due"
        )


def _record_for_version(
    action: AuditAction,
    version: PolicyVersion,
    *,
    by: User | None,
    clause: Clause | None = None,
    details: dict[str, int | str | list[str] | None] | None = None,
) -> None:
    """Record an event about a version, or about one of its clauses.

    Policies belong to the trust, not a school, so the event has no school. Details
    always name the policy, and the version when the object is a clause.
    """
    ids: dict[str, int | str | list[str] | None] = {"policy_id": version.policy_id}
    if clause is not None:
        ids["version_id"] = version.id
    audit.record_about(
        action,
        clause if clause is not None else version,
        actor=by,
        trust_id=version.policy.trust_id,
        details={**ids, **(details or {})},
    )


def create_policy(trust: Trust, *, title: str, by: User | None = None) -> Policy:
    """Register a new policy (it has no versions yet).

    Guard: a title unused in the trust. Side effects: records policy.created (`by`
    acting, or the system). Flushes; the caller commits.
    """
    title = title.strip()
    if not title:
        raise ValidationFailed("Enter the policy's title", field="title")
    if db.session.scalar(select(Policy).where(Policy.trust_id == trust.id, Policy.title == title)):
        raise ValidationFailed("The trust already has a policy with this title", field="title")
    policy = Policy(trust_id=trust.id, title=title)
    audit.record_added(AuditAction.POLICY_CREATED, policy, actor=by)
    return policy


def create_draft(
    policy: Policy, *, version_label: str, by: User | None, copy_clauses: bool = True
) -> PolicyVersion:
    """Start the next version as a draft copy of the current one (or of the latest).

    Guard: the policy has no draft already. Side effects: a new draft version with copies
    of every clause (sub-clauses keep their parents), unless `copy_clauses` is false (the
    importer brings its own); records policy.version.drafted (`by` acting, or the system;
    details {"policy_id", "based_on_id", "clauses_copied"}). Flushes; the caller commits.
    """
    existing = draft_version(policy)
    if existing is not None:
        raise NotAllowed(
            f"Version {existing.version_label} is already being drafted; finish or publish it first"
        )
    label = _check_label(policy, version_label)
    source = current_version(policy) or (policy.versions[-1] if policy.versions else None)
    draft = PolicyVersion(
        policy=policy,
        title=source.title if source else policy.title,
        version_label=label,
        status=VersionStatus.DRAFT.value,
        full_text=source.full_text if source else "",
        based_on_id=source.id if source else None,
        created_by_id=by.id if by else None,
    )
    db.session.add(draft)
    db.session.flush()
    if source is not None and copy_clauses:
        copies: dict[int, Clause] = {}
        for clause in source.clauses:
            wording = {name: getattr(clause, name) for name in CLAUSE_WORDING}
            copy = Clause(version_id=draft.id, position=clause.position, **wording)
            copies[clause.id] = copy
            draft.clauses.append(copy)
        db.session.flush()
        for clause in source.clauses:
            if clause.parent_id is not None:
                copies[clause.id].parent_id = copies[clause.parent_id].id
    db.session.flush()
    _record_for_version(
        AuditAction.POLICY_VERSION_DRAFTED,
        draft,
        by=by,
        details={"based_on_id": draft.based_on_id, "clauses_copied": len(draft.clauses)},
    )
    return draft


def update_version_details(
    version: PolicyVersion,
    *,
    title: str,
    version_label: str,
    approved_on: date | None,
    review_due: date | None,
    full_text: str,
    by: User | None = None,
) -> list[str]:
    """Change a draft's title, label, dates and full text; returns the fields changed.

    Guard: the version is a draft; the label is unused; review after approval. Side
    effects: when anything changed, records policy.version.updated (`by` acting, or the
    system; details {"policy_id", "fields"}: names, never values).
    Flushes; the caller commits.
    """
    _require_draft(version)
    title = title.strip()
    if not title:
        raise ValidationFailed("Enter the version's title", field="title")
    label = _check_label(version.policy, version_label, exclude=version)
    _check_dates(approved_on, review_due)
    changes = {
        "title": title,
        "version_label": label,
        "approved_on": approved_on,
        "review_due": review_due,
        "full_text": full_text.replace("\r\n", "\n"),
    }
    changed = [name for name, value in changes.items() if getattr(version, name) != value]
    for name in changed:
        setattr(version, name, changes[name])
    if changed:
        _record_for_version(
            AuditAction.POLICY_VERSION_UPDATED, version, by=by, details={"fields": changed}
        )
    db.session.flush()
    return changed


@dataclass(frozen=True)
class ClauseInput:
    reference: str
    heading: str
    text: str
    kind: str
    significance: str | None


# What a clause says (the fields of ClauseInput): what a new draft copies of each clause.
CLAUSE_WORDING = tuple(each.name for each in fields(ClauseInput))


def _check_clause(
    version: PolicyVersion, data: ClauseInput, *, editing: Clause | None
) -> ClauseInput:
    reference = data.reference.strip()
    heading = data.heading.strip()
    text = data.text.replace("\r\n", "\n").strip()
    if not reference:
        raise ValidationFailed("Enter the clause reference, like 3.4 or 3.2(e)", field="reference")
    if not REFERENCE_PATTERN.match(reference):
        raise ValidationFailed(
            "Clause reference must be numbers separated by dots, optionally followed by a "
            "letter in brackets, like 3.4 or 3.2(e)",
            field="reference",
        )
    for clause in version.clauses:
        if clause is not editing and clause.reference == reference:
            raise ValidationFailed(
                f"Clause {reference} already exists in this version", field="reference"
            )
    if not heading:
        raise ValidationFailed("Enter a heading for the clause", field="heading")
    kind = one_of(
        ClauseKind, data.kind, "Choose whether the clause is a rule or information", field="kind"
    )
    significance: str | None = None
    if kind is ClauseKind.RULE:
        if not text:
            raise ValidationFailed(
                "A rule needs its text: enter what the rule requires", field="text"
            )
        significance = one_of(
            Significance,
            data.significance,
            "Choose the rule's safeguarding significance",
            field="significance",
        ).value
    return ClauseInput(reference, heading, text, kind.value, significance)


def update_clause(clause: Clause, data: ClauseInput, *, by: User | None = None) -> list[str]:
    """Change a draft's clause; returns the fields changed.

    Guard: the version is a draft; the reference is unique in the version; a rule has
    text and a significance (an information clause has none). Side effects: when
    anything changed, records policy.clause.updated (`by` acting, or the system; details
    {"policy_id", "version_id", "fields"}). Flushes; the caller commits.
    """
    _require_draft(clause.version)
    checked = _check_clause(clause.version, data, editing=clause)
    changed = []
    for name in ("reference", "heading", "text", "kind", "significance"):
        value = getattr(checked, name)
        if getattr(clause, name) != value:
            setattr(clause, name, value)
            changed.append(name)
    if changed:
        _record_for_version(
            AuditAction.POLICY_CLAUSE_UPDATED,
            clause.version,
            by=by,
            clause=clause,
            details={"fields": changed},
        )
    db.session.flush()
    return changed


def add_clause(version: PolicyVersion, data: ClauseInput, *, by: User | None = None) -> Clause:
    """Add a clause to a draft, placed in reference order.

    Guard: the same as update_clause. Side effects: records policy.clause.added (`by`
    acting, or the system; details {"policy_id", "version_id"}). Flushes; the caller
    commits.
    """
    _require_draft(version)
    checked = _check_clause(version, data, editing=None)
    clause = Clause(version_id=version.id, **asdict(checked))
    version.clauses.append(clause)
    _renumber(version)
    db.session.flush()
    _record_for_version(AuditAction.POLICY_CLAUSE_ADDED, version, by=by, clause=clause)
    return clause


def remove_clause(clause: Clause, *, by: User | None = None) -> None:
    """Remove a clause from a draft.

    Guard: the version is a draft; no sub-clause depends on it. Side effects: records
    policy.clause.removed (`by` acting, or the system; details {"policy_id",
    "version_id"}). Flushes; the caller commits.
    """
    version = clause.version
    _require_draft(version)
    if any(other.parent_id == clause.id for other in version.clauses):
        raise NotAllowed(f"Remove the sub-clauses of {clause.reference} first")
    version.clauses.remove(clause)
    db.session.delete(clause)
    _renumber(version)
    db.session.flush()
    # Deleted, the clause still has its id to be named by.
    _record_for_version(AuditAction.POLICY_CLAUSE_REMOVED, version, by=by, clause=clause)


def reference_sort_key(reference: str) -> tuple[tuple[int, ...], str]:
    """3.2(a) sorts after 3.2 and before 3.10; numbers compare as numbers."""
    match = re.match(r"^([\d.]+)(?:\(([a-z])\))?$", reference)
    if not match:
        return ((), reference)
    numbers = tuple(int(part) for part in match.group(1).split(".") if part)
    return (numbers, match.group(2) or "")


def _renumber(version: PolicyVersion) -> None:
    ordered = sorted(version.clauses, key=lambda c: reference_sort_key(c.reference))
    for position, clause in enumerate(ordered, start=1):
        clause.position = position
    version.clauses.sort(key=lambda c: c.position)


def publish_version(
    version: PolicyVersion, *, effective_from: date, by: User | None
) -> PolicyVersion | None:
    """Publish a draft; the version it replaces becomes superseded. Returns that one.

    Guard: a draft with an approval date, a review date after it, at least one rule, and
    an effective date on or after approval and after the current version's. Side
    effects: statuses, publication time and effective date recorded; records
    policy.version.published (`by` acting, or the system; details {"policy_id",
    "effective_from", "superseded_id"}), one event that covers the superseding too.
    Flushes; the caller commits.
    """
    _require_draft(version)
    if version.approved_on is None:
        raise ValidationFailed(
            "Set the date the version was approved before publishing", field="approved_on"
        )
    if version.review_due is None:
        raise ValidationFailed(
            "Set the date the version is due for review before publishing", field="review_due"
        )
    _check_dates(version.approved_on, version.review_due)
    if not any(clause.is_rule for clause in version.clauses):
        raise ValidationFailed("A version needs at least one rule before it can be published")
    if effective_from < version.approved_on:
        raise ValidationFailed(
            "The version cannot take effect before it was approved", field="effective_from"
        )
    previous = current_version(version.policy)
    if (
        previous is not None
        and previous.effective_from
        and effective_from <= previous.effective_from
    ):
        raise ValidationFailed(
            "The new version must take effect after the current one did "
            f"({uk_date(previous.effective_from)})",
            field="effective_from",
        )
    now = utcnow()
    if previous is not None:
        previous.status = VersionStatus.SUPERSEDED.value
        previous.superseded_at = now
        # Flush first: the one-published-version index must never see two at once.
        db.session.flush()
    version.status = VersionStatus.PUBLISHED.value
    version.effective_from = effective_from
    version.published_at = now
    version.published_by_id = by.id if by else None
    db.session.flush()
    _record_for_version(
        AuditAction.POLICY_VERSION_PUBLISHED,
        version,
        by=by,
        details={
            "effective_from": effective_from.isoformat(),
            "superseded_id": previous.id if previous is not None else None,
        },
    )
    return previous
