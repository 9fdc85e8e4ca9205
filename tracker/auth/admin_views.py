"""Accounts, for trust administrators: second factors and sessions."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tracker.auth import bp, mfa
from tracker.auth.models import RoleGrant, User, UserSession
from tracker.auth.permissions import can_manage_accounts, permission_required, refuse
from tracker.auth.sessions import EndReason, describe_device, end_all_sessions, open_sessions
from tracker.extensions import db


def _user_in_trust_or_404(user_id: int) -> User:
    user = db.session.scalar(
        select(User)
        .where(User.id == user_id, User.trust_id == current_user.trust_id)
        .options(selectinload(User.grants).selectinload(RoleGrant.school))
    )
    if user is None:
        refuse(object_type="user", object_id=user_id, out_of_scope=True)
    return user


@bp.route("/admin/users")
@permission_required(can_manage_accounts)
def admin_users():
    users = db.session.scalars(
        select(User)
        .where(User.trust_id == current_user.trust_id)
        .options(selectinload(User.grants).selectinload(RoleGrant.school))
        .order_by(func.lower(User.display_name), User.id)
    ).all()
    open_counts = dict(
        db.session.execute(
            select(UserSession.user_id, func.count(UserSession.id))
            .join(User, User.id == UserSession.user_id)
            .where(User.trust_id == current_user.trust_id, UserSession.ended_at.is_(None))
            .group_by(UserSession.user_id)
        )
        .tuples()
        .all()
    )
    return render_template("auth/admin_users.html", users=users, open_counts=open_counts)


@bp.route("/admin/users/<int:user_id>")
@permission_required(can_manage_accounts)
def admin_user(user_id: int):
    user = _user_in_trust_or_404(user_id)
    return render_template(
        "auth/admin_user.html",
        user=user,
        sessions=open_sessions(user),
        describe_device=describe_device,
        recovery_codes_left=mfa.recovery_codes_left(user) if user.has_second_factor else 0,
    )


@bp.route("/admin/users/<int:user_id>/reset-second-factor", methods=["POST"])
@permission_required(can_manage_accounts)
def admin_reset_second_factor(user_id: int):
    user = _user_in_trust_or_404(user_id)
    if user.id == current_user.id:
        flash(
            "You cannot reset your own second factor here. To move to a new phone, use "
            "Change authenticator app on your account page.",
            "info",
        )
        return redirect(url_for("auth.admin_user", user_id=user.id))
    ended = mfa.reset_second_factor(user, by=current_user)
    db.session.commit()
    flash(
        f"{user.display_name}'s second factor has been reset and {ended} "
        f"session{'' if ended == 1 else 's'} ended. They will set up an authenticator app "
        "the next time they sign in.",
        "success",
    )
    return redirect(url_for("auth.admin_user", user_id=user.id))


@bp.route("/admin/users/<int:user_id>/end-sessions", methods=["POST"])
@permission_required(can_manage_accounts)
def admin_end_sessions(user_id: int):
    user = _user_in_trust_or_404(user_id)
    ended = end_all_sessions(user, EndReason.REVOKED, by=current_user)
    db.session.commit()
    if user.id == current_user.id:
        flash("Your sessions have ended. Sign in again to carry on.", "success")
        return redirect(url_for("auth.sign_in"))
    flash(f"{ended} session{'' if ended == 1 else 's'} of {user.display_name} ended.", "success")
    return redirect(url_for("auth.admin_user", user_id=user.id))
