"""What the pages that change a case's own content do (tracker/workflow/registry.py names
them): its details, the people involved, the chronology and the evidence. Each calls one
service with the form's answers and says what happened; the one view path of
tracker/workflow/views.py loads the case, checks who, commits and shows a refusal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from wtforms.fields.choices import SelectChoice

from tracker.auth.permissions import refuse
from tracker.cases.evidence import Provenance
from tracker.cases.evidence import add_evidence as add_evidence_service
from tracker.cases.evidence import remove_evidence as remove_evidence_service
from tracker.cases.evidence_forms import ACCEPT
from tracker.cases.models import Case, Evidence
from tracker.cases.services import CaseDetails, EditConflict, citable_rules, update_case_details
from tracker.cases.services import add_chronology_entry as add_chronology_entry_service
from tracker.cases.services import add_person as add_person_service
from tracker.cases.services import cite_clause as cite_clause_service
from tracker.clock import today
from tracker.db import id_from
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.forms import answers_to, show_error
from tracker.workflow.calls import Done, StepCall


def details_from(form: Any) -> CaseDetails:
    """The case's details as a concern form (new or edit) gives them."""
    return CaseDetails(
        source=form.source.data or "",
        source_detail=form.source_detail.data or "",
        occurred_on=form.occurred_on.data,
        reported_on=form.reported_on.data,
        platform=form.platform.data or "",
        platform_detail=form.platform_detail.data or "",
        summary=form.summary.data or "",
    )


# --- details -----------------------------------------------------------------------------


def prepare_details(call: StepCall) -> None:
    if request.method == "GET":
        call.form.process(obj=call.case)


def edit_details(call: StepCall) -> Done:
    changed = update_case_details(
        call.case,
        details_from(call.form),
        expected_version=call.form.version.data,
        by=call.by,
        today=today(),
    )
    return Done("Changes saved." if changed else "Nothing was changed.")


def edit_refused(call: StepCall, error: DomainError) -> None:
    """Someone else saved the case while this editor had it open: show their version (the
    view path has loaded the case again after its rollback) and keep this editor's
    answers, so that a second save knowingly replaces theirs."""
    if not isinstance(error, EditConflict):
        show_error(call.form, error)
        return
    form = call.form
    call.shown["conflict"] = call.case
    form.version.data = call.case.version
    form.version.raw_data = [str(call.case.version)]  # the field renders what was posted
    form.form_errors.append(error.message)


# --- people and chronology ---------------------------------------------------------------


def add_person(call: StepCall) -> Done:
    given = answers_to(call.form, "kind", "identifier", "role_in_case")
    year_group = call.form.year_group.data or None
    person = add_person_service(call.case, **given, year_group=year_group, by=call.by)
    return Done(f"{person.identifier} added to the case.", anchor="people")


def prepare_clauses(call: StepCall) -> None:
    rules = citable_rules(call.case)
    call.form.clause.choices = [
        SelectChoice("", "Choose a rule"),
        *(SelectChoice(str(c.id), f"{c.reference} {c.heading}") for c in rules),
    ]
    call.shown["rules"] = rules


def cite_clause(call: StepCall) -> Done:
    breach = cite_clause_service(
        call.case,
        clause_id=id_from(call.form.clause.data),
        rationale=call.form.rationale.data or "",
        by=call.by,
    )
    return Done(f"Clause {breach.clause.reference} cited.", anchor="clauses")


def prepare_entry(call: StepCall) -> None:
    if request.method == "GET":
        call.form.occurred_on.data = today()


def add_chronology_entry(call: StepCall) -> Done:
    given = answers_to(call.form, "kind", "occurred_on", "occurred_time", "summary")
    add_chronology_entry_service(call.case, **given, by=call.by, today=today())
    return Done("Chronology entry added.", anchor="timeline")


# --- evidence ----------------------------------------------------------------------------


# What the uploader says of where the file came from (and whether the post was public).
PROVENANCE = ("description", "source_url", "captured_on", "captured_time", "captured_by")


def prepare_evidence(call: StepCall) -> None:
    call.form.describe_file_limits(current_app.config["EVIDENCE_MAX_MB"])


def add_evidence(call: StepCall) -> Done:
    form, upload = call.form, call.form.file.data
    provenance = Provenance(
        **answers_to(form, *PROVENANCE), post_visibility=form.post_visibility.data or ""
    )
    evidence = add_evidence_service(
        call.case,
        content=upload.stream,
        filename=upload.filename or "",
        provenance=provenance,
        by=call.by,
    )
    return Done(f"{evidence.original_filename} added to the evidence.", anchor="evidence")


def evidence_page(call: StepCall) -> Mapping[str, Any]:
    form = call.form
    if form.errors and form.file.data and not form.file.errors:
        # Browsers never send a chosen file back with the page: say so where it matters.
        form.file.errors = ["Choose the file again: it is not kept when the page shows an error"]
    return {"accept": ACCEPT}


def evidence_of(case: Case, evidence_id: int) -> Evidence:
    """An item of this case (an id from another case answers 404, as if unknown)."""
    evidence = next((item for item in case.evidence if item.id == evidence_id), None)
    if evidence is None:
        if id_from(evidence_id) is None or db.session.get(Evidence, evidence_id) is None:
            abort(404)
        # Someone reached for another case's evidence through this one: audited.
        refuse(object_type="evidence", object_id=evidence_id)
    return evidence


def prepare_removal(call: StepCall) -> ResponseReturnValue | None:
    evidence = call.item
    call.shown["evidence"] = evidence
    if evidence.is_removed:
        flash(f"{evidence.original_filename} was already removed.", "info")
        return redirect(url_for("cases.show", case_id=call.case.id, _anchor="evidence"))
    return None


def remove_evidence(call: StepCall) -> Done:
    evidence = call.item
    remove_evidence_service(evidence, reason=call.form.reason.data or "", by=call.by)
    return Done(
        f"{evidence.original_filename} removed. Its record stays on the case.", anchor="evidence"
    )
