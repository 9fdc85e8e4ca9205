"""Shared fixtures: a real, migrated database per backend, the app, clients and factories.

Every test that uses `app` runs once on SQLite and, when TEST_DATABASE_URL is set (CI
sets it), once more on PostgreSQL. Each backend's database is migrated once per run with
the real Alembic migrations; after each test every table is emptied.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from config import TestConfig, postgres_test_url, running_in_ci
from tests.audit_helpers import append_only_guard_lifted, reset_chain_head
from tracker import create_app
from tracker.auth import mfa
from tracker.auth.models import User
from tracker.auth.roles import Role
from tracker.auth.services import create_user, grant_role, normalise_email
from tracker.cases.models import Case
from tracker.cases.services import CaseDetails, CitedClause, create_case, policy_for
from tracker.clock import today
from tracker.extensions import db as _db
from tracker.orgs.models import School, Trust
from tracker.orgs.services import add_school, create_trust
from tracker.policy.importer import SEED_FILE, import_policy, read_policy_file
from tracker.policy.models import PolicyVersion
from tracker.policy.services import current_version
from tracker.staff.models import StaffMember
from tracker.staff.services import add_staff_member

# Shared fixtures that live in their own modules: a real SMTP server on loopback.
pytest_plugins = ["tests.smtp", "tests.objectstore", "tests.identity_provider"]

DEFAULT_PASSWORD = "correct horse battery staple"
BACKENDS = ["sqlite", *(["postgresql"] if postgres_test_url() else [])]


def pytest_configure(config: pytest.Config) -> None:
    if running_in_ci() and not postgres_test_url():
        raise pytest.UsageError("CI must run the suite on PostgreSQL too: set TEST_DATABASE_URL.")
    config.addinivalue_line(
        "markers", "sqlite_only: tests SQLite's own settings; not run against PostgreSQL"
    )
    config.addinivalue_line(
        "markers", "postgresql_only: tests PostgreSQL's own settings; not run against SQLite"
    )


def pytest_report_header(config: pytest.Config) -> list[str]:
    from tests.browser.conftest import find_chromium

    browser = find_chromium() or "not installed: browser tests will be skipped"
    return [f"databases: {', '.join(BACKENDS)}", f"browser: {browser}"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave SQLite-only tests out of the PostgreSQL run, and PostgreSQL-only tests out of
    the SQLite one (rather than skipping them)."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("database_url") if callspec else None
        if (item.get_closest_marker("sqlite_only") and backend == "postgresql") or (
            item.get_closest_marker("postgresql_only") and backend == "sqlite"
        ):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# --- databases -------------------------------------------------------------------------


def _create_postgres_database(server_url: str, name: str) -> str:
    """Create a fresh database on the test server; return its SQLAlchemy URL."""
    url = make_url(server_url)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return url.set(drivername="postgresql+psycopg", database=name).render_as_string(
        hide_password=False
    )


def _drop_postgres_database(server_url: str, name: str) -> None:
    url = make_url(server_url)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def fresh_database_url(tmp_path_factory) -> Iterator[Callable[[str], str]]:
    """Make a new, empty database on a backend, dropped at the end of the run."""
    created: list[str] = []

    def make(backend: str) -> str:
        name = f"tracker_test_{secrets.token_hex(4)}"
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / (name + '.db')}"
        server = postgres_test_url()
        assert server, "PostgreSQL backend requested without TEST_DATABASE_URL"
        url = _create_postgres_database(server, name)
        created.append(name)
        return url

    yield make
    for name in created:
        _drop_postgres_database(postgres_test_url() or "", name)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, fresh_database_url, tmp_path_factory) -> str:
    """One migrated database per backend, shared by the whole run."""
    url = fresh_database_url(request.param)
    app = create_app(TestConfig(url, INSTANCE_PATH=str(tmp_path_factory.mktemp("instance"))))
    with app.app_context():
        upgrade()
        _db.engine.dispose()
    return url


def _empty_all_tables() -> None:
    tables = [table.name for table in _db.metadata.sorted_tables]
    with append_only_guard_lifted(_db.session):
        if _db.engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in tables)
            _db.session.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(tables):
                _db.session.execute(text(f'DELETE FROM "{name}"'))  # noqa: S608 - our table names
    reset_chain_head(_db.session)
    _db.session.commit()


# --- the application -------------------------------------------------------------------


@pytest.fixture
def make_app(database_url, tmp_path) -> Iterator[Callable[..., Flask]]:
    """Build an app on the test database with config overrides (e.g. a shorter timeout)."""
    apps: list[Flask] = []

    def build(**overrides: object) -> Flask:
        overrides.setdefault("INSTANCE_PATH", str(tmp_path / "instance"))
        app = create_app(TestConfig(database_url, **overrides))
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            _db.session.remove()
            _empty_all_tables()
            _db.session.remove()
            _db.engine.dispose()


@pytest.fixture
def app(make_app) -> Iterator[Flask]:
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


def environment_for(app: Flask, **extra: str) -> dict[str, str]:
    """The environment a process of its own (flask, gunicorn) needs to run this app as
    it is configured: its keys, its database and its instance folder."""
    keys = {
        name: app.config[name]
        for name in ("SECRET_KEY", "AUDIT_KEY", "TOTP_KEY", "EVIDENCE_KEY", "EVIDENCE_STORE")
    }
    keys.update(
        (name, str(app.config[name]))
        for name in ("EVIDENCE_S3_BUCKET", "EVIDENCE_S3_PREFIX", "EVIDENCE_S3_ENDPOINT_URL")
        if app.config.get(name)
    )
    return {
        **os.environ,
        **keys,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "INSTANCE_PATH": app.instance_path,
        **extra,
    }


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- forms and signing in --------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def post_form(client: FlaskClient, url: str, data: dict, *, form_url: str | None = None):
    """Post a form the way a browser does: fetch the page for its CSRF token first."""
    page = client.get(form_url or url)
    return client.post(
        url, data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), **data}
    )


_TOTP_SECRET = re.compile(r'data-testid="totp-secret">([A-Z2-7 ]+)<')


def totp_code(email: str) -> str:
    """A code the user's authenticator app would accept now, never one already used.

    Read from the database (column values, not the identity map, so never stale): the
    user's secret and the last time step accepted. The app accepts the steps before and
    after the current one (clock drift), so up to three sign-ins fit in one 30-second
    step: the current step and the next are always safe; the one before only while the
    current step has more than two seconds left (it must not expire before the request
    is answered). A fourth sign-in waits for the next step rather than being refused.
    """
    row = _db.session.execute(
        select(User.totp_secret, User.totp_last_step).where(User.email == normalise_email(email))
    ).one()
    _db.session.commit()  # end the read, so that no snapshot outlives it
    assert row.totp_secret, f"{email} has no second factor set up"
    secret = mfa.decrypt_secret(row.totp_secret)
    while True:
        moment = time.time()
        now = int(moment // mfa.STEP_SECONDS)
        left_in_step = (now + 1) * mfa.STEP_SECONDS - moment
        candidates = [now - 1] if left_in_step > 2 else []
        for step in (*candidates, now, now + 1):
            if row.totp_last_step is None or step > row.totp_last_step:
                return mfa.code_for(secret, step)
        time.sleep(left_in_step + 0.05)


def sign_in(client: FlaskClient, email: str, password: str = DEFAULT_PASSWORD):
    """Sign in through the real forms: the password, then the second factor.

    Returns the last response: the password page's when it refuses (200), or the second
    step's (a 302 onwards). A user with no second factor sets one up from the secret the
    page shows, and the answer is the recovery-codes page (200).
    """
    response = post_form(client, "/sign-in", {"email": email, "password": password})
    if response.status_code != 302:
        return response
    location = response.headers["Location"]
    if location.endswith("/sign-in/code"):
        return post_form(client, "/sign-in/code", {"code": totp_code(email)})
    if location.endswith("/sign-in/set-up-authenticator"):
        page = client.get(location).get_data(as_text=True)
        match = _TOTP_SECRET.search(page)
        assert match, "the set-up page shows no secret"
        secret = match.group(1).replace(" ", "")
        code = mfa.code_for(secret, mfa.current_step())
        return client.post(location, data={"csrf_token": csrf_token_from(page), "code": code})
    return response


@pytest.fixture
def login(client) -> Callable[..., FlaskClient]:
    """Sign a user in on the test client; returns the client."""

    def do_login(user: User, password: str = DEFAULT_PASSWORD) -> FlaskClient:
        response = sign_in(client, user.email, password)
        assert response.status_code == 302 or b'data-testid="recovery-codes"' in response.data, (
            response.get_data(as_text=True)
        )
        return client

    return do_login


# --- factories -------------------------------------------------------------------------


@dataclass
class Factory:
    """Builds records through the real services, committing so other threads see them."""

    counter: int = 0

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def trust(self, name: str = "Test Trust", code: str | None = None) -> Trust:
        trust = create_trust(name=name, code=code or f"TT{self._next()}")
        _db.session.commit()
        return trust

    def school(
        self, trust: Trust | None = None, name: str | None = None, code: str | None = None
    ) -> School:
        trust = trust or self.default_trust()
        number = self._next()
        school = add_school(trust, name=name or f"School {number}", code=code or f"S{number}")
        _db.session.commit()
        return school

    def default_trust(self) -> Trust:
        trust = _db.session.scalar(_db.select(Trust).order_by(Trust.id).limit(1))
        return trust or self.trust()

    def user(
        self,
        role: Role | None = None,
        school: School | None = None,
        *,
        email: str | None = None,
        name: str | None = None,
        password: str = DEFAULT_PASSWORD,
        trust: Trust | None = None,
        second_factor: bool = True,
    ) -> User:
        """An account (with a role, when given), its authenticator app already set up
        unless `second_factor` is False: then its first sign-in sets one up."""
        trust = trust or (school.trust if school else self.default_trust())
        number = self._next()
        user = create_user(
            trust,
            email=email or f"user{number}@example.org",
            display_name=name or f"User {number}",
            password=password,
        )
        if role is not None:
            if school is None and role in {Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER}:
                school = self.school(trust)
            grant_role(user, role, school=school)
        if second_factor:
            mfa.provision(user, mfa.new_secret())
        _db.session.commit()
        return user

    def staff(
        self, school: School | None = None, name: str | None = None, user: User | None = None
    ) -> StaffMember:
        school = school or self.school()
        number = self._next()
        member = add_staff_member(
            school,
            full_name=name or f"Staff Member {number}",
            job_title="Teacher",
            employee_number=f"E{number:05d}",
            user=user,
        )
        _db.session.commit()
        return member

    def policy(self, trust: Trust | None = None) -> PolicyVersion:
        """The trust's social media policy, loaded once (the seed file)."""
        trust = trust or self.default_trust()
        existing = policy_for(trust.id)
        if existing is not None:
            return current_version(existing)
        version = import_policy(trust, read_policy_file(SEED_FILE))
        _db.session.commit()
        return version

    def case(
        self,
        school: School | None = None,
        *,
        subject: StaffMember | None = None,
        by: User | None = None,
        clauses: tuple[str, ...] = ("3.4",),
        occurred_on: date = date(2026, 3, 2),
        reported_on: date = date(2026, 3, 4),
        platform: str = "instagram",
        summary: str = "Messaged pupils from a personal account.",
    ) -> Case:
        """A case logged through the real service (by the school's DSL unless given)."""
        school = school or (subject.school if subject else self.school())
        version = self.policy(school.trust)
        subject = subject or self.staff(school)
        by = by or self.user(Role.DSL, school)
        case = create_case(
            school=school,
            subject=subject,
            details=CaseDetails(
                source="parent_complaint",
                source_detail="",
                occurred_on=occurred_on,
                reported_on=reported_on,
                platform=platform,
                platform_detail="",
                summary=summary,
            ),
            cited=[
                CitedClause(version.clause(reference).id, f"Why {reference} applies")
                for reference in clauses
            ],
            by=by,
            today=today(),
        )
        _db.session.commit()
        return case


@pytest.fixture
def make(app) -> Factory:
    return Factory()


# --- a live server for the browser tests -----------------------------------------------


@pytest.fixture
def live_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
