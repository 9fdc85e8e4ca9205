"""Policy register pages: read by every role, drafted and published by policy managers."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from tracker.auth.permissions import (
    acknowledgement_scope,
    can_manage_policies,
    can_read_cases,
    can_record_acknowledgements,
    can_view_policies,
    can_view_policy_version,
    is_member_of_staff,
    own_staff_record,
    permission_required,
    refuse,
    visible_cases,
)
from tracker.cases.models import Case, ClauseBreach
from tracker.clock import today
from tracker.db import id_from
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.pages import form_page
from tracker.policy import bp
from tracker.policy.acknowledgements import (
    NO_STAFF_RECORD,
    acknowledge_online,
    acknowledgements_for,
    import_acknowledgements,
    policies_for_staff,
    read_summary,
    reading_of,
    record_acknowledgement,
)
from tracker.policy.forms import (
    AcknowledgeForm,
    AcknowledgementForm,
    AcknowledgementImportForm,
    ClauseForm,
    CompareForm,
    ConfirmForm,
    NewDraftForm,
    PublishForm,
    VersionDetailsForm,
)
from tracker.policy.models import AcknowledgementMethod, Clause, Policy, PolicyVersion
from tracker.policy.services import (
    ClauseInput,
    add_clause,
    compare_versions,
    create_draft,
    current_version,
    draft_version,
    policies_of,
    publish_version,
    remove_clause,
    update_clause,
    update_version_details,
)
from tracker.staff.models import StaffMember

# Records that exist but are not the user's to see answer the same 404 as ids that do not
# exist; only the former are refusals worth auditing (refuse records access.denied).


def _policy_or_404(policy_id: int) -> Policy:
    policy = db.session.get(Policy, policy_id)
    if policy is None:
        abort(404)
    if policy.trust_id != current_user.trust_id:
        refuse(object_type="policy", object_id=policy_id)
    return policy


def _version_or_404(version_id: int) -> PolicyVersion:
    version = db.session.get(PolicyVersion, version_id)
    if version is None:
        abort(404)
    if not can_view_policy_version(current_user, version):
        refuse(object_type="policy_version", object_id=version_id)
    return version


def _draft_or_404(version_id: int) -> PolicyVersion:
    """A version to edit. Its views already require can_manage_policies; checked again
    here so that no editing page can be reached by a route that forgot the decorator."""
    version = _version_or_404(version_id)
    if not can_manage_policies(current_user):
        refuse(object_type="policy_version", object_id=version_id)
    return version


def _clause_or_404(clause_id: int) -> Clause:
    clause = db.session.get(Clause, clause_id)
    if clause is None:
        abort(404)
    if not can_view_policy_version(current_user, clause.version):
        refuse(object_type="clause", object_id=clause_id)
    return clause


@bp.route("/")
@permission_required(can_view_policies)
def register():
    policies = policies_of(current_user.trust_id)
    rows = [
        {"policy": policy, "current": current_version(policy), "draft": draft_version(policy)}
        for policy in policies
    ]
    return render_template(
        "policy/register.html",
        rows=rows,
        today=today(),
        can_manage=can_manage_policies(current_user),
        can_record=can_record_acknowledgements(current_user),
    )


@bp.route("/<int:policy_id>")
@permission_required(can_view_policies)
def history(policy_id: int):
    policy = _policy_or_404(policy_id)
    manager = can_manage_policies(current_user)
    versions = [v for v in reversed(policy.versions) if manager or not v.is_draft]
    compare = CompareForm(request.args, meta={"csrf": False})
    choices = [SelectChoice(v.id, f"Version {v.version_label} ({v.status})") for v in versions]
    compare.older.choices = choices
    compare.newer.choices = choices
    if len(versions) >= 2 and not request.args:
        compare.older.data, compare.newer.data = versions[1].id, versions[0].id
    draft_form = NewDraftForm() if manager and draft_version(policy) is None else None
    return render_template(
        "policy/history.html",
        policy=policy,
        versions=versions,
        current=current_version(policy),
        compare=compare,
        draft_form=draft_form,
        today=today(),
    )


@bp.route("/<int:policy_id>/compare")
@permission_required(can_view_policies)
def compare(policy_id: int):
    policy = _policy_or_404(policy_id)
    older_id = request.args.get("older", type=id_from)
    newer_id = request.args.get("newer", type=id_from)
    if older_id is None or newer_id is None:
        flash("Choose two versions to compare.", "info")
        return redirect(url_for("policy.history", policy_id=policy.id))
    older, newer = _version_or_404(older_id), _version_or_404(newer_id)
    if older.policy_id != policy.id or newer.policy_id != policy.id:
        abort(404)
    if older.id == newer.id:
        flash("Choose two different versions to compare.", "info")
        return redirect(url_for("policy.history", policy_id=policy.id))
    return render_template(
        "policy/compare.html", policy=policy, diff=compare_versions(older, newer)
    )


@bp.route("/versions/<int:version_id>")
@permission_required(can_view_policies)
def version(version_id: int):
    version = _version_or_404(version_id)
    editable = version.is_draft and can_manage_policies(current_user)
    return render_template(
        "policy/version.html",
        version=version,
        editable=editable,
        today=today(),
        can_record=can_record_acknowledgements(current_user) and not version.is_draft,
    )


@bp.route("/clauses/<int:clause_id>")
@permission_required(can_view_policies)
def clause(clause_id: int):
    clause = _clause_or_404(clause_id)
    citing = None
    if can_read_cases(current_user):
        # Only the cases this user may see, so neither the list nor the count leaks.
        citing = db.session.scalars(
            visible_cases(current_user)
            .join(ClauseBreach, ClauseBreach.case_id == Case.id)
            .where(ClauseBreach.clause_id == clause.id)
            .options(joinedload(Case.subject), joinedload(Case.school))
            .order_by(Case.reported_on.desc(), Case.id.desc())
        ).all()
    return render_template(
        "policy/clause.html", clause=clause, version=clause.version, citing=citing
    )


# --- managing versions -----------------------------------------------------------------


def _to_version(version: PolicyVersion, message: str):
    flash(message, "success")
    return redirect(url_for("policy.version", version_id=version.id))


def _to_clause(clause: Clause, message: str):
    flash(message, "success")
    return redirect(
        url_for("policy.version", version_id=clause.version_id, _anchor=f"clause-{clause.id}")
    )


@bp.route("/<int:policy_id>/drafts", methods=["POST"])
@permission_required(can_manage_policies)
def new_draft(policy_id: int):
    policy = _policy_or_404(policy_id)
    form = NewDraftForm()

    def page():
        versions = list(reversed(policy.versions))
        compare = CompareForm(meta={"csrf": False})
        compare.older.choices = compare.newer.choices = [
            SelectChoice(v.id, f"Version {v.version_label} ({v.status})") for v in versions
        ]
        return render_template(
            "policy/history.html",
            policy=policy,
            versions=versions,
            current=current_version(policy),
            compare=compare,
            draft_form=form,
            today=today(),
        )

    return form_page(
        form,
        lambda: create_draft(policy, version_label=form.version_label.data, by=current_user),
        done=lambda draft: _to_version(
            draft, f"Draft version {draft.version_label} created. Edit it, then publish it."
        ),
        page=page,
    )


@bp.route("/versions/<int:version_id>/details", methods=["GET", "POST"])
@permission_required(can_manage_policies)
def edit_details(version_id: int):
    version = _draft_or_404(version_id)
    form = VersionDetailsForm(obj=version)
    return form_page(
        form,
        lambda: update_version_details(
            version,
            title=form.title.data,
            version_label=form.version_label.data,
            approved_on=form.approved_on.data,
            review_due=form.review_due.data,
            full_text=form.full_text.data or "",
            by=current_user,
        ),
        done=lambda _: _to_version(version, "Version details saved."),
        page=lambda: render_template("policy/edit_details.html", version=version, form=form),
    )


def _clause_input(form: ClauseForm) -> ClauseInput:
    return ClauseInput(
        reference=form.reference.data or "",
        heading=form.heading.data or "",
        text=form.text.data or "",
        kind=form.kind.data or "",
        significance=form.significance.data or None,
    )


@bp.route("/versions/<int:version_id>/clauses/new", methods=["GET", "POST"])
@permission_required(can_manage_policies)
def new_clause(version_id: int):
    return _clause_page(_draft_or_404(version_id), None)


@bp.route("/clauses/<int:clause_id>/edit", methods=["GET", "POST"])
@permission_required(can_manage_policies)
def edit_clause(clause_id: int):
    clause = _clause_or_404(clause_id)
    return _clause_page(_draft_or_404(clause.version_id), clause)


def _clause_page(version: PolicyVersion, clause: Clause | None):
    """The clause form of a draft: a new clause, or one to reword."""
    form = ClauseForm(obj=clause)

    def save() -> Clause:
        if clause is None:
            return add_clause(version, _clause_input(form), by=current_user)
        update_clause(clause, _clause_input(form), by=current_user)
        return clause

    return form_page(
        form,
        save,
        done=lambda saved: _to_clause(
            saved, f"Clause {saved.reference} {'saved' if clause else 'added'}."
        ),
        page=lambda: render_template(
            "policy/clause_form.html", version=version, form=form, clause=clause
        ),
    )


@bp.route("/clauses/<int:clause_id>/remove", methods=["GET", "POST"])
@permission_required(can_manage_policies)
def remove_clause_page(clause_id: int):
    clause = _clause_or_404(clause_id)
    version = _draft_or_404(clause.version_id)
    form = ConfirmForm()
    reference = clause.reference
    return form_page(
        form,
        lambda: remove_clause(clause, by=current_user),
        done=lambda _: _to_version(version, f"Clause {reference} removed from the draft."),
        page=lambda: render_template(
            "policy/remove_clause.html", clause=clause, version=version, form=form
        ),
    )


@bp.route("/versions/<int:version_id>/publish", methods=["GET", "POST"])
@permission_required(can_manage_policies)
def publish(version_id: int):
    version = _draft_or_404(version_id)
    form = PublishForm()
    if request.method == "GET" and version.approved_on:
        form.effective_from.data = max(version.approved_on, today())

    def published(previous: PolicyVersion | None):
        message = f"Version {version.version_label} is published."
        if previous is not None:
            message += f" Version {previous.version_label} is now superseded."
        return _to_version(version, message)

    return form_page(
        form,
        lambda: publish_version(version, effective_from=form.effective_from.data, by=current_user),
        done=published,
        page=lambda: render_template(
            "policy/publish.html",
            version=version,
            form=form,
            current=current_version(version.policy),
        ),
    )


# --- acknowledgements ------------------------------------------------------------------


def _staff_choices() -> list[SelectChoice]:
    scope = acknowledgement_scope(current_user)
    staff = db.session.scalars(
        select(StaffMember)
        .where(StaffMember.trust_id == scope.trust_id, scope.filter(StaffMember.school_id))
        .order_by(StaffMember.full_name)
    )
    return [
        SelectChoice(
            member.id, f"{member.full_name} ({member.employee_number}, {member.school.name})"
        )
        for member in staff
    ]


def _acknowledgements_page(version, form, import_form, report=None):
    scope = acknowledgement_scope(current_user)
    return render_template(
        "policy/acknowledgements.html",
        version=version,
        summary=read_summary(version, scope, today()),
        records=acknowledgements_for(version, scope),
        form=form,
        import_form=import_form,
        report=report,
    )


@bp.route("/versions/<int:version_id>/acknowledgements", methods=["GET", "POST"])
@permission_required(can_record_acknowledgements)
def acknowledgements(version_id: int):
    version = _version_or_404(version_id)
    if version.is_draft:
        abort(404)
    form = AcknowledgementForm()
    form.staff_member.choices = [SelectChoice(0, "Choose a member of staff"), *_staff_choices()]
    if request.method == "GET":
        form.method.data = AcknowledgementMethod.SIGNED_FORM.value

    def record():
        scope = acknowledgement_scope(current_user)
        staff_id = id_from(form.staff_member.data)
        staff = db.session.get(StaffMember, staff_id) if staff_id else None
        if staff is None or staff.trust_id != scope.trust_id or not scope.includes(staff.school_id):
            raise DomainError("Choose the member of staff", field="staff_member")
        record_acknowledgement(
            version,
            staff,
            acknowledged_on=form.acknowledged_on.data,
            method=AcknowledgementMethod(form.method.data),
            by=current_user,
            today=today(),
        )
        return staff

    def recorded(staff: StaffMember):
        flash(f"Recorded that {staff.full_name} read version {version.version_label}.", "success")
        return redirect(url_for("policy.acknowledgements", version_id=version.id))

    return form_page(
        form,
        record,
        done=recorded,
        page=lambda: _acknowledgements_page(version, form, AcknowledgementImportForm()),
    )


@bp.route("/versions/<int:version_id>/acknowledgements/import", methods=["POST"])
@permission_required(can_record_acknowledgements)
def import_acknowledgements_page(version_id: int):
    version = _version_or_404(version_id)
    if version.is_draft:
        abort(404)
    import_form = AcknowledgementImportForm()
    form = AcknowledgementForm(formdata=None)
    form.staff_member.choices = [SelectChoice(0, "Choose a member of staff"), *_staff_choices()]
    report = None
    if import_form.validate_on_submit():
        upload = import_form.csv_file.data
        if upload is None or not getattr(upload, "filename", ""):
            import_form.csv_file.errors = ["Select a CSV file"]
        else:
            report = import_acknowledgements(
                version,
                upload.read(),
                scope=acknowledgement_scope(current_user),
                by=current_user,
                today=today(),
            )
            if report.ok:
                db.session.commit()
                flash(f"Imported {report.imported} acknowledgements.", "success")
                return redirect(url_for("policy.acknowledgements", version_id=version.id))
            db.session.rollback()
            import_form.csv_file.errors = [
                f"Nothing was imported: {len(report.errors)} "
                f"{'row has a problem' if len(report.errors) == 1 else 'rows have problems'}"
            ]
    return _acknowledgements_page(version, form, import_form, report)


# --- members of staff read and acknowledge the policy themselves -------------------------

staff_only = permission_required(is_member_of_staff)


@bp.route("/read")
@staff_only
def to_read():
    return render_template(
        "policy/to_read.html",
        policies=policies_for_staff(current_user),
        on_register=own_staff_record(current_user) is not None,
        no_staff_record=NO_STAFF_RECORD,
    )


@bp.route("/read/<int:version_id>", methods=["GET", "POST"])
@staff_only
def read(version_id: int):
    reading = reading_of(current_user, version_id)
    if reading is None:
        refuse(object_type="policy_version", object_id=version_id)
    version = reading.version
    label, title = version.version_label, version.title
    form = AcknowledgeForm()

    def page():
        # After a refusal's rollback, loaded again: the template must read nothing.
        shown = reading if request.method == "GET" else reading_of(current_user, version_id)
        return render_template(
            "policy/read.html",
            reading=shown,
            form=form,
            no_staff_record=NO_STAFF_RECORD,
        )

    def acknowledged(_record):
        flash(f"You have acknowledged version {label} of {title}.", "success")
        return redirect(url_for("policy.read", version_id=version_id))

    return form_page(
        form,
        lambda: acknowledge_online(version, by=current_user, today=today()),
        done=acknowledged,
        page=page,
    )
