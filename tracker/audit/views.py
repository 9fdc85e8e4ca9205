"""The auditor's pages: search the trail, export it, and a case's complete history.

Every page here is a read, and every read is itself recorded. Nothing here changes
anything else: there is no form that posts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response, redirect, render_template, request, stream_with_context, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker.audit import bp
from tracker.audit.describe import EventRow
from tracker.audit.export import (
    EXPORT_CHUNK,
    EXPORT_LIMIT,
    csv_lines,
    json_header,
    json_lines,
)
from tracker.audit.forms import AuditSearchForm, CaseHistoryForm
from tracker.audit.history import (
    actors_in,
    case_events_query,
    case_history,
    case_revisions_query,
    people_from_rows,
    people_query,
)
from tracker.audit.names import IdsToName, Names, ids_in_events, names_query
from tracker.audit.search import (
    PAGE_SIZE,
    AuditFilters,
    Cursor,
    FilterOptions,
    case_id_for_reference,
    count_query,
    export_chunk_query,
    filter_options_query,
    options_from_rows,
    page_from_rows,
    page_query,
    present_rows,
)
from tracker.audit.services import record_export, record_search
from tracker.auth.permissions import (
    audit_scope,
    can_audit_case,
    can_read_audit_trail,
    case_in_scope_or_404,
    permission_required,
    refuse,
)
from tracker.cases.loads import HEADER
from tracker.cases.services import record_case_history_viewed
from tracker.clock import uk_time
from tracker.db import utcnow
from tracker.extensions import db


def _search_form() -> tuple[AuditSearchForm, FilterOptions, AuditFilters | None, bool]:
    """The filter form with its choices, the checked filters (None if they are wrong), and
    whether the case filtered on has been disposed of.

    A case reference is looked up here, in the user's scope: one that names no case they
    may read is a message on the field, the same whether or not the case exists.
    """
    rows = db.session.execute(filter_options_query(current_user)).all()
    options = options_from_rows(rows, whole_trust=audit_scope(current_user).whole_trust)
    form = AuditSearchForm(request.args)
    form.offer(options)
    valid = form.validate()
    case_id = None
    disposed = False
    if form.case_reference and not form.case.errors:
        # Looked up even when another filter is wrong, so every problem shows at once.
        found = db.session.execute(case_id_for_reference(current_user, form.case_reference)).first()
        case_id = found.id if found else None
        # A disposed case has no complete history to show, only its events.
        disposed = bool(found and found.disposed)
        if case_id is None:
            form.unknown_case()
            valid = False
    return form, options, form.filters(case_id=case_id) if valid else None, disposed


def _names_of(ids: IdsToName) -> Names:
    """What the page's ids name, for the signed-in user: one statement, however many."""
    query = names_query(current_user, ids)
    return Names.from_rows(db.session.execute(query).all() if query is not None else [])


def _cursor() -> Cursor:
    return Cursor(before=_positive_int("before"), after=_positive_int("after"))


