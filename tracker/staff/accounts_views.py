"""Accounts from the staff register, for the trust administrator (tracker/staff/accounts.py)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker.auth.oidc import provider_of
from tracker.auth.permissions import can_manage_accounts, permission_required
from tracker.clock import today
from tracker.extensions import db
from tracker.staff import bp
from tracker.staff.accounts import give_accounts, without_accounts
from tracker.staff.forms import GiveAccountsForm


@bp.route("/accounts", methods=["GET", "POST"])
@permission_required(can_manage_accounts)
def give_accounts_page():
    candidates = without_accounts(current_user.trust_id, today())
    form = GiveAccountsForm()
    error = None
    if form.validate_on_submit():
        wanted = set(request.form.getlist("member"))
        chosen = [member for member in candidates if str(member.id) in wanted]
        if not chosen:
            error = "Select at least one person to give an account to"
        else:
            given = give_accounts(chosen, by=current_user)
            db.session.commit()
            flash(
                f"{given.created} accounts made and {given.linked} existing accounts linked"
                + (f"; {len(given.skipped)} people skipped" if given.skipped else "")
                + ". Give each person their roles from the command line (users grant).",
                "success",
            )
            for member, why in given.skipped:
                flash(f"{member.full_name} ({member.employee_number}) {why}.", "info")
            return redirect(url_for("staff.give_accounts_page"))
    signs_in = provider_of(current_user.trust) is not None
    db.session.commit()  # read only: nothing held while the page renders
    return render_template(
        "staff/accounts.html",
        form=form,
        candidates=candidates,
        error=error,
        signs_in=signs_in,
    )
