"""A member of staff asks consent to post pictures of a school event (clause 3.5); the
headteacher grants it with a condition; the member of staff sees the answer; a case about
them citing 3.5 shows the consent, in force on the conduct date."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tracker.auth.roles import Role
from tracker.clock import today

pytestmark = pytest.mark.browser

EVENT = "Year 6 leavers' assembly"
CONDITION = "No close-ups of pupils' faces."


def fill_date(page, legend: str, day) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def sign_in_as(page, email: str) -> None:
    sign_in(page, email)
    expect(page.get_by_test_id("signed-in-as")).to_be_visible()


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("E-mail address")).to_be_visible()


def test_a_consent_is_asked_granted_with_a_condition_and_shown_on_a_case(page, make):
    trust = make.trust(name="Horizon Multi Academy Trust", code="HMAT")
    school = make.school(trust, name="Northfield Primary School")
    make.policy(trust)
    make.user(Role.HEADTEACHER, school, email="head@example.org", name="Hannah Jones")
    dsl = make.user(Role.DSL, school, email="dsl@example.org", name="Priya Shah")
    staff = make.user(Role.STAFF, school, email="staff@example.org", name="Liam Hughes")
    member = make.staff(school, name="Liam Hughes", user=staff)
    event_on = today() - timedelta(days=3)
    expires_on = today() + timedelta(days=30)

    # The member of staff asks, first leaving the form empty.
    sign_in_as(page, "staff@example.org")
    page.goto("/consents/mine")
    expect(page.get_by_text("You have not asked for consent")).to_be_visible()
    page.get_by_role("button", name="Ask for consent").click()
    page.get_by_role("button", name="Ask for consent").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Enter what the event is")
    expect(summary).to_contain_text("Enter the date of the event")
    expect(summary).to_contain_text("Enter what you will post")
    summary.get_by_role("link", name="Enter what the event is").click()
    expect(page.get_by_label("What is the event?")).to_be_focused()

    page.get_by_label("What is the event?").fill(EVENT)
    fill_date(page, "Date of the event", event_on)
    page.get_by_label("What will you post?").fill("Four photographs of the choir on stage.")
    page.get_by_role("group", name="Where will you post it?").get_by_label("Facebook").check()
    page.get_by_label("Who will see it?").fill("Parents in the Year 6 class group")
    page.get_by_role("button", name="Ask for consent").click()
    expect(
        page.get_by_text("Your request for consent has been sent to the headteacher.")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    expect(page.get_by_test_id("consent-status")).to_have_text("Waiting for a decision")
    sign_out(page)

    # The headteacher finds it waiting, and grants it with a condition.
    sign_in_as(page, "head@example.org")
    page.get_by_role("link", name="Consents", exact=True).click()
    page.get_by_role("link", name="Consents waiting for you").click()
    page.get_by_role("link", name=EVENT).click()
    page.get_by_role("button", name="Decide").click()
    page.get_by_label("Yes, I give consent").check()
    page.get_by_label("Conditions (optional)").fill(CONDITION)
    fill_date(page, "Expiry date", expires_on)
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_text("Consent granted.")).to_be_visible()
    expect(page.get_by_test_id("consent-conditions")).to_have_text(CONDITION)
    sign_out(page)

    # The member of staff sees the answer.
    sign_in_as(page, "staff@example.org")
    page.goto("/consents/mine")
    answers = page.get_by_test_id("consents-asked")
    expect(answers).to_contain_text("Granted")
    expect(answers).to_contain_text(CONDITION)
    expect(answers).to_contain_text(f"Until {expires_on.day} {expires_on:%B %Y}")
    sign_out(page)

    # A case about them citing 3.5, for conduct today, shows the consent in force.
    case = make.case(
        school,
        subject=member,
        by=dsl,
        clauses=("3.5",),
        occurred_on=today(),
        reported_on=today(),
    )
    sign_in_as(page, "dsl@example.org")
    page.goto(f"/cases/{case.id}")
    section = page.get_by_role("region", name="Consent to post pictures (clause 3.5)")
    expect(section).to_contain_text(EVENT)
    expect(section).to_contain_text(CONDITION)
    expect(section.get_by_test_id("case-consents")).to_contain_text("In force")
    assert page.console_errors == []
