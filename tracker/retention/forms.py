"""Forms for legal holds and the facts a case's retention depends on."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from tracker.forms import GovDateField

YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


def _reason(label: str, required: str, description: str) -> TextAreaField:
    return TextAreaField(
        label,
        widget=GovTextArea(),
        description=description,
        validators=[
            InputRequired(message=required),
            Length(max=2_000, message="Keep the reason to 2,000 characters or fewer"),
        ],
    )


class LegalHoldForm(FlaskForm):
    reason = _reason(
        "Why must the case be kept?",
        "Say why the case must be kept",
        "For example, the proceedings or investigation it may be needed for. Only people "
        "who can read the case see this.",
    )
    submit = SubmitField("Place the legal hold", widget=GovSubmitInput())


class LiftLegalHoldForm(FlaskForm):
    reason = _reason(
        "Why can the hold be lifted?",
        "Say why the hold can be lifted",
        "For example, the proceedings have ended. Once lifted, the case is disposed of "
        "or reviewed when its retention runs out, which may be straight away.",
    )
    submit = SubmitField("Lift the legal hold", widget=GovSubmitInput())


class RetentionFactsForm(FlaskForm):
    sexual_abuse = RadioField(
        "Is the concern about sexual abuse?",
        widget=GovRadioInput(),
        choices=YES_NO,
        description="If so, the record is preserved for the statutory inquiry, whatever "
        "the usual retention.",
        validators=[InputRequired(message="Say whether the concern is about sexual abuse")],
    )
    keep_consent = RadioField(
        "Has the member of staff consented to keeping the record?",
        widget=GovRadioInput(),
        choices=YES_NO,
        description="This matters only if the allegation is found false or malicious: such "
        "a record is removed when the case closes unless they consent to keeping it. "
        "Answer no if they withdraw their consent.",
        validators=[InputRequired(message="Say whether they have consented")],
    )
    keep_consent_on = GovDateField(
        "Date they consented",
        required=False,
        description="For example, 27 3 2026.",
    )
    submit = SubmitField("Save", widget=GovSubmitInput())

    def validate_keep_consent_on(self, field: GovDateField) -> None:
        if self.keep_consent.data == "yes" and field.data is None and not field.errors:
            raise ValidationError("Enter the date they consented")
