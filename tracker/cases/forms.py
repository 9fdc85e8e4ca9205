"""Forms for reporting a concern, editing it, and adding people and chronology entries."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, ValidationError
from wtforms.widgets import HiddenInput

from tracker.cases.models import EntryKind, PersonKind, Platform, Source
from tracker.cases.services import PLATFORM_DETAIL_MISSING, YEAR_GROUPS
from tracker.forms import (
    GovDateField,
    GovTimeField,
    enum_choices,
    radios,
    select,
    select_in_scope,
    submit_button,
    text_area,
    text_input,
)

SUMMARY_HINT = (
    "What happened, where and when, as it was reported. Do not write pupils' names: use "
    "initials or a pseudonym, like Pupil A."
)


class CaseDetailsForm(FlaskForm):
    """The fields a concern's record is made of (shared by the report and edit forms)."""

    source = radios(
        "How did the concern come to light?",
        enum_choices(Source),
        required="Choose how the concern came to light",
    )
    source_detail = text_input(
        "Who raised it (optional)",
        description="For example: the parent of a Year 8 pupil. Do not name pupils.",
        max_length=500,
        too_long="Keep this to 500 characters or fewer",
    )
    occurred_on = GovDateField(
        "When did the conduct happen?",
        description="If you do not know the exact day, give your best estimate and say so "
        "in the summary. For example, 27 3 2026",
        missing="Enter the date the conduct happened",
        invalid="The date the conduct happened must be a real date, like 27 3 2026",
    )
    reported_on = GovDateField(
        "When was it reported to the school?",
        description="For example, 30 3 2026",
        missing="Enter the date it was reported to the school",
        invalid="The date it was reported must be a real date, like 30 3 2026",
    )
    platform = radios(
        "Where did it happen?",
        enum_choices(Platform),
        required="Choose where it happened",
    )
    # Revealed under "Somewhere else" (templates/cases/_details_fields.html).
    platform_detail = text_input(
        "Where was it?",
        max_length=200,
        too_long="Keep this to 200 characters or fewer",
    )
    summary = text_area(
        "What happened?",
        description=SUMMARY_HINT,
        required="Describe what happened",
        max_length=10_000,
        too_long="The summary must be 10,000 characters or fewer",
        counted=True,
    )

    def validate_platform_detail(self, field) -> None:
        # The service checks it too; here, so that the page lists it with the others.
        if self.platform.data == Platform.OTHER and not (field.data or "").strip():
            raise ValidationError(PLATFORM_DETAIL_MISSING)


class ReportConcernForm(CaseDetailsForm):
    # The view fills both lists and checks the answers: the school against the user's
    # scope, the member of staff against that school.
    school = select_in_scope("School", required="Choose the school", coerce=int)
    subject = select_in_scope(
        "Member of staff the concern is about",
        required="Choose the member of staff, or add them",
    )
    new_staff_name = text_input("Full name", max_length=200)
    new_staff_job_title = text_input("Job title", max_length=200)
    new_staff_employee_number = text_input("Employee number", max_length=40)
    clauses = SelectMultipleField("Clauses", validate_choice=False)
    # The policy version whose clauses the form showed (it depends on the conduct date).
    policy_version = HiddenField()
    submit = submit_button("Save concern")


class EditCaseForm(CaseDetailsForm):
    # The case version the editor opened: a save against an older one is a conflict.
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    submit = submit_button("Save changes")


class PersonForm(FlaskForm):
    kind = radios("Who are they?", enum_choices(PersonKind), required="Choose who they are")
    identifier = text_input(
        "Initials or pseudonym",
        description="For a pupil, initials (like J.S.) or a pseudonym (like Pupil A), never "
        "their name. For adults, initials or their role are enough.",
        required="Enter their initials or a pseudonym",
        max_length=40,
        too_long="Keep this to 40 characters or fewer",
    )
    year_group = select(
        "Year group (pupils only)",
        [SelectChoice(year, year) for year in YEAR_GROUPS],
        placeholder="Choose a year group",
    )
    role_in_case = text_input(
        "Their part in the case",
        description="For example: received messages; reported the concern; saw the post",
        required="Say what their part in the case is",
        max_length=300,
        too_long="Keep this to 300 characters or fewer",
    )
    submit = submit_button("Add person")


class ChronologyEntryForm(FlaskForm):
    kind = radios(
        "What kind of entry is this?",
        enum_choices(EntryKind),
        required="Choose what kind of entry this is",
    )
    occurred_on = GovDateField(
        "When did it happen?",
        description="It can be an earlier day; the entry will show when it was written.",
        missing="Enter the date it happened",
        invalid="The date it happened must be a real date, like 27 3 2026",
    )
    occurred_time = GovTimeField("Time (optional)")
    summary = text_area(
        "What happened or was done?",
        description="Do not write pupils' names: use initials or a pseudonym.",
        required="Describe what happened or was done",
        max_length=10_000,
        too_long="The entry must be 10,000 characters or fewer",
    )
    submit = submit_button("Add entry")


class CiteClauseForm(FlaskForm):
    # The step fills the list: the rules of the version in force on the conduct's date
    # that the case does not cite yet.
    clause = select_in_scope("Which rule may the conduct have broken?", required="")
    rationale = text_area(
        "Why may the conduct have broken it?",
        description="What in the concern matches the rule. Do not write pupils' names.",
        required="Say why the conduct may have broken this rule",
        max_length=5_000,
        too_long="The reason must be 5,000 characters or fewer",
    )
    submit = submit_button("Cite the rule")

    def validate_clause(self, field) -> None:
        if not field.data:
            raise ValidationError("Choose the rule the conduct may have broken")
