"""The one path every form page takes: validate, call one service, commit once, or show
the service's refusal on the form with everything typed kept.

Views (and the workflow's step pages, tracker/workflow/views.py) describe their page
with this function's arguments and never write the try/rollback/commit block themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask.typing import ResponseReturnValue

from tracker.errors import DomainError
from tracker.extensions import db
from tracker.forms import show_error

T = TypeVar("T")


def form_page(
    form: Any,
    service: Callable[[], T],
    *,
    done: Callable[[T], ResponseReturnValue],
    page: Callable[[], ResponseReturnValue],
    submitted: bool | None = None,
    refused: Callable[[DomainError], None] | None = None,
    keep_on_refusal: bool = False,
) -> ResponseReturnValue:
    """Answer a form page's request.

    A valid POST (or `submitted`, when the view checked the form its own way) calls
    `service`: one service call, which changes objects, records its audit event and
    raises a DomainError to refuse. Then one commit, and `done(result)` says what
    happened and where to go (a flash and a redirect; side effects that leave the
    process come after the commit, here). A refusal rolls back (or commits, with
    `keep_on_refusal`, where the refusal itself is recorded: a wrong password counts
    towards the lockout) and goes on the form through `refused` (by default on the field
    it names, else the whole form). Anything else, and a refusal, shows `page()`.
    """
    if form.validate_on_submit() if submitted is None else submitted:
        try:
            result = service()
        except DomainError as error:
            if keep_on_refusal:
                db.session.commit()
            else:
                db.session.rollback()
            if refused is None:
                show_error(form, error)
            else:
                refused(error)
        else:
            db.session.commit()
            return done(result)
    return page()
