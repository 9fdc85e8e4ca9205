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
    can_view_policies,
    reporting_scope,
)
from tracker.clock import today
from tracker.extensions import db
from tracker.home import bp
from tracker.home.services import home_panels, my_work
from tracker.orgs.services import SERVICE_NAME, current_trust_name
from tracker.policy.services import overdue_reviews

log = logging.getLogger(__name__)


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
        if can_read_cases(current_user):
            nav_items.append(
                {
                    "href": url_for("cases.index"),
                    "text": "Cases",
                    "active": (request.endpoint or "").startswith("cases."),
                }
            )
        if can_keep_staff_register(current_user):
            nav_items.append(
                {
                    "href": url_for("staff.index"),
                    "text": "Staff",
                    "active": (request.endpoint or "").startswith("staff."),
                }
            )
        if can_view_policies(current_user):
            nav_items.append(
                {
                    "href": url_for("policy.register"),
                    "text": "Policies",
                    "active": (request.endpoint or "").startswith("policy."),
                }
            )
        if can_manage_accounts(current_user):
            nav_items.append(
                {
                    "href": url_for("auth.admin_users"),
                    "text": "Accounts",
                    "active": (request.endpoint or "").startswith("auth.admin_"),
                }
            )
        if can_handle_subject_access(current_user):
            nav_items.append(
                {
                    "href": url_for("privacy.requests"),
                    "text": "Subject access",
                    "active": request.path.startswith("/privacy/requests"),
                }
            )
        if can_read_audit_trail(current_user):
            nav_items.append(
                {
                    "href": url_for("audit.search"),
                    "text": "Audit trail",
                    "active": (request.endpoint or "").startswith("audit."),
                }
            )
    return {"service_name": SERVICE_NAME, "trust_name": trust_name, "nav_items": nav_items}


@bp.route("/")
def index():
    review_warnings = []
    if can_manage_policies(current_user):
        review_warnings = overdue_reviews(current_user.trust_id, today())
    return render_template(
        "home/index.html",
        work=my_work(current_user),
        panels=home_panels(current_user, today()),
        review_warnings=review_warnings,
        can_report=not reporting_scope(current_user).is_empty,
    )
