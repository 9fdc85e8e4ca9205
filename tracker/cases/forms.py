"""Forms for reporting a concern, editing it, and adding people and chronology entries."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from tracker.cases.models import EntryKind, PersonKind, Platform, Source
from tracker.cases.services import YEAR_GROUPS
from tracker.forms import GovDateField, GovTimeField

SUMMARY_HINT = (
    "What happened, where and when, as it was reported. Do not write pupils' names: use "
    "initials or a pseudonym, like Pupil A."
)


def _choices(enum) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in enum.choices()]


class CaseDetailsForm(FlaskForm):
    """The fields a concern's record is made of (shared by the report and edit forms)."""

    source = RadioField(
        "How did the concern come to light?",
        widget=GovRadioInput(),
        choices=_choices(Source),
        validators=[InputRequired(message="Choose how the concern came to light")],
    )
    source_detail = StringField(
        "Who raised it (optional)",
        widget=GovTextInput(),
        description="For example: the parent of a Year 8 pupil. Do not name pupils.",
        validators=[Length(max=500, message="Keep this to 500 characters or fewer")],
    )
    occurred_on = GovDateField(
        "When did the conduct happen?",
        description="If you do not know the exact day, give your best estimate and say so "
        "in the summary. For example, 27 3 2026",
    )
    reported_on = GovDateField("When was it reported to the school?")
    platform = SelectField(
        "Where did it happen?",
        widget=GovSelect(),
        choices=[SelectChoice("", "Choose where it happened"), *_choices(Platform)],
        validators=[InputRequired(message="Choose where it happened")],
    )
    platform_detail = StringField(
        "If somewhere else, where?",
        widget=GovTextInput(),
        validators=[Length(max=200, message="Keep this to 200 characters or fewer")],
    )
    summary = TextAreaField(
        "What happened?",
        widget=GovCharacterCount(),
        description=SUMMARY_HINT,
        validators=[
            InputRequired(message="Describe what happened"),
            Length(max=10_000, message="The summary must be 10,000 characters or fewer"),
        ],
    )


class ReportConcernForm(CaseDetailsForm):
    school = SelectField(
        "School",
        widget=GovSelect(),
        coerce=int,
        validate_choice=False,  # checked against the user's scope by the view
        validators=[InputRequired(message="Choose the school")],
    )
    subject = SelectField(
        "Member of staff the concern is about",
        widget=GovSelect(),
        validate_choice=False,
        validators=[InputRequired(message="Choose the member of staff, or add them")],
    )
    new_staff_name = StringField("Full name", widget=GovTextInput(), validators=[Length(max=200)])
    new_staff_job_title = StringField(
        "Job title", widget=GovTextInput(), validators=[Length(max=200)]
    )
    new_staff_employee_number = StringField(
        "Employee number", widget=GovTextInput(), validators=[Length(max=40)]
    )
    clauses = SelectMultipleField("Clauses", validate_choice=False)
    # The policy version whose clauses the form showed (it depends on the conduct date).
    policy_version = HiddenField()
    submit = SubmitField("Save concern", widget=GovSubmitInput())


class EditCaseForm(CaseDetailsForm):
    # The case version the editor opened: a save against an older one is a conflict.
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class PersonForm(FlaskForm):
    kind = RadioField(
        "Who are they?",
        widget=GovRadioInput(),
        choices=_choices(PersonKind),
        validators=[InputRequired(message="Choose who they are")],
    )
    identifier = StringField(
        "Initials or pseudonym",
        widget=GovTextInput(),
        description="For a pupil, initials (like J.S.) or a pseudonym (like Pupil A), never "
        "their name. For adults, initials or their role are enough.",
        validators=[
            InputRequired(message="Enter their initials or a pseudonym"),
            Length(max=40, message="Keep this to 40 characters or fewer"),
        ],
    )
    year_group = SelectField(
        "Year group (pupils only)",
        widget=GovSelect(),
        choices=[
            SelectChoice("", "Choose a year group"),
            *[SelectChoice(y, y) for y in YEAR_GROUPS],
        ],
        validators=[Optional()],
    )
    role_in_case = StringField(
        "Their part in the case",
        widget=GovTextInput(),
        description="For example: received messages; reported the concern; saw the post",
        validators=[
            InputRequired(message="Say what their part in the case is"),
            Length(max=300, message="Keep this to 300 characters or fewer"),
        ],
    )
    submit = SubmitField("Add person", widget=GovSubmitInput())


class ChronologyEntryForm(FlaskForm):
    kind = RadioField(
        "What kind of entry is this?",
        widget=GovRadioInput(),
        choices=_choices(EntryKind),
        validators=[InputRequired(message="Choose what kind of entry this is")],
    )
    occurred_on = GovDateField(
        "When did it happen?",
        description="It can be an earlier day; the entry will show when it was written.",
    )
    occurred_time = GovTimeField("Time (optional)")
    summary = TextAreaField(
        "What happened or was done?",
        widget=GovTextArea(),
        description="Do not write pupils' names: use initials or a pseudonym.",
        validators=[
            InputRequired(message="Describe what happened or was done"),
            Length(max=10_000, message="The entry must be 10,000 characters or fewer"),
        ],
    )
    submit = SubmitField("Add entry", widget=GovSubmitInput())
