"""Retention pages: the DPO's list of what is due, legal holds and the retention facts
(the case page's retention section is tracker/retention/panel.py).

Each page about a case answers 404 outside the user's scope and 403 to a reader who is
neither the DPO nor the CEO. Each POST calls one service and commits once.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker import clock
from tracker.auth.permissions import (
    can_manage_retention,
    can_review_retention,
    case_in_scope_or_404,
    permission_required,
    refuse,
)
from tracker.cases.loads import HEADER
from tracker.cases.models import Case
from tracker.extensions import db
from tracker.pages import form_page
from tracker.retention import bp, services
from tracker.retention.forms import LegalHoldForm, LiftLegalHoldForm, RetentionFactsForm
from tracker.retention.overview import record_retention_list_viewed, retention_overview

# --- the DPO's list ----------------------------------------------------------------------


@bp.route("/")
@permission_required(can_review_retention)
def index():
    overview = retention_overview(
        current_user, clock.today(), current_app.config["RETENTION_WARNING_DAYS"]
    )
    html = render_template("retention/index.html", overview=overview)
    record_retention_list_viewed(current_user, overview)
    db.session.commit()
    return html


# --- a case: legal holds and retention facts ---------------------------------------------


def _managed_case(case_id: int) -> Case:
    case = case_in_scope_or_404(current_user, case_id, *HEADER)
    if not can_manage_retention(current_user, case):
        refuse(object_type="case", object_id=case.id, out_of_scope=False)
    return case


def _back_to_case(case: Case, message: str, category: str = "success"):
    flash(message, category)
    return redirect(url_for("cases.show", case_id=case.id, _anchor="retention"))


@bp.route("/cases/<int:case_id>/legal-hold", methods=["GET", "POST"])
def place_hold(case_id: int):
    case = _managed_case(case_id)
    form = LegalHoldForm()

    def page():
        if services.active_legal_hold(case) and not form.form_errors:
            form.form_errors.append("This case is already on legal hold")
        return render_template("retention/legal_hold.html", case=case, form=form)

    return form_page(
        form,
        lambda: services.place_legal_hold(case, reason=form.reason.data, by=current_user),
        done=lambda _: _back_to_case(
            case, "The case is on legal hold. Nothing of it is disposed of."
        ),
        page=page,
    )


@bp.route("/cases/<int:case_id>/legal-hold/lift", methods=["GET", "POST"])
def lift_hold(case_id: int):
    case = _managed_case(case_id)
    form = LiftLegalHoldForm()

    def page():
        hold = services.active_legal_hold(case)
        if hold is None and not form.form_errors:
            form.form_errors.append("There is no legal hold on this case to lift")
        return render_template(
            "retention/lift_hold.html",
            case=case,
            form=form,
            hold=hold,
            retention=services.retention_of(case),
        )

    return form_page(
        form,
        lambda: services.lift_legal_hold(case, reason=form.reason.data, by=current_user),
        done=lambda _: _back_to_case(case, "The legal hold is lifted."),
        page=page,
    )


@bp.route("/cases/<int:case_id>/facts", methods=["GET", "POST"])
def facts(case_id: int):
    case = _managed_case(case_id)
    form = RetentionFactsForm()
    if request.method == "GET":
        form.sexual_abuse.data = "yes" if case.sexual_abuse else "no"
        form.keep_consent.data = "yes" if case.keep_consent_on else "no"
        form.keep_consent_on.data = case.keep_consent_on

    def save():
        consents = form.keep_consent.data == "yes"
        return services.set_retention_facts(
            case,
            sexual_abuse=form.sexual_abuse.data == "yes",
            keep_consent_on=form.keep_consent_on.data if consents else None,
            by=current_user,
            today=clock.today(),
        )

    return form_page(
        form,
        save,
        done=lambda changed: (
            _back_to_case(case, "Saved. The retention has been worked out again.")
            if changed
            else _back_to_case(case, "Nothing had changed, so there was nothing to save.", "info")
        ),
        page=lambda: render_template("retention/facts.html", case=case, form=form),
    )
