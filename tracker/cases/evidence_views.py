"""Downloading an item of evidence (adding and removing one are steps of the action
registry, tracker/workflow/registry.py)."""

from __future__ import annotations

from io import BytesIO

from flask import abort, send_file
from flask_login import current_user

from tracker.auth.permissions import case_in_scope_or_404
from tracker.cases import bp
from tracker.cases.evidence import StoredFileProblem, download_filename, file_for_download
from tracker.cases.steps import evidence_of
from tracker.extensions import db


@bp.route("/<int:case_id>/evidence/<int:evidence_id>")
def download_evidence(case_id: int, evidence_id: int):
    case = case_in_scope_or_404(current_user, case_id)
    evidence = evidence_of(case, evidence_id)
    if evidence.is_removed:
        abort(404)
    try:
        content = file_for_download(evidence, by=current_user)
    except StoredFileProblem:
        # The failed attempt (outcome error) stays on the trail; the error page follows.
        db.session.commit()
        raise
    db.session.commit()
    response = send_file(
        BytesIO(content),
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
