"""Signing in (password, then the second factor) and signing out."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker.auth import bp, mfa, oidc
from tracker.auth.forms import CodeForm, RecoveryCodeForm, SignInForm
from tracker.auth.gate import SESSION_TOKEN_KEY, public
from tracker.auth.models import User
from tracker.auth.services import (
    authenticate,
    enrol_second_factor,
    verify_recovery_code,
    verify_second_factor,
)
from tracker.auth.sessions import EndReason, end_session, start_session
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.orgs.models import Trust
from tracker.pages import form_page

# Between the password and the second factor, the signed cookie remembers whose password
# was right, for this long. No session exists yet: nothing can be opened in between.
PENDING_KEY = "pending_sign_in"
PENDING_SECONDS = 10 * 60

T = TypeVar("T")


def _safe_next(target: str | None) -> str | None:
    """Only follow `next` to a path on this site, never to another host."""
    if not target or not isinstance(target, str):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def _pending_user() -> User | None:
    """The user whose password was accepted a moment ago on this browser, if any."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    user_id, since = pending.get("user"), pending.get("since")
    if not isinstance(user_id, int) or not isinstance(since, int):
        return None
    if time.time() - since > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        flash("You took too long to enter the code. Sign in again.", "info")
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        session.pop(PENDING_KEY, None)
        return None
    return user


def _restart() -> Response:
    return redirect(url_for("auth.sign_in"))


def _start(user: User) -> str | None:
    """Open the session for a user who has passed both steps; returns where to go next.

    The cookie session is cleared first, so the session id is new at every sign-in and
    nothing from before it (the pending step included) carries over.
    """
    target = _safe_next(session.get(PENDING_KEY, {}).get("next"))
    token = start_session(
        user, ip_address=request.remote_addr, user_agent=request.user_agent.string
    )
    db.session.commit()
    session.clear()
    session[SESSION_TOKEN_KEY] = token
    return target


def _second_step(
    user: User,
    form: CodeForm | RecoveryCodeForm,
    check: Callable[..., T],
    template: str,
    then: Callable[[T, str], ResponseReturnValue],
    **context: Any,
) -> ResponseReturnValue:
    """The code pages' shared step: check the code typed, and open the session if right.

    `check` is the service (`check(user, code, ip_address=...)`); on success the session
    is opened and `then(what check returned, where to go next)` makes the response.
    Otherwise the page is shown again from `template`, with the form emptied of the code.
    """

    def refused(failure: DomainError) -> None:
        form.code.errors = [failure.message]

    def page() -> str:
        form.code.data = ""
        return render_template(template, form=form, **context)

    return form_page(
        form,
        lambda: check(user, form.code.data, ip_address=request.remote_addr),
        done=lambda outcome: then(outcome, _start(user) or url_for("home.index")),
        page=page,
        refused=refused,
        keep_on_refusal=True,  # the throttle's record of the failed attempt must persist
    )


