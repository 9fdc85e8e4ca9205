"""The benchmark's own databases: made fresh for each run, never the app's own.

SQLite: `bench.db` in the instance folder, deleted and made again. PostgreSQL: a database
named BENCH_DATABASE on the server BENCH_DATABASE_URL points at, created for the run and
dropped after it; no other database on that server is touched.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from config import PROJECT_ROOT, Config, normalise_database_url
from tracker.extensions import db

BENCH_DATABASE = "tracker_bench"
SQLITE_FILE = "bench.db"
# The benchmark's evidence files, in the instance folder, apart from the app's own.
EVIDENCE_FOLDER = "bench-evidence"


def _admin_url(server_url: str) -> str:
    return make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url(backend: str, *, instance_path: str, server_url: str | None) -> str:
    if backend == "sqlite":
        return f"sqlite:///{Path(instance_path) / SQLITE_FILE}"
    if not server_url:
        raise RuntimeError("Set BENCH_DATABASE_URL to a PostgreSQL server to benchmark on it.")
    url = make_url(normalise_database_url(server_url)).set(database=BENCH_DATABASE)
    return url.render_as_string(hide_password=False)


def recreate(backend: str, url: str, *, server_url: str | None) -> None:
    """An empty database at `url` (any earlier benchmark database there is dropped)."""
    if backend == "sqlite":
        path = Path(make_url(url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    drop(backend, server_url=server_url)
    with psycopg.connect(_admin_url(server_url or ""), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')


def drop(backend: str, *, server_url: str | None, url: str | None = None) -> None:
    if backend == "sqlite":
        if url:
            path = make_url(url).database or ""
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    with psycopg.connect(_admin_url(server_url or ""), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')


def bench_config(url: str) -> Config:
    """The running configuration (keys, settings), pointed at the benchmark database.

    Plain HTTP cookies (the test client), warnings-only logging (a line per request would
    time the terminal), and the cheapest Argon2id: signing in is not what is measured and
    the seed hashes dozens of passwords.
    """
    config = Config()
    config.SQLALCHEMY_DATABASE_URI = normalise_database_url(url)
    config.SESSION_COOKIE_SECURE = False
    config.SESSION_COOKIE_NAME = "tracker"
    config.LOG_LEVEL = "WARNING"
    config.EVIDENCE_STORE, config.EVIDENCE_PATH = "folder", EVIDENCE_FOLDER
    config.ARGON2_TIME_COST = 1
    config.ARGON2_MEMORY_COST_KIB = 8
    config.ARGON2_PARALLELISM = 1
    return config


@contextmanager
def bench_app(url: str) -> Iterator[Flask]:
    """An app on the benchmark database, migrated, with its context pushed."""
    from tracker import create_app

    app = create_app(bench_config(url))
    evidence = Path(app.instance_path) / EVIDENCE_FOLDER
    shutil.rmtree(evidence, ignore_errors=True)
    with app.app_context():
        upgrade(directory=str(PROJECT_ROOT / "migrations"))
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()
            shutil.rmtree(evidence, ignore_errors=True)
