"""Subject access request pages, for the data protection officer: the list, recording a
request, the request itself (what is held, redacted), extending, redacting, exporting,
releasing, and closing without a release."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from wtforms.fields.choices import SelectChoice

from tracker.auth.permissions import can_handle_subject_access, permission_required, refuse
from tracker.clock import today, uk_date
from tracker.errors import DomainError, render_error
from tracker.extensions import db
from tracker.forms import answers_to
from tracker.pages import form_page
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

    def record() -> SubjectAccessRequest:
        chosen = next((m for m in staff if str(m.id) == form.staff_member.data), None)
        if chosen is None:
            raise DomainError("Choose a member of staff from the list", field="staff_member")
        return record_request(
            chosen, received_on=form.received_on.data, by=current_user, today=today()
        )

    def recorded(created: SubjectAccessRequest):
        flash(
            f"Subject access request recorded. It is due by {uk_date(created.due_on)}.", "success"
        )
        return redirect(url_for("privacy.show_request", request_id=created.id))

    return form_page(
        form,
        record,
        done=recorded,
        page=lambda: render_template("privacy/request_new.html", form=form, has_staff=bool(staff)),
    )


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


# What an extension records: the ground, by how long, and what the person was told.
EXTENSION = ("reason", "further_months", "note")


@bp.route("/privacy/requests/<int:request_id>/extend", methods=["GET", "POST"])
@dpo_only
def extend_request(request_id: int):
    found = _request_or_404(request_id)
    form = ExtendForm()
    return form_page(
        form,
        lambda: extend_deadline(
            found, **answers_to(form, *EXTENSION), by=current_user, today=today()
        ),
        done=lambda due: _back_to_request(request_id, f"Deadline extended to {uk_date(due)}."),
        page=lambda: render_template(
            "privacy/extend.html", sar=_afresh(found, form), form=form, today=today()
        ),
    )


@bp.route("/privacy/requests/<int:request_id>/export", methods=["POST"])
@dpo_only
def export_request(request_id: int):
    found = _request_or_404(request_id)
    form = ExportForm()
    if not form.validate_on_submit():
        flash("The form had expired. Try again.", "error")
        return redirect(url_for("privacy.show_request", request_id=found.id))

    def download(exported: Any) -> Response:
        return Response(
            exported.content,
            mimetype="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="{exported.filename}"',
                "Cache-Control": "no-store",
            },
        )

    try:
        return form_page(
            form,
            lambda: produce_export(found, by=current_user),
            submitted=True,
            done=download,
            refused=lambda error: flash(error.message, "error"),
            page=lambda: redirect(url_for("privacy.show_request", request_id=request_id)),
        )
    except PdfUnavailable as problem:
        # Refused before anything was recorded: the service checks for the PDF library first.
        db.session.rollback()
        return render_error(503, title="The export cannot be made", message=str(problem))


@bp.route("/privacy/requests/<int:request_id>/release", methods=["POST"])
@dpo_only
def release(request_id: int):
    found = _request_or_404(request_id)
    form = ReleaseForm()
    return form_page(
        form,
        lambda: release_request(found, by=current_user),
        done=lambda _: _back_to_request(request_id, "Marked as released to the person."),
        refused=lambda error: flash(error.message, "error"),
        page=lambda: redirect(url_for("privacy.show_request", request_id=request_id)),
    )


@bp.route("/privacy/requests/<int:request_id>/close", methods=["GET", "POST"])
@dpo_only
def close(request_id: int):
    found = _request_or_404(request_id)
    form = CloseForm()
    return form_page(
        form,
        lambda: close_request(found, **answers_to(form, "reason", "note"), by=current_user),
        done=lambda _: _back_to_request(request_id, "Request closed without a release."),
        page=lambda: render_template("privacy/close.html", sar=_afresh(found, form), form=form),
    )


def _afresh(found: SubjectAccessRequest, form: Any) -> SubjectAccessRequest:
    """The request to show again with a form's errors: loaded afresh, since a refusal
    rolled back (and so expired) what was loaded."""
    return _request_or_404(found.id) if form.errors else found


def _back_to_request(request_id: int, message: str):
    flash(message, "success")
    return redirect(url_for("privacy.show_request", request_id=request_id))
