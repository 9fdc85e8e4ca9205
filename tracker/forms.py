"""Form helpers shared by every feature: GOV.UK fields, the GET form, service errors."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import time
from typing import Any, Protocol

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import DateField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, StopValidation

from tracker.errors import DomainError


def show_error(form: FlaskForm, error: DomainError) -> None:
    """Put a service's refusal on the field it concerns, or on the whole form.

    The page then shows it in the error summary and beside the field, with everything
    the user typed still in the form.
    """
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def answers_to(form: Any, *names: str) -> dict[str, Any]:
    """The form's answers to the named questions, by name: the keyword arguments of the
    service its page calls. A text box that was not sent answers "", never None."""
    found = {}
    for name in names:
        field = form[name]
        text = isinstance(field, StringField) and not isinstance(field, GovTimeField)
        found[name] = "" if text and field.data is None else field.data
    return found


class GetForm(FlaskForm):
    """A form sent by GET (a search or a filter): it changes nothing, so it has no CSRF token."""

    class Meta:
        csrf = False


class Labelled(Protocol):
    """An enum member with the words shown for it (a `LabelledEnum`, or any enum with `label`)."""

    value: str
    label: str


YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


def enum_choices(enum: Iterable[Labelled]) -> list[SelectChoice]:
    """A choice for each member of an enum, in its order, shown by its label."""
    return [SelectChoice(member.value, member.label) for member in enum]


# The fields below carry their GOV.UK widget, so that a form reads as its questions. In each,
# `required` is the message shown when the question is left unanswered (None: optional),
# `description` the hint under the label, and `too_long` the message past `max_length`
# characters (None: WTForms' own).


def _answer_required(message: str | None) -> list[InputRequired]:
    return [InputRequired(message=message)] if message else []


def text_input(
    label: str,
    *,
    description: str = "",
    required: str | None = None,
    max_length: int | None = None,
    too_long: str | None = None,
) -> StringField:
    """A one-line text answer."""
    limit = [] if max_length is None else [Length(max=max_length, message=too_long)]
    return StringField(
        label,
        widget=GovTextInput(),
        description=description,
        validators=[*_answer_required(required), *limit],
    )


def text_area(
    label: str,
    *,
    description: str = "",
    required: str | None = None,
    max_length: int,
    too_long: str | None = None,
    counted: bool = False,
    blank_skips_checks: bool = False,
) -> TextAreaField:
    """A multi-line text answer: a reason, a note, a summary.

    `counted` shows the GOV.UK character count under the box. `blank_skips_checks` adds
    WTForms' Optional to an optional answer: a blank one (spaces only) passes untested.
    """
    presence = [Optional()] if blank_skips_checks else _answer_required(required)
    return TextAreaField(
        label,
        widget=GovCharacterCount() if counted else GovTextArea(),
        description=description,
        validators=[*presence, Length(max=max_length, message=too_long)],
    )


def radios(
    label: str,
    choices: list[SelectChoice] | None = None,
    *,
    description: str = "",
    required: str | None = None,
    **kwargs,
) -> RadioField:
    """One answer from radio buttons (`kwargs` as for WTForms' RadioField)."""
    if required:
        kwargs["validators"] = _answer_required(required)
    return RadioField(
        label, widget=GovRadioInput(), choices=choices, description=description, **kwargs
    )


def yes_no(label: str, *, description: str = "", required: str) -> RadioField:
    """A question answered yes or no; `data` is "yes" or "no"."""
    return radios(label, YES_NO, required=required, description=description)


def select(
    label: str,
    choices: list[SelectChoice],
    *,
    placeholder: str,
    required: str | None = None,
) -> SelectField:
    """A drop-down list whose first, empty option is the `placeholder` ("Choose ...").

    Left on the placeholder, the answer is refused with the `required` message, or, with
    none, taken as no answer (WTForms' Optional).
    """
    return SelectField(
        label,
        widget=GovSelect(),
        choices=[SelectChoice("", placeholder), *choices],
        validators=_answer_required(required) or [Optional()],
    )


def select_in_scope(label: str, *, description: str = "", required: str, coerce=str) -> SelectField:
    """A drop-down list of what the user may choose, filled and checked by the view.

    The view fills the choices from the user's scope and checks the answer itself, so that a
    choice from outside it gets a message in words rather than WTForms' own.
    """
    return SelectField(
        label,
        widget=GovSelect(),
        description=description,
        coerce=coerce,
        validate_choice=False,
        validators=_answer_required(required),
    )


def submit_button(label: str) -> SubmitField:
    """The button that sends the form."""
    return SubmitField(label, widget=GovSubmitInput())


class FilterSelectField(SelectField):
    """A select whose first option means "any"; a value not offered gets a plain message."""

    def __init__(
        self,
        label: str,
        *,
        any_label: str,
        invalid: str | None = None,
        options: list[SelectChoice] | None = None,
        **kwargs,
    ):
        super().__init__(
            label,
            widget=GovSelect(),
            coerce=str,
            default="",
            choices=None if options is None else [SelectChoice("", any_label), *options],
            invalid_choice_message=invalid or f"Choose a {label.lower()} from the list",
            **kwargs,
        )
        self.any_label = any_label

    def offer(self, choices: list[SelectChoice]) -> None:
        self.choices = [SelectChoice("", self.any_label), *choices]


DATE_FORMAT = "%d %m %Y"  # the three boxes of the GOV.UK date input, joined by spaces


class DateRequired(InputRequired):
    """InputRequired for the three boxes of a date.

    InputRequired looks only at the day box, and takes a space there for an answer; the
    field then parses as no date at all, and the view would get None for a date it was
    promised (a 500 where the page should say "Enter the date").
    """

    def __call__(self, form, field):
        super().__call__(form, field)
        if not any(part.strip() for part in field.raw_data):
            field.errors[:] = []
            raise StopValidation(self.message)


class GovDateField(DateField):
    """A date typed as day, month and year, with a message a person can act on."""

    # What WTForms keeps (it ships no types): the date, once valid (None when left blank,
    # which a required field refuses), and the three boxes as typed.
    data: Any
    raw_data: list[str] | None

    def __init__(
        self,
        label: str,
        *,
        required: bool = True,
        missing: str | None = None,
        invalid: str | None = None,
        **kwargs,
    ):
        """`missing` and `invalid` are the messages for a blank and an impossible date, in
        the words of the Design System's pattern ("Enter the date it happened", "The date
        it happened must be a real date"). Without them they are made from the label
        ("Enter the date of the referral", "Date of the referral must be a real date"),
        which reads well only for a label that names a date: a question needs its own."""
        # Not WTForms' Optional for the optional case: it looks only at the day box and
        # would silently drop a date typed without one.
        message = missing or f"Enter the {label.lower()}"
        validators = [DateRequired(message=message)] if required else []
        self.invalid_message = invalid
        super().__init__(
            label, format=DATE_FORMAT, widget=GovDateInput(), validators=validators, **kwargs
        )

    def process(self, formdata, data=None, extra_filters=None):
        super().process(formdata, data, extra_filters)
        # The widget unpacks exactly day, month and year: a post with the boxes missing
        # (or extra values) must still render, with the error, never fail.
        if self.raw_data is not None:
            self.raw_data = ([*self.raw_data, "", "", ""])[:3]

    def process_formdata(self, valuelist):
        if not any(part.strip() for part in valuelist):
            self.data = None
            return
        invalid = self.invalid_message or f"{self.label.text} must be a real date"
        if len(valuelist) != 3:
            self.data = None
            raise ValueError(invalid)
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(invalid) from None


_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class GovTimeField(StringField):
    """An optional time of day typed as HH:MM on the 24-hour clock; `data` is a time."""

    def __init__(self, label: str, **kwargs):
        kwargs.setdefault("description", "24-hour clock, like 14:30")
        super().__init__(label, widget=GovTextInput(), **kwargs)

    def process_formdata(self, valuelist):
        text = valuelist[0].strip() if valuelist else ""
        self.data = None
        if not text:
            return
        match = _TIME.match(text)
        if match is None:
            raise ValueError("Enter the time like 14:30, or leave it blank")
        self.data = time(int(match.group(1)), int(match.group(2)))

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%H:%M") if self.data else ""
