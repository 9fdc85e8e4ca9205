"""A case's hearing pack: the page that prepares it (redactions, a preview) and the PDF.

For those who work on or decide the case and the data protection officer; a case outside
the user's scope (the subject's own included) is not found, a reader who may not
prepare the pack (an auditor) is refused.
"""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, url_for
from flask_login import current_user

from tracker.auth.permissions import can_prepare_hearing_pack, case_in_scope_or_404, refuse
from tracker.cases.models import Case
from tracker.cases.services import record_case_viewed
from tracker.errors import DomainError, render_error
from tracker.extensions import db
from tracker.forms import show_error
from tracker.privacy import bp
from tracker.privacy.forms import RedactionForm
from tracker.privacy.pdf import PdfUnavailable
from tracker.privacy.services import (
    add_case_redaction,
    case_redactions,
    case_with_content,
    prepare_hearing_pack,
    produce_hearing_pack,
)


def _case_for_pack(case_id: int) -> Case:
    case = case_in_scope_or_404(current_user, case_id)
    if not can_prepare_hearing_pack(current_user, case):
        refuse(object_type="case", object_id=case.id, out_of_scope=False)
    return case_with_content(case.id)


@bp.route("/cases/<int:case_id>/hearing-pack", methods=["GET", "POST"])
def hearing_pack(case_id: int):
    case = _case_for_pack(case_id)
    form = RedactionForm()
    if form.validate_on_submit():
        try:
            add_case_redaction(
                case, phrase=form.phrase.data, reason=form.reason.data, by=current_user
            )
        except DomainError as error:
            db.session.rollback()
            case = _case_for_pack(case_id)
            show_error(form, error)
        else:
            db.session.commit()
            flash(
                "Redaction added: the preview below shows the text as the pack prints it.",
                "success",
            )
            return redirect(url_for("privacy.hearing_pack", case_id=case.id, _anchor="preview"))
    pack = prepare_hearing_pack(case)
    html = render_template(
        "privacy/hearing_pack.html",
        case=case,
        record=pack["case"],
        redactions=case_redactions([case.id]),
        redaction_count=pack["redactions"]["count"],
        form=form,
    )
    record_case_viewed(case, by=current_user, page="hearing_pack")
    db.session.commit()
    return html


@bp.route("/cases/<int:case_id>/hearing-pack.pdf")
def hearing_pack_pdf(case_id: int):
    case = _case_for_pack(case_id)
    try:
        pack = produce_hearing_pack(case, by=current_user)
    except PdfUnavailable as problem:
        db.session.rollback()
        return render_error(503, title="The hearing pack cannot be made", message=str(problem))
    db.session.commit()
    return Response(
        pack.content,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{pack.filename}"',
            "Cache-Control": "no-store",
        },
    )
