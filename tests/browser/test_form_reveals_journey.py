"""Forms that ask only what applies: a follow-up question shows when the radio it follows
is chosen (and always without JavaScript); a user of one school is not asked which; a
file over the size limit is refused as soon as it is chosen, with everything else typed
kept."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.test_evidence import tiny_png
from tracker.auth.roles import Role
from tracker.extensions import db

pytestmark = pytest.mark.browser

MB = 1024 * 1024


@pytest.fixture
def northfield(make):
    trust = make.trust(name="Horizon Multi Academy Trust", code="HMAT")
    school = make.school(trust, name="Northfield Primary School")
    make.policy(trust)
    dsl = make.user(Role.DSL, school, email="dsl@example.org", name="Priya Shah")
    make.staff(school, name="Liam Hughes")
    return school, dsl


def test_somewhere_else_reveals_where_and_one_school_is_not_asked(page, northfield):
    sign_in(page, "dsl@example.org")
    page.goto("/cases/new")
    expect(page.get_by_role("heading", name="Report a concern")).to_be_visible()

    # One school: named, not offered in a drop-down.
    expect(page.get_by_text("School: Northfield Primary School")).to_be_visible()
    expect(page.get_by_label("School", exact=True)).to_have_count(0)

    where = page.get_by_role("group", name="Where did it happen?")
    detail = page.get_by_label("Where was it?")
    expect(detail).to_be_hidden()
    where.get_by_label("Somewhere else", exact=True).check()
    expect(detail).to_be_visible()
    expect(where.get_by_label("Somewhere else", exact=True)).to_have_attribute(
        "aria-expanded", "true"
    )
    where.get_by_label("Instagram", exact=True).check()
    expect(detail).to_be_hidden()

    # Chosen but left empty: the message is on the revealed box, which stays open.
    where.get_by_label("Somewhere else", exact=True).check()
    page.get_by_role("button", name="Save concern").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter where it happened")
    expect(detail).to_be_visible()
    summary.get_by_role("link", name="Enter where it happened").click()
    expect(detail).to_be_focused()
    assert page.console_errors == []


def test_without_javascript_the_follow_up_question_shows(browser, live_server, northfield):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, "dsl@example.org")
        page.goto("/cases/new")
        expect(page.get_by_label("Where was it?")).to_be_visible()
    finally:
        context.close()


def test_a_file_over_the_limit_is_refused_before_it_is_sent(page, app, make, northfield, tmp_path):
    school, dsl = northfield
    case = make.case(school, by=dsl)
    db.session.commit()
    app.config["EVIDENCE_MAX_MB"] = 1
    app.config["MAX_CONTENT_LENGTH"] = 2 * MB
    too_big = tmp_path / "whole-thread.png"
    too_big.write_bytes(tiny_png() + b"\0" * (3 * MB))
    fine = tmp_path / "screenshot.png"
    fine.write_bytes(tiny_png())

    sign_in(page, "dsl@example.org")
    page.goto(f"/cases/{case.id}/evidence/new")
    page.get_by_label("What does it show? (optional)").fill("The comment under the post")
    page.get_by_label("Who captured it (optional)").fill("The parent who reported it")
    chooser = page.get_by_label("File", exact=True)
    chooser.set_input_files(too_big)

    message = page.locator(".govuk-error-message", has_text="must be smaller than 1 MB")
    expect(message).to_have_text("Error: The selected file must be smaller than 1 MB")
    expect(page).to_have_title(re.compile(rf"^Error: Add evidence to {case.reference} "))
    page.get_by_role("button", name="Upload evidence").click()
    # Not sent: the same page, the answers as typed, the file chooser ready again.
    expect(page).to_have_url(f"{page.url.split('/cases/')[0]}/cases/{case.id}/evidence/new")
    expect(chooser).to_be_focused()
    expect(page.get_by_label("What does it show? (optional)")).to_have_value(
        "The comment under the post"
    )
    expect(page.get_by_label("Who captured it (optional)")).to_have_value(
        "The parent who reported it"
    )

    chooser.set_input_files(fine)
    expect(message).to_have_count(0)
    expect(page).to_have_title(re.compile(rf"^Add evidence to {case.reference} "))
    page.get_by_role("button", name="Upload evidence").click()
    expect(page.get_by_text("screenshot.png added to the evidence.")).to_be_visible()
    assert page.console_errors == []


def test_without_the_check_the_too_large_page_leads_back_to_the_form(
    browser, live_server, app, make, northfield, tmp_path
):
    school, dsl = northfield
    case = make.case(school, by=dsl)
    db.session.commit()
    app.config["EVIDENCE_MAX_MB"] = 1
    app.config["MAX_CONTENT_LENGTH"] = 2 * MB
    too_big = tmp_path / "whole-thread.png"
    too_big.write_bytes(tiny_png() + b"\0" * (3 * MB))
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, "dsl@example.org")
        page.goto(f"/cases/{case.id}/evidence/new")
        page.get_by_label("File", exact=True).set_input_files(too_big)
        page.get_by_role("button", name="Upload evidence").click()
        expect(page.get_by_role("heading", name="The file is too large")).to_be_visible()
        expect(page.get_by_text("larger than 1 MB")).to_be_visible()
        page.get_by_role("link", name="Go back to the form").click()
        expect(page.get_by_role("heading", name="Add evidence")).to_be_visible()
    finally:
        context.close()
