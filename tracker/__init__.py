"""The safeguarding case tracker: the application factory."""

from __future__ import annotations

import re
from functools import cache
from importlib import metadata
from pathlib import Path

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from config import KNOWN_DEFAULT_SECRETS, MIN_SECRET_LENGTH, PROJECT_ROOT, Config


class ConfigurationError(RuntimeError):
    """The app cannot start safely with this configuration; the message says what to set."""


def create_app(config: Config | None = None) -> Flask:
    config = config or Config()
    app = Flask(
        __name__,
        instance_path=config.INSTANCE_PATH,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(config.as_dict())
    _check_secrets(app)
    _configure_database_url(app)

    from tracker import assets, http, logs

    logs.configure(app)
    http.init_app(app)  # first, so that every later hook has a request id
    _configure_templates(app)
    assets.init_app(app)
    _init_extensions(app)
    _register_blueprints(app)

    from tracker.errors import register_error_handlers

    register_error_handlers(app)
    _register_cli(app)

    if app.config["TRUSTED_PROXY_COUNT"]:
        count = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]
    return app


# Each key the app signs or encrypts with, why it matters and how to keep it, and the keys
# it must differ from. SECRET_KEY alone may be made up in development.
_KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "SECRET_KEY": (
        "It signs the session cookie. Set the SECRET_KEY environment variable to a random "
        f"value of at least {MIN_SECRET_LENGTH} characters, for example the output of: "
        "python3 -c 'import secrets; print(secrets.token_hex(32))'",
        (),
    ),
    "AUDIT_KEY": (
        "It signs the audit trail, and the same key is needed to verify it for as long as "
        "the records are kept. Set the AUDIT_KEY environment variable to a random value of "
        f"at least {MIN_SECRET_LENGTH} characters, keep a copy somewhere safe outside the "
        "database, and never reuse SECRET_KEY for it.",
        ("SECRET_KEY",),
    ),
    "TOTP_KEY": (
        "It encrypts each user's second-factor secret; without the same key nobody can sign "
        "in. Set the TOTP_KEY environment variable to a random value of at least "
        f"{MIN_SECRET_LENGTH} characters and keep a copy somewhere safe outside the database.",
        ("SECRET_KEY", "AUDIT_KEY"),
    ),
    "EVIDENCE_KEY": (
        "It encrypts every evidence file; without it (or, after a change, with the old key "
        "in EVIDENCE_OLD_KEYS) no evidence can be read. Set the EVIDENCE_KEY environment "
        f"variable to a random value of at least {MIN_SECRET_LENGTH} characters and keep a "
        "copy somewhere safe outside the database and its backups.",
        ("SECRET_KEY", "AUDIT_KEY", "TOTP_KEY"),
    ),
}
# Keys only some work needs: when missing, the app still starts (a migration, a report),
# and that work refuses, saying so (EVIDENCE_KEY: tracker/storage/__init__.py; /readyz
# is not ok without it). When set, they are held to the same rules.
_NEEDED_WHEN_USED = frozenset({"EVIDENCE_KEY"})


def _check_secrets(app: Flask) -> None:
    """Refuse to run with a missing or guessable SECRET_KEY, AUDIT_KEY or TOTP_KEY, or a
    guessable EVIDENCE_KEY (a missing one is refused by the work that needs it).

    The others are needed in development too: events written under a throwaway
    key could never be verified again, and secrets encrypted under one never decrypted.
    """
    developing = app.debug or app.testing
    if developing and not app.config.get("SECRET_KEY"):
        # Development only: sessions will not survive a restart, which is fine there.
        import secrets

        app.config["SECRET_KEY"] = secrets.token_hex(32)
    for name, (why, differ_from) in _KEYS.items():
        key = app.config.get(name) or ""
        if developing and name == "SECRET_KEY":
            continue  # any session key will do on one's own machine
        if name in _NEEDED_WHEN_USED and not key:
            continue
        if key.strip().lower() in KNOWN_DEFAULT_SECRETS or len(key) < MIN_SECRET_LENGTH:
            raise ConfigurationError(f"{name} is missing or is a default value. {why}")
        if key in (app.config.get(other) for other in differ_from):
            raise ConfigurationError(f"{name} must differ from {' and '.join(differ_from)}.")


