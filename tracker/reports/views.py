"""The governance report's pages and exports.

One page (`/reports/`, a GET form and the report under it) and its two files, each a read
recorded in the audit trail (report.viewed, report.exported) in the request's one commit.
Who may see it and which schools it reaches: `can_read_reports` and `report_scope`
(tracker/auth/permissions.py); the chair of trustees gets small numbers suppressed.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from flask import Response, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from tracker.auth.models import User
from tracker.auth.permissions import (
    can_read_reports,
    permission_required,
    report_scope,
    report_suppresses_small_numbers,
    schools_in_scope,
)
from tracker.clock import today
from tracker.db import utcnow
from tracker.errors import render_error
from tracker.extensions import db
from tracker.orgs.services import current_trust_name
from tracker.privacy.pdf import PdfUnavailable, check_available
from tracker.reports import bp, exports
from tracker.reports.forms import ReportChoice, ReportForm
from tracker.reports.periods import TERM_DEFINITION
from tracker.reports.present import ReportView, present
from tracker.reports.queries import ReportScope, viewer_staff_ids
from tracker.reports.services import (
    build_report,
    record_report_exported,
    record_report_viewed,
)


def _form(user: User) -> tuple[ReportForm, dict[int, str], ReportChoice | None]:
    """The form with its choices, the schools the report reaches, and the checked choice
    (None when the form has errors)."""
    scope = report_scope(user)
    schools = [(school.id, school.name) for school in db.session.scalars(schools_in_scope(scope))]
    form = ReportForm(request.args)
    form.offer(today=today(), schools=schools, whole_trust=scope.whole_trust)
    return form, dict(schools), form.choice() if form.validate() else None


def _form_html(form: ReportForm, schools: dict[int, str], *, whole_trust: bool) -> Markup:
    """The form's HTML. Its GOV.UK macros (three selects, two date inputs, the radios)
    cost more than anything else on the page but the SQL, and the same choices and values
    always render the same, so a form without errors comes from a small per-process
    cache (nothing in it belongs to a user), as the case list's filter form does."""
    if form.errors:
        return _render_form(form)
    return _cached_form(
        today(), tuple(schools.items()), whole_trust, tuple(request.args.items(multi=True))
    )


@lru_cache(maxsize=512)
def _cached_form(
    day: date,
    schools: tuple[tuple[int, str], ...],
    whole_trust: bool,
    args: tuple[tuple[str, str], ...],
) -> Markup:
    form = ReportForm(MultiDict(args))
    form.offer(today=day, schools=list(schools), whole_trust=whole_trust)
    form.validate()
    return _render_form(form)


def _render_form(form: ReportForm) -> Markup:
    # Our own template's output, already escaped by Jinja's autoescaping.
    return Markup(render_template("reports/_form.html", form=form))  # noqa: S704 # nosec B704


def _report(user: User, choice: ReportChoice, schools: dict[int, str]) -> ReportView:
    scope = report_scope(user)
    if choice.school_id is not None:
        place = schools[choice.school_id]
        names = {choice.school_id: place}
    elif len(schools) == 1:
        place = next(iter(schools.values()))
        names = schools
    else:
        trust = current_trust_name() or "the trust"
        place = f"{trust}, all schools" if scope.whole_trust else "All your schools"
        names = schools
    data = build_report(
        ReportScope(
            trust_id=user.trust_id,
            schools=scope,
            viewer_staff_ids=frozenset(db.session.scalars(viewer_staff_ids(user.id))),
            school_id=choice.school_id,
        ),
        choice.period,
        place=place,
        school_names=names,
        today=today(),
        now=utcnow(),
    )
    below = current_app.config["REPORT_SUPPRESS_BELOW"]
    return present(data, suppress_below=below if report_suppresses_small_numbers(user) else None)


@bp.route("/")
@permission_required(can_read_reports)
def index() -> str:
    user = current_user._get_current_object()
    form, schools, choice = _form(user)
    report = _report(user, choice, schools) if choice else None
    html = render_template(
        "reports/index.html",
        form=form,
        report_form=_form_html(form, schools, whole_trust=report_scope(user).whole_trust),
        report=report,
        term_definition=TERM_DEFINITION,
        csv_url=url_for("reports.export_csv", **choice.args()) if choice else None,
        pdf_url=url_for("reports.export_pdf", **choice.args()) if choice else None,
    )
    if report is not None and choice is not None:  # a form with errors reads nothing
        record_report_viewed(
            report.data,
            period_kind=choice.kind.value,
            suppressed=report.suppressed_below is not None,
            by=user,
        )
        db.session.commit()
    return html


@bp.route("/report.csv")
@permission_required(can_read_reports)
def export_csv() -> ResponseReturnValue:
    return _export("csv")


@bp.route("/report.pdf")
@permission_required(can_read_reports)
def export_pdf() -> ResponseReturnValue:
    return _export("pdf")


def _export(file_format: str) -> ResponseReturnValue:
    """The report as a file. Recorded (report.exported) and committed before it is sent;
    a choice with errors goes back to the page, which shows them."""
    user = current_user._get_current_object()
    _form_, schools, choice = _form(user)
    if choice is None:
        typed: dict[str, Any] = request.args.to_dict(flat=False)
        return redirect(url_for("reports.index", **typed))
    if file_format == "pdf":
        try:
            check_available()
        except PdfUnavailable as problem:
            return render_error(503, title="The PDF cannot be made", message=str(problem))
    report = _report(user, choice, schools)
    produced_at = utcnow()
    if file_format == "csv":
        content: bytes | str = exports.csv_text(report, produced_at=produced_at)
        mimetype = "text/csv"
    else:
        content = exports.pdf_bytes(
            report, produced_at=produced_at, trust_name=current_trust_name() or ""
        )
        mimetype = "application/pdf"
    record_report_exported(
        report.data,
        period_kind=choice.kind.value,
        file_format=file_format,
        suppressed=report.suppressed_below is not None,
        by=user,
    )
    db.session.commit()
    name = exports.filename(report, produced_at, file_format)
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
