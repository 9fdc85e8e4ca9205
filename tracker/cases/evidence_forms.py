"""Forms for uploading evidence to a case and removing it."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import GovFileInput

from tracker.cases.evidence import ALLOWED_TYPES_IN_WORDS, size_check_attributes
from tracker.cases.models import PostVisibility
from tracker.forms import (
    GovDateField,
    GovTimeField,
    enum_choices,
    radios,
    submit_button,
    text_area,
    text_input,
)

# What the file chooser offers first; the server decides by the file's content anyway.
ACCEPT = ".png,.jpg,.jpeg,.gif,.webp,.pdf,image/png,image/jpeg,image/gif,image/webp,application/pdf"


class EvidenceForm(FlaskForm):
    file = FileField(
        "File",
        widget=GovFileInput(),
        validators=[FileRequired(message="Choose a file to upload")],
    )
    description = text_area(
        "What does it show? (optional)",
        description="For example: screenshot of the comment under the school's post. Do not "
        "write pupils' names: use initials or a pseudonym.",
        max_length=500,
        too_long="The description must be 500 characters or fewer",
        counted=True,
    )
    source_url = text_input(
        "Web address of the post (optional)",
        description="Copy it from the browser's address bar, starting with https://",
        max_length=2000,
        too_long="The web address must be 2,000 characters or fewer",
    )
    captured_on = GovDateField(
        "Date it was captured (optional)",
        required=False,
        invalid="The date it was captured must be a real date, like 27 3 2026",
        description="When the screenshot was taken or the file saved. For example, 27 3 2026",
    )
    captured_time = GovTimeField(
        "Time it was captured (optional)",
        description="UK time on the 24-hour clock, like 14:30",
    )
    captured_by = text_input(
        "Who captured it (optional)",
        description="For example: the parent who reported it, or your own name",
        max_length=200,
        too_long="Who captured it must be 200 characters or fewer",
    )
    post_visibility = radios(
        "Could anyone see the post?",
        enum_choices(PostVisibility),
        description="Public posts could have been seen by pupils, parents or anyone else.",
        required="Choose whether the post was public or private",
        default=PostVisibility.UNKNOWN.value,
    )
    submit = submit_button("Upload evidence")

    def describe_file_limits(self, max_mb: int) -> None:
        """The hint under the file chooser: the types accepted and the size limit."""
        self.file.description = (
            f"It must be {ALLOWED_TYPES_IN_WORDS}, of {max_mb} MB or smaller. Screenshots "
            "are best: save the whole screen, including the time and the account name."
        )
        self.file.render_kw = size_check_attributes(max_mb)


class RemoveEvidenceForm(FlaskForm):
    reason = text_area(
        "Why is it being removed?",
        description="This is kept with the record of the file and shown on the case.",
        required="Say why the evidence is being removed",
        max_length=500,
        too_long="The reason must be 500 characters or fewer",
    )
    submit = submit_button("Remove evidence")
