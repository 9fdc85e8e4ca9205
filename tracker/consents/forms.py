"""Forms for asking consent to post pictures, deciding it, passing it to the CEO,
withdrawing it, and searching the register.

The rules that span two answers (where "somewhere else" is, the expiry date against the
event's date) are checked here as well as in the services, so that a page lists every
fault of a submission at once.
"""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from tracker.cases.models import Platform
from tracker.clock import today
from tracker.consents import services
from tracker.consents.models import ConsentStatus
from tracker.forms import (
    FilterSelectField,
    GetForm,
    GovDateField,
    enum_choices,
    radios,
    submit_button,
    text_area,
    text_input,
)


class AskConsentForm(FlaskForm):
    event = text_input(
        "What is the event?",
        description="For example: Year 6 leavers' assembly, or the under-14s football final",
        required="Enter what the event is",
        max_length=services.EVENT_MAX,
        too_long="The event must be 200 characters or fewer",
    )
    event_on = GovDateField(
        "Date of the event",
        description="For example, 27 6 2026",
        missing="Enter the date of the event",
        invalid="The date of the event must be a real date, like 27 6 2026",
    )
    content = text_area(
        "What will you post?",
        description="Say how many pictures or videos, and who and what is in them. For "
        "example: 5 photographs of the choir on stage, taken from the back of the hall.",
        required="Enter what you will post",
        max_length=services.CONTENT_MAX,
        too_long="What you will post must be 2,000 characters or fewer",
        counted=True,
    )
    platform = radios(
        "Where will you post it?",
        enum_choices(Platform),
        required="Choose where you will post it",
    )
    # Revealed under "Somewhere else" (templates/consents/new.html).
    platform_detail = text_input(
        "Which app or website?",
        max_length=services.PLATFORM_DETAIL_MAX,
        too_long="Where you will post it must be 200 characters or fewer",
    )
    audience = text_area(
        "Who will see it?",
        description="For example: anyone (a public account), or the parents in the Year 6 "
        "class group",
        required="Enter who will see it",
        max_length=services.AUDIENCE_MAX,
        too_long="Who will see it must be 500 characters or fewer",
    )
    submit = submit_button("Ask for consent")

    def validate_event_on(self, field: GovDateField) -> None:
        if field.data is not None and (problem := services.event_date_problem(field.data, today())):
            raise ValidationError(problem)

    def validate_platform_detail(self, field) -> None:
        if problem := services.platform_detail_problem(self.platform.data, field.data):
            raise ValidationError(problem)

    def request(self) -> services.ConsentRequest:
        return services.ConsentRequest(
            event=self.event.data or "",
            event_on=self.event_on.data,
            content=self.content.data or "",
            platform=self.platform.data or "",
            platform_detail=self.platform_detail.data or "",
            audience=self.audience.data or "",
        )


GRANT, REFUSE = ConsentStatus.GRANTED.value, ConsentStatus.REFUSED.value


class DecideConsentForm(FlaskForm):
    decision = radios(
        "Do you give consent?",
        [SelectChoice(GRANT, "Yes, I give consent"), SelectChoice(REFUSE, "No, I refuse consent")],
        required="Choose whether you give consent",
    )
    conditions = text_area(
        "Conditions (optional)",
        description="What the member of staff must keep to. For example: no close-ups of "
        "pupils' faces; only pupils whose parents agreed to photographs.",
        max_length=services.CONDITIONS_MAX,
        too_long="The conditions must be 2,000 characters or fewer",
    )
    expires_on = GovDateField(
        "Expiry date",
        required=False,
        invalid="The expiry date must be a real date, like 31 8 2026",
    )
    reason = text_area(
        "Why are you refusing consent?",
        description="The member of staff will see this.",
        max_length=services.REASON_MAX,
        too_long="The reason must be 2,000 characters or fewer",
    )
    submit = submit_button("Save decision")

    # The date of the event asked about: the expiry date is checked against it.
    event_on: date

    def validate_expires_on(self, field: GovDateField) -> None:
        if self.decision.data != GRANT or field.data is None:
            return
        if problem := services.expiry_problem(field.data, self.event_on, today()):
            raise ValidationError(problem)

    def validate_reason(self, field) -> None:
        if self.decision.data == REFUSE and not (field.data or "").strip():
            raise ValidationError("Enter why you are refusing consent")

    def answer(self) -> services.ConsentDecision:
        return services.ConsentDecision(
            decision=self.decision.data or "",
            conditions=self.conditions.data or "",
            expires_on=self.expires_on.data,
            reason=self.reason.data or "",
        )


class ReferConsentForm(FlaskForm):
    submit = submit_button("Pass it to the CEO")


class WithdrawConsentForm(FlaskForm):
    submit = submit_button("Withdraw the request")


class RegisterSearchForm(GetForm):
    q = text_input(
        "Search",
        description="Part of the name of the member of staff, or of the event",
        max_length=100,
        too_long="Enter 100 characters or fewer to search for",
    )
    status = FilterSelectField(
        "Status", any_label="Any status", options=enum_choices(ConsentStatus)
    )
    school = FilterSelectField("School", any_label="All schools")
    event_from = GovDateField(
        "Event on or after",
        required=False,
        description="For example, 1 9 2025",
        invalid="The date the events start must be a real date, like 1 9 2025",
    )
    event_to = GovDateField(
        "Event on or before",
        required=False,
        description="For example, 31 8 2026",
        invalid="The date the events end must be a real date, like 31 8 2026",
    )

    def offer_schools(self, schools: list[tuple[int, str]]) -> None:
        """Offer the schools the user reads; no school filter for one school."""
        if len(schools) > 1:
            self.school.offer([SelectChoice(str(id_), name) for id_, name in schools])
        else:
            del self.school

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        start, end = self.event_from.data, self.event_to.data
        if start and end and start > end:
            self.event_to.errors.append(
                "Event on or before must be the same as or after event on or after"
            )
            return False
        return valid

    def filters(self) -> services.RegisterFilters:
        """The checked filters (call after `validate`)."""
        school = getattr(self, "school", None)
        return services.RegisterFilters(
            text=(self.q.data or "").strip(),
            status=self.status.data or None,
            school_id=int(school.data) if school is not None and school.data else None,
            event_from=self.event_from.data,
            event_to=self.event_to.data,
        )
