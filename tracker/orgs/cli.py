"""`flask schools list|set-lado`: the trust's schools and their LADO arrangements."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from tracker.errors import committed_or_refused
from tracker.orgs.services import find_school, find_trust, set_lado_arrangements


def _trust(code: str | None):
    trust = find_trust(code)
    if trust is None:
        raise click.ClickException("Say which trust with --trust CODE (there is none, or several).")
    return trust


@click.group("schools")
def schools_cli() -> None:
    """The trust's schools."""


@schools_cli.command("list")
@click.option("--trust", "trust_code", help="Trust code; needed only with several trusts.")
@with_appcontext
def list_command(trust_code: str | None) -> None:
    """List the schools with their LADO arrangements."""
    trust = _trust(trust_code)
    for school in trust.schools:
        authority = school.local_authority or "local authority not recorded"
        click.echo(
            f"{school.code:<8} {school.name}: {authority}; LADO referral within "
            f"{school.lado_working_days} working day(s)"
        )


@schools_cli.command("set-lado")
@click.argument("code")
@click.option("--local-authority", required=True, help="The local authority's name.")
@click.option(
    "--working-days",
    type=int,
    default=1,
    show_default=True,
    help="Working days after triage within which an allegation must be referred.",
)
@click.option("--trust", "trust_code", help="Trust code; needed only with several trusts.")
@with_appcontext
def set_lado_command(
    code: str, local_authority: str, working_days: int, trust_code: str | None
) -> None:
    """Record school CODE's local authority and LADO referral deadline."""
    trust = _trust(trust_code)
    school = find_school(trust, code)
    if school is None:
        raise click.ClickException(f"{trust.name} has no school with code {code}.")
    with committed_or_refused():
        set_lado_arrangements(
            school, local_authority=local_authority, lado_working_days=working_days
        )
    click.echo(
        f"{school.name}: referrals to {school.local_authority}'s LADO due within "
        f"{school.lado_working_days} working day(s) of triage."
    )
