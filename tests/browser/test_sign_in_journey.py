"""A person signs in, sees their home page and signs out; a wrong password keeps the e-mail."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tracker.auth.roles import Role

pytestmark = pytest.mark.browser


def test_dsl_signs_in_sees_home_and_signs_out(page, make):
    school = make.school(name="Northfield Primary School")
    make.user(Role.DSL, school, email="dsl@example.org", name="Priya Shah")

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    sign_in(page, "dsl@example.org")

    expect(page.get_by_role("heading", name="What needs your attention")).to_be_visible()
    expect(
        page.get_by_role("heading", name="Open cases at Northfield Primary School")
    ).to_be_visible()
    expect(page.get_by_text("Priya Shah").first).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("You have signed out.")).to_be_visible()

    # The old session is over: the home page sends us back to sign in.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    assert page.console_errors == []


def test_wrong_password_shows_error_and_keeps_the_email(page, make):
    make.user(Role.CEO, email="ceo@example.org")

    page.goto("/sign-in")
    page.get_by_label("E-mail address").fill("ceo@example.org")
    page.get_by_label("Password", exact=True).fill("not the right password")
    page.get_by_role("button", name="Sign in").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_contain_text("Enter a correct e-mail address and password")
    expect(page.get_by_label("E-mail address")).to_have_value("ceo@example.org")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    expect(page).to_have_title(re.compile(r"^Error: Sign in"))

    # The error summary link takes keyboard users to the field to fix.
    summary.get_by_role("link", name="Enter a correct e-mail address and password").click()
    expect(page.get_by_label("E-mail address")).to_be_focused()
    assert page.console_errors == []