def _pending_step(*, enrolled: bool) -> User | Response:
    """The user half-way through signing in, if this page is their next step (the code
    with an authenticator app set up, the set-up without); else where to go instead."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    user = _pending_user()
    if user is None:
        return _restart()
    if user.has_second_factor and not enrolled:
        return redirect(url_for("auth.second_factor"))
    if enrolled and not user.has_second_factor:
        return redirect(url_for("auth.set_up_second_factor"))
    return user


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    errors: list[str] = []  # one message for any failure: it never says which part was wrong

    def passed(user: User) -> Response:
        target = _safe_next(request.args.get("next"))
        session.clear()
        session[PENDING_KEY] = {"user": user.id, "since": int(time.time()), "next": target}
        if user.has_second_factor:
            return redirect(url_for("auth.second_factor"))
        return redirect(url_for("auth.set_up_second_factor"))

    def page() -> str:
        form.password.data = ""
        providers = [(trust.id, trust.name, provider.label) for trust, provider in oidc.offered()]
        return render_template(
            "auth/sign_in.html",
            form=form,
            error=next(iter(errors), None),
            providers=providers,
            next_url=_safe_next(request.args.get("next")),
        )

    return form_page(
        form,
        lambda: authenticate(form.email.data, form.password.data, ip_address=request.remote_addr),
        done=passed,
        page=page,
        refused=lambda failure: errors.append(failure.message),
        keep_on_refusal=True,  # keep the record of the failed attempt
    )


@bp.route("/sign-in/code", methods=["GET", "POST"])
@public
def second_factor():
    user = _pending_step(enrolled=True)
    if not isinstance(user, User):
        return user
    return _second_step(
        user,
        CodeForm(),
        verify_second_factor,
        "auth/second_factor.html",
        lambda _, next_url: redirect(next_url),
    )


@bp.route("/sign-in/recovery-code", methods=["GET", "POST"])
@public
def recovery_code():
    user = _pending_step(enrolled=True)
    if not isinstance(user, User):
        return user

    def signed_in(remaining: int, next_url: str) -> Response:
        if remaining <= 3:
            flash(
                f"You have {remaining} recovery code{'' if remaining == 1 else 's'} left. "
                "Set up your authenticator app again to get new codes.",
                "warning",
            )
        else:
            flash(f"Recovery code accepted. You have {remaining} left.", "info")
        return redirect(next_url)

    return _second_step(
        user, RecoveryCodeForm(), verify_recovery_code, "auth/recovery_code.html", signed_in
    )


@bp.route("/sign-in/set-up-authenticator", methods=["GET", "POST"])
@public
def set_up_second_factor():
    user = _pending_step(enrolled=False)
    if not isinstance(user, User):
        return user
    secret = mfa.pending_secret(user)
    db.session.commit()  # the same secret on every reload, until it is proved

    def enrolled(codes: list[str], next_url: str) -> str:
        g._login_user = user  # this page is the first of the new session
        return render_template("auth/recovery_codes.html", codes=codes, next_url=next_url)

    return _second_step(
        user,
        CodeForm(),
        enrol_second_factor,
        "auth/set_up_second_factor.html",
        enrolled,
        qr=mfa.qr_svg(mfa.provisioning_uri(user, secret)),
        secret=mfa.format_secret(secret),
    )


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    record = g.get("user_session")
    if record is not None:
        end_session(record, EndReason.SIGNED_OUT)
        db.session.commit()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))


# --- through the trust's identity provider (tracker/auth/oidc.py) ---------------------

PROVIDER_KEY = "provider_sign_in"  # the trust whose provider a sign-in went to, and next


def _provider_failed(failure: oidc.ProviderSignInFailed, label: str) -> tuple[str, int]:
    """The page for a refused sign-in (already on the trail): what happened, in words."""
    db.session.commit()
    session.pop(PROVIDER_KEY, None)
    page = render_template("auth/provider_failed.html", message=failure.message, label=label)
    return page, oidc.status_for(failure.reason)


def _client(provider: oidc.Provider) -> Any:
    try:
        return oidc.client_for(provider)
    except oidc.ProviderSignInFailed as failure:
        oidc.record_refusal(failure.reason, provider)
        raise


@bp.route("/sign-in/with/<int:trust_id>")
@public
def sign_in_with_provider(trust_id: int):
    """Send the browser to the trust's identity provider."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    trust = db.session.get(Trust, trust_id)
    provider = oidc.provider_of(trust) if trust is not None else None
    if provider is None:
        abort(404)
    try:
        client = _client(provider)
    except oidc.ProviderSignInFailed as failure:
        return _provider_failed(failure, provider.label)
    target = _safe_next(request.args.get("next"))
    session.clear()  # nothing half-done carries over: no pending password step
    session[PROVIDER_KEY] = {"trust": provider.trust_id, "next": target}
    return client.authorize_redirect(url_for("auth.provider_callback", _external=True))


@bp.route("/sign-in/callback")
@public
def provider_callback():
    """The provider's answer: open the session, or ask for our second factor first."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    started = session.get(PROVIDER_KEY)
    trust_id = started.get("trust") if isinstance(started, dict) else None
    trust = db.session.get(Trust, trust_id) if isinstance(trust_id, int) else None
    provider = oidc.provider_of(trust) if trust is not None else None
    if provider is None or not isinstance(started, dict):
        # No sign-in of ours is under way in this browser: a replayed or forged answer.
        failure = oidc.record_refusal("state_mismatch", None)
        return _provider_failed(failure, "your organisation")
    try:
        verified = oidc.finish_sign_in(_client(provider), provider)
    except oidc.ProviderSignInFailed as failure:
        return _provider_failed(failure, provider.label)
    session.clear()
    session[PENDING_KEY] = {
        "user": verified.user.id,
        "since": int(time.time()),
        "next": _safe_next(started.get("next")),
    }
    db.session.commit()
    if verified.provider_mfa:
        return redirect(_start(verified.user) or url_for("home.index"))
    if verified.user.has_second_factor:
        return redirect(url_for("auth.second_factor"))
    return redirect(url_for("auth.set_up_second_factor"))
