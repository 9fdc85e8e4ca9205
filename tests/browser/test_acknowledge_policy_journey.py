"""A member of staff who acknowledged the policy is asked, on their home page, to read a
newly published version: they open it, read it and acknowledge it with one button, see
the confirmation, and the home page asks no more."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.policy_helpers import publish_next, seed_policy
from tracker.auth.roles import Role
from tracker.clock import today
from tracker.extensions import db
from tracker.policy.acknowledgements import acknowledge_online

pytestmark = pytest.mark.browser


def test_staff_member_acknowledges_a_newly_published_version(page, make):
    trust = make.trust(name="Horizon Multi Academy Trust", code="HMAT")
    school = make.school(trust, name="Northfield Primary School")
    first = seed_policy(trust)
    user = make.user(Role.STAFF, school, email="sam@example.org", name="Sam Taylor")
    make.staff(school, name="Sam Taylor", user=user)
    acknowledge_online(first, by=user, today=today())
    db.session.commit()
    publish_next(first, label="2")

    sign_in(page, "sam@example.org")
    expect(page.get_by_role("heading", name="Policies to read")).to_be_visible()
    page.get_by_role("link", name=re.compile(r"Read Staff Use of Social Media Policy.*2")).click()

    expect(
        page.get_by_role("heading", name=re.compile("Staff Use of Social Media Policy"))
    ).to_be_visible()
    expect(page.get_by_text("Version 2", exact=False).first).to_be_visible()
    expect(
        page.get_by_role("heading", name=re.compile(r"3\.4\s+Online contact with pupils"))
    ).to_be_visible()
    page.get_by_text("Full text of the policy as approved").click()

    # The link to the button skips the reading, by keyboard too.
    page.get_by_role("link", name="acknowledge it at the end of this page").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Acknowledge this policy").click()

    banner = page.get_by_role("alert").or_(page.get_by_role("region", name="Success"))
    expect(banner.first).to_contain_text(
        "You have acknowledged version 2 of Staff Use of Social Media Policy"
    )
    expect(page.get_by_text("You acknowledged this version on")).to_be_visible()
    expect(page.get_by_role("button", name="Acknowledge this policy")).to_have_count(0)

    page.get_by_role("link", name="Policies to read").click()
    row = page.get_by_role("row", name=re.compile("Staff Use of Social Media Policy"))
    expect(row).to_contain_text("Acknowledged")
    page.get_by_role("link", name="Home", exact=True).first.click()
    expect(page.get_by_role("heading", name="Policies to read")).to_have_count(0)
    assert page.console_errors == []
