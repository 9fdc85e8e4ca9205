"""Forms for drafting policy versions and recording acknowledgements."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSelect
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from tracker.forms import (
    GetForm,
    GovDateField,
    radios,
    select_in_scope,
    submit_button,
    text_area,
    text_input,
)
from tracker.policy.models import RECORDED_METHODS, ClauseKind, Significance

VERSION_LABEL_REQUIRED = "Enter a version label, like 2 or 2025"


class NewDraftForm(FlaskForm):
    version_label = text_input(
        "Label for the new version",
        description="For example 2025 or 2.0. It must differ from every earlier version.",
        required=VERSION_LABEL_REQUIRED,
        max_length=40,
    )
    submit = submit_button("Create draft")


class VersionDetailsForm(FlaskForm):
    title = text_input("Title", required="Enter the version's title", max_length=200)
    version_label = text_input("Version label", required=VERSION_LABEL_REQUIRED, max_length=40)
    approved_on = GovDateField(
        "Date approved", required=False, description="For example, 14 7 2025"
    )
    review_due = GovDateField(
        "Review due", required=False, description="Must be after the approval date"
    )
    full_text = text_area(
        "Full text of the policy",
        description="The policy as approved. Clauses are edited separately.",
        max_length=200_000,
    )
    submit = submit_button("Save details")


class ClauseForm(FlaskForm):
    reference = text_input(
        "Reference",
        description="Numbers separated by dots, optionally with a letter in brackets, "
        "like 3.4 or 3.2(e)",
        required="Enter the clause reference, like 3.4 or 3.2(e)",
        max_length=20,
    )
    heading = text_input("Heading", required="Enter a heading for the clause", max_length=200)
    text = text_area(
        "Text",
        description="What the clause says. A rule must have text.",
        max_length=20_000,
    )
    kind = radios(
        "Kind of clause",
        [
            SelectChoice(ClauseKind.RULE.value, "Rule: staff can break it and a case can cite it"),
            SelectChoice(ClauseKind.INFO.value, "Information: context that a case never cites"),
        ],
        required="Choose whether the clause is a rule or information",
    )
    significance = radios(
        "Safeguarding significance (rules only)",
        [
            SelectChoice(
                Significance.HIGH.value,
                "High: a breach may meet the harm threshold and involves children",
            ),
            SelectChoice(Significance.MEDIUM.value, "Medium: professional boundaries with parents"),
            SelectChoice(Significance.LOW.value, "Low: reputation and conduct"),
        ],
        validators=[Optional()],
    )
    submit = submit_button("Save clause")


class PublishForm(FlaskForm):
    effective_from = GovDateField(
        "Takes effect on",
        description="Conduct on or after this date is judged against this version.",
    )
    submit = submit_button("Publish this version")


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token: for actions confirmed by a button."""

    submit = submit_button("Confirm")


class CompareForm(GetForm):
    older = SelectField("Compare", widget=GovSelect(), coerce=int)
    newer = SelectField("with", widget=GovSelect(), coerce=int)


class AcknowledgementForm(FlaskForm):
    staff_member = select_in_scope(
        "Member of staff", required="Choose the member of staff", coerce=int
    )
    acknowledged_on = GovDateField("Date they read it")
    method = radios(
        "How they read it",
        [SelectChoice(method.value, method.label) for method in RECORDED_METHODS],
        required="Choose how they read it",
    )
    submit = submit_button("Record acknowledgement")


class AcknowledgementImportForm(FlaskForm):
    csv_file = FileField(
        "CSV file",
        widget=GovFileInput(),
        description="Columns: employee_number, acknowledged_on (2024-09-02 or 02/09/2024), "
        "method (signed form, training session or e-learning)",
    )
    upload = submit_button("Import acknowledgements")


class AcknowledgeForm(FlaskForm):
    """A member of staff's one button: they have read the version on the page."""

    submit = submit_button("Acknowledge this policy")
