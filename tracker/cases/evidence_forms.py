"""Forms for uploading evidence to a case and removing it."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovFileInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from tracker.cases.evidence import ALLOWED_TYPES_IN_WORDS
from tracker.cases.models import PostVisibility
from tracker.forms import GovDateField, GovTimeField

# What the file chooser offers first; the server decides by the file's content anyway.
ACCEPT = ".png,.jpg,.jpeg,.gif,.webp,.pdf,image/png,image/jpeg,image/gif,image/webp,application/pdf"


class EvidenceForm(FlaskForm):
    file = FileField(
        "File",
        widget=GovFileInput(),
        validators=[FileRequired(message="Choose a file to upload")],
    )
    description = TextAreaField(
        "What does it show? (optional)",
        widget=GovCharacterCount(),
        description="For example: screenshot of the comment under the school's post. Do not "
        "write pupils' names: use initials or a pseudonym.",
        validators=[Length(max=500, message="The description must be 500 characters or fewer")],
    )
    source_url = StringField(
        "Web address of the post (optional)",
        widget=GovTextInput(),
        description="Copy it from the browser's address bar, starting with https://",
        validators=[Length(max=2000, message="The web address must be 2,000 characters or fewer")],
    )
    captured_on = GovDateField(
        "Date it was captured (optional)",
        required=False,
        description="When the screenshot was taken or the file saved. For example, 27 3 2026",
    )
    captured_time = GovTimeField(
        "Time it was captured (optional)",
        description="UK time on the 24-hour clock, like 14:30",
    )
    captured_by = StringField(
        "Who captured it (optional)",
        widget=GovTextInput(),
        description="For example: the parent who reported it, or your own name",
        validators=[Length(max=200, message="Who captured it must be 200 characters or fewer")],
    )
    post_visibility = RadioField(
        "Could anyone see the post?",
        widget=GovRadioInput(),
        description="Public posts could have been seen by pupils, parents or anyone else.",
        choices=[SelectChoice(v.value, v.label) for v in PostVisibility],
        default=PostVisibility.UNKNOWN.value,
        validators=[InputRequired(message="Choose whether the post was public or private")],
    )
    submit = SubmitField("Upload evidence", widget=GovSubmitInput())

    def describe_file_limits(self, max_mb: int) -> None:
        """The hint under the file chooser: the types accepted and the size limit."""
        self.file.description = (
            f"It must be {ALLOWED_TYPES_IN_WORDS}, of {max_mb} MB or smaller. Screenshots "
            "are best: save the whole screen, including the time and the account name."
        )


class RemoveEvidenceForm(FlaskForm):
    reason = TextAreaField(
        "Why is it being removed?",
        widget=GovTextArea(),
        description="This is kept with the record of the file and shown on the case.",
        validators=[
            InputRequired(message="Say why the evidence is being removed"),
            Length(max=500, message="The reason must be 500 characters or fewer"),
        ],
    )
    submit = SubmitField("Remove evidence", widget=GovSubmitInput())
