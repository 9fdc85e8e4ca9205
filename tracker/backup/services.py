"""Backup, verification and restore of the whole service: database, evidence, checkpoint.

One archive (tracker/backup/archive.py) holds, in this order:

- `checkpoint.jsonl`: the audit chain's head in the copied database (as `flask audit
  checkpoint` writes it), so that a restored trail can be proved whole up to it;
- `database.sqlite3` (SQLite's online backup, consistent while the app runs) or
  `database.pgdump` (`pg_dump --format=custom` in the snapshot the checkpoint and the
  list of evidence were read in);
- `evidence/<stored name>` for each evidence file the copied database records, as it
  was uploaded (opened from the evidence store and checked against its record);
- `manifest.json`: what the archive holds, with the SHA-256 and size of every member.

Verifying unpacks into scratch space (a scratch database, files hashed as they stream
past), then checks everything against everything else. Restoring verifies first and only
then writes the target, which must be empty: a bad archive changes nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import shutil
import sqlite3
import subprocess  # nosec B404: pg_dump and pg_restore, with arguments of ours
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app
from sqlalchemy import Engine, create_engine, func, inspect, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from config import KNOWN_DEFAULT_SECRETS, MIN_SECRET_LENGTH
from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.audit.chain import AnySession, Checkpoint, current_head, key_bytes, verify_chain
from tracker.audit.models import AuditEvent
from tracker.backup.archive import ArchiveError, DecryptingReader, EncryptingWriter, sha256_of
from tracker.cases.evidence import StoredFileProblem, read_stored
from tracker.cases.models import Case, Evidence
from tracker.db import utcnow
from tracker.extensions import db
from tracker.storage import EvidenceKeyMissing, key_ring
from tracker.storage.stores import EvidenceStore, current_store

FORMAT = 1
CHECKPOINT_MEMBER = "checkpoint.jsonl"
MANIFEST_MEMBER = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
EVIDENCE_PREFIX = "evidence/"
_CHUNK = 1024 * 1024

# Called with (what is being done, bytes done, bytes in all) as a backup goes on.
Progress = Callable[[str, int, int], None]


class BackupError(Exception):
    """The backup, verification or restore cannot go on: the message says why."""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))


@dataclass(frozen=True)
class Counts:
    events: int
    cases: int
    evidence_files: int

    def as_details(self) -> dict[str, int]:
        return {
            "events": self.events,
            "cases": self.cases,
            "evidence_files": self.evidence_files,
        }


def backup_key() -> str:
    """BACKUP_KEY, held to the rules the app's other keys are held to at start-up (only
    the backup commands need it, so only they check it)."""
    key = current_app.config.get("BACKUP_KEY") or ""
    if key.strip().lower() in KNOWN_DEFAULT_SECRETS or len(key) < MIN_SECRET_LENGTH:
        raise BackupError(
            f"BACKUP_KEY is not set, is a default value or is shorter than "
            f"{MIN_SECRET_LENGTH} characters. Set it to a random value, kept apart from "
            "the database and its backups: without it no backup can be opened."
        )
    return key


# --- reading a database's state ----------------------------------------------------------


@dataclass(frozen=True)
class State:
    """What one copy of the database says: its audit head, counts and evidence files."""

    checkpoint: Checkpoint
    counts: Counts
    evidence: dict[str, str]  # stored name -> SHA-256, for items not removed
    evidence_bytes: int = 0  # their size in all


def read_state(session: AnySession) -> State:
    seq, head_hash = current_head(session)
    rows = session.execute(
        select(Evidence.stored_name, Evidence.sha256).where(Evidence.removed_at.is_(None))
    ).tuples()
    evidence: dict[str, str] = dict(rows.all())
    counts = Counts(
        events=session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        cases=session.scalar(select(func.count()).select_from(Case)) or 0,
        evidence_files=len(evidence),
    )
    size = session.scalar(
        select(func.coalesce(func.sum(Evidence.size_bytes), 0)).where(Evidence.removed_at.is_(None))
    )
    return State(Checkpoint(seq=seq, hash=head_hash, at=utcnow()), counts, evidence, int(size or 0))


# --- the database's own tools --------------------------------------------------------------


def libpq_address(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq address without the password, and an environment that carries it (so it
    is never on a command line, where other users of the machine could read it)."""
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    address = url.set(drivername="postgresql", password=None)
    return address.render_as_string(hide_password=False), environment


