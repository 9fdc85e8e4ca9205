"""`flask users ...`: manage accounts and role grants from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.auth import mfa
from tracker.auth.models import RoleGrant, User
from tracker.auth.roles import Role
from tracker.auth.services import (
    create_user,
    disable_user,
    find_user_by_email,
    grant_role,
    set_break_glass,
    set_password,
)
from tracker.errors import committed_or_refused
from tracker.extensions import db
from tracker.orgs.services import find_school, find_trust

ROLE_CHOICES = click.Choice([role.value for role in Role])


def _trust_or_fail(code: str | None):
    trust = find_trust(code)
    if trust is None:
        if code:
            raise click.ClickException(f"No trust has the code {code.upper()}.")
        raise click.ClickException(
            "Say which trust with --trust CODE (there is none, or more than one). "
            "Run `flask --app app demo` to load the demo trust."
        )
    return trust


def _user_or_fail(email: str) -> User:
    user = find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account has the e-mail address {email}.")
    return user


@click.group("users")
def users_cli() -> None:
    """Create, list and disable accounts, and grant roles."""


@users_cli.command("create")
@click.option("--email", required=True, help="The person's work e-mail address.")
@click.option("--name", "display_name", required=True, help="The person's full name.")
@click.option("--trust", "trust_code", help="Trust code; needed only with several trusts.")
@click.password_option(
    "--password",
    help="12 to 128 characters. Asked for (hidden) when not given.",
)
@with_appcontext
def create_command(email: str, display_name: str, trust_code: str | None, password: str) -> None:
    """Create an account (it has no role until you grant one)."""
    trust = _trust_or_fail(trust_code)
    with committed_or_refused():
        user = create_user(trust, email=email, display_name=display_name, password=password)
    click.echo(f"Created {user.email} ({user.display_name}) in {trust.name}.")
    click.echo(f"Next: flask --app app users grant {user.email} ROLE [--school CODE]")


@users_cli.command("grant")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICES)
@click.option("--school", "school_code", help="School code, for a role held at one school.")
@with_appcontext
def grant_command(email: str, role: str, school_code: str | None) -> None:
    """Give the account EMAIL the ROLE, at a school or across the trust."""
    user = _user_or_fail(email)
    school = None
    if school_code:
        school = find_school(user.trust, school_code)
        if school is None:
            raise click.ClickException(f"{user.trust.name} has no school with code {school_code}.")
    with committed_or_refused():
        grant = grant_role(user, Role(role), school=school)
    click.echo(f"{user.email} is now {Role(role).label.lower()} ({grant.scope_label}).")


@users_cli.command("disable")
@click.argument("email")
@with_appcontext
def disable_command(email: str) -> None:
    """Stop EMAIL signing in, and end every session it has open."""
    user = _user_or_fail(email)
    ended = disable_user(user)
    db.session.commit()
    click.echo(f"Disabled {user.email}; ended {ended} open session(s).")


@users_cli.command("break-glass")
@click.argument("email")
@click.option("--on/--off", "on", default=True, show_default=True)
@with_appcontext
def break_glass_command(email: str, on: bool) -> None:
    """Let EMAIL sign in with a password even when the trust has switched passwords off
    (an account for when the identity provider is down), or stop it."""
    user = _user_or_fail(email)
    set_break_glass(user, on)
    db.session.commit()
    state = "may" if on else "may not"
    click.echo(f"{user.email} {state} sign in with a password when passwords are switched off.")


@users_cli.command("list")
@click.option("--trust", "trust_code", help="Trust code; needed only with several trusts.")
@with_appcontext
def list_command(trust_code: str | None) -> None:
    """List every account with its roles."""
    trust = _trust_or_fail(trust_code)
    users = db.session.scalars(
        select(User)
        .where(User.trust_id == trust.id)
        .options(selectinload(User.grants).selectinload(RoleGrant.school))
        .order_by(User.email)
    ).all()
    if not users:
        click.echo(f"{trust.name} has no accounts yet. Add one with `users create`.")
        return
    for user in users:
        roles = (
            ", ".join(f"{Role(g.role).label} ({g.scope_label})" for g in user.grants) or "no role"
        )
        status = "disabled" if not user.is_active else "active"
        click.echo(f"{user.email:<40} {status:<8} {user.display_name}: {roles}")


@users_cli.command("set-password")
@click.argument("email")
@click.password_option(
    "--password", help="12 to 128 characters. Asked for (hidden) when not given."
)
@with_appcontext
def set_password_command(email: str, password: str) -> None:
    """Give EMAIL a new password (they forgot theirs), ending their sessions.

    Their authenticator app stays as it is: the new password alone signs nobody in.
    """
    user = _user_or_fail(email)
    with committed_or_refused():
        ended = set_password(user, password)
    click.echo(
        f"Set a new password for {user.email}; ended {ended} open session(s). "
        "They still need their authenticator app to sign in."
    )


@users_cli.command("reset-second-factor")
@click.argument("email")
@with_appcontext
def reset_second_factor_command(email: str) -> None:
    """Take away EMAIL's authenticator app (a lost phone); they set one up at next sign-in.

    For when no trust administrator can sign in to do it from the Accounts page. Ends
    every session the account has open.
    """
    user = _user_or_fail(email)
    ended = mfa.reset_second_factor(user, by=None)
    db.session.commit()
    click.echo(
        f"Reset the second factor of {user.email}; ended {ended} open session(s). "
        "They will set up an authenticator app when they next sign in."
    )


@users_cli.command("rotate-totp-key")
@with_appcontext
def rotate_totp_key_command() -> None:
    """Re-encrypt every second-factor secret under TOTP_KEY.

    Set the new key as TOTP_KEY and the old one in TOTP_OLD_KEYS, run this, then remove
    the old key from TOTP_OLD_KEYS.
    """
    try:
        count = mfa.rotate_secrets()
    except mfa.SecretUnreadable as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Re-encrypted {count} secret(s) under the current TOTP_KEY.")
