"""`flask schools list|set-lado`: the trust's schools and their LADO arrangements;
`flask trust sign-in`: how its people sign in; `flask trust pattern`: its pattern rule."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from tracker.auth.oidc import provider_of
from tracker.errors import committed_or_refused
from tracker.orgs.services import (
    find_school,
    find_trust,
    set_lado_arrangements,
    set_pattern_rule,
    set_sign_in,
)


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


@click.group("trust")
def trust_cli() -> None:
    """The trust's own settings."""


@trust_cli.command("sign-in")
@click.option("--trust", "trust_code", help="Trust code; needed only with several trusts.")
@click.option("--label", help="The provider's name on the button: Microsoft or Google.")
@click.option("--issuer", help="The provider's issuer address; leave out to switch it off.")
@click.option("--client-id", help="The app registration's client id.")
@click.option("--domains", default="", help="Comma-separated e-mail domains that may sign in.")
@click.option(
    "--provider-mfa/--no-provider-mfa",
    default=False,
    show_default=True,
    help="Let the provider's multi-factor sign-in, where its ID token proves it, stand in "
    "for the authenticator code.",
)
@click.option("--mfa-acr", help="An acr value that proves the provider's multi-factor sign-in.")
@click.option(
    "--passwords/--no-passwords",
    default=True,
    show_default=True,
    help="Allow local passwords (break-glass accounts keep theirs either way).",
)
@with_appcontext
def sign_in_command(
    trust_code: str | None,
    label: str | None,
    issuer: str | None,
    client_id: str | None,
    domains: str,
    provider_mfa: bool,
    mfa_acr: str | None,
    passwords: bool,
) -> None:
    """Set how the trust's people sign in. The client secret is configuration:
    OIDC_CLIENT_SECRET_<TRUST CODE>."""
    trust = _trust(trust_code)
    with committed_or_refused():
        changed = set_sign_in(
            trust,
            label=label,
            issuer=issuer,
            client_id=client_id,
            domains=domains.split(","),
            trusts_provider_mfa=provider_mfa,
            mfa_acr=mfa_acr,
            passwords_allowed=passwords,
        )
    if trust.sign_in_issuer:
        passwords_words = "allowed" if trust.passwords_allowed else "only for break-glass accounts"
        click.echo(
            f"{trust.name} signs in with {trust.sign_in_label} ({trust.sign_in_issuer}) for "
            f"{trust.sign_in_domains}; passwords {passwords_words}."
        )
        if not provider_of(trust):
            click.echo(
                f"Set OIDC_CLIENT_SECRET_{trust.code.upper()} in the app's environment: "
                "until then the button is not shown.",
                err=True,
            )
    else:
        click.echo(f"{trust.name} signs in with passwords only.")
    if not changed:
        click.echo("Nothing changed.")


@trust_cli.command("pattern")
@click.option("--trust", "trust_code", help="Trust code; needed only with several trusts.")
@click.option(
    "--concerns",
    type=int,
    default=3,
    show_default=True,
    help="Concerns about one person within the months that flag a pattern.",
)
@click.option(
    "--months",
    type=int,
    default=12,
    show_default=True,
    help="The window the concerns are counted in.",
)
@click.option(
    "--same-clause",
    type=int,
    default=2,
    show_default=True,
    help="Concerns citing the same clause within the months that flag a pattern.",
)
@with_appcontext
def pattern_command(trust_code: str | None, concerns: int, months: int, same_clause: int) -> None:
    """Set the pattern rule that asks a safeguarding lead to review the concerns about one
    person (KCSIE: low-level concerns are kept so that patterns are spotted)."""
    trust = _trust(trust_code)
    with committed_or_refused():
        set_pattern_rule(trust, concerns=concerns, months=months, same_clause=same_clause)
    click.echo(
        f"{trust.name}: a pattern is {trust.pattern_concerns} concerns about one person "
        f"within {trust.pattern_months} months, or {trust.pattern_same_clause} citing the "
        "same clause."
    )
