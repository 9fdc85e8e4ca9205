"""Evidence on a case: checking uploads by their content, storing them, removing them.

Files live in the evidence store (tracker/storage/: a folder outside static/, never
served by the web server, or an S3 bucket), sealed with AES-256-GCM, under random names,
and are never overwritten. The database row is the record, with the SHA-256 of the
file as uploaded, checked on every read; the stored object is only its bytes. File
changes follow the database transaction (see `_settle_files`): a file written for an
upload that is rolled back is deleted, and a removed item's bytes are deleted only once
the removal, with who did it and why, is committed.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import BinaryIO
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from config import MB
from tracker.audit import services as audit
from tracker.audit.actions import AuditAction, Outcome
from tracker.auth.models import User
from tracker.auth.permissions import can_view_case, can_work_on_case
from tracker.cases.models import Case, Evidence, PostVisibility
from tracker.clock import UK
from tracker.db import utcnow
from tracker.errors import NotAllowed, ValidationFailed, one_of
from tracker.extensions import db
from tracker.storage import EvidenceKeyMissing, key_ring
from tracker.storage.sealing import Unreadable
from tracker.storage.stores import (
    STORED_NAME,
    EvidenceStore,
    NameTaken,
    ObjectMissing,
    StoreError,
    current_store,
    new_name,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvidenceType:
    content_type: str
    label: str
    extensions: tuple[str, ...]  # the first is the one a download is given


# The only types accepted, recognised by their first bytes (never by name or by what the
# browser says). No SVG or HTML: they can carry scripts.
EVIDENCE_TYPES: dict[str, EvidenceType] = {
    t.content_type: t
    for t in [
        EvidenceType("image/png", "PNG image", (".png",)),
        EvidenceType("image/jpeg", "JPEG image", (".jpg", ".jpeg")),
        EvidenceType("image/gif", "GIF image", (".gif",)),
        EvidenceType("image/webp", "WebP image", (".webp",)),
        EvidenceType("application/pdf", "PDF document", (".pdf",)),
    ]
}
ALLOWED_TYPES_IN_WORDS = "a PNG, JPEG, GIF or WebP image, or a PDF"


def size_check_attributes(max_mb: int) -> dict[str, str]:
    """What a file input carries for the page's script (assets/js/app.mjs) to refuse a
    file over the limit as soon as it is chosen, before a long upload ends in the error
    page: the limit in bytes, and the message in the Design System's words."""
    return {
        "data-app-max-bytes": str(max_mb * MB),
        "data-app-too-large": f"The selected file must be smaller than {max_mb} MB",
    }


_CHUNK = 64 * 1024
_HEAD = 16  # enough bytes to tell every accepted type apart


def sniff_content_type(head: bytes) -> str | None:
    """The content type of a file from its first bytes, if it is one we accept."""
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP" and head[12:15] == b"VP8":
        return "image/webp"
    # Readers tolerate junk before the header; we do not, so a file that starts as
    # something else (an HTML page, say) is never taken for a PDF.
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def type_label(content_type: str) -> str:
    known = EVIDENCE_TYPES.get(content_type)
    return known.label if known else content_type


def file_size_in_words(size: int) -> str:
    """1 byte, 900 bytes, 12 KB, 3.4 MB: in the units the upload limit is given in."""
    if size < 1024:
        return "1 byte" if size == 1 else f"{size} bytes"
    if size < MB:
        return f"{size / 1024:.0f} KB"
    return f"{size / MB:.1f} MB".replace(".0 MB", " MB")


