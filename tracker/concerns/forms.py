"""The form a member of staff raises a concern with: short, in plain words."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovFileInput
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from tracker.cases.evidence import (
    ALLOWED_TYPES_IN_WORDS,
    checked_source_url,
    size_check_attributes,
)
from tracker.cases.models import Platform
from tracker.clock import today
from tracker.concerns.services import ABOUT_COLLEAGUE, ABOUT_MYSELF
from tracker.errors import ValidationFailed
from tracker.forms import (
    GovDateField,
    enum_choices,
    radios,
    select_in_scope,
    submit_button,
    text_area,
    text_input,
)

# The fields a draft keeps (everything typed; never the file, which a browser cannot be
# made to choose again).
DRAFT_FIELDS = (
    "about",
    "colleague",
    "what_happened",
    "occurred_on",  # day, month and year, in that order
    "where_seen",
    "platform",
    "platform_detail",
    "link",
)


class RaiseConcernForm(FlaskForm):
    about = radios(
        "Who is the concern about?",
        [
            SelectChoice(ABOUT_COLLEAGUE, "A colleague"),
            SelectChoice(ABOUT_MYSELF, "Myself"),
        ],
        required="Choose who the concern is about",
    )
    # The view fills the list: the register at the schools where the user works. Revealed
    # under "A colleague" (templates/concerns/new.html).
    colleague = select_in_scope(
        "Which colleague?",
        description="The people on your school's staff register.",
        required="",
    )
    what_happened = text_area(
        "What happened?",
        description="Say what you saw or heard, in your own words. Do not write pupils' "
        "names: use initials or describe them, like a Year 9 pupil.",
        required="Describe what happened",
        max_length=10_000,
        too_long="What happened must be 10,000 characters or fewer",
        counted=True,
    )
    occurred_on = GovDateField(
        "When did it happen?",
        description="If you are not sure of the day, give your best guess. For example, 27 3 2026",
        missing="Enter the date it happened",
        invalid="The date it happened must be a real date, like 27 3 2026",
    )
    where_seen = text_input(
        "Where did you see it or hear about it?",
        description="For example: on a public Instagram account, or a parent showed me a "
        "screenshot",
        required="Say where you saw it or heard about it",
        max_length=500,
        too_long="Where you saw it must be 500 characters or fewer",
    )
    platform = radios(
        "Which app or website was it on?",
        enum_choices(Platform),
        required="Choose the app or website it was on",
    )
    # Revealed under "Somewhere else" (templates/concerns/new.html).
    platform_detail = text_input(
        "Which app or website?",
        max_length=200,
        too_long="Where it was must be 200 characters or fewer",
    )
    link = text_input(
        "Link to the post (optional)",
        description="If you have it, copy it from the browser's address bar, starting with "
        "https://",
        max_length=2000,
        too_long="The link must be 2,000 characters or fewer",
    )
    screenshot = FileField("Screenshot or file (optional)", widget=GovFileInput())
    send = submit_button("Send concern")
    save_draft = submit_button("Save as a draft")

    def describe_file_limits(self, max_mb: int) -> None:
        self.screenshot.description = (
            f"If you have one. It must be {ALLOWED_TYPES_IN_WORDS}, of {max_mb} MB or smaller."
        )
        self.screenshot.render_kw = size_check_attributes(max_mb)

    # Every fault of one submission at once: the checks the service repeats, made here too.

    def validate_colleague(self, field: Any) -> None:
        if self.about.data == ABOUT_COLLEAGUE and not field.data:
            raise ValidationError("Choose the colleague the concern is about")

    def validate_what_happened(self, field: Any) -> None:
        if field.data is not None and not field.data.strip() and not field.errors:
            raise ValidationError("Describe what happened")

    def validate_where_seen(self, field: Any) -> None:
        if field.data is not None and not field.data.strip() and not field.errors:
            raise ValidationError("Say where you saw it or heard about it")

    def validate_occurred_on(self, field: Any) -> None:
        if field.data is not None and field.data > today():
            raise ValidationError("The date it happened must be today or in the past")

    def validate_platform_detail(self, field: Any) -> None:
        if self.platform.data == Platform.OTHER and not (field.data or "").strip():
            raise ValidationError("Enter which app or website it was on")

    def validate_link(self, field: Any) -> None:
        try:
            checked_source_url(field.data or "", field="link")
        except ValidationFailed as error:
            raise ValidationError(error.message) from None


class DiscardDraftForm(FlaskForm):
    submit = submit_button("Delete the draft")
