"""Forms for subject access requests and hearing packs."""

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from tracker.forms import (
    GovDateField,
    enum_choices,
    radios,
    select,
    select_in_scope,
    submit_button,
    text_area,
    text_input,
)
from tracker.privacy.deadlines import ExtensionReason
from tracker.privacy.models import ClosureReason, RedactionReason

NOTE_TOO_LONG = "Keep the note to 2,000 characters or fewer"


class NewRequestForm(FlaskForm):
    # Offered and checked against the trust's register by the view.
    staff_member = select_in_scope(
        "Member of staff who made the request",
        required="Choose the member of staff who made the request",
    )
    received_on = GovDateField(
        "Date the request was received",
        description="The day it reached anyone at the trust, working day or not. "
        "For example, 27 3 2026",
    )
    submit = submit_button("Record the request")


class ExtendForm(FlaskForm):
    reason = radios(
        "Why does the request need longer?",
        enum_choices(ExtensionReason),
        required="Choose why the deadline is extended",
    )
    further_months = radios(
        "By how long?",
        [SelectChoice(1, "One more month"), SelectChoice(2, "Two more months")],
        required="Choose one or two further months",
        coerce=int,
    )
    note = text_area(
        "What you told the person",
        description="The person must be told within the first month that the deadline is "
        "extended, and why.",
        required="Say why the extension is needed, as you told the person",
        max_length=2000,
        too_long=NOTE_TOO_LONG,
        counted=True,
    )
    submit = submit_button("Extend the deadline")


class RedactionForm(FlaskForm):
    phrase = text_input(
        "Words to redact",
        description="A name, nickname or any other words that identify someone else. They "
        "are replaced by [Redacted] wherever they appear in the text, whatever their case.",
        required="Enter the words to redact",
        max_length=200,
        too_long="Keep the words to redact to 200 characters or fewer",
    )
    reason = select(
        "Why",
        enum_choices(RedactionReason),
        placeholder="Choose a reason",
        required="Choose why these words are redacted",
    )
    submit = submit_button("Redact these words")


class ExportForm(FlaskForm):
    submit = submit_button("Produce and download the export (ZIP)")


class ReleaseForm(FlaskForm):
    submit = submit_button("Mark as released to the person")


class CloseForm(FlaskForm):
    reason = radios(
        "Why is the request closed?",
        enum_choices(ClosureReason),
        required="Choose why the request is closed",
    )
    note = text_area(
        "Note",
        description="Required for a refusal (what you told the person, including their right "
        "to complain to the ICO) and for another reason. Optional otherwise.",
        max_length=2000,
        too_long=NOTE_TOO_LONG,
        counted=True,
    )
    submit = submit_button("Close without releasing")
