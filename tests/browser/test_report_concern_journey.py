"""A DSL reports a concern, cites 3.4, uploads a screenshot, adds a chronology entry,
finds the case again by reference and by the clause it cites, corrects where it happened
and reads the change in the case's history."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.test_evidence import tiny_png
from tracker.auth.roles import Role

pytestmark = pytest.mark.browser


def test_dsl_reports_a_concern_and_finds_it_again(page, make, tmp_path):
    trust = make.trust(name="Horizon Multi Academy Trust", code="HMAT")
    school = make.school(trust, name="Northfield Primary School")
    make.policy(trust)
    make.user(Role.DSL, school, email="dsl@example.org", name="Priya Shah")
    make.staff(school, name="Liam Hughes")
    screenshot = tmp_path / "instagram-messages.png"
    screenshot.write_bytes(tiny_png())

    sign_in(page, "dsl@example.org")

    page.get_by_role("button", name="Report a concern").click()
    expect(page.get_by_role("heading", name="Report a concern")).to_be_visible()
    page.get_by_label("Member of staff the concern is about").select_option(
        label="Liam Hughes, Teacher"
    )
    page.get_by_label("Complaint from a parent or carer").check()
    conduct = page.get_by_role("group", name="When did the conduct happen?")
    conduct.get_by_label("Day").fill("2")
    conduct.get_by_label("Month").fill("3")
    conduct.get_by_label("Year").fill("2026")
    reported = page.get_by_role("group", name="When was it reported to the school?")
    reported.get_by_label("Day").fill("4")
    reported.get_by_label("Month").fill("3")
    reported.get_by_label("Year").fill("2026")
    page.get_by_role("group", name="Where did it happen?").get_by_label("Instagram").check()
    page.get_by_label("What happened?").fill(
        "A parent reported that Mr Hughes sent direct messages on Instagram to two Year 8 "
        "pupils from his personal account."
    )
    harm_warning = page.locator('[id="conditional-clause-3.4"]').get_by_text(
        "This may meet the harm threshold"
    )
    expect(harm_warning).to_be_hidden()
    page.get_by_label("3.4 Online contact with pupils").check()
    expect(harm_warning).to_be_visible()  # choosing a high-significance rule warns at once
    page.get_by_label("Why clause 3.4 may have been broken").fill(
        "Direct messages to pupils from a personal account."
    )
    page.get_by_role("button", name="Save concern").click()

    banner = page.get_by_text(re.compile(r"Concern HMAT-\d{4}-0001 saved\."))
    expect(banner).to_be_visible()
    reference = re.search(r"HMAT-\d{4}-0001", banner.inner_text()).group(0)
    # The reference heads the page as its caption; the heading names whose case it is.
    expect(page.locator(".govuk-caption-l").first).to_contain_text(reference)

    page.get_by_role("button", name="Add evidence").click()
    page.get_by_label("File").set_input_files(str(screenshot))
    page.get_by_label("What does it show? (optional)").fill("Screenshot of the messages")
    page.get_by_label("Private: friends, followers or a closed group").check()
    page.get_by_role("button", name="Upload evidence").click()
    expect(page.get_by_role("link", name=re.compile("Download"))).to_be_visible()
    expect(page.get_by_text("Screenshot of the messages").first).to_be_visible()

    page.get_by_role("button", name="Add a chronology entry").click()
    page.get_by_label("Phone call").check()
    when = page.get_by_role("group", name="When did it happen?")
    when.get_by_label("Day").fill("5")
    when.get_by_label("Month").fill("3")
    when.get_by_label("Year").fill("2026")
    page.get_by_label("What happened or was done?").fill(
        "Called the parent to acknowledge the report."
    )
    page.get_by_role("button", name="Add entry").click()
    expect(page.get_by_text("Called the parent to acknowledge the report.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Written on"))).to_be_visible()

    # Find it again: by reference...
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Cases").click()
    page.get_by_label("Search").fill(reference)
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("link", name=reference)).to_be_visible()
    # ...and by the clause it cites, among the filters folded under the search box.
    page.get_by_role("link", name="Clear the filters").click()
    page.get_by_text("Filter and sort the cases").click()
    page.get_by_label("Clause cited").select_option(value="3.4")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("link", name=reference)).to_be_visible()
    page.get_by_role("link", name=reference).click()
    # The reference heads the page as its caption; the heading names whose case it is.
    expect(page.locator(".govuk-caption-l").first).to_contain_text(reference)

    # A correction, then the case's history: as logged, and what the change replaced.
    page.get_by_role("link", name=re.compile("^Change the details")).click()
    page.get_by_role("group", name="Where did it happen?").get_by_label("WhatsApp").check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Changes saved.")).to_be_visible()
    page.get_by_role("link", name=re.compile("^History")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("History of the case details")
    logged = page.get_by_test_id("revision-1")
    expect(logged.get_by_role("heading", name="Case logged")).to_be_visible()
    expect(logged).to_contain_text("Instagram")
    change = page.get_by_test_id("revision-2")
    expect(change.get_by_role("heading", name="Change 1: details changed")).to_be_visible()
    expect(change.get_by_role("row", name=re.compile("^Where"))).to_have_count(1)
    expect(change.get_by_role("row", name=re.compile("^Where"))).to_contain_text(
        re.compile(r"Instagram\s+WhatsApp")
    )
    assert page.console_errors == []
