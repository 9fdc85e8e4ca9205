"""The case list: filter, search, sort and page through the cases a user may see."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template, request, url_for
from flask_login import current_user

from tracker.auth.permissions import can_read_cases, permission_required, reporting_scope
from tracker.cases import bp
from tracker.cases.list_forms import CaseFilterForm
from tracker.cases.listing import (
    DEFAULT_PAGE_SIZE,
    CaseFilters,
    Sort,
    case_list_query,
    clamp_page,
    clamp_page_size,
    filter_options_query,
    options_from_rows,
    page_from_rows,
)
from tracker.cases.services import record_case_list_viewed
from tracker.extensions import db


@bp.route("/")
@permission_required(can_read_cases)
def index():
    # Two statements to read (see tracker/cases/listing.py): the form's choices, then the
    # page; nothing the template reads may load lazily. Then two to record the read in
    # the audit trail, once the page has rendered.
    options = options_from_rows(db.session.execute(filter_options_query(current_user)).all())
    form = CaseFilterForm(request.args)
    form.offer(options)
    per_page = clamp_page_size(request.args.get("per_page"))
    page = None
    filters = None
    if form.validate():
        filters = form.filters(page=clamp_page(request.args.get("page")), per_page=per_page)
        rows = db.session.execute(case_list_query(current_user, filters)).all()
        page = page_from_rows(rows, filters)
    html = render_template(
        "cases/list.html",
        form=form,
        filters=filters,
        page=page,
        page_url=lambda number: _list_url(filters, number),
        clear_url=_list_url(CaseFilters(per_page=per_page), 1),
        # Kept when the filters are applied again (there is no box for it).
        per_page=per_page if per_page != DEFAULT_PAGE_SIZE else None,
        can_report=not reporting_scope(current_user).is_empty,
    )
    if page is not None:  # a form with errors lists nothing, so nothing was read
        record_case_list_viewed(filters, page, by=current_user)
        db.session.commit()
    return html


def _list_url(filters: CaseFilters, page: int) -> str:
    """The list with the same filters, sort and page size, at another page."""
    args: dict[str, Any] = {
        "q": filters.search,
        "school": filters.school_id,
        "status": filters.status,
        "track": filters.track,
        "clause": filters.clause,
        "platform": filters.platform,
        "reported_from": _date_parts(filters.reported_from),
        "reported_to": _date_parts(filters.reported_to),
        "sort": filters.sort.value if filters.sort is not Sort.NEWEST else None,
        "per_page": filters.per_page if filters.per_page != DEFAULT_PAGE_SIZE else None,
        "page": page if page > 1 else None,
    }
    return url_for("cases.index", **{key: value for key, value in args.items() if value})


def _date_parts(value: date | None) -> list[str] | None:
    """A date as the three boxes of the date input send it: day, month, year."""
    return [str(value.day), str(value.month), str(value.year)] if value else None
