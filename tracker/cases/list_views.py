"""The case list: filter, search, sort and page through the cases a user may see."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import Any

from flask import Response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from tracker.auth.permissions import can_read_cases, permission_required, reporting_scope
from tracker.cases import bp
from tracker.cases.list_export import csv_text
from tracker.cases.list_forms import CaseFilterForm
from tracker.cases.listing import (
    DEFAULT_PAGE_SIZE,
    EXPORT_LIMIT,
    CaseFilters,
    CasePage,
    FilterOptions,
    RowAddresses,
    Sort,
    case_list_query,
    clamp_page,
    clamp_page_size,
    decode_cursor,
    export_query,
    filter_options_query,
    options_from_rows,
    page_from_rows,
)
from tracker.cases.services import record_case_list_exported, record_case_list_viewed
from tracker.clock import uk_time
from tracker.db import utcnow
from tracker.extensions import db


@bp.route("/")
@permission_required(can_read_cases)
def index():
    # Two statements to read (see tracker/cases/listing.py): the form's choices, then the
    # page with its count; nothing the template reads may load lazily. Then two to record
    # the read in the audit trail, once the page has rendered.
    options = options_from_rows(list(db.session.execute(filter_options_query(current_user))))
    form = CaseFilterForm(request.args)
    form.offer(options)
    per_page = clamp_page_size(request.args.get("per_page"))
    page = None
    filters = None
    if form.validate():
        filters = _with_cursor(form.filters(page=1, per_page=per_page))
        rows = list(db.session.execute(*case_list_query(current_user, filters)))
        page = page_from_rows(rows, filters, utcnow(), RowAddresses.from_router(url_for))
    html = render_template(
        "cases/list.html",
        form=form,
        filter_form=_filter_form(form, options, per_page),
        filters=filters,
        page=page,
        first_url=_list_url(filters, 1) if filters else None,
        previous_url=_previous_url(filters, page)
        if filters and page and page.has_previous
        else None,
        next_url=_list_url(filters, page.page + 1, after=page.next_cursor)
        if filters and page and page.has_next
        else None,
        clear_url=_list_url(CaseFilters(per_page=per_page), 1),
        export_url=url_for("cases.export_csv", **_filter_args(filters)) if filters else None,
        export_limit=EXPORT_LIMIT,
        # Kept when the filters are applied again (there is no box for it).
        per_page=per_page if per_page != DEFAULT_PAGE_SIZE else None,
        can_report=not reporting_scope(current_user).is_empty,
        # One school: every case is at it, so the column would say the same on each row.
        show_school=len(options.schools) > 1,
    )
    if filters and page:  # a form with errors lists nothing, so nothing was read
        record_case_list_viewed(filters, page, by=current_user)
        db.session.commit()
    return html


@bp.route("/export.csv")
@permission_required(can_read_cases)
def export_csv() -> ResponseReturnValue:
    """Every case the list's filters match, all pages, in the list's order, as CSV: at
    most EXPORT_LIMIT of them (the file's last line says when more match). Recorded
    (case.list.exported) and committed before the file is sent. Filters with a problem
    go back to the list, which shows it."""
    options = options_from_rows(list(db.session.execute(filter_options_query(current_user))))
    form = CaseFilterForm(request.args)
    form.offer(options)
    if not form.validate():
        typed: dict[str, Any] = request.args.to_dict(flat=False)
        return redirect(url_for("cases.index", **typed))
    filters = form.filters(page=1, per_page=DEFAULT_PAGE_SIZE)
    limit = EXPORT_LIMIT
    rows = list(db.session.execute(*export_query(current_user, filters, limit=limit)))
    truncated = len(rows) > limit
    rows = rows[:limit]
    record_case_list_exported(filters, rows=len(rows), truncated=truncated, by=current_user)
    db.session.commit()
    stamp = f"{uk_time(utcnow()):%Y-%m-%d-%H%M}"
    return Response(
        csv_text(rows, truncated_at=limit if truncated else None),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="cases-{stamp}.csv"'},
    )


def _filter_form(form: CaseFilterForm, options: FilterOptions, per_page: int) -> Markup:
    """The filter form's HTML. Its GOV.UK macros cost more than the page's SQL, and the
    same choices and values always render the same, so a form without errors comes from
    a small cache of renderings (per process; nothing in it belongs to a user)."""
    if form.errors:
        return _render_filter_form(form, per_page)
    return _cached_filter_form(
        tuple(options.schools),
        tuple(options.clause_references),
        tuple(request.args.items(multi=True)),
        per_page,
    )


@lru_cache(maxsize=512)
def _cached_filter_form(
    schools: tuple[tuple[int, str], ...],
    clause_references: tuple[str, ...],
    args: tuple[tuple[str, str], ...],
    per_page: int,
) -> Markup:
    form = CaseFilterForm(MultiDict(args))
    form.offer(FilterOptions(schools=list(schools), clause_references=list(clause_references)))
    form.validate()
    return _render_filter_form(form, per_page)


def _render_filter_form(form: CaseFilterForm, per_page: int) -> Markup:
    # Our own template's output, already escaped by Jinja's autoescaping.
    return Markup(  # noqa: S704 # nosec B704
        render_template(
            "cases/_filter_form.html",
            form=form,
            active=form.active(),
            # Folded away unless a field in it needs correcting: the results come first.
            open_filters=any(field.errors for field in form if field.name != "q"),
            per_page=per_page if per_page != DEFAULT_PAGE_SIZE else None,
            clear_url=_list_url(CaseFilters(per_page=per_page), 1),
        )
    )


def _with_cursor(filters: CaseFilters) -> CaseFilters:
    """The filters with the page's cursor from the address; without a valid one (a
    made-up or stale address, or a cursor for another sort) the list starts again."""
    after = decode_cursor(request.args.get("after"), filters.sort)
    before = None if after is not None else decode_cursor(request.args.get("before"), filters.sort)
    if after is None and before is None:
        return filters
    return replace(filters, after=after, before=before, page=clamp_page(request.args.get("page")))


def _previous_url(filters: CaseFilters, page: CasePage) -> str:
    if page.page <= 2:
        return _list_url(filters, 1)
    return _list_url(filters, page.page - 1, before=page.previous_cursor)


def _list_url(
    filters: CaseFilters, page: int, *, after: str | None = None, before: str | None = None
) -> str:
    """The list with the same filters, sort and page size, at another page: the first,
    or the one after (before) the case whose cursor is given."""
    args: dict[str, Any] = {
        **_filter_args(filters),
        "per_page": filters.per_page if filters.per_page != DEFAULT_PAGE_SIZE else None,
        "page": page if page > 1 else None,
        "after": after,
        "before": before,
    }
    return url_for("cases.index", **{key: value for key, value in args.items() if value})


def _filter_args(filters: CaseFilters) -> dict[str, Any]:
    """The filters and the sort as the filter form sends them (no paging)."""
    args: dict[str, Any] = {
        "q": filters.search,
        "waiting": filters.waiting,
        "school": filters.school_id,
        "status": filters.status,
        "track": filters.track,
        "clause": filters.clause,
        "platform": filters.platform,
        "reported_from": _date_parts(filters.reported_from),
        "reported_to": _date_parts(filters.reported_to),
        "sort": filters.sort.value if filters.sort is not Sort.NEWEST else None,
    }
    return {key: value for key, value in args.items() if value}


def _date_parts(value: date | None) -> list[str] | None:
    """A date as the three boxes of the date input send it: day, month, year."""
    return [str(value.day), str(value.month), str(value.year)] if value else None
