"""A pattern of concerns, in a browser: the DSL triages the third low-level concern about
one person in a year, sees that a pattern may exist, reviews it and escalates the case
to an allegation; the case cannot close before the review."""

from datetime import date

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tracker.auth.roles import Role
from tracker.workflow.services import HARM_QUESTIONS

pytestmark = pytest.mark.browser


def test_the_dsl_reviews_a_pattern_and_escalates(page, make):
    trust = make.trust(name="Horizon Multi Academy Trust", code="HMAT")
    school = make.school(trust, name="Northfield Primary School")
    make.policy(trust)
    dsl = make.user(Role.DSL, school, email="dsl@example.org", name="Priya Shah")
    liam = make.staff(school, name="Liam Hughes")

    def concern(clause: str, reported_on: date):
        return make.case(
            school, subject=liam, by=dsl, clauses=(clause,),
            occurred_on=reported_on, reported_on=reported_on,
        )  # fmt: skip

    earlier = [concern("3.4", date(2026, 1, 12)), concern("3.5", date(2026, 5, 20))]
    third = concern("3.2(c)", date(2026, 9, 15))

    sign_in(page, "dsl@example.org")
    page.goto(f"/cases/{third.id}")
    expect(page.get_by_text("A pattern of concerns may exist: review needed")).to_be_visible()
    earlier_table = page.get_by_test_id("earlier-concerns")
    for case in earlier:
        expect(earlier_table).to_contain_text(case.reference)

    # Triage it as low-level: the triage page shows the earlier concerns too.
    page.get_by_role("button", name="Triage").click()
    expect(page.get_by_test_id("earlier-concerns")).to_contain_text(earlier[0].reference)
    for question in HARM_QUESTIONS.values():
        page.get_by_role("group", name=question).get_by_label("No", exact=True).check()
    page.get_by_label("Low-level concern", exact=True).check()
    page.get_by_label("Why did you decide this?").fill("Each on its own is low-level.")
    page.get_by_role("button", name="Save the triage").click()
    expect(page.get_by_text("Triaged as a low-level concern.")).to_be_visible()

    # The review leads the "What happens next" panel.
    page.get_by_role("button", name="Review the pattern of concerns").first.click()
    page.get_by_role("button", name="Save the review").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Choose whether the concerns now meet the harm threshold")
    expect(summary).to_contain_text("Say why you decided this")
    threshold = "Taken together, do the concerns now meet the harm threshold?"
    page.get_by_role("group", name=threshold).get_by_label("Yes", exact=True).check()
    escalate = "Escalate this case to an allegation?"
    page.get_by_role("group", name=escalate).get_by_label("Yes", exact=True).check()
    page.get_by_label("Why did you decide this?").fill(
        "Three concerns in nine months about contact with pupils online: together they "
        "suggest he may pose a risk."
    )
    page.get_by_role("button", name="Save the review").click()
    expect(
        page.get_by_text("Pattern reviewed. The case is now an allegation, back in triage.")
    ).to_be_visible()
    expect(page.get_by_text("A pattern of concerns may exist: review needed")).to_have_count(0)
    expect(page.get_by_test_id("pattern-reviewed")).to_be_visible()
    expect(page.get_by_text("Allegation", exact=True).first).to_be_visible()
    assert not page.console_errors
