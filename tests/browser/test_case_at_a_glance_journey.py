"""The case page and the decision page answer their question on the first screen (1280 x
900): whose case it is and what it waits for; what the decision is, with the sanctions
offered only under the outcomes they may follow."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tracker.auth.roles import Role
from tracker.clock import today
from tracker.db import utcnow
from tracker.extensions import db
from tracker.workflow import services

pytestmark = pytest.mark.browser

SCREEN = {"width": 1280, "height": 900}
NO_HARM = dict.fromkeys(services.HARM_QUESTIONS, "no")


def awaiting_decision(make, track):
    """A case at the decision, as the DSL would have left it; the headteacher decides."""
    trust = make.trust(name="Horizon Multi Academy Trust", code="HMAT")
    school = make.school(trust, name="Northfield Primary School")
    make.policy(trust)
    dsl = make.user(Role.DSL, school, email="dsl@example.org", name="Priya Shah")
    make.user(Role.HEADTEACHER, school, email="head@example.org", name="Hannah Jones")
    case = make.case(school, subject=make.staff(school, name="Liam Hughes"), by=dsl)
    answers = {**NO_HARM, "harm_risk": "yes"} if track == "allegation" else NO_HARM
    services.triage(case, track=track, answers=answers, rationale="Messages.", by=dsl)
    if track == "allegation":
        services.record_lado_referral(
            case, referred_at=utcnow(), method="phone", reference="LADO-1", by=dsl
        )
        services.record_lado_advice(
            case, advice="Investigate.", advised_on=today(), today=today(), by=dsl
        )
    services.start_investigation(case, investigator=dsl, by=dsl)
    services.submit_for_decision(case, summary="He admitted it.", by=dsl)
    db.session.commit()
    return case.id


def within_first_screen(locator):
    box = locator.bounding_box()
    assert box is not None
    return box["y"] + box["height"] <= SCREEN["height"]


def test_the_case_page_heading_names_the_subject_and_the_next_step(page, make):
    case_id = awaiting_decision(make, "allegation")
    page.set_viewport_size(SCREEN)
    sign_in(page, "dsl@example.org")
    page.goto(f"/cases/{case_id}")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Liam Hughes")
    next_step = page.get_by_test_id("next-step")
    expect(next_step).to_contain_text("Record the decision, by Hannah Jones. Due by")
    assert within_first_screen(next_step)
    # The DSL waits on the decision: their first button is not escalating or withdrawing.
    first = page.get_by_test_id("what-happens-next").get_by_role("button").first
    expect(first).not_to_have_text("Escalate to an allegation")
    expect(first).not_to_have_text("Withdraw the case")


def test_the_decision_is_asked_on_the_first_screen_and_reveals_its_sanctions(page, make):
    case_id = awaiting_decision(make, "low_level")
    page.set_viewport_size(SCREEN)
    sign_in(page, "head@example.org")
    page.goto(f"/cases/{case_id}/decide")
    outcome = page.get_by_role("group", name="Outcome")
    first_radio = outcome.get_by_role("radio").first
    expect(first_radio).to_be_visible()
    assert within_first_screen(first_radio)

    sanction = page.get_by_role("group", name="Sanction")
    expect(sanction).to_have_count(0)  # hidden until an outcome that takes one is chosen
    page.get_by_label("No further action", exact=True).check()
    expect(page.get_by_role("group", name="Sanction")).to_have_count(0)

    page.get_by_label("Advice and guidance", exact=True).check()
    shown = page.get_by_role("group", name="Sanction")
    expect(shown).to_have_count(1)
    expect(shown.get_by_role("radio")).to_have_count(2)  # none, or management advice
    shown.get_by_label("Management advice").check()

    page.get_by_label("Referred to the disciplinary procedure").check()
    shown = page.get_by_role("group", name="Sanction")
    expect(shown).to_have_count(1)
    expect(shown.get_by_role("radio")).to_have_count(5)
    shown.get_by_label("First written warning (disregarded after 6 months)").check()

    # Then no further action after all: the warning chosen under the other outcome, now
    # hidden, is not sent (the server would refuse a sanction after this outcome).
    page.get_by_label("No further action", exact=True).check()
    expect(page.get_by_role("group", name="Sanction")).to_have_count(0)
    expect(page.get_by_text("May this matter be mentioned in future references?")).to_have_count(0)
    page.get_by_label("Reasons for the decision").fill("Nothing more to do.")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("Decision recorded: no further action.")).to_be_visible()
    expect(page.get_by_test_id("sanction")).to_contain_text("No sanction")
