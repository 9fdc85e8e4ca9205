"""A flush-time safety net: published and superseded versions and their clauses never change.

The services refuse such edits with a message for the user; this guard catches anything
that goes around them (a script, a future bug) by refusing the flush.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from tracker.policy.models import Clause, PolicyVersion, VersionStatus

# Columns of a version that may change after it is published (its life-cycle, not its text).
LIFECYCLE_COLUMNS = frozenset(
    {"status", "published_at", "published_by_id", "superseded_at", "effective_from"}
)


class ImmutableVersionError(RuntimeError):
    """Something tried to change a published or superseded policy version."""


def _committed_value(obj: Any, attribute: str) -> Any:
    history = inspect(obj).attrs[attribute].history
    if history.deleted:
        return history.deleted[0]
    return history.unchanged[0] if history.unchanged else None


def _version_was_locked(version: PolicyVersion) -> bool:
    state = inspect(version)
    if state.pending or state.transient:
        return False
    return _committed_value(version, "status") != VersionStatus.DRAFT.value


def _changed_columns(obj: Any) -> set[str]:
    state = inspect(obj)
    return {
        attr.key
        for attr in state.mapper.column_attrs
        if state.attrs[attr.key].history.has_changes()
    }


@event.listens_for(Session, "before_flush")
def refuse_changes_to_locked_versions(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.dirty:
        if isinstance(obj, PolicyVersion) and _version_was_locked(obj):
            if _changed_columns(obj) - LIFECYCLE_COLUMNS:
                raise ImmutableVersionError(f"policy version {obj.id} is not a draft")
            if _committed_value(
                obj, "status"
            ) == VersionStatus.SUPERSEDED.value and _changed_columns(obj):
                raise ImmutableVersionError(f"policy version {obj.id} is superseded")
        elif isinstance(obj, Clause) and _changed_columns(obj) and _version_was_locked(obj.version):
            raise ImmutableVersionError(f"clause {obj.id} belongs to a version that is not a draft")
    for obj in list(session.new) + list(session.deleted):
        if isinstance(obj, Clause):
            # A new clause may carry only its version's id: look the version up.
            with session.no_autoflush:
                version = obj.version or (
                    session.get(PolicyVersion, obj.version_id) if obj.version_id else None
                )
            if version is not None and _version_was_locked(version):
                raise ImmutableVersionError(
                    "clauses of a version that is not a draft cannot be added or removed"
                )
