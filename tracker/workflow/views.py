"""The pages of a case's steps: one route per step of the action registry, all answered
by one view path (`take_step`).

The path: load the case in the user's scope (else 404, as if it did not exist); refuse,
with the audited 403, someone who may never take this step here; on GET show the form
(recording a read of the case where the form shows its content), with why the step
cannot go ahead now, if it cannot, in the error summary; on POST validate, call the
step's service, commit once, and put a refusal on the form with what was typed kept.
After the commit, whoever the case now waits for is told (after the response).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import joinedload

from tracker.auth.permissions import case_in_scope_or_404, refuse
from tracker.cases.models import Case
from tracker.cases.services import record_case_viewed
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.forms import show_error
from tracker.notifications.services import notify_after_commit
from tracker.pages import form_page
from tracker.workflow import bp
from tracker.workflow.calls import Done, StepCall
from tracker.workflow.panel import offered_actions, workflow_panel
from tracker.workflow.registry import STEPS, Step, belongs_here, refusal

# Every step's page shows the case's reference and its subject.
_ALWAYS = (joinedload(Case.school), joinedload(Case.subject))


def take_step(step: Step, case_id: int, **address: int) -> ResponseReturnValue:
    """Answer a request for `step`'s page on case `case_id` (the path in the module's
    docstring). `address` holds any further part of the page's address (an item's id)."""
    page = step.page
    case = case_in_scope_or_404(current_user, case_id, *_ALWAYS, *page.loads)
    if not belongs_here(step, case, current_user):
        refuse(object_type="case", object_id=case.id, out_of_scope=False)
    call = StepCall(
        step=step,
        case=case,
        form=page.form(),
        by=current_user,
        item=page.item(case, *address.values()) if page.item else None,
        offered=offered_actions(case, current_user),
    )
    if page.prepare and (answer := page.prepare(call)) is not None:
        return answer

    def refused(error: DomainError) -> None:
        # The refusal rolled back, and so expired, what was loaded: load it again here,
        # so that the page's template reaches nothing itself.
        call.case = case_in_scope_or_404(current_user, case_id, *_ALWAYS, *page.loads)
        if page.item:
            call.item = page.item(call.case, *address.values())
        if page.refused:
            page.refused(call, error)
        else:
            show_error(call.form, error)

    return form_page(
        call.form,
        lambda: page.run(call),
        done=lambda result: _done(case, result),
        page=lambda: _show(call),
        refused=refused,
    )


def _show(call: StepCall) -> str:
    """The step's page: its form, what its template shows, and why the step cannot go
    ahead now (if so) in the error summary."""
    step, case, form = call.step, call.case, call.form
    problem = refusal(case, step.action, call.by)
    if problem and problem not in form.form_errors:
        form.form_errors.append(problem)
    context: dict[str, Any] = dict(step.page.context(call)) if step.page.context else {}
    if step.page.shows_panel:
        context["panel"] = workflow_panel(case, call.by)
    html = render_template(
        step.page.template, case=case, form=form, item=call.item, **call.shown, **context
    )
    if request.method == "GET" and step.page.read_as:
        # The page shows the case's content: opening it is a read of the case, recorded
        # once the page has rendered (the audit chain's lock is then held only briefly).
        record_case_viewed(case, by=call.by, page=step.page.read_as)
        db.session.commit()
    return html


def _done(case: Case, result: Done) -> ResponseReturnValue:
    # Whoever the step now waits for is told once this response has gone; the scheduled
    # `reminders send` sends anything that could not be.
    notify_after_commit(case.id)
    flash(result.message, "success")
    if result.note:
        flash(result.note, "info")
    return redirect(url_for("cases.show", case_id=case.id, _anchor=result.anchor))


def _view_for(step: Step) -> Callable[..., ResponseReturnValue]:
    def view(case_id: int, **address: int) -> ResponseReturnValue:
        return take_step(step, case_id, **address)

    view.__name__ = view.__qualname__ = step.action.value
    return view


for _step in STEPS.values():
    bp.add_url_rule(
        _step.page.path,
        endpoint=_step.action.value,
        view_func=_view_for(_step),
        methods=["GET", "POST"],
    )
