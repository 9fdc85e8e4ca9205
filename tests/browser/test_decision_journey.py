"""A logged concern goes all the way to closed: the DSL triages it as an allegation,
records the LADO referral and advice, investigates and submits it; the headteacher
decides it (a final written warning) and closes it; the closed case is read-only and
shows its whole history."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in as sign_in_through_the_pages
from tracker.auth.roles import Role
from tracker.workflow.services import HARM_QUESTIONS

pytestmark = pytest.mark.browser


def sign_in(page, email):
    sign_in_through_the_pages(page, email)
    expect(page.get_by_role("heading", name="What needs your attention")).to_be_visible()


def expect_banner(page, message):
    expect(page.get_by_text(message)).to_be_visible()


def test_a_concern_is_triaged_investigated_decided_and_closed(page, make):
    trust = make.trust(name="Horizon Multi Academy Trust", code="HMAT")
    school = make.school(trust, name="Northfield Primary School")
    make.policy(trust)
    dsl = make.user(Role.DSL, school, email="dsl@example.org", name="Priya Shah")
    make.user(Role.HEADTEACHER, school, email="head@example.org", name="Hannah Jones")
    case = make.case(school, subject=make.staff(school, name="Liam Hughes"), by=dsl)
    reference = case.reference  # the factory committed: the live server sees the case

    # The DSL triages it as an allegation, answering the harm-threshold questions.
    sign_in(page, "dsl@example.org")
    page.get_by_role("link", name=reference).first.click()
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    page.get_by_role("button", name="Triage").click()
    for name, question in HARM_QUESTIONS.items():
        answer = "Yes" if name == "harm_risk" else "No"
        page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()
    page.get_by_label("Allegation", exact=True).check()
    page.get_by_label("Why did you decide this?").fill(
        "He messaged two Year 8 pupils privately: a possible risk of harm. Refer to the LADO."
    )
    page.get_by_role("button", name="Save the triage").click()
    expect_banner(page, "Triaged as an allegation.")
    expect(page.get_by_test_id("lado-clock")).to_contain_text("Due by")

    # The LADO referral, then the LADO's advice.
    page.get_by_role("button", name="Record the LADO referral").click()
    expect(
        page.get_by_role("group", name="Date of the referral").get_by_label("Day")
    ).not_to_be_empty()
    page.get_by_label("Phone").check()
    page.get_by_label("The LADO's reference (optional)").fill("LADO-2026-117")
    page.get_by_role("button", name="Save the referral").click()
    expect_banner(page, "LADO referral recorded.")
    expect(page.get_by_test_id("lado-clock")).to_contain_text("Referred in time")

    page.get_by_role("button", name="Record the LADO's advice").click()
    page.get_by_label("What did the LADO advise?").fill(
        "No police involvement. The school investigates under its disciplinary procedure."
    )
    page.get_by_role("button", name="Save the advice").click()
    expect_banner(page, "The LADO's advice is recorded.")

    # The investigation, with the DSL as investigator.
    page.get_by_role("button", name="Start the investigation").click()
    page.get_by_label("Who will investigate?").select_option(
        label="Priya Shah (Designated safeguarding lead)"
    )
    page.get_by_role("button", name="Start the investigation").click()
    expect_banner(page, "Investigation started. Priya Shah is investigating.")

    page.get_by_role("button", name="Submit for decision").click()
    page.get_by_label("Investigation summary").fill(
        "Mr Hughes admitted sending the messages and has deleted the account."
    )
    page.get_by_role("button", name="Submit for decision").click()
    expect_banner(page, "Sent to the headteacher for a decision.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Liam Hughes")
    expect(page.get_by_test_id("case-standing")).to_contain_text("Awaiting decision")
    expect(page.get_by_test_id("next-step")).to_contain_text(
        "Record the decision, by Hannah Jones. Due by"
    )
    page.get_by_role("button", name="Sign out").click()

    # The headteacher finds the case on their home page and decides it.
    sign_in(page, "head@example.org")
    page.get_by_role("link", name=reference).first.click()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_role("heading", name=f"Decide {reference}")).to_be_visible()
    # The case is folded into sections above the question: each opens to be read.
    expect(page.get_by_text("Why 3.4 applies")).to_be_hidden()
    page.get_by_text("Rules cited (1)").click()
    expect(page.get_by_text("Why 3.4 applies")).to_be_visible()  # the clause cited, and why
    page.get_by_text("Investigation, evidence and people involved").click()
    expect(page.get_by_test_id("investigation-summary")).to_contain_text("admitted")
    page.get_by_label("Substantiated", exact=True).check()
    page.get_by_label("Final written warning (disregarded after 12 months)").check()
    page.get_by_role(
        "group", name="May this matter be mentioned in future references?"
    ).get_by_label("Yes", exact=True).check()
    page.get_by_label("Reasons for the decision").fill(
        "He admitted messaging pupils from a personal account, against clause 3.4."
    )
    page.get_by_role("button", name="Record the decision").click()
    expect_banner(page, "Decision recorded: substantiated.")
    expect(page.get_by_test_id("sanction")).to_contain_text("The warning expires on")

    # Closing within the appeal window warns first; the headteacher confirms.
    page.get_by_role("button", name="Close the case").click()
    expect(page.get_by_text("The appeal window has not passed")).to_be_visible()
    expect(page.get_by_test_id("appeal-window")).to_contain_text("The appeal window ends on")
    page.get_by_role("button", name="Close the case").click()
    expect_banner(page, "Case closed.")

    # Closed and read-only, with its whole history.
    main = page.get_by_role("main")
    expect(page.get_by_test_id("case-standing")).to_contain_text("Closed")
    expect(page.get_by_text("This case is closed and can no longer be changed.")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Change the details"))).to_have_count(0)
    # The one step left is reopening it, which is its own audited action.
    expect(main.get_by_role("button")).to_have_count(1)
    expect(main.get_by_role("button", name="Reopen the case")).to_be_visible()
    history = page.get_by_test_id("history")
    expect(history.locator("tbody tr")).to_have_count(5)
    for row, (who, before, after) in enumerate(
        [
            ("Priya Shah", "Reported", "Triage"),
            ("Priya Shah", "Triage", "Investigation"),
            ("Priya Shah", "Investigation", "Awaiting decision"),
            ("Hannah Jones", "Awaiting decision", "Decided"),
            ("Hannah Jones", "Decided", "Closed"),
        ]
    ):
        cells = history.locator("tbody tr").nth(row).locator("td")
        expect(cells.nth(1)).to_have_text(who)
        expect(cells.nth(2)).to_have_text(before)
        expect(cells.nth(3)).to_have_text(after)
    expect(history).to_contain_text("Refer to the LADO.")
    expect(history).to_contain_text("against clause 3.4")
    expect(page.get_by_test_id("decision")).to_contain_text("Substantiated")
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    expect(page.get_by_text(f"Concern logged as {reference}")).to_be_visible()
    assert page.console_errors == []
