"""Subject access request pages, for the data protection officer: the list, recording a
request, the request itself (what is held, redacted), extending, redacting, exporting,
releasing, and closing without a release."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from wtforms.fields.choices import SelectChoice

from tracker.auth.permissions import can_handle_subject_access, permission_required, refuse
from tracker.clock import today
from tracker.errors import DomainError, render_error
from tracker.extensions import db
from tracker.forms import show_error
from tracker.privacy import bp
from tracker.privacy.forms import (
    CloseForm,
    ExportForm,
    ExtendForm,
    NewRequestForm,
    RedactionForm,
    ReleaseForm,
)
from tracker.privacy.models import ManualRedaction, SubjectAccessRequest
from tracker.privacy.pdf import PdfUnavailable
from tracker.privacy.redaction_views import handle_redaction_form
from tracker.privacy.services import (
    add_request_redaction,
    case_redactions,
    close_request,
    extend_deadline,
    prepare_subject_access,
    produce_export,
    record_request,
    record_request_viewed,
    release_request,
    requests_for,
    staff_of_trust,
)
from tracker.staff.models import StaffMember

dpo_only = permission_required(can_handle_subject_access)


def _request_or_404(request_id: int) -> SubjectAccessRequest:
    """A request of the user's trust; otherwise 404, as if it did not exist."""
    found = db.session.scalar(
        select(SubjectAccessRequest)
        .where(
            SubjectAccessRequest.id == request_id,
            SubjectAccessRequest.trust_id == current_user.trust_id,
        )
        .options(
            joinedload(SubjectAccessRequest.staff_member).joinedload(StaffMember.school),
            selectinload(SubjectAccessRequest.redactions).joinedload(ManualRedaction.added_by),
            selectinload(SubjectAccessRequest.exports),
        )
    )
    if found is None:
        refuse(object_type="subject_access_request", object_id=request_id)
    return found


@bp.route("/privacy/requests")
@dpo_only
def requests():
    return render_template(
        "privacy/requests.html", requests=requests_for(current_user.trust_id), today=today()
    )


@bp.route("/privacy/requests/new", methods=["GET", "POST"])
@dpo_only
def new_request():
    staff = staff_of_trust(current_user.trust_id, excluding_user=current_user)
    form = NewRequestForm()
    form.staff_member.choices = [
        SelectChoice("", "Choose a member of staff"),
        *[
            SelectChoice(
                str(member.id),
                f"{member.full_name}, {member.job_title} ({member.school.name}, "
                f"{member.employee_number})",
            )
            for member in staff
        ],
    ]
    if request.method == "GET":
        form.received_on.data = today()
    if form.validate_on_submit():
        chosen = next((m for m in staff if str(m.id) == form.staff_member.data), None)
        try:
            if chosen is None:
                raise DomainError("Choose a member of staff from the list", field="staff_member")
            created = record_request(
                chosen, received_on=form.received_on.data, by=current_user, today=today()
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            due = created.due_on
            flash(
                f"Subject access request recorded. It is due by {due.day} {due:%B %Y}.", "success"
            )
            return redirect(url_for("privacy.show_request", request_id=created.id))
    return render_template("privacy/request_new.html", form=form, has_staff=bool(staff))


def _request_page(found: SubjectAccessRequest, redaction_form: RedactionForm):
    prepared = prepare_subject_access(found)
    case_ids = [case.id for case in prepared.cases]
    html = render_template(
        "privacy/request.html",
        sar=found,
        prepared=prepared,
        records=prepared.data["cases"],
        case_ids=dict(zip([c["reference"] for c in prepared.data["cases"]], case_ids, strict=True)),
        case_redactions=case_redactions(case_ids),
        redaction_form=redaction_form,
        export_form=ExportForm(),
        release_form=ReleaseForm(),
        today=today(),
    )
    record_request_viewed(found, prepared, by=current_user)
    db.session.commit()
    return html


@bp.route("/privacy/requests/<int:request_id>")
@dpo_only
def show_request(request_id: int):
    return _request_page(_request_or_404(request_id), RedactionForm(formdata=None))


@bp.route("/privacy/requests/<int:request_id>/redactions", methods=["POST"])
@dpo_only
def add_redaction(request_id: int):
    return handle_redaction_form(
        lambda: _request_or_404(request_id),
        add_request_redaction,
        added="Redaction added: the preview below shows the text as it will be exported.",
        preview_url=url_for("privacy.show_request", request_id=request_id, _anchor="preview"),
        page=_request_page,
    )


@bp.route("/privacy/requests/<int:request_id>/extend", methods=["GET", "POST"])
@dpo_only
def extend_request(request_id: int):
    found = _request_or_404(request_id)
    form = ExtendForm()
    if form.validate_on_submit():
        try:
            due = extend_deadline(
                found,
                reason=form.reason.data,
                further_months=form.further_months.data,
                note=form.note.data,
                by=current_user,
                today=today(),
            )
        except DomainError as error:
            db.session.rollback()
            found = _request_or_404(request_id)
            show_error(form, error)
        else:
            db.session.commit()
            flash(f"Deadline extended to {due.day} {due:%B %Y}.", "success")
            return redirect(url_for("privacy.show_request", request_id=found.id))
    return render_template("privacy/extend.html", sar=found, form=form, today=today())


@bp.route("/privacy/requests/<int:request_id>/export", methods=["POST"])
@dpo_only
def export_request(request_id: int):
    found = _request_or_404(request_id)
    form = ExportForm()
    if not form.validate_on_submit():
        flash("The form had expired. Try again.", "error")
        return redirect(url_for("privacy.show_request", request_id=found.id))
    try:
        exported = produce_export(found, by=current_user)
    except PdfUnavailable as problem:
        db.session.rollback()
        return render_error(503, title="The export cannot be made", message=str(problem))
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("privacy.show_request", request_id=request_id))
    db.session.commit()
    return Response(
        exported.content,
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{exported.filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/privacy/requests/<int:request_id>/release", methods=["POST"])
@dpo_only
def release(request_id: int):
    found = _request_or_404(request_id)
    form = ReleaseForm()
    if form.validate_on_submit():
        try:
            release_request(found, by=current_user)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash("Marked as released to the person.", "success")
    return redirect(url_for("privacy.show_request", request_id=request_id))


@bp.route("/privacy/requests/<int:request_id>/close", methods=["GET", "POST"])
@dpo_only
def close(request_id: int):
    found = _request_or_404(request_id)
    form = CloseForm()
    if form.validate_on_submit():
        try:
            close_request(found, reason=form.reason.data, note=form.note.data, by=current_user)
        except DomainError as error:
            db.session.rollback()
            found = _request_or_404(request_id)
            show_error(form, error)
        else:
            db.session.commit()
            flash("Request closed without a release.", "success")
            return redirect(url_for("privacy.show_request", request_id=found.id))
    return render_template("privacy/close.html", sar=found, form=form)
