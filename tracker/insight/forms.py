"""The pattern review's form, and linking a case to another."""

from flask_wtf import FlaskForm

from tracker.forms import enum_choices, radios, submit_button, text_area, text_input, yes_no
from tracker.insight.models import LinkKind


class PatternReviewForm(FlaskForm):
    meets_threshold = yes_no(
        "Taken together, do the concerns now meet the harm threshold?",
        description="The four questions of triage, asked of every concern about this person "
        "that you can see, not this one alone.",
        required="Choose whether the concerns now meet the harm threshold",
    )
    escalate = yes_no(
        "Escalate this case to an allegation?",
        description="Escalating takes it back to triage as an allegation and starts the LADO "
        "clock.",
        required="Choose whether to escalate this case to an allegation",
    )
    rationale = text_area(
        "Why did you decide this?",
        description="What the concerns show together. Do not write pupils' names.",
        required="Say why you decided this",
        max_length=5_000,
        too_long="The reason must be 5,000 characters or fewer",
    )
    submit = submit_button("Save the review")


class LinkCaseForm(FlaskForm):
    reference = text_input(
        "Reference of the other case",
        description="For example, HMAT-2026-0042",
        required="Enter the reference of the other case",
        max_length=32,
        too_long="A reference is 32 characters or fewer",
    )
    kind = radios(
        "How are the cases related?",
        enum_choices(LinkKind),
        required="Choose how the cases are related",
    )
    submit = submit_button("Link the cases")


class UnlinkCaseForm(FlaskForm):
    submit = submit_button("Remove the link")
