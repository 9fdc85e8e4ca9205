"""Any member of staff raises a concern, in a browser: a teacher signs in with the trust's
Microsoft account (a real OpenID Connect provider on loopback) and raises a concern about
a colleague; the DSL triages it; the teacher's receipt says only "Being dealt with". A
teacher refers themselves. A draft comes back after the session is lost."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tracker.auth.roles import Role
from tracker.extensions import db
from tracker.orgs.services import set_sign_in
from tracker.workflow.services import HARM_QUESTIONS

pytestmark = pytest.mark.browser

SUMMARY = "Posted photos of the Year 6 residential trip, pupils' faces visible, on Instagram."


def _fill_the_concern(page, *, about: str) -> None:
    page.get_by_label(about, exact=True).check()
    if about == "A colleague":
        page.get_by_label("Which colleague?").select_option(label="Liam Hughes, PE teacher")
    page.get_by_label("What happened?").fill(SUMMARY)
    when = page.get_by_role("group", name="When did it happen?")
    when.get_by_label("Day").fill("2")
    when.get_by_label("Month").fill("3")
    when.get_by_label("Year").fill("2026")
    page.get_by_label("Where did you see it or hear about it?").fill("A parent showed me")
    platform = page.get_by_role("group", name="Which app or website was it on?")
    platform.get_by_label("Instagram", exact=True).check()


def test_a_teacher_raises_a_concern_through_the_trusts_sign_in(
    page, browser, live_server, app, make, identity_provider
):
    provider = identity_provider(redirect_uris=[f"{live_server}/sign-in/callback"])
    trust = make.trust(name="Horizon Multi Academy Trust", code="HMAT")
    school = make.school(trust, name="Northfield Primary School")
    make.policy(trust)
    make.user(Role.DSL, school, email="dsl@horizon.example", name="Priya Shah")
    teacher = make.user(Role.STAFF, school, email="mark.davies@horizon.example", name="Mark Davies")
    make.staff(school, name="Mark Davies", user=teacher)
    colleague = make.staff(school, name="Liam Hughes")
    colleague.job_title = "PE teacher"
    set_sign_in(trust, label="Microsoft", issuer=provider.issuer, client_id=provider.client_id,
                domains=["horizon.example"], trusts_provider_mfa=True, mfa_acr=None,
                passwords_allowed=True)  # fmt: skip
    db.session.commit()
    app.config["OIDC_CLIENT_SECRETS"] = {"HMAT": provider.client_secret}

    # The teacher signs in with the trust's account.
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in with Microsoft").click()
    page.get_by_label("Email address", exact=True).fill("mark.davies@horizon.example")
    page.get_by_label("Passed multi-factor authentication").check()
    page.get_by_role("button", name="Sign in").click()
    expect(
        page.get_by_role("heading", name="Concerns about a colleague, or yourself")
    ).to_be_visible()
    expect(page.get_by_text("You have not raised any concerns")).to_be_visible()
    expect(page.get_by_role("link", name="Cases")).to_have_count(0)

    # Every fault at once, then nothing typed is lost.
    page.get_by_role("button", name="Raise a concern").click()
    page.get_by_label("What happened?").fill(SUMMARY)
    page.get_by_role("button", name="Send concern").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Choose who the concern is about")
    expect(summary).to_contain_text("Enter the date it happened")
    expect(summary).to_contain_text("Say where you saw it or heard about it")
    expect(page.get_by_label("What happened?")).to_have_value(SUMMARY)
    summary.get_by_role("link", name="Enter the date it happened").click()
    expect(
        page.get_by_role("group", name="When did it happen?").get_by_label("Day")
    ).to_be_focused()

    _fill_the_concern(page, about="A colleague")
    page.get_by_role("button", name="Send concern").click()
    expect(page.get_by_role("heading", name="Concern sent")).to_be_visible()
    reference = re.search(r"HMAT-\d{4}-\d{4}", page.locator(".govuk-panel").inner_text()).group(0)
    expect(page.locator("#receipt-status")).to_have_text("Received")
    expect(page.get_by_text(SUMMARY)).to_have_count(0)

    # The DSL, in their own browser, finds it waiting for triage and triages it.
    dsl_context = browser.new_context(base_url=live_server)
    dsl_page = dsl_context.new_page()
    sign_in(dsl_page, "dsl@horizon.example")
    dsl_page.get_by_role("link", name=reference).first.click()
    expect(dsl_page.get_by_text(SUMMARY)).to_be_visible()
    expect(dsl_page.get_by_text("Reported by a member of staff")).to_be_visible()
    dsl_page.get_by_role("button", name="Triage").click()
    for question in HARM_QUESTIONS.values():
        dsl_page.get_by_role("group", name=question).get_by_label("No", exact=True).check()
    dsl_page.get_by_label("Low-level concern", exact=True).check()
    dsl_page.get_by_label("Why did you decide this?").fill("Photos of pupils: code of conduct.")
    dsl_page.get_by_role("button", name="Save the triage").click()
    expect(dsl_page.get_by_text("Triaged as a low-level concern.")).to_be_visible()
    dsl_context.close()

    # The teacher sees only that it is being dealt with.
    page.get_by_role("link", name="Back to your home page").click()
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("Being dealt with")
    row.get_by_role("link", name=reference).click()
    expect(page.locator("#receipt-status")).to_have_text("Being dealt with")
    expect(page.get_by_text("Low-level")).to_have_count(0)
    expect(page.get_by_text("Photos of pupils")).to_have_count(0)
    assert not page.console_errors


def test_a_teacher_refers_themselves_and_a_draft_outlives_the_session(page, make):
    trust = make.trust(name="Horizon Multi Academy Trust", code="HMAT")
    school = make.school(trust, name="Northfield Primary School")
    make.policy(trust)
    teacher = make.user(Role.STAFF, school, email="teacher@example.org", name="Tess Teacher")
    make.staff(school, name="Tess Teacher", user=teacher)

    sign_in(page, "teacher@example.org")
    page.get_by_role("button", name="Raise a concern").click()
    _fill_the_concern(page, about="Myself")
    # The page keeps what is typed as typing stops (its script); then the session is lost.
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/concerns/new")
    ) as saved:
        page.get_by_label("What happened?").press("End")
        page.get_by_label("What happened?").type(" Then I deleted them.")
    assert saved.value.status == 204
    page.context.clear_cookies()

    sign_in(page, "teacher@example.org")
    page.get_by_role("link", name="Carry on with it").click()
    expect(page.get_by_label("What happened?")).to_have_value(SUMMARY + " Then I deleted them.")
    expect(page.get_by_label("Myself", exact=True)).to_be_checked()
    page.get_by_role("button", name="Send concern").click()
    expect(page.get_by_role("heading", name="Concern sent")).to_be_visible()
    expect(page.get_by_text("Yourself")).to_be_visible()
    page.get_by_role("link", name="Back to your home page").click()
    expect(page.get_by_role("button", name="Raise a concern")).to_be_visible()  # no draft left
    assert not page.console_errors