def _positive_int(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**63 else None


def _filter_args() -> dict[str, Any]:
    """The query string without the page position: the same search from its start."""
    return {
        key: request.args.getlist(key) for key in request.args if key not in ("before", "after")
    }


@bp.route("/")
@permission_required(can_read_audit_trail)
def search() -> str:
    form, options, filters, case_disposed = _search_form()
    page = None
    total = None
    if filters is not None:
        cursor = _cursor()
        total, _newest = db.session.execute(count_query(current_user, filters)).one()
        rows = list(db.session.execute(page_query(current_user, filters, cursor)).all())
        names = _names_of(ids_in_events(event for event, _reference, _disposed in rows))
        page = page_from_rows(rows, cursor, options, names=names)
        record_search(current_user, filters, total)
        db.session.commit()
    args = _filter_args()
    return render_template(
        "audit/search.html",
        case_disposed=case_disposed,
        form=form,
        filters=filters,
        page=page,
        total=total,
        page_size=PAGE_SIZE,
        export_limit=EXPORT_LIMIT,
        newer_url=url_for("audit.search", **args, after=page.newest_seq) if page else None,
        older_url=url_for("audit.search", **args, before=page.oldest_seq) if page else None,
        newest_url=url_for("audit.search", **args),
        csv_url=url_for("audit.export_csv", **args),
        json_url=url_for("audit.export_json", **args),
        clear_url=url_for("audit.search"),
    )


# --- exports ---------------------------------------------------------------------------


@bp.route("/export.csv")
@permission_required(can_read_audit_trail)
def export_csv() -> ResponseReturnValue:
    return _export("csv")


@bp.route("/export.json")
@permission_required(can_read_audit_trail)
def export_json() -> ResponseReturnValue:
    return _export("json")


def _export(file_format: str) -> ResponseReturnValue:
    """Every matching event, oldest first, as an attachment.

    The export is recorded (audit.exported) and committed before a byte is sent. The
    file is then written as it is read, a chunk of events per statement, each in a
    short transaction of its own.
    """
    _form, options, filters, _disposed = _search_form()
    if filters is None:
        # The search page shows what is wrong with the filters, with what was typed.
        return redirect(url_for("audit.search", **_filter_args()))
    user = current_user._get_current_object()
    total, newest = db.session.execute(count_query(user, filters)).one()
    truncated = total > EXPORT_LIMIT
    record_export(user, filters, file_format=file_format, results=total, truncated=truncated)
    db.session.commit()

    def events() -> Iterator[EventRow]:
        after, left = 0, min(total, EXPORT_LIMIT)
        while left > 0 and newest is not None:
            chunk = db.session.execute(
                export_chunk_query(
                    user, filters, after=after, up_to=newest, size=min(EXPORT_CHUNK, left)
                )
            ).all()
            records = present_rows(chunk, options)
            # End the read (it wrote nothing) rather than hold a transaction open while
            # the file goes out: on SQLite each one holds the write lock.
            db.session.commit()
            if not records:
                return
            yield from records
            after, left = records[-1].seq, left - len(records)

    exported_at = utcnow()
    stamp = f"{uk_time(exported_at):%Y-%m-%d-%H%M}"
    if file_format == "csv":
        body = csv_lines(events())
        mimetype = "text/csv"
    else:
        header = json_header(
            exported_at=exported_at,
            exported_by=user,
            filters=filters,
            matching=total,
            limit=EXPORT_LIMIT,
            truncated=truncated,
        )
        body = json_lines(header, events())
        mimetype = "application/json"
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="audit-trail-{stamp}.{file_format}"'
    )
    response.headers["X-Audit-Matching-Events"] = str(total)
    if truncated:
        response.headers["X-Audit-Export-Truncated"] = f"first {EXPORT_LIMIT} of {total}"
    return response


# --- a case's complete history ---------------------------------------------------------


@bp.route("/cases/<int:case_id>")
@permission_required(can_read_audit_trail)
def case_history_page(case_id: int) -> str:
    case = case_in_scope_or_404(current_user, case_id, *HEADER)
    if not can_audit_case(current_user, case):
        # Readable through another role, but not its trail: as if it did not exist.
        refuse(object_type="case", object_id=case_id)
    events = list(db.session.scalars(case_events_query(case)))
    revisions = list(db.session.scalars(case_revisions_query(case)))
    people = people_from_rows(db.session.execute(people_query(actors_in(events, revisions))).all())
    form = CaseHistoryForm(request.args)
    form.offer(people, with_system=any(event.actor_id is None for event in events))
    items = None
    if form.validate():
        names = _names_of(ids_in_events(events, revisions))
        history = case_history(case, events, revisions, {p.id: p.name for p in people}, names)
        items = [
            item for item in history if item.shown_in(form.view) and item.is_by(form.actor_filter)
        ]
        record_case_history_viewed(case, by=current_user, page="audit")
        db.session.commit()
    return render_template(
        "audit/case_history.html",
        case=case,
        form=form,
        items=items,
        event_count=len(events),
        revision_count=len(revisions),
        clear_url=url_for("audit.case_history_page", case_id=case.id),
        trail_url=url_for("audit.search", case=case.reference),
    )
