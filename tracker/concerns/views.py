"""A member of staff raises a concern and follows its receipt.

Everything typed is kept as a draft on every press of a button, before anything else
happens, so that a refused upload, a refusal, or a session that runs out loses nothing:
the form opens again with it.
"""

from __future__ import annotations

from typing import BinaryIO, cast

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from tracker.auth.permissions import is_member_of_staff, permission_required, refuse
from tracker.clock import today
from tracker.concerns import bp
from tracker.concerns.forms import DRAFT_FIELDS, DiscardDraftForm, RaiseConcernForm
from tracker.concerns.models import StaffConcern
from tracker.concerns.services import (
    ABOUT_COLLEAGUE,
    ConcernLimitReached,
    Screenshot,
    StaffReport,
    colleagues_of,
    discard_draft,
    draft_of,
    raise_concern,
    receipt_of,
    receipts_of,
    record_limit_refusal,
    save_draft,
)
from tracker.db import id_from
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.forms import show_error
from tracker.notifications.services import notify_after_commit
from tracker.pages import form_page

staff_only = permission_required(is_member_of_staff)


def _colleague_choices() -> list[SelectChoice]:
    colleagues = colleagues_of(current_user, today())
    several_schools = len({member.school_id for member in colleagues}) > 1
    choices = [SelectChoice("", "Choose a colleague")]
    for member in colleagues:
        label = f"{member.full_name}, {member.job_title}"
        if several_schools:
            label += f" ({member.school.name})"
        choices.append(SelectChoice(str(member.id), label))
    return choices


def _keep_draft() -> None:
    """Save what was posted as the user's draft, in a transaction of its own."""
    save_draft({name: request.form.getlist(name) for name in DRAFT_FIELDS}, by=current_user)
    db.session.commit()


def _report_from(form: RaiseConcernForm) -> StaffReport:
    return StaffReport(
        about=form.about.data or "",
        colleague_id=id_from(form.colleague.data),
        what_happened=form.what_happened.data or "",
        occurred_on=form.occurred_on.data,
        where_seen=form.where_seen.data or "",
        platform=form.platform.data or "",
        platform_detail=form.platform_detail.data or "",
        link=form.link.data or "",
    )


@bp.route("/new", methods=["GET", "POST"])
@staff_only
def new():
    draft = draft_of(current_user)
    if request.method == "GET" and draft is not None:
        typed = [(name, value) for name, values in draft.answers.items() for value in values]
        form = RaiseConcernForm(formdata=MultiDict(typed))
    else:
        form = RaiseConcernForm()
    form.colleague.choices = _colleague_choices()
    form.describe_file_limits(current_app.config["EVIDENCE_MAX_MB"])
    if request.method == "GET" and draft is None and request.args.get("about") == "myself":
        form.about.data = "myself"

    if request.method == "POST":
        _keep_draft()
        if request.form.get("autosave"):
            # The page's script, a few seconds after typing stops: nothing to show.
            return "", 204
        draft = draft_of(current_user)
        if form.save_draft.data:
            flash(
                "Your draft is saved. Nobody else can see it. It is kept for 30 days: come "
                "back to it from your home page.",
                "success",
            )
            return redirect(url_for("concerns.new"))

    def send() -> StaffConcern:
        upload = request.files.get("screenshot")
        screenshot = None
        if upload is not None and upload.filename:
            screenshot = Screenshot(cast(BinaryIO, upload.stream), upload.filename)
        return raise_concern(
            _report_from(form),
            by=current_user,
            screenshot=screenshot,
            today=today(),
        )

    def refused(error: DomainError) -> None:
        if isinstance(error, ConcernLimitReached):
            record_limit_refusal(by=current_user)
            db.session.commit()
        if error.field == "file":
            error.field = "screenshot"
        show_error(form, error)

    def done(receipt: StaffConcern):
        if receipt.case_id is not None:
            notify_after_commit(receipt.case_id)
        return redirect(url_for("concerns.receipt", receipt_id=receipt.id, sent=1))

    def page():
        chosen = request.files.get("screenshot")
        return render_template(
            "concerns/new.html",
            form=form,
            draft=draft,
            discard_form=DiscardDraftForm(),
            about_colleague=ABOUT_COLLEAGUE,
            choose_file_again=bool(chosen and chosen.filename and form.errors),
        )

    return form_page(
        form,
        send,
        done=done,
        page=page,
        submitted=request.method == "POST" and bool(form.send.data) and form.validate(),
        refused=refused,
    )


@bp.route("/draft/discard", methods=["POST"])
@staff_only
def discard():
    form = DiscardDraftForm()
    if form.validate_on_submit() and discard_draft(by=current_user):
        db.session.commit()
        flash("Your draft has been deleted.", "success")
    return redirect(url_for("concerns.new"))


@bp.route("/")
@staff_only
def index():
    return render_template("concerns/index.html", receipts=receipts_of(current_user))


@bp.route("/<int:receipt_id>")
@staff_only
def receipt(receipt_id: int):
    found = receipt_of(current_user, receipt_id)
    if found is None:
        refuse(object_type=StaffConcern.audit_type, object_id=receipt_id)
    return render_template(
        "concerns/receipt.html", receipt=found, just_sent=request.args.get("sent") == "1"
    )
