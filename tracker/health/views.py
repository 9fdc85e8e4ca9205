"""`/healthz` (the process answers) and `/readyz` (it can serve: the database reachable,
its migrations at head, the audit chain's head where the last event is, the evidence
store reachable).

For a load balancer or an orchestrator: unauthenticated, with no session, no audit event
and no detail beyond ok or not ok per check, so that they tell an outsider nothing, and
cheap enough to ask every few seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import Response, current_app, jsonify
from sqlalchemy import select, text

from config import PROJECT_ROOT
from tracker.audit.chain import current_head
from tracker.audit.models import AuditChainHead
from tracker.auth.gate import public
from tracker.extensions import db
from tracker.health import bp
from tracker.storage import key_ring
from tracker.storage.stores import current_store


@bp.route("/healthz")
@public
def liveness() -> Response:
    """The process answers requests: nothing else is asked (a database outage must not
    make every worker look dead and be restarted)."""
    return jsonify(status="ok")


@cache
def _migration_heads() -> frozenset[str]:
    """The newest revisions of the migrations this code ships (they change only with it)."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def _database() -> bool:
    return db.session.execute(text("SELECT 1")).scalar() == 1


def _migrations() -> bool:
    applied = db.session.execute(text("SELECT version_num FROM alembic_version")).scalars()
    return frozenset(applied) == _migration_heads()


def _audit_chain() -> bool:
    """The head row writers lock moves with every event: it must name the last one."""
    head = db.session.execute(select(AuditChainHead.seq, AuditChainHead.hash)).one()
    return (head.seq, head.hash) == current_head(db.session)


def _evidence_store() -> bool:
    """Evidence can be stored and read: EVIDENCE_KEY is set, and the store can be
    reached (its folder read and written, or before the first upload made; its bucket
    there)."""
    key_ring()
    return current_store().ready()


CHECKS: dict[str, Callable[[], bool]] = {
    "database": _database,
    "migrations": _migrations,
    "audit_chain": _audit_chain,
    "evidence_store": _evidence_store,
}


@bp.route("/readyz")
@public
def readiness() -> tuple[Response, int]:
    """200 when every check passes, else 503; each check says only ok or not ok."""
    results = {}
    for name, check in CHECKS.items():
        try:
            passed = check()
        except Exception:  # any failure is "not ok"; the log says why, the answer does not
            current_app.logger.warning("readiness check %s failed", name, exc_info=True)
            passed = False
        finally:
            db.session.rollback()  # read-only; ends the transaction on the connection
        results[name] = "ok" if passed else "not ok"
    ready = all(result == "ok" for result in results.values())
    return jsonify(status="ok" if ready else "not ok", checks=results), 200 if ready else 503
