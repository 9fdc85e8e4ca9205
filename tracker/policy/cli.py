"""`flask policy seed|import`: load the trust's policies from their data files."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from tracker.errors import DomainError
from tracker.extensions import db
from tracker.orgs.services import find_trust
from tracker.policy.importer import SEED_FILE, PolicyFileError, import_policy, read_policy_file


@click.group("policy")
def policy_cli() -> None:
    """Load policies into the register."""


def load_policy_file(path: Path, trust_code: str | None) -> str:
    """Import one policy file; returns what happened, in words. The caller commits."""
    trust = find_trust(trust_code)
    if trust is None:
        raise click.ClickException(
            "Say which trust with --trust CODE (there is none, or more than one). "
            "Run `flask --app app demo` to load the demo trust."
        )
    try:
        document = read_policy_file(path)
        version = import_policy(trust, document)
    except (PolicyFileError, DomainError) as error:
        db.session.rollback()
        raise click.ClickException(str(getattr(error, "message", error))) from error
    if version is None:
        return f"{document.version_title} is already in the register of {trust.name}."
    rules = sum(1 for clause in version.clauses if clause.is_rule)
    return (
        f"Loaded {version.title} into {trust.name}: {len(version.clauses)} clauses, "
        f"{rules} of them rules a case can cite."
    )


@policy_cli.command("seed")
@click.option("--trust", "trust_code", help="Trust code; needed only with several trusts.")
@with_appcontext
def seed_command(trust_code: str | None) -> None:
    """Load the trust's Staff Use of Social Media Policy 2020 (once)."""
    message = load_policy_file(SEED_FILE, trust_code)
    db.session.commit()
    click.echo(message)


@policy_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trust", "trust_code", help="Trust code; needed only with several trusts.")
@with_appcontext
def import_command(path: Path, trust_code: str | None) -> None:
    """Load a policy version from a TOML file in the documented format."""
    message = load_policy_file(path, trust_code)
    db.session.commit()
    click.echo(message)
