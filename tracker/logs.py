"""Log lines: plain text for a person at a terminal, or with LOG_FORMAT=json one JSON
object per line for a log service, for the app and for gunicorn's access log alike.

Every line says when, how bad, which request (its id, the route's rule, the user's
numeric id) and what. What is never in a log line: a name, an e-mail address, a client's
address, a form's or a query string's contents, a case's text, a password or a key. So
the request line names the route's rule (`/cases/<int:case_id>`), never the path as
typed, and the database driver is told to keep bound values out of its error messages
(`hide_parameters`, tracker/__init__.py).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request

# What a request line and every line written during a request carry.
REQUEST_FIELDS = ("request_id", "user_id", "route", "method", "status", "duration_ms")
# Where the app leaves its route and user for gunicorn's access line (WSGI environ).
ENVIRON_ROUTE = "tracker.route"
ENVIRON_USER = "tracker.user_id"
# gunicorn's names for them among its access-log fields ("atoms").
_ROUTE_ATOM = "{" + ENVIRON_ROUTE + "}e"
_USER_ATOM = "{" + ENVIRON_USER + "}e"

access_log = logging.getLogger("tracker.access")


def _user_id() -> int | None:
    """The signed-in user's id, if the request has loaded them (never loads them)."""
    user = g.get("_login_user")
    return getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None


def _route() -> str | None:
    rule = request.url_rule
    return rule.rule if rule is not None else None


class RequestContextFilter(logging.Filter):
    """Adds the request's id, user id, route and method to each line written during it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id", "-")
            if not hasattr(record, "user_id"):
                record.user_id = _user_id()
            if not hasattr(record, "route"):
                record.route = _route()
            if not hasattr(record, "method"):
                record.method = request.method
        else:
            record.request_id = "-"
        return True


def _time(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, the request's fields, message."""

    def entry(self, record: logging.LogRecord) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "time": _time(record.created),
            "level": record.levelname,
            "logger": record.name,
        }
        for name in REQUEST_FIELDS:
            value = getattr(record, name, None)
            entry[name] = None if value == "-" else value
        entry["message"] = record.getMessage()
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return entry

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self.entry(record), ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        if record.name == access_log.name:
            user = getattr(record, "user_id", None)
            line += f" user={user if user is not None else '-'}"
        return line


def _atom(atoms: Mapping[str, Any], key: str) -> str | None:
    value = atoms.get(key)
    return None if value in (None, "-", "") else str(value)


def _number(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


class GunicornJsonFormatter(JsonFormatter):
    """gunicorn's error and access logs as JSON lines (deploy/gunicorn.conf.py).

    An access line is built from gunicorn's own fields, never its request line (which
    holds the query string) nor the client's address: the route and user id are those
    the app left in the WSGI environ, the request id the one it answered with.
    """

    def format(self, record: logging.LogRecord) -> str:
        atoms = record.args
        if record.name != "gunicorn.access" or not isinstance(atoms, Mapping):
            return super().format(record)
        entry = {
            "time": _time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "request_id": _atom(atoms, "{x-request-id}o"),
            "user_id": _number(_atom(atoms, _USER_ATOM)),
            "route": _atom(atoms, _ROUTE_ATOM),
            "method": _atom(atoms, "m"),
            "status": _number(_atom(atoms, "s")),
            "duration_ms": _number(_atom(atoms, "M")),
            "message": "request",
        }
        return json.dumps(entry, ensure_ascii=False)


def configure(app: Flask) -> None:
    """The `tracker` loggers' one handler, in the format LOG_FORMAT asks for, and a line
    for each request on `tracker.access`."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestContextFilter())
    json_lines = app.config.get("LOG_FORMAT") == "json"
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    logger = logging.getLogger("tracker")
    logger.handlers[:] = [handler]
    logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    logger.propagate = False

    @app.before_request
    def start_clock() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        started = g.get("request_started")
        duration = round((time.perf_counter() - started) * 1000, 1) if started else None
        user_id, route = _user_id(), _route()
        # For gunicorn's access line (its environ atoms), which cannot see Flask's.
        request.environ[ENVIRON_ROUTE] = route or "-"
        request.environ[ENVIRON_USER] = str(user_id) if user_id is not None else "-"
        if request.endpoint != "static":
            access_log.info(
                "%s %s %s",
                request.method,
                route or "(no route)",
                response.status_code,
                extra={
                    "user_id": user_id,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": duration,
                },
            )
        return response
