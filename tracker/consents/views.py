"""Asking consent to post pictures (clause 3.5), deciding it, and the register.

A member of staff asks and sees their own requests; the headteacher (or the CEO) decides
or passes a request to the CEO; safeguarding leads, headteachers and the CEO read the
register, each read of it recorded. A consent outside someone's reach answers 404.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, NoReturn

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from tracker.auth.models import User
from tracker.auth.permissions import (
    can_decide_consent,
    can_read_consent_register,
    can_refer_consent,
    can_see_consent,
    can_withdraw_consent,
    consent_goes_to_ceo,
    consent_register_scope,
    is_member_of_staff,
    may_decide_consents,
    own_staff_record,
    permission_required,
    refuse,
    school_scope,
    schools_in_scope,
)
from tracker.auth.roles import Role
from tracker.clock import today, uk_date
from tracker.consents import bp
from tracker.consents.forms import (
    AskConsentForm,
    DecideConsentForm,
    ReferConsentForm,
    RegisterSearchForm,
    WithdrawConsentForm,
)
from tracker.consents.models import ConsentStatus, PictureConsent
from tracker.consents.services import (
    CONSENT_PAGE,
    RegisterFilters,
    answered_already,
    ask_consent,
    consents_asked,
    consents_waiting_for,
    decide_consent,
    platform_label,
    record_register_viewed,
    refer_to_ceo,
    register_query,
    withdraw_consent,
)
from tracker.db import id_from
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.forms import show_error
from tracker.pages import form_page

REGISTER_PAGE_SIZE = 50
# Beyond any trust's register; a page past it is the last there could be, not an error.
MAX_PAGE = 1000
OBJECT_TYPE = PictureConsent.audit_type
STATUS_LABELS = {status.value: status.label for status in ConsentStatus}


def _consent_or_404(consent_id: int) -> PictureConsent:
    """The consent, if the user may see it (`can_see_consent`).

    Someone else's answers the same 404 as a number that does not exist, and the refusal
    is audited (access.denied); a number that does not exist is only a 404.
    """
    found = id_from(consent_id)
    consent = None
    if found is not None:
        query = select(PictureConsent).where(PictureConsent.id == found)
        consent = db.session.scalar(query.options(*CONSENT_PAGE))
    if consent is None:
        abort(404)
    if not can_see_consent(current_user, consent):
        refuse(object_type=OBJECT_TYPE, object_id=consent.id)
    return consent


def _role_refused(consent: PictureConsent) -> NoReturn:
    refuse(object_type=OBJECT_TYPE, object_id=consent.id, out_of_scope=False)


def _decider_words(consent: PictureConsent) -> str:
    return "the CEO" if consent_goes_to_ceo(consent) else "the headteacher"


# --- a member of staff's own requests -----------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@permission_required(is_member_of_staff)
def new():
    if own_staff_record(current_user) is None:
        return render_template("consents/no_record.html")
    form = AskConsentForm()

    def asked(consent: PictureConsent):
        flash(f"Your request for consent has been sent to {_decider_words(consent)}.", "success")
        return redirect(url_for("consents.show", consent_id=consent.id))

    return form_page(
        form,
        lambda: ask_consent(form.request(), by=current_user, today=today()),
        done=asked,
        page=lambda: render_template("consents/new.html", form=form),
    )


@bp.route("/mine")
@permission_required(is_member_of_staff)
def mine():
    return render_template("consents/mine.html", consents=consents_asked(current_user))


# --- one consent ----------------------------------------------------------------------------


def _summary(consent: PictureConsent) -> dict[str, Any]:
    """What a consent's pages show about it besides its own columns."""
    return {
        "consent": consent,
        "status_label": ConsentStatus(consent.status).label,
        "platform_label": platform_label(consent),
        "decider": _decider_words(consent),
        "is_asker": consent.asked_by_id == current_user.id,
        "reads_register": can_read_consent_register(current_user),
    }


@bp.route("/<int:consent_id>")
def show(consent_id: int):
    consent = _consent_or_404(consent_id)
    waiting = consent.status == ConsentStatus.ASKED
    user = current_user
    return render_template(
        "consents/show.html",
        **_summary(consent),
        may_decide=waiting and can_decide_consent(user, consent),
        may_refer=waiting and can_refer_consent(user, consent),
        may_withdraw=waiting and can_withdraw_consent(user, consent),
    )


def _with_refusal_shown(form: Any, consent: PictureConsent) -> None:
    """A request no longer waiting: why, in the error summary (as a step's page does)."""
    if consent.status != ConsentStatus.ASKED:
        problem = answered_already(consent)
        if problem not in form.form_errors:
            form.form_errors.append(problem)


def _reloaded(consent_id: int) -> PictureConsent:
    """The consent again after a refusal rolled back (and so expired) what was loaded,
    so that the page's template reaches nothing itself."""
    return _consent_or_404(consent_id)