def _run_tool(name: str, arguments: list[str], environment: dict[str, str]) -> None:
    program = shutil.which(name)
    if program is None:
        raise BackupError(
            f"{name} is not installed. Install the PostgreSQL client whose major version "
            "matches the server's (Debian: postgresql-client)."
        )
    finished = subprocess.run(  # noqa: S603 # nosec B603
        [program, *arguments], capture_output=True, text=True, env=environment, check=False
    )
    if finished.returncode != 0:
        said = finished.stderr.strip().splitlines()
        raise BackupError(f"{name} failed: {said[-1] if said else finished.returncode}")


def dump_postgresql(url: URL, target: Path, *, snapshot: str | None = None) -> None:
    """`pg_dump --format=custom` of the database at `url` into `target` (in an exported
    snapshot, when given)."""
    address, environment = libpq_address(url)
    arguments = ["--format=custom", f"--file={target}", f"--dbname={address}"]
    if snapshot is not None:
        arguments.append(f"--snapshot={snapshot}")
    _run_tool("pg_dump", arguments, environment)


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("Only a SQLite database in a file can be backed up or restored.")
    return Path(url.database)


def copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while others read and write."""
    with (
        sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True) as reading,
        sqlite3.connect(target) as writing,
    ):
        reading.backup(writing)
    reading.close()
    writing.close()


@contextmanager
def _snapshot(engine: Engine, folder: Path) -> Iterator[tuple[Path, State]]:
    """A consistent copy of the database in `folder`, and its state, read from the copy
    (SQLite) or from the very snapshot pg_dump copied (PostgreSQL)."""
    dialect = engine.dialect.name
    target = folder / DATABASE_MEMBERS[dialect]
    if dialect == "sqlite":
        copy_sqlite(_sqlite_path(engine.url), target)
        copy = create_engine(f"sqlite:///{target}")
        try:
            with Session(copy) as session:
                yield target, read_state(session)
        finally:
            copy.dispose()
        return
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            with Session(bind=connection) as session:
                state = read_state(session)
            dump_postgresql(engine.url, target, snapshot=snapshot)
    yield target, state


# --- writing an archive --------------------------------------------------------------------


class _Hashing:
    """A file read through, hashed as it goes."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        block = self._raw.read(size)
        self.digest.update(block)
        return block


def _add(tar: tarfile.TarFile, name: str, source: BinaryIO, size: int) -> dict[str, Any]:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(utcnow().timestamp())
    hashing = _Hashing(source)
    tar.addfile(info, hashing)
    return {"sha256": hashing.digest.hexdigest(), "size": size}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> dict[str, Any]:
    return _add(tar, name, io.BytesIO(data), len(data))


@dataclass(frozen=True)
class Created:
    path: Path
    counts: Counts
    checkpoint: Checkpoint
    size: int


