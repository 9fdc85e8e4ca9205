"""Forms for subject access requests and hearing packs."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from tracker.forms import GovDateField
from tracker.privacy.deadlines import ExtensionReason
from tracker.privacy.models import ClosureReason, RedactionReason


class NewRequestForm(FlaskForm):
    staff_member = SelectField(
        "Member of staff who made the request",
        widget=GovSelect(),
        validate_choice=False,  # checked against the trust's register by the view
        validators=[InputRequired(message="Choose the member of staff who made the request")],
    )
    received_on = GovDateField(
        "Date the request was received",
        description="The day it reached anyone at the trust, working day or not. "
        "For example, 27 3 2026",
    )
    submit = SubmitField("Record the request", widget=GovSubmitInput())


class ExtendForm(FlaskForm):
    reason = RadioField(
        "Why does the request need longer?",
        widget=GovRadioInput(),
        choices=[SelectChoice(value, label) for value, label in ExtensionReason.choices()],
        validators=[InputRequired(message="Choose why the deadline is extended")],
    )
    further_months = RadioField(
        "By how long?",
        widget=GovRadioInput(),
        coerce=int,
        choices=[SelectChoice(1, "One more month"), SelectChoice(2, "Two more months")],
        validators=[InputRequired(message="Choose one or two further months")],
    )
    note = TextAreaField(
        "What you told the person",
        widget=GovCharacterCount(),
        description="The person must be told within the first month that the deadline is "
        "extended, and why.",
        validators=[
            InputRequired(message="Say why the extension is needed, as you told the person"),
            Length(max=2000, message="Keep the note to 2,000 characters or fewer"),
        ],
    )
    submit = SubmitField("Extend the deadline", widget=GovSubmitInput())


class RedactionForm(FlaskForm):
    phrase = StringField(
        "Words to redact",
        widget=GovTextInput(),
        description="A name, nickname or any other words that identify someone else. They "
        "are replaced by [Redacted] wherever they appear in the text, whatever their case.",
        validators=[
            InputRequired(message="Enter the words to redact"),
            Length(max=200, message="Keep the words to redact to 200 characters or fewer"),
        ],
    )
    reason = SelectField(
        "Why",
        widget=GovSelect(),
        choices=[
            SelectChoice("", "Choose a reason"),
            *[SelectChoice(value, label) for value, label in RedactionReason.choices()],
        ],
        validators=[InputRequired(message="Choose why these words are redacted")],
    )
    submit = SubmitField("Redact these words", widget=GovSubmitInput())


class ExportForm(FlaskForm):
    submit = SubmitField("Produce and download the export (ZIP)", widget=GovSubmitInput())


class ReleaseForm(FlaskForm):
    submit = SubmitField("Mark as released to the person", widget=GovSubmitInput())


class CloseForm(FlaskForm):
    reason = RadioField(
        "Why is the request closed?",
        widget=GovRadioInput(),
        choices=[SelectChoice(value, label) for value, label in ClosureReason.choices()],
        validators=[InputRequired(message="Choose why the request is closed")],
    )
    note = TextAreaField(
        "Note",
        widget=GovCharacterCount(),
        description="Required for a refusal (what you told the person, including their right "
        "to complain to the ICO) and for another reason. Optional otherwise.",
        validators=[Length(max=2000, message="Keep the note to 2,000 characters or fewer")],
    )
    submit = SubmitField("Close without releasing", widget=GovSubmitInput())
