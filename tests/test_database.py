"""The database layer: UTC timestamps, SQLite's settings, write serialisation, migrations."""

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from config import TestConfig
from tests.querycount import count_statements
from tracker import create_app
from tracker.auth.roles import Role
from tracker.cases.listing import CaseFilters, case_list_query
from tracker.db import id_from
from tracker.extensions import db as _db
from tracker.orgs.models import Trust


def test_timestamps_come_back_aware_and_in_utc(db, make):
    trust = make.trust()
    trust.created_at = datetime(2026, 3, 29, 2, 30, tzinfo=timezone(timedelta(hours=1)))
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Trust, trust.id).created_at
    assert stored == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(db, make):
    trust = make.trust()
    trust.created_at = datetime(2026, 1, 1, 12, 0)  # naive on purpose
    with pytest.raises(Exception, match="naive datetime"):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12),
        (7, 7),
        ("0", None),
        ("-3", None),
        (str(2**31 - 1), 2**31 - 1),  # the largest INTEGER id on PostgreSQL
        (str(2**31), None),  # PostgreSQL raises "integer out of range" rather than miss
        (str(2**63), None),  # SQLite raises OverflowError for it rather than miss
        ("x", None),
        ("", None),
        (None, None),
    ],
)
def test_an_id_from_a_form_or_an_address(value, expected):
    assert id_from(value) == expected


@pytest.mark.sqlite_only
def test_sqlite_enforces_foreign_keys_and_uses_wal(db):
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_the_case_list_writes_its_enum_filters_into_the_sql_and_binds_anything_else(db, make):
    # So that PostgreSQL plans a rare status as itself even with a generic plan for a
    # prepared statement (tracker/cases/listing.py, _conditions); never user text.
    user = make.user(Role.CEO)
    db.session.commit()
    filters = CaseFilters(status="investigation", track="allegation", platform="tiktok")
    with count_statements(db.engine) as seen:
        db.session.execute(*case_list_query(user, filters)).all()
    [sql] = [query for query in seen.queries if "FROM cases" in query]
    for value in ("'investigation'", "'allegation'", "'tiktok'"):
        assert value in sql
    made_up = CaseFilters(status="x' OR '1'='1")
    with count_statements(db.engine) as seen:
        assert db.session.execute(*case_list_query(user, made_up)).all() == []
    [sql] = [query for query in seen.queries if "FROM cases" in query]
    assert "OR '1'='1" not in sql


@pytest.mark.sqlite_only
def test_sqlite_refuses_a_school_in_a_missing_trust(db):
    orphan = text(
        "INSERT INTO schools (trust_id, name, code, created_at) "
        "VALUES (999, 'x', 'X', '2026-01-01')"
    )
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        db.session.execute(orphan)
    db.session.rollback()


@pytest.mark.sqlite_only
def test_concurrent_read_then_write_never_interleaves(app, db, make):
    """Eight threads each read the highest code and insert the next: no duplicates.

    On SQLite this holds because every transaction begins IMMEDIATE (it takes the write
    lock before its first read). On PostgreSQL the same guarantee needs an explicit lock,
    which the services that need one take; here we check SQLite's default.
    """
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                for _ in range(5):
                    codes = _db.session.scalars(select(Trust.code)).all()
                    highest = max(
                        (int(code[1:]) for code in codes if code.startswith("C")), default=0
                    )
                    _db.session.add(Trust(name="t", code=f"C{highest + 1}"))
                    _db.session.commit()
        except BaseException as error:  # collected and re-raised in the test thread
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    codes = sorted(int(code[1:]) for code in db.session.scalars(select(Trust.code)))
    assert codes == list(range(1, 41))


def test_migrations_upgrade_check_and_downgrade_on_an_empty_database(
    database_url, fresh_database_url, tmp_path
):
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    app = create_app(TestConfig(fresh_database_url(backend), INSTANCE_PATH=str(tmp_path)))
    with app.app_context():
        upgrade()
        with _db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, _db.metadata) == []
            tables = set(inspect(connection).get_table_names())
        assert {table.name for table in _db.metadata.sorted_tables} <= tables

        downgrade(revision="base")
        with _db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == {"alembic_version"}
        _db.engine.dispose()
