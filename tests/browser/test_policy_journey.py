"""A trust administrator drafts version 2 with a reworded clause, publishes it, sees the diff."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.policy_helpers import seed_policy
from tracker.auth.roles import Role

pytestmark = pytest.mark.browser

REWORDED = "Staff never contact pupils online, except through the school's own systems."


def test_admin_drafts_rewords_publishes_and_compares(page, make):
    seed_policy(make.trust(name="Horizon Multi Academy Trust"))
    make.user(Role.TRUST_ADMIN, email="admin@example.org")
    sign_in(page, "admin@example.org")

    # The overdue review is the first thing the administrator sees.
    warning = page.get_by_text("was due for review on 1 December 2023")
    expect(warning).to_be_visible()
    page.get_by_role("link", name="Review it and start the next version").click()

    page.get_by_label("Label for the new version").fill("2")
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_text("Draft version 2 created")).to_be_visible()

    page.get_by_role("link", name="Edit clause 3.4").click()
    page.get_by_label("Text", exact=True).fill(REWORDED)
    page.get_by_role("button", name="Save clause").click()
    expect(page.get_by_text("Clause 3.4 saved.")).to_be_visible()

    page.get_by_role("button", name="Edit title, dates and text").click()
    page.get_by_label("Title", exact=True).fill("Staff Use of Social Media Policy 2025")
    approved = page.get_by_role("group", name="Date approved")
    approved.get_by_label("Day").fill("14")
    approved.get_by_label("Month").fill("7")
    approved.get_by_label("Year").fill("2025")
    review = page.get_by_role("group", name="Review due")
    review.get_by_label("Day").fill("1")
    review.get_by_label("Month").fill("7")
    review.get_by_label("Year").fill("2028")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_text("Version details saved.")).to_be_visible()

    page.get_by_role("button", name="Publish").click()
    effective = page.get_by_role("group", name="Takes effect on")
    effective.get_by_label("Day").fill("1")
    effective.get_by_label("Month").fill("9")
    effective.get_by_label("Year").fill("2025")
    page.get_by_role("button", name="Publish this version").click()
    expect(
        page.get_by_text("Version 2 is published. Version 2020 is now superseded.")
    ).to_be_visible()

    page.get_by_role("link", name="Staff Use of Social Media Policy", exact=True).click()
    page.get_by_role("button", name="Show changes").click()
    expect(
        page.get_by_role("heading", name="Changes from version 2020 to version 2")
    ).to_be_visible()
    expect(page.get_by_text("0 added, 0 removed, 1 changed, 16 unchanged.")).to_be_visible()
    changed = page.get_by_role("region", name=re.compile(r"3\.4 Online contact with pupils"))
    expect(changed.locator("ins")).to_have_text(REWORDED)
    expect(changed.locator("del")).to_contain_text("Staff do not form online friendships")
    assert page.console_errors == []
