"""The home page, and the page chrome (trust name, navigation) every template gets."""

import logging

from flask import render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from tracker.auth.permissions import (
    can_handle_subject_access,
    can_keep_staff_register,
    can_manage_accounts,
    can_manage_policies,
    can_read_audit_trail,
    can_read_cases,
    can_read_consent_register,
    can_read_reports,
    can_view_policies,
    may_decide_consents,
    reporting_scope,
)
from tracker.cases.listing import WAITING_FOR_YOU, Sort
from tracker.clock import today
from tracker.consents.services import consents_waiting_for
from tracker.extensions import db
from tracker.home import bp
from tracker.home.services import home_panels, my_work_and_total, staff_home
from tracker.orgs.services import SERVICE_NAME, current_trust_name
from tracker.policy.services import overdue_reviews

log = logging.getLogger(__name__)


# The service navigation: who sees each item, where it leads, and the addresses of the
# section it is the current one for (every page of a case, its steps too, is Cases').
NAVIGATION = (
    (can_read_cases, "cases.index", "Cases", "/cases/"),
    (can_keep_staff_register, "staff.index", "Staff", "/staff/"),
    (can_view_policies, "policy.register", "Policies", "/policies/"),
    (can_read_consent_register, "consents.index", "Consents", "/consents/"),
    (can_manage_accounts, "auth.admin_users", "Accounts", "/admin/"),
    (can_handle_subject_access, "privacy.requests", "Subject access", "/privacy/requests"),
    (can_read_audit_trail, "audit.search", "Audit trail", "/audit/"),
    (can_read_reports, "reports.index", "Reports", "/reports/"),
)


@bp.app_context_processor
def page_chrome() -> dict[str, object]:
    try:
        trust_name = current_trust_name()
    except SQLAlchemyError:
        # The error page for a broken database must still render.
        db.session.rollback()
        log.warning("could not read the trust name for the page header")
        trust_name = None
    nav_items = []
    if current_user.is_authenticated:
        nav_items.append(
            {
                "href": url_for("home.index"),
                "text": "Home",
                "current": request.endpoint == "home.index",
            }
        )
        nav_items.extend(
            {"href": url_for(target), "text": text, "active": request.path.startswith(section)}
            for may_see, target, text, section in NAVIGATION
            if may_see(current_user)
        )
    return {"service_name": SERVICE_NAME, "trust_name": trust_name, "nav_items": nav_items}


@bp.route("/")
def index():
    review_warnings = []
    if can_manage_policies(current_user):
        review_warnings = overdue_reviews(current_user.trust_id, today())
    work, work_total = my_work_and_total(current_user)
    return render_template(
        "home/index.html",
        work=work,
        work_total=work_total,
        work_url=url_for("cases.index", waiting=WAITING_FOR_YOU, sort=Sort.OLDEST.value),
        panels=home_panels(current_user, today(), has_work=bool(work)),
        review_warnings=review_warnings,
        can_report=not reporting_scope(current_user).is_empty,
        staff=staff_home(current_user),
        consents_waiting=(
            consents_waiting_for(current_user) if may_decide_consents(current_user) else []
        ),
    )
