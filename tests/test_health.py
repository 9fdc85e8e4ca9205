"""/healthz and /readyz: unauthenticated, no session, no audit event, ok or not ok only."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from config import TestConfig
from tracker import create_app
from tracker.audit.models import AuditEvent
from tracker.extensions import db as _db

CHECKS = {"database", "migrations", "audit_chain", "evidence_store"}


def _events(app) -> int:
    with app.app_context():
        return _db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_both_answer_anyone_with_no_session_and_no_event(app):
    client = app.test_client()
    before = _events(app)
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.json)
        assert response.json["status"] == "ok"
        assert "Set-Cookie" not in response.headers, path
    assert response.json["checks"] == dict.fromkeys(CHECKS, "ok")
    assert _events(app) == before


def _unreachable_app(tmp_path):
    """An app whose database cannot be opened (its folder does not exist)."""
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'tracker.db'}"
    return create_app(TestConfig(url, INSTANCE_PATH=str(tmp_path / "instance")))


def test_alive_without_a_database_but_not_ready(tmp_path):
    app = _unreachable_app(tmp_path)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "not ok"
    assert response.json["checks"]["database"] == "not ok"
    assert "OperationalError" not in response.get_data(as_text=True)  # ok or not ok, no more


def test_not_ready_while_a_migration_is_pending(fresh_database_url, tmp_path):
    app = create_app(
        TestConfig(fresh_database_url("sqlite"), INSTANCE_PATH=str(tmp_path / "instance"))
    )
    with app.app_context():
        upgrade()
        downgrade(revision="-1")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["migrations"] == "not ok"
    assert response.json["checks"]["database"] == "ok"
    with app.app_context():
        upgrade()
        _db.engine.dispose()
    assert app.test_client().get("/readyz").status_code == 200


def test_not_ready_when_the_chain_head_is_not_the_last_event(app, make):
    make.user()  # an event or two on the trail
    with app.app_context():
        _db.session.execute(text("UPDATE audit_chain_head SET seq = seq + 5"))
        _db.session.commit()
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["audit_chain"] == "not ok"


def test_not_ready_when_the_evidence_store_is_not_a_folder(make_app, tmp_path):
    taken = tmp_path / "a-file"
    taken.write_text("not a folder")
    app = make_app(EVIDENCE_PATH=str(taken))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["evidence_store"] == "not ok"
