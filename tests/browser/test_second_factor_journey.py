"""A new user sets up their authenticator app, signs in with a code, cannot use the same
code twice, and signs in with a recovery code when the phone is not to hand."""

import re

import pyotp
import pytest
from playwright.sync_api import expect

from tests.conftest import DEFAULT_PASSWORD
from tracker.auth import mfa
from tracker.auth.roles import Role
from tracker.db import utcnow

pytestmark = pytest.mark.browser


def password_step(page, email):
    page.goto("/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_new_user_sets_up_signs_in_with_codes_and_recovers(page, make):
    school = make.school(name="Northfield Primary School")
    make.user(Role.DSL, school, email="new.dsl@example.org", second_factor=False)

    # First sign-in: the app must be set up before anything else opens.
    password_step(page, "new.dsl@example.org")
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    expect(page.get_by_test_id("totp-qr").locator("svg")).to_be_visible()
    page.get_by_text("I cannot scan the QR code").click()
    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)

    page.get_by_label("Code from the app").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the 6-digit code")
    page.get_by_label("Code from the app").fill(totp.now())
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Your authenticator app is set up")).to_be_visible()
    codes = page.get_by_test_id("recovery-codes").locator("li").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name=re.compile("I have saved my codes")).click()
    expect(page.get_by_role("heading", name="What needs your attention")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    # Next sign-in: a code from the app, in the next time step so it is a new code.
    password_step(page, "new.dsl@example.org")
    code = totp.at(utcnow().timestamp() + mfa.STEP_SECONDS)
    page.get_by_label("Enter the code from your authenticator app").fill(code)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="What needs your attention")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    # The same code again: refused, however quickly it is typed.
    password_step(page, "new.dsl@example.org")
    page.get_by_label("Enter the code from your authenticator app").fill(code)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("That code has already been used")
    expect(page).to_have_title(re.compile(r"^Error: "))

    # No phone to hand: a recovery code instead.
    page.get_by_role("link", name="Use a recovery code instead").click()
    page.get_by_label("Enter a recovery code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="What needs your attention")).to_be_visible()
    expect(page.get_by_text("You have 9 left")).to_be_visible()
    assert page.console_errors == []
