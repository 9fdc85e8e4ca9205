"""The manual redaction form, handled alike on a hearing pack and a subject access request."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import flash, redirect
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker.pages import form_page
from tracker.privacy.forms import RedactionForm
from tracker.privacy.models import ManualRedaction

T = TypeVar("T")


def handle_redaction_form(
    load: Callable[[], T],
    add: Callable[..., ManualRedaction],
    *,
    added: str,
    preview_url: str,
    page: Callable[[T, RedactionForm], ResponseReturnValue],
) -> ResponseReturnValue:
    """Add the redaction the form posts to what `load` returns, or show the page again.

    `add` is the service (`add(found, phrase=..., reason=..., by=...)`): it checks the
    phrase, adds it and records the audit event; this commits once, then flashes `added`
    and goes to `preview_url`. On a refusal it rolls back, loads afresh (what was loaded
    is expired) and shows `page` with the error on the form and what was typed kept.
    """
    found = load()
    form = RedactionForm()

    def done(_: ManualRedaction) -> ResponseReturnValue:
        flash(added, "success")
        return redirect(preview_url)

    return form_page(
        form,
        lambda: add(found, phrase=form.phrase.data, reason=form.reason.data, by=current_user),
        done=done,
        # Loaded afresh: after a refusal, what was loaded was rolled back with the rest.
        page=lambda: page(load() if form.errors else found, form),
    )
