"""`flask backup create | verify | restore`: the whole service in one encrypted file.

Exit status: 0 when it worked (or every check passed), 1 otherwise, with one line per
check so that a cron job's mail or a timer's journal says which part failed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from tracker.backup.services import (
    BackupError,
    Report,
    create_backup,
    restore_backup,
    verify_backup,
)

_ARCHIVE = click.Path(dir_okay=False, path_type=Path)


@click.group("backup")
def backup_cli() -> None:
    """Back up, check and restore the database, the evidence and the audit checkpoint."""


def _megabytes(count: int) -> str:
    return f"{count / 1_000_000:,.1f} MB"


@backup_cli.command("create")
@click.argument("path", type=_ARCHIVE)
@with_appcontext
def create_command(path: Path) -> None:
    """Write a new backup to PATH, encrypted with BACKUP_KEY (never over a file)."""
    shown = {"last": -1}

    def progress(stage: str, done: int, total: int) -> None:
        percent = done * 100 // total if total else 100
        if sys.stderr.isatty() and percent != shown["last"]:
            shown["last"] = percent
            click.echo(f"\r{stage}: {percent}% of {_megabytes(total)}", nl=False, err=True)

    try:
        created = create_backup(path, progress=progress)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    if shown["last"] >= 0:
        click.echo(err=True)
    counts = created.counts
    click.echo(
        f"Backup written to {created.path} ({_megabytes(created.size)}): {counts.cases} "
        f"cases, {counts.events} audit events up to event {created.checkpoint.seq}, "
        f"{counts.evidence_files} evidence files."
    )


def _print(report: Report) -> None:
    for check in report.checks:
        status = "ok" if check.ok else "FAILED"
        click.echo(f"{check.name}: {status} - {check.detail}", err=not check.ok)


@backup_cli.command("verify")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@with_appcontext
def verify_command(path: Path) -> None:
    """Check every part of the backup at PATH, restoring it into scratch space."""
    try:
        report = verify_backup(path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    _print(report)
    if not report.ok:
        raise SystemExit(1)
    click.echo("Backup verified: it can be restored.")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@with_appcontext
def restore_command(path: Path) -> None:
    """Restore the backup at PATH into an empty database and evidence store."""
    try:
        report, counts = restore_backup(path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    _print(report)
    if counts is None or not report.ok:
        click.echo("Nothing was restored." if counts is None else "Restored, with problems.")
        raise SystemExit(1)
    click.echo(
        f"Restored {counts.cases} cases, {counts.events} audit events and "
        f"{counts.evidence_files} evidence files."
    )
