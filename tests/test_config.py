"""Start-up refuses unsafe configuration and reads the database URL correctly."""

import pytest

from config import Config, TestConfig, normalise_database_url
from tracker import ConfigurationError, create_app


@pytest.fixture
def production_env(monkeypatch, tmp_path):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("AUDIT_KEY", "a7" * 32)
    monkeypatch.setenv("TOTP_KEY", "b8" * 32)
    monkeypatch.setenv("EVIDENCE_KEY", "c9" * 32)
    return monkeypatch


@pytest.mark.parametrize("value", [None, "", "dev", "change-me", "short-key"])
def test_refuses_to_start_without_a_real_secret_key(production_env, value):
    if value is None:
        production_env.delenv("SECRET_KEY", raising=False)
    else:
        production_env.setenv("SECRET_KEY", value)
    with pytest.raises(ConfigurationError, match="Set the SECRET_KEY environment variable"):
        create_app(Config())


def test_starts_with_a_long_random_secret_key(production_env):
    production_env.setenv("SECRET_KEY", "9f" * 32)
    app = create_app(Config())
    assert app.config["SECRET_KEY"] == "9f" * 32
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")


def test_debug_mode_may_run_without_a_secret_key(production_env):
    production_env.delenv("SECRET_KEY", raising=False)
    production_env.setenv("FLASK_DEBUG", "1")
    app = create_app(Config())
    assert len(app.config["SECRET_KEY"]) == 64


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("value", [None, "", "dev", "short-key"])
def test_refuses_to_start_without_a_real_audit_key(production_env, value, debug):
    production_env.setenv("SECRET_KEY", "9f" * 32)
    if debug:
        production_env.setenv("FLASK_DEBUG", "1")
    if value is None:
        production_env.delenv("AUDIT_KEY", raising=False)
    else:
        production_env.setenv("AUDIT_KEY", value)
    with pytest.raises(ConfigurationError, match="Set the\\s+AUDIT_KEY environment variable"):
        create_app(Config())


def test_audit_key_must_not_be_the_secret_key(production_env):
    production_env.setenv("SECRET_KEY", "9f" * 32)
    production_env.setenv("AUDIT_KEY", "9f" * 32)
    with pytest.raises(ConfigurationError, match="AUDIT_KEY must differ from SECRET_KEY"):
        create_app(Config())


def test_default_database_is_sqlite_in_the_instance_folder(production_env, tmp_path):
    production_env.delenv("DATABASE_URL")
    production_env.setenv("SECRET_KEY", "9f" * 32)
    app = create_app(Config())
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'tracker.db'}"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_postgres_urls_use_psycopg_3(given, expected):
    assert normalise_database_url(given) == expected


def test_bad_number_in_environment_is_named(monkeypatch):
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "half an hour")
    with pytest.raises(RuntimeError, match="SESSION_IDLE_MINUTES must be a whole number"):
        Config()


def test_environment_sets_timeouts(monkeypatch):
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "10")
    monkeypatch.setenv("SESSION_MAX_HOURS", "8")
    config = TestConfig()
    assert (config.SESSION_IDLE_MINUTES, config.SESSION_MAX_HOURS) == (10, 8)


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("name", "value"),
    [
        *(("TOTP_KEY", value) for value in (None, "", "dev", "short-key", "a7" * 32)),
        # Missing, EVIDENCE_KEY is refused by the work that needs it (tests/test_storage.py).
        *(("EVIDENCE_KEY", value) for value in ("dev", "short-key", "a7" * 32)),
    ],
)
def test_refuses_to_start_without_its_own_encryption_key(production_env, name, value, debug):
    production_env.setenv("SECRET_KEY", "9f" * 32)
    if debug:
        production_env.setenv("FLASK_DEBUG", "1")
    if value is None:
        production_env.delenv(name, raising=False)
    else:
        production_env.setenv(name, value)
    with pytest.raises(ConfigurationError, match=name):
        create_app(Config())
