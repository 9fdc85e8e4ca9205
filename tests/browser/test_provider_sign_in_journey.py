"""Signing in with the trust's Microsoft account, in a browser, through a real OpenID
Connect provider on loopback: once with the provider's multi-factor sign-in (which the
trust accepts), once without it (our authenticator code follows)."""

import pytest
from playwright.sync_api import expect

from tests.conftest import totp_code
from tracker.auth.roles import Role
from tracker.extensions import db
from tracker.orgs.services import set_sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("provider_mfa", [True, False])
def test_a_dsl_signs_in_with_the_trusts_microsoft_account(
    page, app, live_server, make, identity_provider, provider_mfa
):
    provider = identity_provider(redirect_uris=[f"{live_server}/sign-in/callback"])
    trust = make.trust(name="Horizon Multi Academy Trust", code="HMAT")
    school = make.school(trust, name="Northfield Primary School")
    user = make.user(Role.DSL, school, email="priya.shah@horizon.example", name="Priya Shah")
    set_sign_in(trust, label="Microsoft", issuer=provider.issuer, client_id=provider.client_id,
                domains=["horizon.example"], trusts_provider_mfa=True, mfa_acr=None,
                passwords_allowed=True)  # fmt: skip
    db.session.commit()
    app.config["OIDC_CLIENT_SECRETS"] = {"HMAT": provider.client_secret}

    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in with Microsoft").click()
    expect(
        page.get_by_role("heading", name="Sign in to the test identity provider")
    ).to_be_visible()
    page.get_by_label("Email address", exact=True).fill("Priya.Shah@horizon.example")
    page.get_by_label("Passed multi-factor authentication").set_checked(provider_mfa)
    page.get_by_role("button", name="Sign in").click()

    if not provider_mfa:
        heading = "Enter the code from your authenticator app"
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        page.get_by_label(heading).fill(totp_code(user.email))
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name="Priya Shah")).to_be_visible()
    assert page.url == f"{live_server}/"
    assert not page.console_errors
