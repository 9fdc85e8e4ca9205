"""The web app's PostgreSQL role can add to the audit trail and never move its head.

`flask grant-app-role` gives the role the README tells a deployment to serve as; these
tests connect as that role and try what a compromised app could.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from config import TestConfig
from tests.audit_helpers import events
from tracker import create_app
from tracker.audit.actions import AuditAction
from tracker.audit.chain import key_bytes, verify_chain
from tracker.audit.models import AuditChainHead
from tracker.audit.services import record
from tracker.extensions import db as _db


def _owner_url(app) -> str:
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")


@pytest.fixture
def app_role(app, runner) -> Iterator[str]:
    """A new login role, granted by the command; dropped afterwards."""
    name = f"tracker_app_{secrets.token_hex(4)}"
    owner = _owner_url(app).render_as_string(hide_password=False)
    with psycopg.connect(owner, autocommit=True) as connection:
        connection.execute(f'CREATE ROLE "{name}" LOGIN')
    try:
        result = runner.invoke(args=["grant-app-role", name])
        assert result.exit_code == 0, result.output
        assert "GRANT UPDATE (id) ON" in result.output
        yield name
    finally:
        with psycopg.connect(owner, autocommit=True) as connection:
            connection.execute(f'DROP OWNED BY "{name}"')
            connection.execute(f'DROP ROLE "{name}"')


def _as_role(app, role: str) -> psycopg.Connection:
    url = _owner_url(app).set(username=role, password=None)
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


@pytest.mark.postgresql_only
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_chain_head SET seq = 999 WHERE id = 1",
        "UPDATE audit_chain_head SET hash = repeat('f', 64) WHERE id = 1",
        "DELETE FROM audit_chain_head",
        "TRUNCATE audit_chain_head",
        "INSERT INTO audit_chain_head (id, seq, hash) VALUES (2, 0, repeat('0', 64))",
        "UPDATE audit_events SET outcome = 'denied'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "UPDATE alembic_version SET version_num = 'x'",
        "ALTER TABLE audit_events DISABLE TRIGGER USER",
    ],
)
def test_the_app_role_is_refused_what_would_move_the_head_or_change_the_trail(
    app, app_role, statement
):
    with (
        _as_role(app, app_role) as connection,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        connection.execute(statement)


@pytest.mark.postgresql_only
def test_the_app_role_may_lock_the_head_and_the_lock_changes_nothing(app, app_role):
    before = _db.session.execute(select(AuditChainHead.seq, AuditChainHead.hash)).one()
    with _as_role(app, app_role) as connection:
        connection.execute("UPDATE audit_chain_head SET id = 1 WHERE id = 1")
        with pytest.raises(psycopg.errors.CheckViolation):
            connection.execute("UPDATE audit_chain_head SET id = 2 WHERE id = 1")
    _db.session.rollback()
    assert _db.session.execute(select(AuditChainHead.seq, AuditChainHead.hash)).one() == before


@pytest.mark.postgresql_only
def test_the_app_serving_as_its_role_appends_events_and_the_head_follows(app, app_role, tmp_path):
    role_url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(username=app_role, password=None)
    served = create_app(
        TestConfig(
            role_url.render_as_string(hide_password=False),
            INSTANCE_PATH=str(tmp_path / "served"),
        )
    )
    with served.app_context():
        try:
            for _ in range(3):
                record(AuditAction.AUDIT_SEARCHED, actor=None)
                _db.session.commit()
        finally:
            _db.session.remove()
            _db.engine.dispose()

    _db.session.rollback()
    trail = events(_db.session)
    assert len(trail) == 3
    head = _db.session.execute(select(AuditChainHead.seq, AuditChainHead.hash)).one()
    assert (head.seq, head.hash) == (trail[-1].seq, trail[-1].hash)
    result = verify_chain(_db.session, key_bytes(app.config["AUDIT_KEY"]), workers=1)
    assert result.intact, result


@pytest.mark.postgresql_only
def test_a_role_that_does_not_exist_is_named(runner):
    result = runner.invoke(args=["grant-app-role", "no_such_role_here"])
    assert result.exit_code == 1
    assert "There is no role called 'no_such_role_here'" in result.output


@pytest.mark.sqlite_only
def test_sqlite_has_no_roles_to_grant(runner):
    result = runner.invoke(args=["grant-app-role", "tracker_app"])
    assert result.exit_code == 1
    assert "Only PostgreSQL has roles" in result.output
