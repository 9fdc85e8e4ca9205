"""Domain exceptions, the two checks of typed input every service makes (a choice from
a list, a text that must be given), and the places that turn the exceptions into what a
person sees: HTTP responses, and a command's error."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from typing import TypeVar
from urllib.parse import urlsplit

import click
from flask import Flask, current_app, g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import Forbidden, HTTPException, InternalServerError, NotFound

from tracker.extensions import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A business rule refused an action; the message is safe to show to the user."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    """Input broke a rule the form could not check by itself (e.g. uniqueness)."""


class NotAllowed(DomainError):
    """The user may not do this to this record."""


class SignInFailed(DomainError):
    """Wrong e-mail address or password, or a disabled account: the user is not told which."""


Choice = TypeVar("Choice", bound=Enum)


def one_of(choices: type[Choice], value: str | None, message: str, *, field: str) -> Choice:
    """The member of `choices` whose stored value is `value`; anything else (nothing
    chosen, or a value posted by hand) is refused with `message` on `field`."""
    try:
        return choices(value)
    except ValueError:
        raise ValidationFailed(message, field=field) from None


def required_text(text: str | None, message: str, *, field: str) -> str:
    """Typed text without the space around it, its line breaks as a browser sends them
    (CR LF) made plain (LF); refused with `message` on `field` when nothing is left."""
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise ValidationFailed(message, field=field)
    return text


class AccessDenied(HTTPException):
    """A signed-in user asked for something they may not have; the refusal is audited.

    Raised through `tracker.auth.permissions.refuse`, as a 404 for records outside the
    user's scope (their existence must not leak) or a 403 for a page or step their role
    does not allow.
    """

    def __init__(self, object_type: str | None = None, object_id: int | None = None) -> None:
        super().__init__()
        self.object_type = object_type
        self.object_id = object_id


class OutOfScope(AccessDenied, NotFound):
    pass


class RoleRefused(AccessDenied, Forbidden):
    pass


# Plain-words titles and explanations for the errors a person can meet.
ERROR_PAGES: dict[int, tuple[str, str]] = {
    400: (
        "There was a problem with your request",
        "Go back, refresh the page and try again.",
    ),
    403: (
        "You do not have access to this page",
        "If you think you should, ask your trust administrator to check your role.",
    ),
    404: (
        "Page not found",
        "If you typed the web address, check it is correct. If you followed a link, the "
        "page may have moved, or you may not have access to it.",
    ),
    405: ("This page cannot be used in that way", "Go back and use the buttons on the page."),
    413: ("The file is too large", "Go back and choose a smaller file."),
    500: (
        "Sorry, there is a problem with the service",
        "Nothing you did caused this. Try again later. If it keeps happening, tell your "
        "trust administrator and give them the reference below.",
    ),
}


def render_error(
    code: int,
    *,
    title: str | None = None,
    message: str | None = None,
    back_to: str | None = None,
):
    """The error page; `back_to`, one of the service's own paths, is offered as the way
    back to the form the request came from."""
    default_title, default_message = ERROR_PAGES.get(code, ERROR_PAGES[500])
    return (
        render_template(
            "errors/error.html",
            code=code,
            title=title or default_title,
            message=message or default_message,
            back_to=back_to,
            request_id=g.get("request_id"),
        ),
        code,
    )


def _form_sent_from() -> str:
    """The path of the page whose form sent this request: the Referer, when it is a page
    of this service (same scheme and host), else the address the form was sent to (every
    upload form here posts to its own page). Never another site's address."""
    sent_to = request.path
    referrer = urlsplit(request.referrer or "")
    if (
        referrer.scheme == request.scheme
        and referrer.netloc == request.host
        and referrer.path.startswith("/")
        and not referrer.path.startswith("//")
        and "\\" not in referrer.path
    ):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return sent_to


def _too_large():
    """A request over MAX_CONTENT_LENGTH: said in plain words, with the way back to the
    form (the browser's Back button keeps what was typed in it)."""
    limit_mb = int(current_app.config["EVIDENCE_MAX_MB"])
    return render_error(
        413,
        message=f"The file you chose is larger than {limit_mb} MB, the most the service "
        "accepts, so nothing was sent or saved. Go back to the form and choose a file of "
        f"{limit_mb} MB or smaller. Use your browser's Back button to keep what you typed.",
        back_to=_form_sent_from(),
    )


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError):
        return render_error(
            400,
            title="Your form had expired",
            message="For your security, forms stop working after you sign out or after a "
            "long time. Go back, refresh the page and try again.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if error.code >= 500:
            return internal_error(error)
        if isinstance(error, AccessDenied):
            _record_refusal(error)
        if error.code == 413:
            return _too_large()
        return render_error(error.code)

    @app.errorhandler(Exception)
    def internal_error(error: Exception):
        # Undo whatever the failed request half-did before rendering (the page itself
        # may query the database).
        db.session.rollback()
        original = getattr(error, "original_exception", None) or error
        if not isinstance(original, InternalServerError) or original.original_exception:
            log.exception(
                "unhandled error on %s %s", request.method, request.path, exc_info=original
            )
        return render_error(500)


def _record_refusal(error: AccessDenied) -> None:
    """Write the access.denied event in a transaction of its own.

    Whatever the request had done so far is rolled back first: a refused request changes
    nothing but the trail.
    """
    from flask_login import current_user

    from tracker.audit import services as audit
    from tracker.audit.actions import AuditAction, Outcome

    db.session.rollback()
    if not current_user.is_authenticated:
        return
    case_id = school_id = None
    if error.object_type == "case" and error.object_id is not None:
        # Filed under the case and its school (when it exists), so that the school's
        # auditor sees who tried to open it.
        from tracker.cases.models import Case

        case_id = error.object_id
        school_id = db.session.scalar(db.select(Case.school_id).where(Case.id == case_id))
    elif error.object_type == "school":
        school_id = error.object_id
    audit.record(
        AuditAction.ACCESS_DENIED,
        actor=current_user,
        object_type=error.object_type,
        object_id=error.object_id,
        school_id=school_id,
        case_id=case_id,
        outcome=Outcome.DENIED,
        details={"endpoint": request.endpoint, "status": error.code},
    )
    db.session.commit()


@contextmanager
def committed_or_refused() -> Iterator[None]:
    """What a `flask` command changes: committed, or on a refusal rolled back and shown
    as the command's error (exit status 1)."""
    try:
        yield
    except ValidationFailed as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
