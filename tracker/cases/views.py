"""Case pages: report a concern, the case page and its history. Reading the case page or
its history is recorded in the audit trail. The pages that change a case (its details,
people, chronology and evidence, and every workflow step) are the action registry's
(tracker/workflow/registry.py)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from tracker.auth.permissions import (
    can_audit_case,
    can_prepare_hearing_pack,
    case_in_scope_or_404,
    refuse,
    reporting_scope,
    schools_in_scope,
)
from tracker.cases import bp
from tracker.cases.forms import ReportConcernForm
from tracker.cases.history import revision_views
from tracker.cases.loads import CASE_PAGE, HISTORY
from tracker.cases.models import Case
from tracker.cases.services import (
    CitedClause,
    create_case,
    policy_for,
    record_case_history_viewed,
    record_case_viewed,
)
from tracker.cases.steps import details_from
from tracker.cases.timeline import case_timeline, subject_read_receipts
from tracker.clock import today
from tracker.consents.services import consents_around
from tracker.db import id_from
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.forms import show_error
from tracker.insight.patterns import earlier_concerns
from tracker.insight.services import links_of, reviews_of
from tracker.notifications.services import notify_after_commit
from tracker.orgs.models import School
from tracker.pages import form_page
from tracker.policy.models import PolicyVersion
from tracker.policy.services import current_version, version_in_force
from tracker.retention.panel import retention_panel
from tracker.staff.models import StaffMember
from tracker.staff.services import add_staff_member
from tracker.workflow.panel import workflow_panel

NEW_STAFF = "new"


# --- reporting a concern ---------------------------------------------------------------


def _reporting_schools() -> list[School]:
    return list(db.session.scalars(schools_in_scope(reporting_scope(current_user))))


def _staff_choices(schools: list[School]) -> list[SelectChoice]:
    school_ids = [school.id for school in schools]
    staff = db.session.scalars(
        select(StaffMember)
        .where(StaffMember.school_id.in_(school_ids))
        .options(joinedload(StaffMember.school))
        .order_by(StaffMember.full_name)
    )
    choices = [SelectChoice("", "Choose a member of staff")]
    for member in staff:
        if member.user_id is not None and member.user_id == current_user.id:
            continue  # nobody logs a concern about themselves
        label = f"{member.full_name}, {member.job_title}"
        if len(schools) > 1:
            label += f" ({member.school.name})"
        choices.append(SelectChoice(str(member.id), label))
    choices.append(SelectChoice(NEW_STAFF, "Someone not on the list: add them below"))
    return choices


def _version_for_form(form: ReportConcernForm) -> PolicyVersion | None:
    """The policy version whose rules the form offers: in force on the conduct date."""
    policy = policy_for(current_user.trust_id)
    if policy is None:
        return None
    if form.occurred_on.data and not form.occurred_on.errors:
        return version_in_force(policy, form.occurred_on.data) or current_version(policy)
    return current_version(policy)


def _cited_from_request(version: PolicyVersion, references: list[str]) -> list[CitedClause]:
    by_reference = {clause.reference: clause for clause in version.clauses}
    cited = []
    for reference in references:
        clause = by_reference.get(reference)
        cited.append(
            CitedClause(
                clause_id=clause.id if clause else -1,
                rationale=request.form.get(f"rationale-{reference}", ""),
            )
        )
    return cited


def _rationale_reference(version: PolicyVersion, field: str | None) -> str | None:
    """The clause reference a `rationale_<clause id>` error is about, if it is one."""
    if not field or not field.startswith("rationale_"):
        return None
    clause_id = int(field.removeprefix("rationale_"))
    return next((c.reference for c in version.clauses if c.id == clause_id), None)


def _subject_for(form: ReportConcernForm, school: School) -> StaffMember | None:
    """The chosen member of staff, or a new one added to the register from the form."""
    if form.subject.data == NEW_STAFF:
        return add_staff_member(
            school,
            full_name=form.new_staff_name.data or "",
            job_title=form.new_staff_job_title.data or "",
            employee_number=form.new_staff_employee_number.data or "",
            by=current_user,
        )
    staff_id = id_from(form.subject.data)
    member = db.session.get(StaffMember, staff_id) if staff_id else None
    return member if member is not None and member.school_id == school.id else None


@bp.route("/new", methods=["GET", "POST"])
def new():
    schools = _reporting_schools()
    if not schools:
        refuse(out_of_scope=False)
    form = ReportConcernForm()
    # A user who logs concerns at one school is not asked which: the page names it.
    only_school = schools[0] if len(schools) == 1 else None
    if only_school is not None:
        del form.school
    else:
        form.school.choices = [SelectChoice(s.id, s.name) for s in schools]
    form.subject.choices = _staff_choices(schools)
    if request.method == "GET":
        if only_school is None:
            form.school.data = schools[0].id
        form.reported_on.data = today()
        if request.args.get("staff"):
            form.subject.data = request.args.get("staff")

    version = _version_for_form(form)
    checked = [ref for ref in (form.clauses.data or []) if isinstance(ref, str)]
    version_changed = (
        request.method == "POST"
        and version is not None
        and form.policy_version.data != str(version.id)
    )
    if version is not None and version_changed and form.policy_version.data:
        flash(
            f"The conduct happened when version {version.version_label} of the policy was in "
            "force. The clauses below are from that version: check your choices, then save.",
            "info",
        )

    rationale_errors: dict[str, str] = {}

    def report() -> Case:
        if version is None:  # not submitted without one (below): no policy, no rules to cite
            raise DomainError("The trust has no published policy to cite")
        school = only_school or next((s for s in schools if s.id == form.school.data), None)
        if school is None:
            raise DomainError("Choose the school", field="school")
        subject = _subject_for(form, school)
        if subject is None:
            raise DomainError("Choose the member of staff, or add them", field="subject")
        return create_case(
            school=school,
            subject=subject,
            details=details_from(form),
            cited=_cited_from_request(version, checked),
            by=current_user,
            today=today(),
        )

    def refused(error: DomainError) -> None:
        rationale_for = version and _rationale_reference(version, error.field)
        if rationale_for:
            rationale_errors[rationale_for] = error.message
            return
        if error.field in {"full_name", "job_title", "employee_number"}:
            error.field = f"new_staff_{error.field}"
        show_error(form, error)

    def done(case: Case):
        notify_after_commit(case.id)  # a pattern of concerns it completes is told at once
        flash(f"Concern {case.reference} saved.", "success")
        return redirect(url_for("cases.show", case_id=case.id))

    def page():
        form.policy_version.data = str(version.id) if version else ""
        rules = [clause for clause in version.clauses if clause.is_rule] if version else []
        return render_template(
            "cases/new.html",
            form=form,
            only_school=only_school,
            version=version,
            rules=rules,
            checked=set(checked),
            rationales={ref: request.form.get(f"rationale-{ref}", "") for ref in checked},
            rationale_errors=rationale_errors,
        )

    return form_page(
        form,
        report,
        done=done,
        page=page,
        submitted=form.validate_on_submit() and not version_changed and version is not None,
        refused=refused,
    )


# --- the case page ---------------------------------------------------------------------


@bp.route("/<int:case_id>")
def show(case_id: int):
    case = case_in_scope_or_404(current_user, case_id, *CASE_PAGE)
    panel = workflow_panel(case, current_user)
    retention = retention_panel(case, current_user)
    html = render_template(
        "cases/show.html",
        case=case,
        panel=panel,
        edits=panel.edits,
        retention_panel=retention,
        legal_hold=retention.hold,
        can_audit=can_audit_case(current_user, case),
        can_hearing_pack=can_prepare_hearing_pack(current_user, case),
        receipts=subject_read_receipts(case),
        earlier=earlier_concerns(case, current_user),
        links=links_of(case, current_user),
        reviews=reviews_of(case) if case.pattern_reviewed_at else [],
        timeline=case_timeline(case),
        consents=consents_around(case),
    )
    # Recorded once the page has rendered, so the audit chain's lock is held only for
    # the two statements of the event and the commit.
    record_case_viewed(case, by=current_user)
    db.session.commit()
    return html


@bp.route("/<int:case_id>/history")
def history(case_id: int):
    case = case_in_scope_or_404(current_user, case_id, *HISTORY)
    html = render_template(
        "cases/history.html", case=case, revisions=revision_views(case.revisions)
    )
    record_case_history_viewed(case, by=current_user)
    db.session.commit()
    return html
