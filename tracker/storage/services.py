"""`flask evidence migrate` and `flask evidence sweep`.

Migrate: every evidence file into the configured store, sealed under the current
EVIDENCE_KEY.

One command for three jobs: moving the files from one store to another (a folder to a
bucket when a second host arrives), sealing files kept from before encryption, and
re-sealing under a new key after a rotation. For each item that has not been removed,
in order: if the configured store already holds it sealed under the current key and it
opens to the SHA-256 its record holds, it is done; otherwise it is read from the source
(the configured store itself when none is named), checked against its record, sealed,
written whole, read back and checked again. Nothing is copied that does not match its
record, so a damaged file is reported, never spread.

Resumable: a run stopped part-way (or killed) leaves every file either as it was or
done, and the next run skips what is done. Audited once, at the end, with counts only.

Sweep: an upload's object is written just before its row commits, so a process killed
in between leaves an object that no record names (unreadable without the row's hash,
but evidence all the same). The sweep deletes such objects once they are old enough
that no upload can still be committing them, and objects of removed items whose
deletion after the commit failed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction, Outcome
from tracker.cases.evidence import StoredFileProblem, read_stored
from tracker.cases.models import Evidence
from tracker.db import utcnow
from tracker.extensions import db
from tracker.storage import key_ring
from tracker.storage.sealing import KeyRing, Unreadable
from tracker.storage.stores import EvidenceStore, ObjectMissing, StoreError

log = logging.getLogger(__name__)

# Called with (items looked at, items in all) as the migration goes on.
Progress = Callable[[int, int], None]


@dataclass
class Migrated:
    moved: int = 0  # written to the configured store sealed under the current key
    already: int = 0  # found there already, sealed under the current key and intact
    deleted_from_source: int = 0
    failed: dict[int, str] = field(default_factory=dict)  # evidence id -> what went wrong

    def as_details(self) -> dict[str, int]:
        return {
            "moved": self.moved,
            "already": self.already,
            "deleted_from_source": self.deleted_from_source,
            "failed": len(self.failed),
        }


def _done_already(target: EvidenceStore, ring: KeyRing, name: str, sha256: str) -> bool:
    try:
        opened = ring.open(name, target.get(name))
    except (ObjectMissing, Unreadable):
        return False
    return opened.key_id == ring.current_id and hashlib.sha256(opened.content).hexdigest() == sha256


def migrate_evidence(
    target: EvidenceStore,
    source: EvidenceStore | None = None,
    *,
    delete_source: bool = False,
    progress: Progress | None = None,
) -> Migrated:
    """Bring every live evidence file into `target`, sealed under EVIDENCE_KEY.

    `source` is where files not yet in `target` are read from (None: `target` itself,
    to seal or re-seal in place). With `delete_source`, a file is deleted from a source
    that is another store once its copy is written and checked. Audits
    system.evidence.migrated with the counts, and commits it.
    """
    ring = key_ring()
    rows = db.session.execute(
        select(Evidence.id, Evidence.stored_name, Evidence.sha256)
        .where(Evidence.removed_at.is_(None))
        .order_by(Evidence.id)
    ).all()
    db.session.commit()  # nothing is held open while files move
    result = Migrated()
    for number, (evidence_id, name, sha256) in enumerate(rows, start=1):
        if progress:
            progress(number, len(rows))
        try:
            if _done_already(target, ring, name, sha256):
                result.already += 1
                continue
            content = _read_from(source, target, name, sha256)
            target.put(name, ring.seal(name, content))
            read_stored(name, sha256, store=target)  # read back: it opens and matches
        except StoredFileProblem as problem:
            result.failed[evidence_id] = problem.problem
            continue
        except (OSError, StoreError):
            log.warning("evidence %s could not be migrated", evidence_id, exc_info=True)
            result.failed[evidence_id] = "store"
            continue
        result.moved += 1
        if delete_source and source is not None and source is not target:
            source.delete(name)
            result.deleted_from_source += 1
    audit.record(
        AuditAction.SYSTEM_EVIDENCE_MIGRATED,
        actor=None,
        outcome=Outcome.ERROR if result.failed else Outcome.ALLOWED,
        details=result.as_details(),
    )
    db.session.commit()
    return result


def _read_from(
    source: EvidenceStore | None, target: EvidenceStore, name: str, sha256: str
) -> bytes:
    """The checked plaintext, from the source; or, when the source no longer has it (a
    run that stopped after writing but before deleting), from the target."""
    if source is None:
        return read_stored(name, sha256, store=target)
    try:
        return read_stored(name, sha256, store=source)
    except StoredFileProblem as problem:
        if problem.problem != "missing":
            raise
        return read_stored(name, sha256, store=target)


def sweep_orphans(
    store: EvidenceStore, *, older_than: timedelta, now: datetime | None = None
) -> int:
    """Delete objects written before `now - older_than` that no live evidence record
    names; returns how many. Audits system.evidence.swept with the count when there
    were any, and commits it."""
    cutoff = (now or utcnow()) - older_than
    live = set(
        db.session.scalars(select(Evidence.stored_name).where(Evidence.removed_at.is_(None)))
    )
    db.session.commit()
    deleted = 0
    for name, written in store.listing():
        if name not in live and written < cutoff:
            store.delete(name)
            deleted += 1
    if deleted:
        audit.record(AuditAction.SYSTEM_EVIDENCE_SWEPT, actor=None, details={"deleted": deleted})
        db.session.commit()
    return deleted
