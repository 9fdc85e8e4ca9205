"""Your account: your sessions, your password and your authenticator app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user

from tracker.auth import bp, mfa
from tracker.auth.forms import ChangePasswordForm, ReplaceAuthenticatorForm
from tracker.auth.models import UserSession
from tracker.auth.services import change_password, replace_second_factor
from tracker.auth.sessions import (
    EndReason,
    describe_device,
    end_other_sessions,
    end_session,
    open_sessions,
)
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.forms import answers_to
from tracker.pages import form_page


def _here() -> dict[str, Any]:
    """A change to your own sign-in keeps this session (ending the others) and records
    the address it came from."""
    return {"keep": g.get("user_session"), "ip_address": request.remote_addr}


def _sessions_ended_message(count: int) -> str:
    if count == 0:
        return ""
    return f" {count} other session{'' if count == 1 else 's'} ended."


@bp.route("/account")
def account():
    current = g.get("user_session")
    return render_template(
        "auth/account.html",
        sessions=open_sessions(current_user),
        current_id=current.id if current else None,
        describe_device=describe_device,
        recovery_codes_left=mfa.recovery_codes_left(current_user),
    )


@bp.route("/account/sessions/<int:session_id>/end", methods=["POST"])
def end_my_session(session_id: int):
    record = db.session.get(UserSession, session_id)
    # Someone else's session, or one already over, is not there as far as you can tell.
    if record is None or record.user_id != current_user.id or not record.is_open:
        abort(404)
    current = g.get("user_session")
    if current is not None and record.id == current.id:
        end_session(record, EndReason.SIGNED_OUT)
        db.session.commit()
        session.clear()
        flash("You have signed out.", "success")
        return redirect(url_for("auth.sign_in"))
    end_session(record, EndReason.REVOKED, by=current_user)
    db.session.commit()
    flash(f"The session on {describe_device(record.user_agent)} has ended.", "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/sessions/end-others", methods=["POST"])
def end_my_other_sessions():
    ended = end_other_sessions(current_user, keep=g.get("user_session"), reason=EndReason.REVOKED)
    db.session.commit()
    if ended:
        flash(f"{ended} other session{'' if ended == 1 else 's'} ended.", "success")
    else:
        flash("You had no other sessions.", "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_my_password():
    form = ChangePasswordForm()

    def changed(ended: int):
        flash("Your password has been changed." + _sessions_ended_message(ended), "success")
        return redirect(url_for("auth.account"))

    def page():
        # Passwords are never sent back to the browser, right or wrong.
        form.current_password.data = form.new_password.data = form.confirm_password.data = ""
        return render_template("auth/change_password.html", form=form)

    return form_page(
        form,
        lambda: change_password(
            current_user, **answers_to(form, "current_password", "new_password"), **_here()
        ),
        done=changed,
        page=page,
        refused=_on_field(form, "current_password"),
        keep_on_refusal=True,  # keep the record (and the count) of a wrong password
    )


@bp.route("/account/authenticator", methods=["GET", "POST"])
def change_my_authenticator():
    secret = mfa.pending_secret(current_user)
    db.session.commit()  # the same new secret on every reload, until it is proved
    form = ReplaceAuthenticatorForm()

    def page():
        form.current_password.data = ""
        form.code.data = ""
        return render_template(
            "auth/change_authenticator.html",
            form=form,
            qr=mfa.qr_svg(mfa.provisioning_uri(current_user, secret)),
            secret=mfa.format_secret(secret),
        )

    return form_page(
        form,
        lambda: replace_second_factor(
            current_user, **answers_to(form, "current_password", "code"), **_here()
        ),
        done=lambda codes: render_template(
            "auth/recovery_codes.html",
            codes=codes,
            next_url=url_for("auth.account"),
            replaced=True,
        ),
        page=page,
        refused=_on_field(form, "code"),
        keep_on_refusal=True,  # keep the record (and the count) of a wrong password or code
    )


def _on_field(form: Any, default: str) -> Callable[[DomainError], None]:
    """Put a refusal on the field it names, else on `default` (never the whole form: the
    error summary then links to the box to type in again)."""

    def refused(error: DomainError) -> None:
        getattr(form, error.field or default).errors = [error.message]

    return refused
