"""Backups at trust scale: `flask backup create` and `verify` of the seeded trust with a
gigabyte of evidence, each timed in a process of its own so that its peak memory is its
own, beside a reference measured in the same run on the same files: the database's own
copy tool (SQLite's online backup, or pg_dump) and one read of every evidence file.

The evidence is random bytes (as incompressible as photographs), in files of a few
megabytes each, recorded against the first cases as real uploads are.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import subprocess  # nosec B404: our own flask and the database's tools
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

from config import PROJECT_ROOT
from tracker.auth.models import User
from tracker.backup.services import copy_sqlite, dump_postgresql
from tracker.cases.models import Case, Evidence
from tracker.db import utcnow
from tracker.extensions import db
from tracker.storage import key_ring
from tracker.storage.stores import FolderStore, current_store

FILE_MB = 4
# Budgets of issue 16: a backup of the trust in two minutes, and small in memory.
CREATE_SECONDS = 120.0
PEAK_MB = 300.0
_MB = 1024 * 1024


@dataclass
class BackupFigures:
    evidence_files: int = 0
    evidence_mb: float = 0.0
    archive_mb: float = 0.0
    reference_seconds: float = 0.0
    create_seconds: float = 0.0
    create_peak_mb: float = 0.0
    verify_seconds: float = 0.0
    verify_peak_mb: float = 0.0
    verified: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _evidence_folder() -> Path:
    store = current_store()
    if not isinstance(store, FolderStore):
        raise RuntimeError("the benchmark keeps its evidence in a folder (EVIDENCE_STORE=folder)")
    return store.folder


def seed_evidence(total_mb: int, *, file_mb: int = FILE_MB) -> tuple[int, int]:
    """Write random evidence files totalling `total_mb` into the evidence store, sealed as
    uploads are, and record each against a case; returns (files, bytes)."""
    store, ring = current_store(), key_ring()
    count = max(1, -(-total_mb // file_mb))
    case_ids = db.session.scalars(select(Case.id).order_by(Case.id).limit(count)).all()
    uploader = db.session.scalar(select(User.id).order_by(User.id).limit(1))
    rows, written, now = [], 0, utcnow()
    for number in range(count):
        size = min(file_mb * _MB, total_mb * _MB - written) or file_mb * _MB
        content = os.urandom(size)
        name = secrets.token_hex(32)
        store.add(name, ring.seal(name, content))
        written += size
        rows.append(
            {
                "case_id": case_ids[number % len(case_ids)],
                "original_filename": f"screenshot-{number}.png",
                "stored_name": name,
                "content_type": "image/png",
                "size_bytes": size,
                "sha256": hashlib.sha256(content).hexdigest(),
                "uploaded_by_id": uploader,
                "uploaded_at": now,
            }
        )
    db.session.execute(insert(Evidence), rows)
    db.session.commit()
    return count, written


def _child_environment(app: Flask, url: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(
        DATABASE_URL=url,
        INSTANCE_PATH=app.instance_path,
        EVIDENCE_PATH=str(_evidence_folder()),
        SECRET_KEY=app.config["SECRET_KEY"],
        AUDIT_KEY=app.config["AUDIT_KEY"],
        TOTP_KEY=app.config["TOTP_KEY"],
        EVIDENCE_KEY=app.config["EVIDENCE_KEY"],
        BACKUP_KEY=app.config.get("BACKUP_KEY") or secrets.token_hex(32),
        LOG_LEVEL="WARNING",
    )
    return environment


# Runs the flask command and, as it exits, prints its own peak resident memory (VmHWM:
# the high-water mark of the memory it mapped itself). ru_maxrss from wait4 would not do:
# Linux carries the parent's high-water mark into a child across fork and exec.
_FLASK_REPORTING_PEAK = """
import atexit, re, sys

def _peak():
    with open("/proc/self/status") as status:
        peak = re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1)
    sys.stdout.write(f"\\npeak-kb {peak}\\n")

atexit.register(_peak)
from flask.cli import main
sys.argv[0] = "flask"
main()
"""
_PEAK = re.compile(r"^peak-kb (\d+)$", re.M)


def _timed_flask(arguments: list[str], environment: dict[str, str]) -> tuple[float, float, str]:
    """Run `flask --app app ARGUMENTS` in a process of its own: seconds, its own peak
    memory in MB, and what it printed."""
    command = [sys.executable, "-c", _FLASK_REPORTING_PEAK, "--app", "app", *arguments]
    started = time.perf_counter()
    finished = subprocess.run(  # noqa: S603 # nosec B603
        command,
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if finished.returncode != 0:
        raise RuntimeError(f"flask {' '.join(arguments)} failed:\n{finished.stdout}")
    peak = _PEAK.search(finished.stdout)
    if peak is None:
        raise RuntimeError("the flask command did not report its peak memory")
    return round(elapsed, 1), round(int(peak.group(1)) / 1024, 1), finished.stdout


def reference_seconds(url: str, scratch: Path) -> float:
    """The floor a backup stands on: the database's own copy (by the same calls the
    backup makes), and one read and decryption of each file."""
    started = time.perf_counter()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        copy_sqlite(Path(parsed.database or ""), scratch / "reference.db")
    else:
        dump_postgresql(parsed, scratch / "reference.pgdump")
    store, ring = current_store(), key_ring()
    for name in store.names():
        ring.open(name, store.get(name))
    return round(time.perf_counter() - started, 3)


def measure_backup(
    app: Flask, url: str, *, evidence_mb: int, progress: Any = None
) -> BackupFigures:
    figures = BackupFigures()
    figures.evidence_files, written = seed_evidence(evidence_mb)
    figures.evidence_mb = round(written / _MB, 1)
    if progress:
        progress(f"{figures.evidence_files} evidence files ({figures.evidence_mb} MB) seeded")
    scratch = Path(app.instance_path) / "bench-backup"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        environment = _child_environment(app, url)
        archive = scratch / "bench.backup"
        figures.reference_seconds = reference_seconds(url, scratch)
        figures.create_seconds, figures.create_peak_mb, _ = _timed_flask(
            ["backup", "create", str(archive)], environment
        )
        figures.archive_mb = round(archive.stat().st_size / _MB, 1)
        if progress:
            progress(f"backup of {figures.archive_mb} MB made in {figures.create_seconds} s")
        figures.verify_seconds, figures.verify_peak_mb, said = _timed_flask(
            ["backup", "verify", str(archive)], environment
        )
        figures.verified = "Backup verified" in said
        if progress:
            progress(f"backup verified in {figures.verify_seconds} s")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return figures


def budgets(figures: BackupFigures) -> list[tuple[str, float, str, float]]:
    return [
        (
            f"backup create (s), {figures.evidence_mb:g} MB of evidence",
            figures.create_seconds,
            "<=",
            CREATE_SECONDS,
        ),
        ("backup create, peak memory (MB)", figures.create_peak_mb, "<=", PEAK_MB),
        ("backup verify, peak memory (MB)", figures.verify_peak_mb, "<=", PEAK_MB),
        ("backup verifies", int(figures.verified), ">=", 1),
    ]
