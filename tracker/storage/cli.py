"""`flask evidence migrate` (move, seal or re-seal every evidence file) and `flask
evidence sweep` (delete objects no record names); see services.py.

Migrate's exit status: 0 when every file is in the configured store under the current
key, 1 when any could not be brought there (each is named by its evidence id, with why).
"""

from __future__ import annotations

import sys
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker.storage import EvidenceKeyMissing, key_ring
from tracker.storage.services import migrate_evidence, sweep_orphans
from tracker.storage.stores import current_store, store_from_address

_WHY = {
    "missing": "missing from the source and from the target",
    "changed": "does not match its record's hash (or does not open): changed in the store",
    "unknown_key": "sealed under a key that is neither EVIDENCE_KEY nor in EVIDENCE_OLD_KEYS",
    "bad_name": "has a malformed stored name",
    "store": "could not be read or written: a store refused or could not be reached (see the log)",
}


@click.group("evidence")
def evidence_cli() -> None:
    """The evidence store: move files between stores and re-encrypt them."""


@evidence_cli.command("migrate")
@click.option(
    "--from",
    "source_address",
    metavar="STORE",
    help="Where files not yet in the configured store are read from: folder:PATH or "
    "s3://BUCKET/PREFIX. Without it, the configured store is sealed or re-sealed in place.",
)
@click.option(
    "--delete-source",
    is_flag=True,
    help="Delete each file from the --from store once its copy is written and checked.",
)
@with_appcontext
def migrate_command(source_address: str | None, delete_source: bool) -> None:
    """Bring every evidence file into the configured store (EVIDENCE_STORE), encrypted
    under EVIDENCE_KEY, checking each against its record. Safe to stop and run again."""
    try:
        key_ring()
    except EvidenceKeyMissing as error:
        raise click.ClickException(str(error)) from None
    target = current_store()
    source = None
    if source_address:
        try:
            source = store_from_address(source_address, current_app)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--from") from None
        if str(source) == str(target):
            source = None  # the same place: seal in place
    if delete_source and source is None:
        raise click.UsageError(
            "--delete-source needs a --from store other than the configured one."
        )

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            click.echo(f"\r{done} of {total} files", nl=False, err=True)

    click.echo(f"Into {target}" + (f", from {source}" if source else ", in place") + ".")
    result = migrate_evidence(target, source, delete_source=delete_source, progress=progress)
    if sys.stderr.isatty():
        click.echo(err=True)
    click.echo(
        f"{result.moved} files written and checked, {result.already} already in place "
        f"under the current key"
        + (f", {result.deleted_from_source} deleted from the source" if delete_source else "")
        + "."
    )
    if result.failed:
        for evidence_id, problem in sorted(result.failed.items()):
            click.echo(f"evidence {evidence_id}: {_WHY.get(problem, problem)}", err=True)
        click.echo(
            f"{len(result.failed)} files could not be brought across; the rest are done. "
            "Put right what is named above and run this again.",
            err=True,
        )
        sys.exit(1)
    click.echo(
        "Every evidence file is in place under the current key: EVIDENCE_OLD_KEYS "
        "(and the source, once you have checked it) are no longer needed."
    )


@evidence_cli.command("sweep")
@click.option(
    "--older-than-hours",
    type=click.IntRange(min=1),
    default=24,
    show_default=True,
    help="Only objects written at least this long ago (an upload may still be committing "
    "a newer one).",
)
@with_appcontext
def sweep_command(older_than_hours: int) -> None:
    """Delete objects in the evidence store that no evidence record names: left by an
    upload whose process died before its record was saved, or by a removal whose delete
    failed."""
    deleted = sweep_orphans(current_store(), older_than=timedelta(hours=older_than_hours))
    click.echo(
        f"Deleted {deleted} object{'' if deleted == 1 else 's'} that no evidence record "
        f"names (written over {older_than_hours} hours ago)."
    )
