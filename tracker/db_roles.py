"""`flask grant-app-role NAME`: the web app's PostgreSQL role, given what it needs only.

A table's owner can disable its triggers, so the app is served as a role that owns
nothing (README, Deployment). This grants that role the rights to read and change the
records, and to add to the audit trail, and no more: it can never change or remove an
event, nor move the chain's head, which the append trigger moves as its owner
(migration 632824cd2069). It may lock the head's row, which every append does to take
its turn: PostgreSQL asks an UPDATE right for that, so it has one on the row's fixed id
alone. Run it as the owning role after each `flask db upgrade` (new tables need grants).
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import text

from tracker.extensions import db


def grant_statements(role: str, schema: str) -> list[str]:
    """The statements, in order, with both names quoted as identifiers already."""
    return [
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        # The trail: read and add, nothing else (its triggers refuse the rest too).
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {schema}.audit_events FROM {role}",
        # The head: read, and lock its row; the append trigger alone moves it.
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {schema}.audit_chain_head FROM {role}",
        f"GRANT UPDATE (id) ON {schema}.audit_chain_head TO {role}",
        # Which migrations ran is the owner's business; /readyz reads it.
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {schema}.alembic_version FROM {role}",
    ]


@click.command("grant-app-role")
@click.argument("role")
@with_appcontext
def grant_app_role_command(role: str) -> None:
    """Grant ROLE (an existing PostgreSQL role) what the web app needs, and no more."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        raise click.ClickException("Only PostgreSQL has roles: SQLite needs no grants.")
    exists = text("SELECT 1 FROM pg_roles WHERE rolname = :role")
    if connection.execute(exists, {"role": role}).first() is None:
        raise click.ClickException(f"There is no role called {role!r}: create it first.")
    current_user = connection.execute(text("SELECT current_user")).scalar_one()
    if current_user == role:
        raise click.ClickException("Run this as the role that owns the tables, not as ROLE.")
    quote = connection.dialect.identifier_preparer.quote
    schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    for statement in grant_statements(quote(role), quote(schema)):
        connection.execute(text(statement))
        click.echo(f"{statement};")
    db.session.commit()
    click.echo(f"{role} may read and change the records and add to the audit trail, no more.")
