"""The auditor's filter forms: GET forms that change nothing (no CSRF token), and never
a 500 on a hand-edited address."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovTextInput
from wtforms import RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from tracker.audit.actions import AuditAction
from tracker.audit.search import (
    CASE_REFERENCE,
    NO_SCHOOL,
    SYSTEM_ACTOR,
    AuditFilters,
    FilterOptions,
    HistoryView,
    Person,
)
from tracker.forms import GovDateField


class ChoiceFilter(SelectField):
    """A select whose first option means "any"; a value not offered gets a plain message."""

    def __init__(
        self,
        label: str,
        *,
        any_label: str,
        invalid: str,
        options: list[SelectChoice] | None = None,
        **kwargs,
    ):
        super().__init__(
            label,
            widget=GovSelect(),
            coerce=str,
            default="",
            choices=None if options is None else [SelectChoice("", any_label), *options],
            invalid_choice_message=invalid,
            **kwargs,
        )
        self.any_label = any_label

    def offer(self, choices: list[SelectChoice]) -> None:
        self.choices = [SelectChoice("", self.any_label), *choices]


def people_choices(people: list[Person]) -> list[SelectChoice]:
    """A choice for each person; two people of the same name are told apart by e-mail."""
    names = [person.name.casefold() for person in people]
    return [
        SelectChoice(
            str(person.id),
            f"{person.name} ({person.email})"
            if names.count(person.name.casefold()) > 1
            else person.name,
        )
        for person in people
    ]


class AuditSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    date_from = GovDateField("From", required=False, description="For example, 1 9 2025")
    date_to = GovDateField("To", required=False, description="For example, 31 8 2026")
    actor = ChoiceFilter("Person", any_label="Anyone", invalid="Choose a person from the list")
    action = ChoiceFilter(
        "Action",
        any_label="Any action",
        invalid="Choose an action from the list",
        options=[SelectChoice(action.value, action.label) for action in AuditAction],
    )
    school = ChoiceFilter(
        "School", any_label="All schools", invalid="Choose a school from the list"
    )
    case = StringField(
        "Case reference",
        widget=GovTextInput(),
        description="The whole reference, for example HMAT-2026-0001",
        validators=[Length(max=32, message="A case reference is 32 characters or fewer")],
    )

    def offer(self, options: FilterOptions) -> None:
        """Fill the choices that depend on the user; drop the school filter for one school."""
        self.actor.offer(
            [
                *people_choices(options.people),
                SelectChoice(SYSTEM_ACTOR, "Nobody signed in (the system)"),
            ]
        )
        schools = [SelectChoice(str(id_), name) for id_, name in options.schools]
        if options.whole_trust:
            schools.append(SelectChoice(NO_SCHOOL, "No school: sign-ins, accounts, policies"))
        if len(schools) > 1:
            self.school.offer(schools)
        else:
            del self.school

    @property
    def case_reference(self) -> str:
        return (self.case.data or "").strip().upper()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        start, end = self.date_from.data, self.date_to.data
        if start and end and start > end:
            self.date_to.errors.append("The ‘to’ date must be the same as or after the ‘from’ date")
            valid = False
        reference = self.case_reference
        if reference and not self.case.errors and not CASE_REFERENCE.match(reference):
            self.case.errors.append("Enter the whole case reference, like HMAT-2026-0001")
            valid = False
        return valid

    def filters(self, *, case_id: int | None = None) -> AuditFilters:
        """The checked filters (call after `validate`, with the case the reference names)."""
        school = getattr(self, "school", None)
        school_value = school.data if school is not None and school.data else None
        actor = self.actor.data or None
        return AuditFilters(
            date_from=self.date_from.data,
            date_to=self.date_to.data,
            actor=actor if actor in (None, SYSTEM_ACTOR) else int(actor),
            action=self.action.data or None,
            school=school_value if school_value in (None, NO_SCHOOL) else int(school_value),
            case_id=case_id,
            case_reference=self.case_reference or None,
        )

    def unknown_case(self) -> None:
        """The reference names no case the user may read: say so on the field (the same
        words whether the case does not exist or is outside their scope)."""
        self.case.errors = [
            f"There is no case {self.case_reference} whose audit trail you can read. "
            "Check the reference and try again."
        ]


class CaseHistoryForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    show = RadioField(
        "Show",
        widget=GovRadioInput(),
        coerce=str,
        default=HistoryView.ALL.value,
        choices=[SelectChoice(view.value, view.label) for view in HistoryView],
        invalid_choice_message="Choose what to show from the list",
    )
    actor = ChoiceFilter("Person", any_label="Anyone", invalid="Choose a person from the list")

    def offer(self, people: list[Person], *, with_system: bool) -> None:
        choices = people_choices(people)
        if with_system:
            choices.append(SelectChoice(SYSTEM_ACTOR, "Nobody signed in (the system)"))
        self.actor.offer(choices)

    @property
    def view(self) -> HistoryView:
        return HistoryView(self.show.data or HistoryView.ALL.value)

    @property
    def actor_filter(self) -> int | str | None:
        actor = self.actor.data or None
        return actor if actor in (None, SYSTEM_ACTOR) else int(actor)