@bp.route("/<int:consent_id>/decide", methods=["GET", "POST"])
def decide(consent_id: int):
    consent = _consent_or_404(consent_id)
    if not can_decide_consent(current_user, consent):
        _role_refused(consent)
    form = DecideConsentForm()
    form.event_on = consent.event_on
    form.expires_on.description = (
        "Leave it blank if consent does not expire. If you give one, it must be the same "
        f"as or after the date of the event, {uk_date(consent.event_on)}. For example, "
        f"{_example(consent.event_on)}"
    )
    shown = {"consent": consent}

    def refused(error: DomainError) -> None:
        shown["consent"] = _reloaded(consent_id)
        show_error(form, error)

    def decided(_: None):
        verb = "granted" if consent.status == ConsentStatus.GRANTED else "refused"
        flash(f"Consent {verb}. {consent.staff_member.full_name} can see your answer.", "success")
        return redirect(url_for("consents.show", consent_id=consent.id))

    def page():
        _with_refusal_shown(form, shown["consent"])
        return render_template("consents/decide.html", form=form, **_summary(shown["consent"]))

    return form_page(
        form,
        lambda: decide_consent(consent, form.answer(), by=current_user, today=today()),
        done=decided,
        page=page,
        refused=refused,
    )


def _example(event_on: date) -> str:
    """A date a month after the event, as the three boxes take it."""
    later = event_on + timedelta(days=30)
    return f"{later.day} {later.month} {later.year}"


@bp.route("/<int:consent_id>/refer", methods=["GET", "POST"])
def refer(consent_id: int):
    consent = _consent_or_404(consent_id)
    if not can_refer_consent(current_user, consent):
        _role_refused(consent)
    form = ReferConsentForm()
    return _confirm_page(
        form,
        consent_id,
        consent,
        lambda: refer_to_ceo(consent, by=current_user),
        message="Request passed to the CEO. They will grant or refuse it.",
        template="consents/refer.html",
    )


@bp.route("/<int:consent_id>/withdraw", methods=["GET", "POST"])
def withdraw(consent_id: int):
    consent = _consent_or_404(consent_id)
    if not can_withdraw_consent(current_user, consent):
        _role_refused(consent)
    form = WithdrawConsentForm()
    return _confirm_page(
        form,
        consent_id,
        consent,
        lambda: withdraw_consent(consent, by=current_user),
        message="Request withdrawn. Do not post the pictures without asking again.",
        template="consents/withdraw.html",
    )


def _confirm_page(
    form: Any,
    consent_id: int,
    consent: PictureConsent,
    service: Callable[[], None],
    *,
    message: str,
    template: str,
) -> ResponseReturnValue:
    """A page that only asks to confirm one step on a consent (pass it on, withdraw)."""
    shown = {"consent": consent}

    def refused(error: DomainError) -> None:
        shown["consent"] = _reloaded(consent_id)
        show_error(form, error)

    def done(_: None):
        flash(message, "success")
        return redirect(url_for("consents.show", consent_id=consent_id))

    def page():
        _with_refusal_shown(form, shown["consent"])
        return render_template(template, form=form, **_summary(shown["consent"]))

    return form_page(form, service, done=done, page=page, refused=refused)


# --- deciders and the register ----------------------------------------------------------


@bp.route("/waiting")
@permission_required(may_decide_consents)
def waiting():
    consents = consents_waiting_for(current_user)
    return render_template(
        "consents/waiting.html",
        consents=consents,
        several_schools=_several_schools(current_user),
        status_labels=STATUS_LABELS,
    )


def _several_schools(user: User) -> bool:
    scope = school_scope(user, {Role.HEADTEACHER, Role.CEO})
    return scope.whole_trust or len(scope.school_ids) > 1


@bp.route("/")
@permission_required(can_read_consent_register)
def index():
    scope = consent_register_scope(current_user)
    schools = [(school.id, school.name) for school in db.session.scalars(schools_in_scope(scope))]
    form = RegisterSearchForm(request.args)
    form.offer_schools(schools)
    page = None
    filters = None
    if form.validate():
        filters = form.filters()
        page = db.paginate(
            register_query(current_user, filters),
            page=min(request.args.get("page", 1, type=int), MAX_PAGE),
            per_page=REGISTER_PAGE_SIZE,
            max_per_page=REGISTER_PAGE_SIZE,
            error_out=False,
        )
    html = render_template(
        "consents/index.html",
        form=form,
        page=page,
        filtered=bool(filters and filters.names_in_use),
        several_schools=len(schools) > 1,
        filter_args=_filter_args(filters) if filters else {},
        may_decide=may_decide_consents(current_user),
        status_labels=STATUS_LABELS,
    )
    if filters is not None and page is not None:  # a form with errors lists nothing
        record_register_viewed(current_user, filters, results=page.total or 0, page=page.page)
        db.session.commit()
    return html


def _filter_args(filters: RegisterFilters) -> dict[str, Any]:
    """The register's address arguments for the same filters (the pages' links)."""
    args: dict[str, Any] = {
        "q": filters.text,
        "status": filters.status,
        "school": filters.school_id,
        "event_from": _date_parts(filters.event_from),
        "event_to": _date_parts(filters.event_to),
    }
    return {key: value for key, value in args.items() if value}


def _date_parts(value: date | None) -> list[str] | None:
    """A date as the three boxes of the date input send it: day, month, year."""
    return [str(value.day), str(value.month), str(value.year)] if value else None
