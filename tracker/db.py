"""Declarative base, UTC timestamps and the SQLite settings the tracker relies on."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Self

from sqlalchemy import DateTime, Engine, MetaData, event
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import TypeDecorator

# Constraint names come from this convention so that migrations can name (and drop)
# every constraint on both SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 15_000

# The largest id a row can have: the id columns are INTEGER, which is 32-bit on
# PostgreSQL (SQLite's holds 64 bits; the smaller bound serves both).
MAX_ID = 2**31 - 1


def id_from(value: str | int | None) -> int | None:
    """A row's id from a form or an address, or None if the value cannot be one.

    Check before looking a row up: a database does not miss an id too large for its
    column, it raises (OverflowError on SQLite past 64 bits, "integer out of range" on
    PostgreSQL past 32): a 500.
    """
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if 0 < number <= MAX_ID else None


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (pass the function, not its result)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always stored in UTC and always comes back timezone-aware.

    PostgreSQL keeps the zone itself; SQLite has no zone, so naive UTC is stored and the
    zone is restored on the way out. Naive datetimes are refused: a naive value is a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def configure_sqlite(engine: Engine) -> None:
    """Foreign keys on, WAL, and BEGIN IMMEDIATE for every transaction.

    Every request writes (the session's last-seen time now, audit read events later), so
    each transaction takes SQLite's write lock when it begins rather than upgrading a read
    lock half way through, which is where concurrent requests would otherwise interleave
    a read-then-write or fail with "database is locked". pysqlite's own transaction
    handling is switched off so that SQLAlchemy's BEGIN is the only one.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# An execution option for a statement whose best plan depends on its values, which
# PostgreSQL's generic plan for a prepared statement cannot know (psycopg prepares a
# statement run often): `statement.execution_options(**PLAN_FOR_ITS_VALUES)`.
PLAN_FOR_ITS_VALUES = {"plan_for_its_values": True}


def configure_postgresql(engine: Engine) -> None:
    """Before a statement marked PLAN_FOR_ITS_VALUES, ask PostgreSQL for plans made for
    the values given, for the rest of that transaction only (SET LOCAL); every other
    statement keeps PostgreSQL's usual choice."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "before_execute")
    def _before_execute(
        connection: Connection, _clause: Any, _multi: Any, _params: Any, options: Any
    ) -> None:
        if options.get("plan_for_its_values"):
            connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")


class LabelledEnum(StrEnum):
    """A stored value and the words shown for it, declared together:
    `LOW_LEVEL = "low_level", "Low-level concern"`. Without words, the value says it:
    "no_further_action" is shown as "No further action"."""

    _value_: str
    label: str

    def __new__(cls, value: str, label: str | None = None) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label or value.replace("_", " ").capitalize()
        return member


def named_parameters(statement: Any, prefixes: tuple[str, ...]) -> frozenset[str]:
    """The names of the parameters a statement built once takes from each run (those
    beginning with one of `prefixes`): a run that lacks one of them must be refused, never
    run with the value the statement was built with."""
    return frozenset(
        element.key
        for element in visitors.iterate(statement)
        if isinstance(element, BindParameter) and element.key.startswith(prefixes)
    )


def missing_parameters(names: frozenset[str], params: dict[str, Any]) -> None:
    """Refuse a run of a statement built once that lacks a value it names."""
    missing = names - params.keys()
    if missing:
        raise RuntimeError(f"a statement built once lacks values for {sorted(missing)}")
