"""Forms for legal holds and the facts a case's retention depends on."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import ValidationError

from tracker.forms import GovDateField, submit_button, text_area, yes_no


def _reason(label: str, required: str, description: str) -> TextAreaField:
    return text_area(
        label,
        description=description,
        required=required,
        max_length=2_000,
        too_long="Keep the reason to 2,000 characters or fewer",
    )


class LegalHoldForm(FlaskForm):
    reason = _reason(
        "Why must the case be kept?",
        "Say why the case must be kept",
        "For example, the proceedings or investigation it may be needed for. Only people "
        "who can read the case see this.",
    )
    submit = submit_button("Place the legal hold")


class LiftLegalHoldForm(FlaskForm):
    reason = _reason(
        "Why can the hold be lifted?",
        "Say why the hold can be lifted",
        "For example, the proceedings have ended. Once lifted, the case is disposed of "
        "or reviewed when its retention runs out, which may be straight away.",
    )
    submit = submit_button("Lift the legal hold")


class RetentionFactsForm(FlaskForm):
    sexual_abuse = yes_no(
        "Is the concern about sexual abuse?",
        description="If so, the record is preserved for the statutory inquiry, whatever "
        "the usual retention.",
        required="Say whether the concern is about sexual abuse",
    )
    keep_consent = yes_no(
        "Has the member of staff consented to keeping the record?",
        description="This matters only if the allegation is found false or malicious: such "
        "a record is removed when the case closes unless they consent to keeping it. "
        "Answer no if they withdraw their consent.",
        required="Say whether they have consented",
    )
    keep_consent_on = GovDateField(
        "Date they consented",
        required=False,
        description="For example, 27 3 2026.",
    )
    submit = submit_button("Save")

    def validate_keep_consent_on(self, field: GovDateField) -> None:
        if self.keep_consent.data == "yes" and field.data is None and not field.errors:
            raise ValidationError("Enter the date they consented")