def display_filename(raw: str) -> str:
    """The name the uploader's computer gave the file, made safe to show and to keep.

    Only its last path part; no control or invisible formatting characters (a
    right-to-left override can make "gnp.exe" read as "exe.png"); whitespace collapsed.
    """
    name = re.split(r"[\\/]", raw or "")[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Cs"})
    name = " ".join(name.split()).strip()
    if len(name) > 255:
        stem, dot, extension = name.rpartition(".")
        name = f"{stem[: 250 - len(extension)]}.{extension}" if dot and stem else name[:255]
    return name or "unnamed file"


def download_filename(evidence: Evidence) -> str:
    """A plain name for the downloaded file, ending as its real type does."""
    kind = EVIDENCE_TYPES.get(evidence.content_type)
    stem, dot, extension = evidence.original_filename.rpartition(".")
    if not dot:
        stem, extension = evidence.original_filename, ""
    # Letters (any alphabet: Werkzeug adds an ASCII fallback), digits and a little
    # punctuation; nothing that means something in a header or a path.
    stem = re.sub(r"[^\w\- ()]+", "_", stem).strip(" ._")[:100] or "evidence"
    if kind is None:
        return stem
    extension = f".{extension.lower()}"
    return stem + (extension if extension in kind.extensions else kind.extensions[0])


# --- storage ---------------------------------------------------------------------------


def max_upload_bytes() -> int:
    return int(current_app.config["EVIDENCE_MAX_MB"]) * MB


def stored_name(evidence: Evidence) -> str:
    # The name is ours (random hex), but check it anyway before it reaches a store.
    if not STORED_NAME.match(evidence.stored_name):
        raise StoredFileProblem(
            f"evidence {evidence.id} has a malformed stored name", problem="bad_name"
        )
    return evidence.stored_name


class StoredFileProblem(RuntimeError):
    """An evidence file is missing, does not open or no longer matches its hash: not the
    user's doing.

    `problem` is a short code for the audit trail: missing, changed, unknown_key, no_key
    (EVIDENCE_KEY not set) or bad_name.
    """

    def __init__(self, message: str, *, problem: str = "other") -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class _StoredFile:
    name: str
    size: int
    sha256: str
    content_type: str


def _read_limited(content: BinaryIO, max_bytes: int, limit_words: str) -> bytes:
    """The whole upload, refused as soon as it passes the limit (never read further)."""
    data = bytearray()
    while chunk := content.read(_CHUNK):
        data += chunk
        if len(data) > max_bytes:
            raise ValidationFailed(
                f"The file must be {limit_words} or smaller. Choose a smaller file, "
                "or save the screenshot at a lower resolution",
                field="file",
            )
    return bytes(data)


def _store(content: BinaryIO, store: EvidenceStore, max_bytes: int) -> _StoredFile:
    """Check the upload and add it to the store, sealed, under a new random name.

    The store writes an object whole or not at all and never replaces one; an upload
    that is refused writes nothing.
    """
    data = _read_limited(content, max_bytes, f"{max_bytes // MB} MB")
    if not data:
        raise ValidationFailed("The file is empty. Choose another file", field="file")
    content_type = sniff_content_type(data[:_HEAD])
    if content_type is None:
        raise ValidationFailed(
            f"The file must be {ALLOWED_TYPES_IN_WORDS}. This file is not one of those "
            "(its contents were checked, not its name)",
            field="file",
        )
    try:
        ring = key_ring()
    except EvidenceKeyMissing:
        log.error("evidence refused: EVIDENCE_KEY is not set")
        raise ValidationFailed(
            "Evidence cannot be stored here yet: the service's encryption key has not been "
            "set up. Tell your trust's IT team, then add the file again",
            field="file",
        ) from None
    for _attempt in range(3):
        name = new_name()
        try:
            store.add(name, ring.seal(name, data))
        except NameTaken:
            continue
        return _StoredFile(name, len(data), hashlib.sha256(data).hexdigest(), content_type)
    raise StoredFileProblem("could not find an unused name for an evidence file")


def read_stored(name: str, sha256: str, *, store: EvidenceStore | None = None) -> bytes:
    """The plaintext of a stored object, opened and checked against the SHA-256 its record
    holds. Raises StoredFileProblem if it is missing, does not open, or has changed."""
    store = store or current_store()
    try:
        opened = key_ring().open(name, store.get(name))
    except EvidenceKeyMissing as error:
        raise StoredFileProblem(str(error), problem="no_key") from None
    except ObjectMissing:
        raise StoredFileProblem(f"the evidence file {name} is missing", problem="missing") from None
    except Unreadable as error:
        raise StoredFileProblem(str(error), problem=error.problem) from None
    if hashlib.sha256(opened.content).hexdigest() != sha256:
        raise StoredFileProblem(
            f"the evidence file {name} does not match its hash", problem="changed"
        )
    return opened.content


def verified_content(evidence: Evidence) -> bytes:
    """The file of an item that has not been removed, checked against its hash.

    Raises StoredFileProblem if the file is missing or its bytes have changed since the
    upload: an error page with a request id, never a silently different file.
    """
    return read_stored(stored_name(evidence), evidence.sha256)


# --- files follow the transaction ------------------------------------------------------

_WRITTEN = "evidence_files_written"  # written for this transaction: delete unless committed
_TO_DELETE = "evidence_files_to_delete"  # removed in this transaction: delete once committed


def _delete_files(names: list[str]) -> None:
    if not names:
        return
    store = current_store()
    for name in names:
        try:
            store.delete(name)
        except (OSError, StoreError):
            # The transaction is already over: say so loudly, but do not fail the request.
            log.exception("could not delete evidence file %s", name)


@event.listens_for(db.session, "after_commit")
def _delete_removed_files(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer transaction may still roll back
    session.info.pop(_WRITTEN, None)
    _delete_files(session.info.pop(_TO_DELETE, []))


@event.listens_for(db.session, "after_transaction_end")
def _settle_files(session: Session, transaction: SessionTransaction) -> None:
    """After a rollback (or a close without commit) the new files have no row: delete them."""
    if transaction.parent is not None:
        return
    session.info.pop(_TO_DELETE, None)
    _delete_files(session.info.pop(_WRITTEN, []))


def delete_files_after_commit(names: list[str]) -> None:
    """Delete these stored files once the current transaction commits; a rollback keeps
    them (disposal of a case, like removal of one item, uses this)."""
    db.session.info.setdefault(_TO_DELETE, []).extend(names)


# --- services --------------------------------------------------------------------------


@dataclass(frozen=True)
class Provenance:
    """Where a piece of evidence came from, as the uploader describes it."""

    description: str = ""
    source_url: str = ""
    captured_on: date | None = None
    captured_time: time | None = None
    captured_by: str = ""
    post_visibility: str = PostVisibility.UNKNOWN.value


def checked_source_url(url: str, *, field: str = "source_url") -> str:
    """A web address as typed (stripped), or "" for none; refused on `field` unless it is
    a whole http(s) address of at most 2,000 characters."""
    url = url.strip()
    if not url:
        return ""
    message = "Enter the web address in full, starting with https:// or http://, or leave it blank"
    if len(url) > 2000:
        raise ValidationFailed("The web address must be 2,000 characters or fewer", field=field)
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in url):
        raise ValidationFailed(message, field=field)
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise ValidationFailed(message, field=field) from None
    if parts.scheme.lower() not in {"http", "https"} or not host:
        raise ValidationFailed(message, field=field)
    return url


def _captured_at(provenance: Provenance, now: datetime) -> datetime | None:
    """The capture time in UTC. Typed in UK time; a date alone is kept as its midnight."""
    if provenance.captured_on is None:
        if provenance.captured_time is not None:
            raise ValidationFailed(
                "Enter the date it was captured, or leave the time blank", field="captured_on"
            )
        return None
    local = datetime.combine(provenance.captured_on, provenance.captured_time or time(0), UK)
    captured_at = local.astimezone(UTC)
    if captured_at > now:
        raise ValidationFailed(
            "The capture date and time cannot be in the future", field="captured_on"
        )
    return captured_at


def _checked_provenance(provenance: Provenance, now: datetime) -> dict[str, object]:
    visibility = one_of(
        PostVisibility,
        provenance.post_visibility,
        "Choose whether the post was public or private",
        field="post_visibility",
    )
    description = " ".join(provenance.description.split())
    if len(description) > 500:
        raise ValidationFailed(
            "The description must be 500 characters or fewer", field="description"
        )
    captured_by = " ".join(provenance.captured_by.split())
    if len(captured_by) > 200:
        raise ValidationFailed(
            "Who captured it must be 200 characters or fewer", field="captured_by"
        )
    return {
        "description": description,
        "source_url": checked_source_url(provenance.source_url),
        "captured_at": _captured_at(provenance, now),
        "captured_by": captured_by,
        "post_visibility": visibility.value,
    }


def add_evidence(
    case: Case,
    *,
    content: BinaryIO,
    filename: str,
    provenance: Provenance,
    by: User,
    now: datetime | None = None,
) -> Evidence:
    """Upload a file to a case as evidence, with where it came from.

    Guard: the user may work on the case; the provenance is valid (an http(s) source
    address, a capture time not in the future); the file is not empty, not over
    EVIDENCE_MAX_MB and, by its content, one of EVIDENCE_TYPES.
    Side effects: the file is sealed and added under a new random name to the store and
    recorded with its SHA-256, size and type; if the transaction does not commit, the
    file is deleted again; the audit trail gets evidence.added with the content type and
    size (never the file's name or description). Flushes; the caller commits.
    """
    if not can_work_on_case(by, case):
        raise NotAllowed("Evidence cannot be added to this case")
    return store_evidence(
        case, content=content, filename=filename, provenance=provenance, by=by, now=now
    )


def store_evidence(
    case: Case,
    *,
    content: BinaryIO,
    filename: str,
    provenance: Provenance,
    by: User,
    now: datetime | None = None,
) -> Evidence:
    """`add_evidence` without its guard on who: for tracker/concerns/, where the member of
    staff raising a concern attaches their screenshot to the case it opens (they may not
    work on it). The caller checks who may add it. Checks and side effects as there.
    """
    now = now or utcnow()
    # Everything typed is checked before the file is written, so a refusal writes nothing.
    fields = _checked_provenance(provenance, now)
    stored = _store(content, current_store(), max_upload_bytes())
    db.session.info.setdefault(_WRITTEN, []).append(stored.name)
    evidence = Evidence(
        case_id=case.id,
        original_filename=display_filename(filename),
        stored_name=stored.name,
        content_type=stored.content_type,
        size_bytes=stored.size,
        sha256=stored.sha256,
        uploaded_by_id=by.id,
        uploaded_at=now,
        **fields,
    )
    case.evidence.append(evidence)
    audit.record_added(
        AuditAction.EVIDENCE_ADDED,
        evidence,
        actor=by,
        details={"content_type": evidence.content_type, "size": evidence.size_bytes},
    )
    return evidence


def remove_evidence(
    evidence: Evidence, *, reason: str, by: User, now: datetime | None = None
) -> None:
    """Remove a piece of evidence: its file goes, its record stays.

    Guard: the user may work on the case; the item is not already removed; a reason is
    given. Side effects: the record keeps its hash, size and name and gains who removed
    it, when and why; the stored bytes are deleted once the transaction commits (so a
    failed commit never leaves a file gone with no record of why); the audit trail gets
    evidence.removed (never the reason, which is free text). Flushes; the caller commits.
    """
    if not can_work_on_case(by, evidence.case):
        raise NotAllowed("Evidence cannot be removed from this case")
    if evidence.is_removed:
        raise ValidationFailed("This evidence has already been removed")
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationFailed("Say why the evidence is being removed", field="reason")
    if len(reason) > 500:
        raise ValidationFailed("The reason must be 500 characters or fewer", field="reason")
    evidence.removed_at = now or utcnow()
    evidence.removed_by_id = by.id
    evidence.removal_reason = reason
    db.session.flush()
    audit.record_about(AuditAction.EVIDENCE_REMOVED, evidence, actor=by)
    db.session.info.setdefault(_TO_DELETE, []).append(stored_name(evidence))


def file_for_download(evidence: Evidence, *, by: User) -> bytes:
    """The content of an item, opened and checked against its hash, for someone to
    download.

    Guard: the user may view the case; the item has not been removed. Side effects: the
    audit trail gets evidence.downloaded with the outcome: allowed, or error when the
    file is missing or no longer matches its hash; StoredFileProblem is then raised, and
    the caller commits anyway, so the failed attempt stays on the trail.
    """
    case = evidence.case
    if not can_view_case(by, case):
        raise NotAllowed("You cannot see this case")
    if evidence.is_removed:
        raise NotAllowed("This evidence has been removed")
    try:
        content = verified_content(evidence)
    except StoredFileProblem as problem:
        audit.record_about(
            AuditAction.EVIDENCE_DOWNLOADED,
            evidence,
            actor=by,
            outcome=Outcome.ERROR,
            details={"problem": problem.problem},
        )
        raise
    audit.record_about(AuditAction.EVIDENCE_DOWNLOADED, evidence, actor=by)
    return content
