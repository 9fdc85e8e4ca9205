"""`flask audit verify` and `flask audit checkpoint`: prove the trail has not been altered.

Run `checkpoint` from cron (every hour, say) into a file on another machine or an
append-only store, and `verify --checkpoints` against that file (nightly, say).
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker.audit.chain import (
    Checkpoint,
    CheckpointFileError,
    current_head,
    key_bytes,
    read_checkpoints,
    verify_chain,
)
from tracker.db import utcnow
from tracker.extensions import db


@click.group("audit")
def audit_cli() -> None:
    """Check the audit trail's hash chain and record checkpoints of it."""


@audit_cli.command("verify")
@click.option(
    "--checkpoints",
    "checkpoint_path",
    type=click.Path(dir_okay=False, path_type=Path, exists=True),
    help="A file written by `flask audit checkpoint`; every checkpoint in it must still be "
    "in the chain (catches removal of the newest events).",
)
@click.option("--batch-size", default=20_000, show_default=True, help="Events read at a time.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=lambda: os.cpu_count() or 1,
    show_default="the number of CPUs",
    help="Processes that check ranges of events at once (1: all in this one).",
)
@with_appcontext
def verify_command(checkpoint_path: Path | None, batch_size: int, workers: int) -> None:
    """Walk the whole chain and name the first event that breaks it (exit status 1)."""
    try:
        checkpoints = read_checkpoints(checkpoint_path) if checkpoint_path else []
    except CheckpointFileError as exc:
        raise click.ClickException(str(exc)) from exc
    key = key_bytes(current_app.config["AUDIT_KEY"])
    # Read-only: the walk never writes, so it can run against a replica too.
    result = verify_chain(
        db.session, key, checkpoints=checkpoints, batch_size=batch_size, workers=workers
    )
    db.session.rollback()
    if result.problem is None:
        click.echo(
            f"Audit trail intact: {result.events} event(s), newest {result.head_seq} "
            f"(hash {result.head_hash[:16]}...); {result.checkpoints} checkpoint(s) matched."
        )
        return
    click.echo(
        f"AUDIT TRAIL BROKEN at event {result.problem.seq}: {result.problem.message}. "
        f"{result.events} event(s) before it check out.",
        err=True,
    )
    raise SystemExit(1)


@audit_cli.command("checkpoint")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def checkpoint_command(path: Path) -> None:
    """Append the chain's current head (number, hash, time) to PATH as one line."""
    seq, head_hash = current_head(db.session)
    db.session.rollback()
    checkpoint = Checkpoint(seq=seq, hash=head_hash, at=utcnow())
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(checkpoint.to_line())
        handle.flush()
        os.fsync(handle.fileno())
    click.echo(f"Checkpoint written to {path}: event {seq}, hash {head_hash[:16]}...")