def create_backup(path: Path, *, progress: Progress | None = None) -> Created:
    """Write the archive to `path` (never over an existing file), then audit it.

    The archive is written under a temporary name beside `path` and renamed once whole,
    so `path` is either a complete backup or absent.
    """
    key = backup_key()
    if path.exists():
        raise BackupError(f"{path} already exists: choose a new name for each backup.")
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    store = current_store()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="tracker-backup-") as scratch,
            _snapshot(db.engine, Path(scratch)) as (database_file, state),
        ):
            total = database_file.stat().st_size + state.evidence_bytes
            files: dict[str, dict[str, Any]] = {}
            done = 0
            with (
                partial.open("xb") as out,
                EncryptingWriter(out, key) as writer,
                tarfile.open(fileobj=writer, mode="w|") as tar,
            ):
                files[CHECKPOINT_MEMBER] = _add_bytes(
                    tar, CHECKPOINT_MEMBER, state.checkpoint.to_line().encode()
                )
                with database_file.open("rb") as source:
                    size = database_file.stat().st_size
                    files[database_file.name] = _add(tar, database_file.name, source, size)
                done += size
                if progress:
                    progress("database", done, total)
                for name, sha256 in state.evidence.items():
                    entry = _add_evidence(tar, store, name, sha256)
                    files[EVIDENCE_PREFIX + name] = entry
                    done += entry["size"]
                    if progress:
                        progress("evidence", done, total)
                manifest = {
                    "format": FORMAT,
                    "database": db.engine.dialect.name,
                    "created_at": utcnow().isoformat(),
                    "checkpoint": json.loads(state.checkpoint.to_line()),
                    "counts": state.counts.as_details(),
                    "files": files,
                }
                _add_bytes(tar, MANIFEST_MEMBER, json.dumps(manifest, indent=1).encode())
        with partial.open("rb") as written:  # on disk before it takes its name
            os.fsync(written.fileno())
        partial.rename(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    size = path.stat().st_size
    audit.record(
        AuditAction.SYSTEM_BACKUP_CREATED,
        actor=None,
        details={**state.counts.as_details(), "head_seq": state.checkpoint.seq},
    )
    db.session.commit()
    return Created(path, state.counts, state.checkpoint, size)


def _add_evidence(
    tar: tarfile.TarFile, store: EvidenceStore, name: str, sha256: str
) -> dict[str, Any]:
    """An evidence file into the archive as it was uploaded (opened, and checked against
    its record): a backup does not depend on EVIDENCE_KEY, only on BACKUP_KEY."""
    try:
        content = read_stored(name, sha256, store=store)
    except StoredFileProblem as problem:
        raise BackupError(
            {
                "missing": f"The evidence file {name} that the database records is missing "
                f"from {store} (or was removed while the backup ran). Run the backup again; "
                "if it says this again, the file is lost: `flask backup` cannot copy it.",
                "unknown_key": f"The evidence file {name} was encrypted under a key that is "
                "neither EVIDENCE_KEY nor in EVIDENCE_OLD_KEYS: set the old key there and "
                "run the backup again.",
                "no_key": f"{problem} Nothing was written.",
            }.get(
                problem.problem,
                f"The evidence file {name} does not match the hash recorded when it was "
                "uploaded: it has been changed in the store. The backup stops rather than "
                "copy it.",
            )
        ) from None
    return _add_bytes(tar, EVIDENCE_PREFIX + name, content)


# --- reading an archive ------------------------------------------------------------------


@dataclass
class Unpacked:
    """What an archive held, once read through: its files are in scratch space."""

    database: Path
    dialect: str
    checkpoint: Checkpoint
    manifest: dict[str, Any]
    sums: dict[str, str]  # member -> SHA-256 of what was read
    evidence: dict[str, str]  # stored name -> SHA-256 of what was read


def _member_name(name: str) -> str:
    """A member's name, refused unless it is one an archive of ours holds."""
    if name in (CHECKPOINT_MEMBER, MANIFEST_MEMBER, *DATABASE_MEMBERS.values()):
        return name
    stored = name.removeprefix(EVIDENCE_PREFIX)
    if (
        name.startswith(EVIDENCE_PREFIX)
        and len(stored) == 64
        and all(c in "0123456789abcdef" for c in stored)
    ):
        return name
    raise BackupError(
        f"The backup holds a file it should not ({name[:80]!r}): it is not as written."
    )


def unpack(
    path: Path, key: str, scratch: Path, report: Report, *, evidence_to: Path | None
) -> Unpacked | None:
    """Read the whole archive once: the database into `scratch`, each evidence file into
    `evidence_to` (or only hashed), every member hashed. None if it cannot be read; the
    report then says why."""
    checkpoint: Checkpoint | None = None
    database: Path | None = None
    manifest: dict[str, Any] | None = None
    sums: dict[str, str] = {}
    evidence: dict[str, str] = {}
    try:
        with path.open("rb") as raw:
            reader = DecryptingReader(raw, key)
            report.add("key", True, "the archive opens with this BACKUP_KEY")
            with tarfile.open(fileobj=reader, mode="r|") as tar:
                for member in tar:
                    name = _member_name(member.name)
                    if not member.isfile() or name in sums:
                        raise BackupError(f"The backup holds {name} twice or not as a file.")
                    source = tar.extractfile(member)
                    if source is None:  # not a regular file: refused just above
                        continue
                    if name in (CHECKPOINT_MEMBER, MANIFEST_MEMBER):
                        data = source.read()
                        sums[name] = hashlib.sha256(data).hexdigest()
                        if name == MANIFEST_MEMBER:
                            manifest = json.loads(data)
                        else:
                            checkpoint = _read_checkpoint(data)
                        continue
                    target: BinaryIO | None = None
                    if name in DATABASE_MEMBERS.values():
                        database = scratch / name
                        target = database.open("xb")
                    elif evidence_to is not None:
                        target = (evidence_to / name.removeprefix(EVIDENCE_PREFIX)).open("xb")
                    try:
                        sums[name] = sha256_of(source, into=target)
                    finally:
                        if target is not None:
                            target.close()
                    if name.startswith(EVIDENCE_PREFIX):
                        evidence[name.removeprefix(EVIDENCE_PREFIX)] = sums[name]
    except (ArchiveError, BackupError) as exc:
        report.add("archive", False, str(exc))
        return None
    except (tarfile.TarError, ValueError, KeyError, TypeError, OSError) as exc:
        report.add("archive", False, f"The backup cannot be read as an archive ({exc}).")
        return None
    if manifest is None or checkpoint is None or database is None:
        missing = [
            what
            for what, value in (
                ("manifest", manifest),
                ("checkpoint", checkpoint),
                ("database", database),
            )
            if value is None
        ]
        report.add("archive", False, f"The backup has no {' or '.join(missing)}: it is incomplete.")
        return None
    return Unpacked(database, manifest.get("database", ""), checkpoint, manifest, sums, evidence)


def _read_checkpoint(data: bytes) -> Checkpoint:
    fields = json.loads(data)
    return Checkpoint(
        seq=int(fields["seq"]), hash=str(fields["hash"]), at=datetime.fromisoformat(fields["at"])
    )


# --- checking what was read --------------------------------------------------------------


@contextmanager
def _scratch_database(unpacked: Unpacked) -> Iterator[Engine]:
    """The archive's database, restored somewhere of its own and dropped afterwards: the
    copied file itself (SQLite), or a new database beside the configured one."""
    live = db.engine
    if unpacked.dialect != live.dialect.name:
        raise BackupError(
            f"This is a backup of a {unpacked.dialect or 'unknown'} database; DATABASE_URL "
            f"names a {live.dialect.name} one. Use a DATABASE_URL of the same kind."
        )
    if unpacked.dialect == "sqlite":
        engine = create_engine(f"sqlite:///{unpacked.database}")
        try:
            yield engine
        finally:
            engine.dispose()
        return
    name = f"tracker_verify_{secrets.token_hex(6)}"
    try:
        with live.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        raise BackupError(
            "The backup's database is checked by restoring it into a scratch database, "
            "and the role in DATABASE_URL may not create one. Run this as a role with "
            "CREATEDB (the owning role, say)."
        ) from exc
    try:
        scratch_url = live.url.set(database=name)
        _pg_restore(scratch_url, unpacked.database)
        engine = create_engine(scratch_url)
        try:
            yield engine
        finally:
            engine.dispose()
    finally:
        with live.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_restore(url: URL, dump: Path) -> None:
    address, environment = libpq_address(url)
    arguments = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    _run_tool("pg_restore", [*arguments, f"--dbname={address}", str(dump)], environment)


def check_sums(unpacked: Unpacked, report: Report) -> None:
    """Every file read from the archive against the manifest's SHA-256 sums."""
    listed: dict[str, dict[str, Any]] = unpacked.manifest.get("files") or {}
    differ = sorted(n for n, entry in listed.items() if unpacked.sums.get(n) != entry.get("sha256"))
    unlisted = sorted(n for n in unpacked.sums if n not in listed and n != MANIFEST_MEMBER)
    if differ or unlisted:
        named = ", ".join([*differ, *unlisted][:3])
        report.add(
            "sums",
            False,
            f"{len(differ) + len(unlisted)} file(s) do not match the manifest: {named}",
        )
    else:
        report.add("sums", True, f"all {len(listed)} files match the manifest's SHA-256 sums")


def check_contents(unpacked: Unpacked, session: AnySession, report: Report, *, where: str) -> None:
    """Every check of a restored database against the archive it came from."""
    state = read_state(session)
    result = verify_chain(
        session, key_bytes(current_app.config["AUDIT_KEY"]), checkpoints=[unpacked.checkpoint]
    )
    if result.problem is not None:
        report.add(
            "audit trail",
            False,
            f"broken at event {result.problem.seq} in {where}: {result.problem.message}",
        )
    elif result.head_seq < unpacked.checkpoint.seq:
        report.add("audit trail", False, f"{where} ends before the backup's checkpoint")
    else:
        report.add(
            "audit trail",
            True,
            f"{result.events} events intact in {where}, "
            f"checkpoint {unpacked.checkpoint.seq} matched",
        )

    missing = sorted(set(state.evidence) - set(unpacked.evidence))
    changed = sorted(
        n
        for n, sha in state.evidence.items()
        if n in unpacked.evidence and unpacked.evidence[n] != sha
    )
    extra = sorted(set(unpacked.evidence) - set(state.evidence))
    if missing or changed or extra:
        report.add(
            "evidence",
            False,
            f"{len(missing)} missing, {len(changed)} not matching their records, "
            f"{len(extra)} with no record",
        )
    else:
        report.add("evidence", True, f"all {len(state.evidence)} files match their records' hashes")

    expected = unpacked.manifest.get("counts") or {}
    counts = state.counts.as_details()
    report.add(
        "counts",
        all(counts.get(k) == expected.get(k) for k in ("cases", "evidence_files")),
        f"{counts['cases']} cases and {counts['evidence_files']} evidence files, as when backed up",
    )


def _read_and_check(
    path: Path, key: str, scratch: Path, report: Report, *, evidence_to: Path | None
) -> Unpacked | None:
    """Read the archive into scratch space, restore its database there and run every
    check; the archive as read, or None when it could not be read at all."""
    unpacked = unpack(path, key, scratch, report, evidence_to=evidence_to)
    if unpacked is None:
        return None
    check_sums(unpacked, report)
    try:
        with _scratch_database(unpacked) as engine, Session(engine) as session:
            report.add("database", True, "restored into a scratch database")
            check_contents(unpacked, session, report, where="the backup")
    except BackupError as exc:
        report.add("database", False, str(exc))
    return unpacked


def verify_backup(path: Path) -> Report:
    """Read, restore into scratch space and check everything; change nothing."""
    report = Report()
    key = backup_key()
    with tempfile.TemporaryDirectory(prefix="tracker-verify-") as scratch:
        _read_and_check(path, key, Path(scratch), report, evidence_to=None)
    return report


# --- restoring ---------------------------------------------------------------------------


def refuse_unless_empty() -> None:
    """Raise BackupError saying why, unless the database and evidence store are empty."""
    tables = inspect(db.engine).get_table_names()
    if tables:
        raise BackupError(
            f"The database DATABASE_URL names is not empty: it has {len(tables)} tables. "
            "A backup is restored only into a new, empty database: create one, point "
            "DATABASE_URL at it and run this again. Nothing has been changed."
        )
    store = current_store()
    if next(iter(store.names()), None) is not None:
        raise BackupError(
            f"{str(store).capitalize()} is not empty. A backup is restored only into an "
            "empty store: point EVIDENCE_PATH at a new folder (or EVIDENCE_S3_PREFIX at a "
            "new prefix) and run this again. Nothing has been changed."
        )


def restore_backup(path: Path) -> tuple[Report, Counts | None]:
    """Into an empty database and evidence store: verify in scratch space, then load the
    evidence and the database, then check the target again and audit the restore. A
    failure before the load changes nothing."""
    key = backup_key()
    try:
        ring = key_ring()
    except EvidenceKeyMissing as error:
        raise BackupError(f"{error} Nothing has been changed.") from None
    refuse_unless_empty()
    report = Report()
    store = current_store()
    with tempfile.TemporaryDirectory(prefix="tracker-restore-") as scratch:
        staging = Path(scratch) / "evidence"
        staging.mkdir(mode=0o700)
        unpacked = _read_and_check(path, key, Path(scratch), report, evidence_to=staging)
        if unpacked is None or not report.ok:
            return report, None
        # Each file sealed under this installation's EVIDENCE_KEY as it goes in; if
        # anything fails, what was written goes again, so the store stays empty.
        written: list[str] = []
        try:
            for name in unpacked.evidence:
                store.add(name, ring.seal(name, (staging / name).read_bytes()))
                written.append(name)
            _load(unpacked)
        except BaseException:
            for name in written:
                store.delete(name)
            raise
    db.session.remove()
    loaded = Report()
    check_contents(unpacked, db.session, loaded, where="the restored database")
    report.checks += [Check(f"restored {c.name}", c.ok, c.detail) for c in loaded.checks]
    counts = read_state(db.session).counts
    audit.record(AuditAction.SYSTEM_RESTORED, actor=None, details=counts.as_details())
    db.session.commit()
    return report, counts


def _load(unpacked: Unpacked) -> None:
    engine = db.engine
    db.session.remove()
    engine.dispose()
    if engine.dialect.name == "sqlite":
        copy_sqlite(unpacked.database, _sqlite_path(engine.url))
    else:
        _pg_restore(engine.url, unpacked.database)
    engine.dispose()
