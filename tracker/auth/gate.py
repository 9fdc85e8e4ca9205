"""Every request is signed in unless its view is marked public; sessions are checked here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Request, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user

from tracker.auth.models import User
from tracker.auth.sessions import EndReason, resume_session
from tracker.extensions import db, login_manager

F = TypeVar("F", bound=Callable[..., Any])

# The key in the signed cookie that holds the session token (a name, not a secret).
SESSION_TOKEN_KEY = "sid"  # noqa: S105 # nosec B105

ENDED_MESSAGES = {
    EndReason.IDLE: "You were signed out because you had not used the service for a while. "
    "Sign in again to carry on.",
    EndReason.EXPIRED: "You were signed out because you had been signed in for a long time. "
    "Sign in again to carry on.",
    EndReason.REVOKED: "Your session was ended. Sign in again to carry on.",
    EndReason.DISABLED: "Your session was ended. Sign in again to carry on.",
}


def public(view: F) -> F:
    """Mark a view as reachable without signing in (the sign-in page, the privacy notice)."""
    # A function attribute, read by is_public_endpoint: no Callable type declares one.
    view.is_public = True  # type: ignore[attr-defined]
    return view


def is_public_endpoint(app: Flask, endpoint: str | None) -> bool:
    if endpoint is None:  # no route matched: let the 404 handler answer
        return True
    if endpoint == "static":
        return True
    view = app.view_functions.get(endpoint)
    return bool(getattr(view, "is_public", False))


def _load_user_from_session(_request: Request) -> User | None:
    token = session.get(SESSION_TOKEN_KEY)
    if not token or not isinstance(token, str):
        return None
    resumed = resume_session(token)
    if resumed.wrote:
        # Moving last-seen on, or ending a session that ran out, is its own small unit of
        # work, committed before the view starts its own. A check that only read (most
        # requests: last-seen moves at most once a minute) leaves its transaction to the
        # view, so a page that reads costs one transaction, not two.
        db.session.commit()
    if resumed.user is None:
        session.pop(SESSION_TOKEN_KEY, None)
        g.session_ended_because = resumed.ended_because
        return None
    g.user_session = resumed.session
    return resumed.user


def _forget_previous_request() -> None:
    """Start every request with no user loaded.

    `g` belongs to the app context, which outlives a request when one was already pushed
    (the test client inside a test's app context, a CLI command issuing requests), so the
    user of an earlier request must not carry over.
    """
    for key in ("_login_user", "user_session", "session_ended_because", "csrf_token"):
        g.pop(key, None)


def _require_sign_in():
    if is_public_endpoint(current_app, request.endpoint):
        return None
    if current_user.is_authenticated:
        return None
    message = ENDED_MESSAGES.get(g.get("session_ended_because") or "")
    if message:
        flash(message, "info")
    target = request.full_path if request.method == "GET" else None
    if target and target.endswith("?"):
        target = target[:-1]
    if target in ("/", None):
        return redirect(url_for("auth.sign_in"))
    return redirect(url_for("auth.sign_in", next=target))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    # Our own server-side session record replaces Flask-Login's session protection.
    login_manager.session_protection = None
    login_manager.login_view = "auth.sign_in"
    login_manager.request_loader(_load_user_from_session)
    app.before_request(_forget_previous_request)
    app.before_request(_require_sign_in)
