"""Staff register pages: list, add and edit the staff of the schools a user keeps."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from tracker.auth.permissions import (
    can_keep_staff_register,
    can_manage_accounts,
    can_read_cases,
    permission_required,
    refuse,
    schools_in_scope,
    staff_register_scope,
    visible_cases,
)
from tracker.cases.models import Case
from tracker.db import id_from
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.forms import answers_to
from tracker.orgs.models import School
from tracker.pages import form_page
from tracker.staff import bp
from tracker.staff.forms import (
    EditStaffMemberForm,
    NewStaffMemberForm,
    StaffMemberForm,
    StaffSearchForm,
)
from tracker.staff.models import StaffMember
from tracker.staff.services import add_staff_member, update_staff_member

PAGE_SIZE = 50
# Beyond any trust's register (50,000 people); an address asking for a page past it gets
# the last one there could be, not a database error for an OFFSET too large to hold.
MAX_PAGE = 1000

# How the changed fields read in the message after an edit.
FIELD_WORDS = {
    "school": "school",
    "full_name": "full name",
    "job_title": "job title",
    "employee_number": "employee number",
    "normal_retirement_date": "normal retirement date",
    "left_on": "last day of employment",
}


def _schools() -> list[School]:
    return list(db.session.scalars(schools_in_scope(staff_register_scope(current_user))))


def _member_or_404(staff_id: int) -> StaffMember:
    """The member of staff, if they work at a school the user keeps the register for.

    Someone else's staff answer the same 404 as a number that does not exist, and the
    refusal is audited (access.denied); a number that does not exist is only a 404.
    """
    scope = staff_register_scope(current_user)
    member = db.session.get(StaffMember, staff_id)
    if member is None:
        abort(404)
    if member.trust_id != scope.trust_id or not scope.includes(member.school_id):
        refuse(object_type="staff_member", object_id=staff_id)
    return member


def _words(names: list[str]) -> str:
    words = [FIELD_WORDS[name] for name in names]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@bp.route("/")
@permission_required(can_keep_staff_register)
def index():
    scope = staff_register_scope(current_user)
    schools = _schools()
    form = StaffSearchForm(request.args)
    form.school.choices = [
        SelectChoice(0, "All schools"),
        *(SelectChoice(school.id, school.name) for school in schools),
    ]
    query = select(StaffMember).where(
        StaffMember.trust_id == scope.trust_id, scope.filter(StaffMember.school_id)
    )
    school_id = id_from(form.school.data) or 0
    if school_id:
        query = query.where(StaffMember.school_id == school_id)
    search = (form.q.data or "").strip()[:200]
    if search:
        pattern = _like(search)
        query = query.where(
            or_(
                StaffMember.full_name.ilike(pattern, escape="\\"),
                StaffMember.employee_number.ilike(pattern, escape="\\"),
            )
        )
    page = db.paginate(
        query.options(joinedload(StaffMember.school)).order_by(
            func.lower(StaffMember.full_name), StaffMember.id
        ),
        page=min(request.args.get("page", 1, type=int), MAX_PAGE),
        per_page=PAGE_SIZE,
        max_per_page=PAGE_SIZE,
        error_out=False,
    )
    filtered = bool(school_id or search)
    return render_template(
        "staff/index.html",
        form=form,
        page=page,
        filtered=filtered,
        register_is_empty=not filtered and page.total == 0,
        several_schools=len(schools) > 1,
        filter_args={"school": school_id or None, "q": search or None},
        can_give_accounts=can_manage_accounts(current_user),
    )


def _school_choices(form: StaffMemberForm, schools: list[School]) -> None:
    choices = [SelectChoice(school.id, school.name) for school in schools]
    if len(schools) > 1:
        choices.insert(0, SelectChoice(0, "Choose a school"))
    form.school.choices = choices


def _chosen(school: School | None) -> School:
    """The school of a form posted valid (the page is only submitted with one)."""
    if school is None:
        raise DomainError("Choose the school", field="school")
    return school


def _valid_with_school(form: StaffMemberForm, schools: list[School]) -> School | None:
    """The school picked on a submitted, valid form, if the user keeps its register.

    The school is checked even when other fields are wrong, so that every problem is
    listed at once.
    """
    if not form.is_submitted():
        return None
    valid = form.validate()
    chosen = next((school for school in schools if school.id == form.school.data), None)
    if chosen is None and not form.school.errors:
        form.school.errors = [*form.school.errors, "Choose the school"]
    return chosen if valid else None


# What the register keeps about a member of staff, as both forms ask it.
DETAILS = ("full_name", "job_title", "employee_number", "normal_retirement_date")


@bp.route("/new", methods=["GET", "POST"])
@permission_required(can_keep_staff_register)
def new():
    schools = _schools()
    form = NewStaffMemberForm()
    _school_choices(form, schools)
    school = _valid_with_school(form, schools)

    def added(member: StaffMember):
        flash(f"{member.full_name} is on the staff register.", "success")
        return redirect(url_for("staff.show", staff_id=member.id))

    return form_page(
        form,
        lambda: add_staff_member(_chosen(school), **answers_to(form, *DETAILS), by=current_user),
        done=added,
        page=lambda: render_template("staff/form.html", form=form, member=None),
        submitted=school is not None,
    )


@bp.route("/<int:staff_id>")
@permission_required(can_keep_staff_register)
def show(staff_id: int):
    member = _member_or_404(staff_id)
    cases = None
    if can_read_cases(current_user):
        cases = list(
            db.session.scalars(
                visible_cases(current_user)
                .where(Case.subject_id == member.id)
                .order_by(Case.reported_on.desc(), Case.id.desc())
            )
        )
    return render_template("staff/show.html", member=member, cases=cases)


@bp.route("/<int:staff_id>/edit", methods=["GET", "POST"])
@permission_required(can_keep_staff_register)
def edit(staff_id: int):
    member = _member_or_404(staff_id)
    schools = _schools()
    form = EditStaffMemberForm(obj=member)
    _school_choices(form, schools)
    if not form.is_submitted():
        form.school.data = member.school_id  # obj= would give the School, not its id
    school = _valid_with_school(form, schools)

    def saved(changed: list[str]):
        if changed:
            flash(f"Saved the {_words(changed)} of {member.full_name}.", "success")
        else:
            flash("Nothing had changed, so there was nothing to save.", "info")
        return redirect(url_for("staff.show", staff_id=member.id))

    return form_page(
        form,
        lambda: update_staff_member(
            member,
            school=_chosen(school),
            **answers_to(form, *DETAILS, "left_on"),
            by=current_user,
        ),
        done=saved,
        page=lambda: render_template("staff/form.html", form=form, member=member),
        submitted=school is not None,
    )
