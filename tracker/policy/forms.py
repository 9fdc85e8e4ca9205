"""Forms for drafting policy versions and recording acknowledgements."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from tracker.forms import GovDateField
from tracker.policy.models import AcknowledgementMethod, ClauseKind, Significance


class NewDraftForm(FlaskForm):
    version_label = StringField(
        "Label for the new version",
        widget=GovTextInput(),
        description="For example 2025 or 2.0. It must differ from every earlier version.",
        validators=[InputRequired(message="Enter a version label, like 2 or 2025"), Length(max=40)],
    )
    submit = SubmitField("Create draft", widget=GovSubmitInput())


class VersionDetailsForm(FlaskForm):
    title = StringField(
        "Title",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter the version's title"), Length(max=200)],
    )
    version_label = StringField(
        "Version label",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter a version label, like 2 or 2025"), Length(max=40)],
    )
    approved_on = GovDateField(
        "Date approved", required=False, description="For example, 14 7 2025"
    )
    review_due = GovDateField(
        "Review due", required=False, description="Must be after the approval date"
    )
    full_text = TextAreaField(
        "Full text of the policy",
        widget=GovTextArea(),
        description="The policy as approved. Clauses are edited separately.",
        validators=[Length(max=200_000)],
    )
    submit = SubmitField("Save details", widget=GovSubmitInput())


class ClauseForm(FlaskForm):
    reference = StringField(
        "Reference",
        widget=GovTextInput(),
        description="Numbers separated by dots, optionally with a letter in brackets, "
        "like 3.4 or 3.2(e)",
        validators=[
            InputRequired(message="Enter the clause reference, like 3.4 or 3.2(e)"),
            Length(max=20),
        ],
    )
    heading = StringField(
        "Heading",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter a heading for the clause"), Length(max=200)],
    )
    text = TextAreaField(
        "Text",
        widget=GovTextArea(),
        description="What the clause says. A rule must have text.",
        validators=[Length(max=20_000)],
    )
    kind = RadioField(
        "Kind of clause",
        widget=GovRadioInput(),
        choices=[
            SelectChoice(ClauseKind.RULE.value, "Rule: staff can break it and a case can cite it"),
            SelectChoice(ClauseKind.INFO.value, "Information: context that a case never cites"),
        ],
        validators=[InputRequired(message="Choose whether the clause is a rule or information")],
    )
    significance = RadioField(
        "Safeguarding significance (rules only)",
        widget=GovRadioInput(),
        choices=[
            SelectChoice(
                Significance.HIGH.value,
                "High: a breach may meet the harm threshold and involves children",
            ),
            SelectChoice(Significance.MEDIUM.value, "Medium: professional boundaries with parents"),
            SelectChoice(Significance.LOW.value, "Low: reputation and conduct"),
        ],
        validators=[Optional()],
    )
    submit = SubmitField("Save clause", widget=GovSubmitInput())


class PublishForm(FlaskForm):
    effective_from = GovDateField(
        "Takes effect on",
        description="Conduct on or after this date is judged against this version.",
    )
    submit = SubmitField("Publish this version", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token: for actions confirmed by a button."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


class CompareForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    older = SelectField("Compare", widget=GovSelect(), coerce=int)
    newer = SelectField("with", widget=GovSelect(), coerce=int)


class AcknowledgementForm(FlaskForm):
    staff_member = SelectField(
        "Member of staff",
        widget=GovSelect(),
        coerce=int,
        # The view checks the choice against the user's scope, with a message in words.
        validate_choice=False,
        validators=[InputRequired(message="Choose the member of staff")],
    )
    acknowledged_on = GovDateField("Date they read it")
    method = RadioField(
        "How they read it",
        widget=GovRadioInput(),
        choices=[SelectChoice(m.value, m.label) for m in AcknowledgementMethod],
        validators=[InputRequired(message="Choose how they read it")],
    )
    submit = SubmitField("Record acknowledgement", widget=GovSubmitInput())


class AcknowledgementImportForm(FlaskForm):
    csv_file = FileField(
        "CSV file",
        widget=GovFileInput(),
        description="Columns: employee_number, acknowledged_on (2024-09-02 or 02/09/2024), "
        "method (signed form, training session or e-learning)",
    )
    upload = SubmitField("Import acknowledgements", widget=GovSubmitInput())
