"""Evidence pages: upload, download and removal."""

from __future__ import annotations

from datetime import datetime, time

from flask import abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from tracker.auth.permissions import can_work_on_case, case_in_scope_or_404, refuse
from tracker.cases import bp
from tracker.cases.evidence import (
    Provenance,
    StoredFileProblem,
    add_evidence,
    download_filename,
    file_for_download,
    file_size_in_words,
    remove_evidence,
    type_label,
)
from tracker.cases.evidence_forms import ACCEPT, EvidenceForm, RemoveEvidenceForm
from tracker.cases.models import Case, Evidence, PostVisibility
from tracker.clock import uk_time
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.forms import show_error


# Filters for the evidence list (templates/cases/_evidence_list.html), which the case page
# includes: registered on the app, because that page is rendered by another view.
@bp.app_template_filter("uk_datetime")
def uk_datetime(moment: datetime | None, *, date_only_at_midnight: bool = False) -> str:
    """27 March 2026, 14:05 in UK time (just the date, if asked, for a time of 00:00)."""
    if moment is None:
        return ""
    local = uk_time(moment)
    on = f"{local.day} {local:%B %Y}"
    if date_only_at_midnight and local.time() == time(0):
        return on
    return f"{on}, {local:%H:%M}"


@bp.app_template_filter("breakable")
def breakable(value: str, every: int = 16) -> Markup:
    """Text that may wrap every few characters (a hash or a web address in a table)."""
    pieces = [escape(value[i : i + every]) for i in range(0, len(value), every)]
    return Markup("<wbr>").join(pieces)


_VISIBILITY_WORDS = {
    PostVisibility.PUBLIC.value: "Public post: anyone could see it",
    PostVisibility.PRIVATE.value: "Private post: friends, followers or a closed group",
    PostVisibility.UNKNOWN.value: "Not known whether the post was public",
}


@bp.app_template_filter("post_visibility")
def post_visibility_in_words(value: str) -> str:
    return _VISIBILITY_WORDS.get(value, value)


bp.add_app_template_filter(file_size_in_words, "file_size")
bp.add_app_template_filter(type_label, "evidence_type")


def _case_to_work_on(case_id: int) -> Case:
    """The case, if the user may change it: 404 outside their scope, 403 if read-only."""
    case = case_in_scope_or_404(current_user, case_id)
    if not can_work_on_case(current_user, case):
        refuse(object_type="case", object_id=case.id, out_of_scope=False)
    return case


def _evidence_of(case: Case, evidence_id: int) -> Evidence:
    """An item of this case (an id from another case answers 404, as if unknown)."""
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None:
        abort(404)
    if evidence.case_id != case.id:
        # Someone reached for another case's evidence through this one: audited.
        refuse(object_type="evidence", object_id=evidence.id)
    return evidence


def _case_page(case: Case):
    return redirect(url_for("cases.show", case_id=case.id, _anchor="evidence"))


@bp.route("/<int:case_id>/evidence/new", methods=["GET", "POST"])
def new_evidence(case_id: int):
    case = _case_to_work_on(case_id)
    form = EvidenceForm()
    form.describe_file_limits(current_app.config["EVIDENCE_MAX_MB"])
    if form.validate_on_submit():
        upload = form.file.data
        try:
            evidence = add_evidence(
                case,
                content=upload.stream,
                filename=upload.filename or "",
                provenance=Provenance(
                    description=form.description.data or "",
                    source_url=form.source_url.data or "",
                    captured_on=form.captured_on.data,
                    captured_time=form.captured_time.data,
                    captured_by=form.captured_by.data or "",
                    post_visibility=form.post_visibility.data or "",
                ),
                by=current_user,
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            flash(f"{evidence.original_filename} added to the evidence.", "success")
            return _case_page(case)
    if form.errors and form.file.data and not form.file.errors:
        # Browsers never send a chosen file back with the page: say so where it matters.
        form.file.errors = ["Choose the file again: it is not kept when the page shows an error"]
    return render_template("cases/evidence_new.html", case=case, form=form, accept=ACCEPT)


@bp.route("/<int:case_id>/evidence/<int:evidence_id>")
def download_evidence(case_id: int, evidence_id: int):
    case = case_in_scope_or_404(current_user, case_id)
    evidence = _evidence_of(case, evidence_id)
    if evidence.is_removed:
        abort(404)
    try:
        path = file_for_download(evidence, by=current_user)
    except StoredFileProblem:
        # The failed attempt (outcome error) stays on the trail; the error page follows.
        db.session.commit()
        raise
    db.session.commit()
    response = send_file(
        path,
        mimetype=evidence.content_type,
        as_attachment=True,
        download_name=download_filename(evidence),
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Should a browser ever render it anyway: no scripts, no requests, its own origin.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route(
    "/<int:case_id>/evidence/<int:evidence_id>/remove",
    methods=["GET", "POST"],
    endpoint="remove_evidence",
)
def remove_evidence_page(case_id: int, evidence_id: int):
    case = case_in_scope_or_404(current_user, case_id)
    evidence = _evidence_of(case, evidence_id)
    if not can_work_on_case(current_user, case):
        # They can see the case (else the 404 above), but not change it.
        refuse(object_type="case", object_id=case.id, out_of_scope=False)
    if evidence.is_removed:
        flash(f"{evidence.original_filename} was already removed.", "info")
        return _case_page(case)
    form = RemoveEvidenceForm()
    if form.validate_on_submit():
        try:
            remove_evidence(evidence, reason=form.reason.data or "", by=current_user)
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            flash(f"{evidence.original_filename} removed. Its record stays on the case.", "success")
            return _case_page(case)
    return render_template("cases/evidence_remove.html", case=case, evidence=evidence, form=form)
