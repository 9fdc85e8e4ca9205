"""Error pages, security headers, the privacy notice and the page shell."""

import re

import pytest

from tests.conftest import DEFAULT_PASSWORD, csrf_token_from
from tracker.auth.roles import Role
from tracker.http import CONTENT_SECURITY_POLICY


@pytest.fixture
def app_with_a_failing_route(make_app):
    app = make_app()

    @app.route("/boom")
    def boom():
        raise RuntimeError("something broke")

    with app.app_context():
        yield app


def test_404_is_a_plain_page(login, make):
    client = login(make.user(Role.DSL))
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_500_shows_a_reference_that_matches_the_log(app_with_a_failing_route, make, caplog):
    from tests.conftest import sign_in

    user = make.user(Role.DSL)
    client = app_with_a_failing_route.test_client()
    sign_in(client, user.email)
    response = client.get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in html
    assert "something broke" not in html
    reference = re.search(r'data-testid="request-id">([0-9a-f]+)<', html).group(1)
    assert response.headers["X-Request-ID"] == reference
    assert any("unhandled error" in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_form_posted_without_its_token_gets_a_clear_400(client):
    response = client.post("/sign-in", data={"email": "a@example.org", "password": "x" * 12})
    assert response.status_code == 400
    assert "Your form had expired" in response.get_data(as_text=True)


def test_a_null_character_gets_a_clear_400(client, login, make):
    # No keyboard types one, and PostgreSQL refuses text that holds one: on PostgreSQL,
    # signing in with one in the e-mail address answered 500.
    page = client.get("/sign-in").get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(page), "email": "a\x00@example.org", "password": "x"}
    response = client.post("/sign-in", data=data)
    assert response.status_code == 400
    assert "hidden control character" in response.get_data(as_text=True)
    assert login(make.user(Role.DSL)).get("/cases/?q=a%00").status_code == 400


def test_wrong_method_is_a_plain_405(login, make):
    client = login(make.user(Role.DSL))
    response = client.delete("/")
    assert response.status_code == 405
    assert "This page cannot be used in that way" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/sign-in", "/privacy"])
def test_security_headers_on_every_page(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert len(response.headers["X-Request-ID"]) >= 8
    assert "camera=()" in response.headers["Permissions-Policy"]
    # No inline code of any kind is allowed, and nothing may frame the pages.
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert "style-src 'self'" in CONTENT_SECURITY_POLICY
    # Plain HTTP (development): no HSTS, which would pin a browser to HTTPS.
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_is_sent_over_https(client):
    response = client.get("/sign-in", base_url="https://tracker.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_pages_with_case_data_are_never_cached(login, make):
    dsl = make.user(Role.DSL)
    case = make.case(dsl.grants[0].school, by=dsl)
    client = login(dsl)
    for path in ("/", "/cases/", f"/cases/{case.id}", f"/cases/{case.id}/history"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path


def test_cookies_outside_development_are_secure_and_host_only(production_app_config):
    assert production_app_config["SESSION_COOKIE_SECURE"] is True
    assert production_app_config["SESSION_COOKIE_HTTPONLY"] is True
    assert production_app_config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert production_app_config["SESSION_COOKIE_NAME"] == "__Host-tracker"


@pytest.fixture
def production_app_config(monkeypatch, tmp_path):
    from config import Config
    from tracker import create_app

    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    for name, value in (
        ("SECRET_KEY", "1a"),
        ("AUDIT_KEY", "2b"),
        ("TOTP_KEY", "3c"),
        ("EVIDENCE_KEY", "4d"),
    ):
        monkeypatch.setenv(name, value * 32)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    return create_app(Config()).config


def test_the_session_cookie_is_secure_when_served_over_https(make_app, make):
    app = make_app(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_NAME="__Host-tracker")
    user = make.user(Role.DSL)
    client = app.test_client()
    page = client.get("/sign-in", base_url="https://tracker.example")
    response = client.post(
        "/sign-in",
        base_url="https://tracker.example",
        # Over HTTPS the CSRF check also wants the form to have come from this site.
        headers={"Referer": "https://tracker.example/sign-in"},
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "email": user.email,
            "password": DEFAULT_PASSWORD,
        },
    )
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-tracker=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Domain=" not in cookie and "Path=/" in cookie


def test_session_cookie_is_httponly_and_samesite(client, make):
    from tests.conftest import sign_in

    user = make.user(Role.DSL)
    response = sign_in(client, user.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_carry_no_inline_script_or_style(login, make):
    client = login(make.user(Role.TRUST_ADMIN))
    for path in ["/", "/privacy", "/no-such-page"]:
        html = client.get(path).get_data(as_text=True)
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
        assert scripts, path
        for attributes, body in scripts:
            assert "src=" in attributes and body.strip() == "", (path, attributes)
        assert " style=" not in html and "<style" not in html, path
        assert not re.search(r"<[^>]*\son[a-z]+\s*=", html), path


def test_header_shows_the_trust_and_the_signed_in_user(login, make):
    trust = make.trust(name="Horizon Multi Academy Trust")
    user = make.user(Role.DSL, make.school(trust), name="Priya Shah")
    html = login(user).get("/").get_data(as_text=True)
    assert "Horizon Multi Academy Trust" in html
    assert "Priya Shah" in html
    assert "Sign out" in html
    # Brand-neutral: no crown, no GOV.UK typeface.
    assert "govuk-header__logotype" not in html and "GOV.UK" not in html


def test_privacy_notice_shows_the_configured_basis(make_app):
    app = make_app(
        LAWFUL_BASIS="Article 6(1)(e) as configured",
        SCHEDULE_1_CONDITION="Paragraph 18 as configured",
    )
    with app.app_context():
        html = app.test_client().get("/privacy").get_data(as_text=True)
    assert "Article 6(1)(e) as configured" in html
    assert "Paragraph 18 as configured" in html


def test_user_text_is_escaped(login, make):
    user = make.user(Role.DSL, name="<script>alert(1)</script>")
    html = login(user).get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def _current_section(html: str) -> list[str]:
    """The navigation items marked as the page's section (GOV.UK service navigation)."""
    return re.findall(
        r'service-navigation__item--active">\s*<a[^>]*>\s*(?:<strong[^>]*>)?([^<]+)', html
    )


def test_the_navigation_marks_the_section_every_page_of_a_case_belongs_to(login, make):
    user = make.user(Role.DSL, make.school())
    make.policy(user.grants[0].school.trust)
    case = make.case(user.grants[0].school, by=user)
    client = login(user)
    for path in ("/cases/", f"/cases/{case.id}", f"/cases/{case.id}/triage"):
        sections = _current_section(client.get(path).get_data(as_text=True))
        assert [s.strip() for s in sections] == ["Cases"], path
    assert _current_section(client.get("/staff/").get_data(as_text=True))[0].strip() == "Staff"
