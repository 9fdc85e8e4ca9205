"""The case list's filter form: a GET form, so no CSRF token, and never a 500 on bad input."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovSelect
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from tracker.cases.listing import (
    NOT_TRIAGED,
    OPEN,
    WAITING_FOR_YOU,
    CaseFilters,
    FilterOptions,
    Sort,
)
from tracker.cases.models import CaseStatus, Platform, Track
from tracker.forms import FilterSelectField, GetForm, GovDateField, enum_choices, text_input


class CaseFilterForm(GetForm):
    q = text_input(
        "Search",
        description="A case reference, or part of the name of the member of staff",
        max_length=100,
        too_long="Enter 100 characters or fewer to search for",
    )
    school = FilterSelectField("School", any_label="All schools")
    status = FilterSelectField(
        "Status",
        any_label="Any status",
        options=[SelectChoice(OPEN, "Any open status"), *enum_choices(CaseStatus)],
    )
    waiting = FilterSelectField(
        "Next step",
        any_label="Anyone's",
        options=[SelectChoice(WAITING_FOR_YOU, "Waiting for you")],
        invalid="Choose whose next step from the list",
    )
    track = FilterSelectField(
        "Track",
        any_label="Any track",
        options=[SelectChoice(NOT_TRIAGED, "Not triaged"), *enum_choices(Track)],
    )
    clause = FilterSelectField("Clause cited", any_label="Any clause")
    platform = FilterSelectField(
        "Platform",
        any_label="Any platform",
        options=enum_choices(Platform),
    )
    # GovDateField keeps what was typed and turns missing or extra boxes from a
    # hand-edited address into an error message rather than a crash.
    reported_from = GovDateField(
        "Reported from", required=False, description="For example, 1 9 2025"
    )
    reported_to = GovDateField("Reported to", required=False, description="For example, 31 8 2026")
    sort = SelectField(
        "Sort by",
        widget=GovSelect(),
        coerce=str,
        default=Sort.NEWEST.value,
        choices=enum_choices(Sort),
        invalid_choice_message="Choose how to sort the cases from the list",
    )

    def active(self) -> list[tuple[str, str]]:
        """The filters that narrow the list, as (label, chosen value) in the form's order,
        to show above the results while the filter form is folded away (call after
        `validate`; nothing is shown for a field with an error)."""
        shown = []
        for field in self:
            if field.name == "sort" or field.errors or not field.data:
                continue
            if isinstance(field, FilterSelectField):
                label = next((c.label for c in field.iter_choices() if c.selected), field.data)
                shown.append((field.label.text, label))
            elif field.name == "q":
                shown.append(("Search", field.data.strip()))
            else:
                shown.append((field.label.text, f"{field.data.day} {field.data:%B %Y}"))
        return [(label, value) for label, value in shown if value]

    def offer(self, options: FilterOptions) -> None:
        """Fill the choices that depend on the user; drop the school filter for one school."""
        if len(options.schools) > 1:
            self.school.offer([SelectChoice(str(id_), name) for id_, name in options.schools])
        else:
            del self.school
        self.clause.offer([SelectChoice(ref, ref) for ref in options.clause_references])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        start, end = self.reported_from.data, self.reported_to.data
        if start and end and start > end:
            self.reported_to.errors.append("Reported to must be the same as or after reported from")
            return False
        return valid

    def filters(self, *, page: int, per_page: int) -> CaseFilters:
        """The checked filters (call after `validate`)."""
        school = getattr(self, "school", None)
        return CaseFilters(
            school_id=int(school.data) if school is not None and school.data else None,
            status=self.status.data or None,
            track=self.track.data or None,
            clause=self.clause.data or None,
            platform=self.platform.data or None,
            reported_from=self.reported_from.data,
            reported_to=self.reported_to.data,
            search=(self.q.data or "").strip(),
            waiting=self.waiting.data or None,
            sort=Sort(self.sort.data or Sort.NEWEST.value),
            page=page,
            per_page=per_page,
        )
