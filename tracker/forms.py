"""Form helpers shared by every feature."""

from __future__ import annotations

import re
from datetime import time

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovTextInput
from wtforms import DateField, StringField
from wtforms.validators import InputRequired, StopValidation

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

    def __init__(self, label: str, *, required: bool = True, **kwargs):
        # Not WTForms' Optional for the optional case: it looks only at the day box and
        # would silently drop a date typed without one.
        validators = [DateRequired(message=f"Enter the {label.lower()}")] if required else []
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
        if len(valuelist) != 3:
            self.data = None
            raise ValueError(f"{self.label.text} must be a real date, like 27 3 2024")
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(f"{self.label.text} must be a real date, like 27 3 2024") from None


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