def _configure_database_url(app: Flask) -> None:
    if app.config.get("SQLALCHEMY_DATABASE_URI"):
        return
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'tracker.db'}"


def _configure_templates(app: Flask) -> None:
    from govuk_frontend_wtf.main import WTFormsHelpers

    from tracker import filters

    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(PROJECT_ROOT / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    WTFormsHelpers(app)
    filters.init_app(app)


def _init_extensions(app: Flask) -> None:
    from tracker.auth import gate, passwords
    from tracker.db import configure_postgresql, configure_sqlite
    from tracker.extensions import csrf, db, migrate

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
        configure_postgresql(db.engine)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    passwords.init_app(app)
    # The sign-in gate runs before the CSRF check, so that a signed-out POST anywhere is
    # sent to sign in rather than told its form expired.
    gate.init_app(app)
    csrf.init_app(app)

    # Import every model so that Alembic and the mappers see the whole schema.
    from tracker import models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from tracker.audit import views as audit_views
    from tracker.auth import account_views, admin_views  # noqa: F401  (routes on auth.bp)
    from tracker.auth import views as auth_views
    from tracker.cases import evidence_views, list_views  # noqa: F401  (routes on cases.bp)
    from tracker.cases import views as case_views
    from tracker.concerns import views as concern_views
    from tracker.consents import views as consent_views
    from tracker.health import views as health_views
    from tracker.home import views as home_views
    from tracker.policy import views as policy_views
    from tracker.privacy import hearing_views, request_views  # noqa: F401  (on privacy.bp)
    from tracker.privacy import views as privacy_views
    from tracker.reports import views as report_views
    from tracker.retention import views as retention_views
    from tracker.staff import accounts_views, import_views  # noqa: F401  (on staff.bp)
    from tracker.staff import views as staff_views
    from tracker.workflow import views as workflow_views

    # Importing a views module adds its routes to its feature's blueprint.
    for module in (
        auth_views,
        home_views,
        policy_views,
        case_views,
        concern_views,
        consent_views,
        staff_views,
        privacy_views,
        audit_views,
        retention_views,
        report_views,
        workflow_views,
        health_views,
    ):
        app.register_blueprint(module.bp)


def _register_cli(app: Flask) -> None:
    from tracker.audit.cli import audit_cli
    from tracker.auth.cli import users_cli
    from tracker.backup.cli import backup_cli
    from tracker.db_roles import grant_app_role_command
    from tracker.demo import demo_command
    from tracker.notifications.cli import reminders_cli
    from tracker.orgs.cli import schools_cli, trust_cli
    from tracker.policy.cli import policy_cli
    from tracker.retention.cli import retention_cli
    from tracker.storage.cli import evidence_cli

    app.cli.add_command(audit_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(grant_app_role_command)
    app.cli.add_command(policy_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(schools_cli)
    app.cli.add_command(trust_cli)
    app.cli.add_command(retention_cli)
    app.cli.add_command(evidence_cli)
    if _development_extra_installed():
        from bench.cli import bench_cli

        app.cli.add_command(bench_cli)


@cache
def _development_extra_installed() -> bool:
    """Whether every package of the installed distribution's `dev` extra is installed.

    `flask bench` (the top-level bench/ package) builds and drops databases of its own and
    is for development only. A production checkout is installed without extras and run
    from the checkout, where bench/ imports all the same: so the test is the extra, read
    from the distribution's metadata, not whether bench/ can be imported. A source tree
    that was never installed has no extra.
    """
    dev_extra = re.compile(r"""\bextra\s*==\s*["']dev["']""")
    name = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
    try:
        requirements = metadata.requires("safeguarding-tracker") or []
        names = [
            match.group(1)
            for requirement, _, marker in (entry.partition(";") for entry in requirements)
            if dev_extra.search(marker) and (match := name.match(requirement))
        ]
        for package in names:
            metadata.version(package)  # raises when it is not installed
    except metadata.PackageNotFoundError:
        return False
    return bool(names)
