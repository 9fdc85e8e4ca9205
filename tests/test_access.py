"""Every route needs a signed-in user, except the few that are public on purpose."""

import re

import pytest

from tracker.auth.gate import is_public_endpoint
from tracker.auth.roles import Role

# Reachable without signing in. Adding a public page means adding it here, on purpose.
# The second-factor steps are public because no session exists until they are passed;
# each needs the password step to have just succeeded on this browser.
PUBLIC_ENDPOINTS = {
    "static",
    "auth.sign_in",
    "auth.second_factor",
    "auth.recovery_code",
    "auth.set_up_second_factor",
    # Signing in through the trust's identity provider, and its answer.
    "auth.sign_in_with_provider",
    "auth.provider_callback",
    "privacy.notice",
    # The load balancer's probes: they answer with a status word and nothing about a case.
    "health.liveness",
    "health.readiness",
}


def _example_path(rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", "1", rule.rule)


def test_the_public_endpoints_are_exactly_the_expected_ones(app):
    public = {
        rule.endpoint for rule in app.url_map.iter_rules() if is_public_endpoint(app, rule.endpoint)
    }
    assert public == PUBLIC_ENDPOINTS


def test_every_other_route_redirects_to_sign_in_when_signed_out(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_example_path(rule), method=method)
            assert response.status_code == 302, (rule.rule, method)
            assert response.headers["Location"].startswith("/sign-in"), (rule.rule, method)
            checked += 1
    assert checked >= 2  # home and sign-out at least


def test_the_return_address_is_kept(client):
    response = client.get("/?tab=mine")
    assert response.headers["Location"] == "/sign-in?next=/?tab%3Dmine"


@pytest.mark.parametrize("path", ["/sign-in", "/privacy", "/static/images/favicon.svg"])
def test_public_pages_answer_without_signing_in(client, path):
    with client.get(path) as response:
        assert response.status_code == 200


def test_a_user_with_no_role_is_told_what_to_do(login, make):
    client = login(make.user())
    html = client.get("/").get_data(as_text=True)
    assert "You do not have a role in this service yet" in html
    assert "Ask your trust administrator" in html


@pytest.mark.parametrize(
    ("role", "heading"),
    [
        (Role.DSL, "Open cases at Oak School"),
        (Role.DEPUTY_DSL, "Open cases at Oak School"),
        (Role.HEADTEACHER, "Open cases at Oak School"),
        (Role.CEO, "Decisions routed to the trust"),
        (Role.CHAIR, "Decisions routed to the chair"),
        (Role.DPO, "Data protection work"),
        (Role.AUDITOR, "Case histories"),
        (Role.TRUST_ADMIN, "Your trust"),
    ],
)
def test_each_role_has_a_home_page_with_an_empty_state(login, make, role, heading):
    school = make.school(name="Oak School")
    needs_school = role in {Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER}
    user = make.user(role, school if needs_school else None)
    html = login(user).get("/").get_data(as_text=True)
    assert heading in html
    assert role.label in html
    assert "app-empty-state" in html


def test_a_school_auditor_sees_their_school(login, make, db):
    from tracker.auth.services import grant_role

    school = make.school(name="Oak School")
    user = make.user()
    grant_role(user, Role.AUDITOR, school=school)
    db.session.commit()
    assert "Case histories at Oak School" in login(user).get("/").get_data(as_text=True)


def test_an_auditors_home_never_says_there_are_no_cases_and_leads_to_them(login, make):
    school = make.school(name="Oak School")
    make.case(school, by=make.user(Role.DSL, school))
    html = login(make.user(Role.AUDITOR)).get("/").get_data(as_text=True)
    assert "no cases" not in html.lower()
    assert 'href="/cases/"' in html and 'href="/audit/"' in html


def test_trust_administrator_sees_the_trust_in_numbers_and_people_without_a_role(login, make):
    admin = make.user(Role.TRUST_ADMIN)
    make.school()
    make.staff()
    make.user(name="Nobody Yet")
    html = login(admin).get("/").get_data(as_text=True)
    assert "Nobody Yet can sign in but has no role yet" in html
    assert re.search(r"Schools</dt>\s*<dd[^>]*>2<", html)


def test_one_person_can_hold_roles_at_two_schools(login, make, db):
    from tracker.auth.services import grant_role

    first, second = make.school(name="Ash School"), make.school(name="Elm School")
    user = make.user(Role.DSL, first)
    grant_role(user, Role.DSL, school=second)
    db.session.commit()
    html = login(user).get("/").get_data(as_text=True)
    assert "Open cases at Ash School" in html and "Open cases at Elm School" in html
