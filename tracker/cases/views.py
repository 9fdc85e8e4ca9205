"""Case pages: report a concern, the case page and its history, editing, people involved
and chronology. Reading the case page or its history is recorded in the audit trail."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError
from wtforms.fields.choices import SelectChoice

from tracker.auth.permissions import (
    can_audit_case,
    can_prepare_hearing_pack,
    can_work_on_case,
    case_in_scope_or_404,
    refuse,
    reporting_scope,
    schools_in_scope,
)
from tracker.cases import bp
from tracker.cases.forms import (
    ChronologyEntryForm,
    EditCaseForm,
    PersonForm,
    ReportConcernForm,
)
from tracker.cases.history import revision_views
from tracker.cases.models import (
    Case,
    CaseRevision,
    ChronologyEntry,
    ClauseBreach,
    Evidence,
)
from tracker.cases.services import (
    CaseDetails,
    CitedClause,
    EditConflict,
    add_chronology_entry,
    add_person,
    create_case,
    policy_for,
    record_case_history_viewed,
    record_case_viewed,
    update_case_details,
)
from tracker.cases.timeline import case_timeline, subject_read_receipts
from tracker.clock import today
from tracker.db import id_from
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.forms import show_error
from tracker.orgs.models import School
from tracker.policy.models import Clause, PolicyVersion
from tracker.policy.services import current_version, version_in_force
from tracker.staff.models import StaffMember
from tracker.staff.services import add_staff_member

NEW_STAFF = "new"


def _details(form) -> CaseDetails:
    return CaseDetails(
        source=form.source.data or "",
        source_detail=form.source_detail.data or "",
        occurred_on=form.occurred_on.data,
        reported_on=form.reported_on.data,
        platform=form.platform.data or "",
        platform_detail=form.platform_detail.data or "",
        summary=form.summary.data or "",
    )


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
    form.school.choices = [SelectChoice(s.id, s.name) for s in schools]
    form.subject.choices = _staff_choices(schools)
    if request.method == "GET":
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
    if version_changed and form.policy_version.data:
        flash(
            f"The conduct happened when version {version.version_label} of the policy was in "
            "force. The clauses below are from that version: check your choices, then save.",
            "info",
        )

    rationale_errors: dict[str, str] = {}
    if form.validate_on_submit() and not version_changed and version is not None:
        school = next((s for s in schools if s.id == form.school.data), None)
        try:
            if school is None:
                raise DomainError("Choose the school", field="school")
            subject = _subject_for(form, school)
            if subject is None:
                raise DomainError("Choose the member of staff, or add them", field="subject")
            case = create_case(
                school=school,
                subject=subject,
                details=_details(form),
                cited=_cited_from_request(version, checked),
                by=current_user,
                today=today(),
            )
        except DomainError as error:
            db.session.rollback()
            rationale_for = _rationale_reference(version, error.field)
            if rationale_for:
                rationale_errors[rationale_for] = error.message
            else:
                if error.field in {"full_name", "job_title", "employee_number"}:
                    error.field = f"new_staff_{error.field}"
                show_error(form, error)
        else:
            db.session.commit()
            flash(f"Concern {case.reference} saved.", "success")
            return redirect(url_for("cases.show", case_id=case.id))

    form.policy_version.data = str(version.id) if version else ""
    rules = [clause for clause in version.clauses if clause.is_rule] if version else []
    return render_template(
        "cases/new.html",
        form=form,
        version=version,
        rules=rules,
        checked=set(checked),
        rationales={ref: request.form.get(f"rationale-{ref}", "") for ref in checked},
        rationale_errors=rationale_errors,
    )


# --- the case page ---------------------------------------------------------------------


def _load_case(case_id: int) -> Case:
    """The case with everything its page shows, in a fixed number of queries."""
    return case_in_scope_or_404(
        current_user,
        case_id,
        joinedload(Case.school),
        joinedload(Case.subject),
        joinedload(Case.reported_by),
        selectinload(Case.breaches).joinedload(ClauseBreach.clause).joinedload(Clause.version),
        selectinload(Case.people),
        selectinload(Case.evidence).options(
            joinedload(Evidence.uploaded_by), joinedload(Evidence.removed_by)
        ),
        selectinload(Case.chronology).joinedload(ChronologyEntry.author),
    )


@bp.route("/<int:case_id>")
def show(case_id: int):
    case = _load_case(case_id)
    html = render_template(
        "cases/show.html",
        case=case,
        can_work=can_work_on_case(current_user, case),
        can_audit=can_audit_case(current_user, case),
        can_hearing_pack=can_prepare_hearing_pack(current_user, case),
        receipts=subject_read_receipts(case),
        timeline=case_timeline(case),
    )
    # Recorded once the page has rendered, so the audit chain's lock is held only for
    # the two statements of the event and the commit.
    record_case_viewed(case, by=current_user)
    db.session.commit()
    return html


@bp.route("/<int:case_id>/history")
def history(case_id: int):
    case = case_in_scope_or_404(
        current_user,
        case_id,
        joinedload(Case.school),
        joinedload(Case.subject),
        selectinload(Case.revisions).joinedload(CaseRevision.changed_by),
    )
    html = render_template(
        "cases/history.html", case=case, revisions=revision_views(case.revisions)
    )
    record_case_history_viewed(case, by=current_user)
    db.session.commit()
    return html


@bp.route("/<int:case_id>/edit", methods=["GET", "POST"])
def edit(case_id: int):
    case = _load_case(case_id)
    if not can_work_on_case(current_user, case):
        refuse(object_type="case", object_id=case.id, out_of_scope=False)
    form = EditCaseForm(obj=case)
    conflict = None
    if form.validate_on_submit():
        try:
            changed = update_case_details(
                case,
                _details(form),
                expected_version=form.version.data,
                by=current_user,
                today=today(),
            )
            db.session.commit()
        except EditConflict as clash:
            db.session.rollback()
            conflict = clash.case
        except StaleDataError:
            # Someone saved between our check and our write: the same conflict.
            db.session.rollback()
            conflict = db.session.get(Case, case_id, populate_existing=True)
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            flash("Changes saved." if changed else "Nothing was changed.", "success")
            return redirect(url_for("cases.show", case_id=case.id))
    if conflict is not None:
        # Keep what this editor typed; a second save knowingly replaces the other one.
        form.version.data = conflict.version
        form.version.raw_data = [str(conflict.version)]  # the field renders what was posted
        form.form_errors.append(
            "Someone else saved changes to this case while you were editing it. Their "
            "version is shown below. Check it, change your answers if needed, then save again."
        )
    html = render_template("cases/edit.html", case=case, form=form, conflict=conflict)
    if request.method == "GET":
        # The form shows the case's details: opening it is a read of the case.
        record_case_viewed(case, by=current_user, page="edit")
        db.session.commit()
    return html


def _work_on_case_or_refuse(case_id: int) -> Case:
    case = case_in_scope_or_404(current_user, case_id)
    if not can_work_on_case(current_user, case):
        refuse(object_type="case", object_id=case.id, out_of_scope=False)
    return case


@bp.route("/<int:case_id>/people/new", methods=["GET", "POST"])
def new_person(case_id: int):
    case = _work_on_case_or_refuse(case_id)
    form = PersonForm()
    if form.validate_on_submit():
        try:
            person = add_person(
                case,
                kind=form.kind.data,
                identifier=form.identifier.data,
                year_group=form.year_group.data or None,
                role_in_case=form.role_in_case.data,
                by=current_user,
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            flash(f"{person.identifier} added to the case.", "success")
            return redirect(url_for("cases.show", case_id=case.id, _anchor="people"))
    return render_template("cases/person_new.html", case=case, form=form)


@bp.route("/<int:case_id>/chronology/new", methods=["GET", "POST"])
def new_entry(case_id: int):
    case = _work_on_case_or_refuse(case_id)
    form = ChronologyEntryForm()
    if request.method == "GET":
        form.occurred_on.data = today()
    if form.validate_on_submit():
        try:
            add_chronology_entry(
                case,
                kind=form.kind.data,
                occurred_on=form.occurred_on.data,
                occurred_time=form.occurred_time.data,
                summary=form.summary.data,
                by=current_user,
                today=today(),
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            flash("Chronology entry added.", "success")
            return redirect(url_for("cases.show", case_id=case.id, _anchor="timeline"))
    return render_template("cases/entry_new.html", case=case, form=form)
