"""Sign-in and sign-out pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user

from tracker.auth import bp
from tracker.auth.forms import SignInForm
from tracker.auth.gate import SESSION_TOKEN_KEY, public
from tracker.auth.services import authenticate
from tracker.auth.sessions import EndReason, end_session, start_session
from tracker.errors import SignInFailed
from tracker.extensions import db


def _safe_next(target: str | None) -> str | None:
    """Only follow `next` to a path on this site, never to another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data, ip_address=request.remote_addr)
        except SignInFailed as failure:
            db.session.commit()  # keep the record of the failed attempt
            error = failure.message
        else:
            token = start_session(
                user, ip_address=request.remote_addr, user_agent=request.user_agent.string
            )
            db.session.commit()
            # A fresh cookie session at sign-in: nothing from before it carries over.
            session.clear()
            session[SESSION_TOKEN_KEY] = token
            return redirect(_safe_next(request.args.get("next")) or url_for("home.index"))
    form.password.data = ""
    return render_template("auth/sign_in.html", form=form, error=error)


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    record = g.get("user_session")
    if record is not None:
        end_session(record, EndReason.SIGNED_OUT)
        db.session.commit()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))
