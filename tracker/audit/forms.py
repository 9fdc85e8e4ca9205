"""The auditor's filter forms: GET forms that change nothing (no CSRF token), and never
a 500 on a hand-edited address."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from wtforms.fields.choices import SelectChoice

from tracker.audit.actions import AuditAction
from tracker.audit.history import HistoryView
from tracker.audit.search import (
    CASE_REFERENCE,
    NO_SCHOOL,
    SYSTEM_ACTOR,
    AuditFilters,
    FilterOptions,
    Person,
)
from tracker.forms import (
    FilterSelectField,
    GetForm,
    GovDateField,
    enum_choices,
    radios,
    text_input,
)


def people_choices(people: list[Person], *, with_system: bool) -> list[SelectChoice]:
    """A choice for each person, and one for the system's own events if asked for; two
    people of the same name are told apart by e-mail."""
    names = [person.name.casefold() for person in people]
    choices = [
        SelectChoice(
            str(person.id),
            f"{person.name} ({person.email})"
            if names.count(person.name.casefold()) > 1
            else person.name,
        )
        for person in people
    ]
    if with_system:
        choices.append(SelectChoice(SYSTEM_ACTOR, "Nobody signed in (the system)"))
    return choices


def actor_value(data: str | None) -> int | str | None:
    """The person filter's answer: a user id, SYSTEM_ACTOR, or None for anyone."""
    actor = data or None
    return actor if actor in (None, SYSTEM_ACTOR) else int(actor)


class AuditSearchForm(GetForm):
    date_from = GovDateField("From", required=False, description="For example, 1 9 2025")
    date_to = GovDateField("To", required=False, description="For example, 31 8 2026")
    actor = FilterSelectField("Person", any_label="Anyone")
    action = FilterSelectField(
        "Action",
        any_label="Any action",
        invalid="Choose an action from the list",
        options=enum_choices(AuditAction),
    )
    school = FilterSelectField("School", any_label="All schools")
    case = text_input(
        "Case reference",
        description="The whole reference, for example HMAT-2026-0001",
        max_length=32,
        too_long="A case reference is 32 characters or fewer",
    )

    def offer(self, options: FilterOptions) -> None:
        """Fill the choices that depend on the user; drop the school filter for one school."""
        self.actor.offer(people_choices(options.people, with_system=True))
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

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        valid: bool = super().validate(extra_validators)
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
        return AuditFilters(
            date_from=self.date_from.data,
            date_to=self.date_to.data,
            actor=actor_value(self.actor.data),
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


class CaseHistoryForm(GetForm):
    show = radios(
        "Show",
        enum_choices(HistoryView),
        default=HistoryView.ALL.value,
        invalid_choice_message="Choose what to show from the list",
    )
    actor = FilterSelectField("Person", any_label="Anyone")

    def offer(self, people: list[Person], *, with_system: bool) -> None:
        self.actor.offer(people_choices(people, with_system=with_system))

    @property
    def view(self) -> HistoryView:
        return HistoryView(self.show.data or HistoryView.ALL.value)

    @property
    def actor_filter(self) -> int | str | None:
        return actor_value(self.actor.data)
