"""Importing the staff register from a CSV file: upload, preview, confirm.

Nothing is written until the person confirms the preview. The file travels from the
preview to the confirmation inside the page, signed with SECRET_KEY for this user and
for an hour, so the server keeps no copy of it; the confirmation carries the digest of
the plan previewed, and the import is refused if the plan made again differs.
"""

from __future__ import annotations

import base64
import zlib

from flask import Response, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from tracker.auth.permissions import (
    can_keep_staff_register,
    permission_required,
    staff_register_scope,
)
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.staff import bp
from tracker.staff.forms import StaffImportConfirmForm, StaffImportForm
from tracker.staff.imports import COLUMNS, FIELDS, Plan, apply_import, plan_import, template_csv
from tracker.staff.views import FIELD_WORDS

PREVIEW_SECONDS = 3600


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="tracker staff import")


def _token_for(content: bytes, filename: str) -> str:
    packed = base64.b64encode(zlib.compress(content, 6)).decode()
    return _signer().dumps({"user": current_user.id, "file": packed, "name": filename})


def _upload_of(token: str) -> tuple[bytes, str] | None:
    """The file (and its name) a preview carried, if the token is this user's and fresh."""
    try:
        payload = _signer().loads(token, max_age=PREVIEW_SECONDS)
    except BadSignature:  # also an expired one
        return None
    if not isinstance(payload, dict) or payload.get("user") != current_user.id:
        return None
    return zlib.decompress(base64.b64decode(payload["file"])), str(payload.get("name", ""))


def _preview(plan: Plan, content: bytes, filename: str, *, error: str | None = None):
    form = StaffImportConfirmForm(formdata=None)
    form.upload_token.data = _token_for(content, filename)
    form.plan_digest.data = plan.digest()
    if error:
        form.form_errors.append(error)
    return render_template(
        "staff/import_preview.html",
        plan=plan,
        form=form,
        filename=filename,
        field_words=FIELD_WORDS,
        fields=FIELDS,
    )


@bp.route("/import", methods=["GET", "POST"])
@permission_required(can_keep_staff_register)
def import_register():
    form = StaffImportForm()
    if form.validate_on_submit():
        upload = form.csv_file.data
        if upload is None or not getattr(upload, "filename", ""):
            form.csv_file.errors = ["Select a CSV file"]
        else:
            content = upload.read()
            plan = plan_import(content, scope=staff_register_scope(current_user))
            # Read only: end the transaction (objects stay loaded), so that nothing is
            # held while the page renders.
            db.session.commit()
            if plan.problem is None:
                return _preview(plan, content, upload.filename)
            form.csv_file.errors = [plan.problem]
    return render_template("staff/import.html", form=form, columns=list(COLUMNS.values()))


@bp.route("/import/confirm", methods=["POST"])
@permission_required(can_keep_staff_register)
def confirm_import():
    form = StaffImportConfirmForm()
    upload = _upload_of(form.upload_token.data or "") if form.validate_on_submit() else None
    if upload is None:
        flash(
            "The preview was more than an hour old, or could not be read. Upload the file again.",
            "error",
        )
        return redirect(url_for("staff.import_register"))
    content, filename = upload
    scope = staff_register_scope(current_user)
    try:
        applied = apply_import(
            content, scope=scope, expected=form.plan_digest.data or "", by=current_user
        )
    except DomainError as error:
        db.session.rollback()
        plan = plan_import(content, scope=scope)
        db.session.commit()
        if plan.problem is not None:
            flash(str(error), "error")
            return redirect(url_for("staff.import_register"))
        return _preview(plan, content, filename, error=str(error))
    db.session.commit()
    flash(
        f"Staff register imported: {applied.added} added, {applied.changed} changed, "
        f"{applied.unchanged} unchanged"
        + (f", {applied.refused} rows refused" if applied.refused else "")
        + ".",
        "success",
    )
    return redirect(url_for("staff.index"))


@bp.route("/import/template.csv")
@permission_required(can_keep_staff_register)
def import_template() -> Response:
    return Response(
        template_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="staff-register-template.csv"'},
    )
