"""A case's hearing pack: the page that prepares it (redactions, a preview) and the PDF.

For those who work on or decide the case and the data protection officer; a case outside
the user's scope (the subject's own included) is not found, a reader who may not
prepare the pack (an auditor) is refused.
"""

from __future__ import annotations

from flask import Response, render_template, url_for
from flask_login import current_user

from tracker.auth.permissions import can_prepare_hearing_pack, case_in_scope_or_404, refuse
from tracker.cases.models import Case
from tracker.cases.services import record_case_viewed
from tracker.errors import render_error
from tracker.extensions import db
from tracker.privacy import bp
from tracker.privacy.forms import RedactionForm
from tracker.privacy.pdf import PdfUnavailable
from tracker.privacy.redaction_views import handle_redaction_form
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


def _hearing_pack_page(case: Case, form: RedactionForm) -> str:
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


@bp.route("/cases/<int:case_id>/hearing-pack", methods=["GET", "POST"])
def hearing_pack(case_id: int):
    return handle_redaction_form(
        lambda: _case_for_pack(case_id),
        add_case_redaction,
        added="Redaction added: the preview below shows the text as the pack prints it.",
        preview_url=url_for("privacy.hearing_pack", case_id=case_id, _anchor="preview"),
        page=_hearing_pack_page,
    )


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
