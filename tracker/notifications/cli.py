"""`flask reminders send`: e-mail everyone whose attention a case needs (run it from cron)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from tracker.notifications.services import send_due_notifications


@click.group("reminders")
def reminders_cli() -> None:
    """Notification e-mails about cases that need someone's attention."""


@reminders_cli.command("send")
@with_appcontext
def send_command() -> None:
    """Send the notifications that are due, and any queued by the web app and not sent
    yet; safe to run as often as you like, and on more than one host."""
    report = send_due_notifications()
    click.echo(
        f"Sent {report.sent} notification(s); {report.already_sent} already sent; "
        f"{report.failed} failed (they will be tried again next time)."
    )
    if report.being_sent:
        click.echo(f"{report.being_sent} being sent by another run (left to it).")
    if report.failed:
        raise SystemExit(1)
