"""`flask retention run`: list what is due for disposal or review, warn, dispose (cron)."""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker import clock
from tracker.concerns.services import delete_stale_drafts
from tracker.db import utcnow
from tracker.extensions import db
from tracker.retention.disposal import run
from tracker.staff.services import disable_leavers, leavers_still_signing_in


@click.group("retention")
def retention_cli() -> None:
    """Retention of closed cases: warnings before the date, disposal on it."""


@retention_cli.command("run")
@click.option(
    "--apply",
    is_flag=True,
    help="Send the warnings and dispose of what is due. Without it, only list them.",
)
@click.option(
    "--today",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Run as if today were this date (YYYY-MM-DD), e.g. to see what falls due soon.",
)
@with_appcontext
def run_command(apply: bool, on: datetime | None) -> None:
    """List closed cases due for disposal or review (or within the warning window); with
    --apply, warn the school's DSLs and the DPO and dispose of what is due, disable
    the accounts of staff whose last day of employment has passed, and delete concern
    drafts nobody has touched for 30 days."""
    today = on.date() if on else clock.today()
    days = current_app.config["RETENTION_WARNING_DAYS"]
    report = run(apply=apply, today=today, warning_days=days)
    mode = "" if apply else " (dry run: nothing changed; add --apply to act)"
    click.echo(f"Retention on {today.isoformat()}, warning {days} day(s) ahead{mode}.")
    if report.backfilled:
        verb = "Worked out" if apply else "Would work out"
        click.echo(f"{verb} the retention of {report.backfilled} closed case(s) without one.")
    if not report.cases:
        click.echo("Nothing is due.")
    else:
        rows = [("reference", "school", "due", "rule", "action")]
        rows += [
            (item.reference, item.school, item.due_on.isoformat(), item.rule.value, item.outcome)
            for item in report.cases
        ]
        widths = [max(len(row[column]) for row in rows) for column in range(4)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            click.echo("  ".join([*cells, row[4]]).rstrip())
    # Leavers: an account whose member of staff's last day has passed stops signing in.
    if apply:
        disabled = disable_leavers(today)
        db.session.commit()
        click.echo(f"Disabled {disabled} account(s) of staff whose last day has passed.")
        drafts = delete_stale_drafts(utcnow())
        db.session.commit()
        click.echo(f"Deleted {drafts} concern draft(s) nobody had touched for 30 days.")
    else:
        leaving = len(leavers_still_signing_in(today))
        db.session.rollback()
        click.echo(f"Would disable {leaving} account(s) of staff whose last day has passed.")
    if apply:
        mail = report.mail
        click.echo(
            f"Disposed of {report.disposed} case(s). Warnings: {mail.sent} sent, "
            f"{mail.already_sent} already sent, {mail.failed} failed (tried again next run)."
        )
        if mail.failed:
            raise SystemExit(1)
