"""Your account: the sessions you have open (and ending them), changing your password;
and an administrator ending someone's sessions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.audit_helpers import events
from tests.conftest import DEFAULT_PASSWORD, csrf_token_from, post_form, sign_in
from tracker.auth import passwords
from tracker.auth.models import User, UserSession
from tracker.auth.roles import Role
from tracker.auth.sessions import describe_device

FIREFOX_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
)
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
NEW_PASSWORD = "a completely new passphrase"  # noqa: S105 - a test value


def _client_on(app, user_agent: str):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    return client


def _open_sessions(db, user) -> list[UserSession]:
    db.session.rollback()
    return db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .order_by(UserSession.id)
    ).all()


@pytest.fixture
def two_devices(app, make):
    user = make.user(Role.DSL)
    desk, phone = _client_on(app, FIREFOX_ON_WINDOWS), _client_on(app, SAFARI_ON_IPHONE)
    sign_in(desk, user.email)
    sign_in(phone, user.email)
    return user, desk, phone


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (FIREFOX_ON_WINDOWS, "Firefox on Windows"),
        (SAFARI_ON_IPHONE, "Safari on iPhone"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36",
            "Chrome on ChromeOS",
        ),
        ("", "Unknown browser"),
        (None, "Unknown browser"),
    ],
)
def test_a_session_is_described_by_browser_and_system(agent, expected):
    assert describe_device(agent) == expected


def test_the_account_page_lists_my_sessions_and_marks_this_one(two_devices, db):
    user, desk, _phone = two_devices
    html = desk.get("/account").get_data(as_text=True)
    assert "2 sessions" in html
    assert "Firefox on Windows" in html and "Safari on iPhone" in html
    assert html.count("This device") == 1
    assert "End all other sessions" in html


def test_i_can_end_one_of_my_other_sessions(two_devices, db):
    user, desk, phone = two_devices
    desk_session, phone_session = _open_sessions(db, user)
    response = post_form(desk, f"/account/sessions/{phone_session.id}/end", {}, form_url="/account")
    assert response.headers["Location"] == "/account"
    assert "The session on Safari on iPhone has ended" in desk.get("/account").get_data(
        as_text=True
    )
    assert phone.get("/").status_code == 302
    assert [s.id for s in _open_sessions(db, user)] == [desk_session.id]
    [revoked] = events(db.session, action="auth.session.revoked")
    assert (revoked.actor_id, revoked.object_id) == (user.id, phone_session.id)


def test_ending_this_session_signs_me_out(two_devices, db):
    user, desk, phone = two_devices
    desk_session, _ = _open_sessions(db, user)
    response = post_form(desk, f"/account/sessions/{desk_session.id}/end", {}, form_url="/account")
    assert response.headers["Location"] == "/sign-in"
    assert desk.get("/").status_code == 302
    assert phone.get("/").status_code == 200


def test_i_can_end_all_my_other_sessions(two_devices, db):
    user, desk, phone = two_devices
    response = post_form(desk, "/account/sessions/end-others", {}, form_url="/account")
    assert "1 other session ended" in desk.get(response.headers["Location"]).get_data(as_text=True)
    assert phone.get("/").status_code == 302
    assert desk.get("/").status_code == 200


def test_someone_elses_session_is_not_found(two_devices, make, app, db):
    user, _desk, _phone = two_devices
    stranger = make.user(Role.DSL)
    theirs = app.test_client()
    sign_in(theirs, stranger.email)
    target = _open_sessions(db, user)[0]
    response = post_form(theirs, f"/account/sessions/{target.id}/end", {}, form_url="/account")
    assert response.status_code == 404
    assert len(_open_sessions(db, user)) == 2


# --- changing my password ---------------------------------------------------------------


def _change(client, current: str, new: str, confirm: str | None = None):
    return post_form(
        client,
        "/account/password",
        {"current_password": current, "new_password": new, "confirm_password": confirm or new},
    )


def test_changing_my_password_ends_my_other_sessions(two_devices, db):
    user, desk, phone = two_devices
    response = _change(desk, DEFAULT_PASSWORD, NEW_PASSWORD)
    assert response.headers["Location"] == "/account"
    assert "Your password has been changed. 1 other session ended." in desk.get(
        "/account"
    ).get_data(as_text=True)
    assert desk.get("/").status_code == 200
    assert phone.get("/").status_code == 302
    db.session.rollback()
    stored = db.session.get(User, user.id)
    assert passwords.verify_password(stored.password_hash, NEW_PASSWORD)
    [changed] = events(db.session, action="auth.password.changed")
    assert (changed.actor_id, changed.details) == (user.id, {"sessions_ended": 1})


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("not my password", NEW_PASSWORD, None, "Your current password is not right"),
        (DEFAULT_PASSWORD, "too short", None, "Password must be 12 characters or more"),
        (DEFAULT_PASSWORD, "Qwerty123456!", None, "one that many people use"),
        (DEFAULT_PASSWORD, "x" * 129, None, "Password must be 128 characters or fewer"),
        (DEFAULT_PASSWORD, NEW_PASSWORD, "something else", "The passwords do not match"),
        (DEFAULT_PASSWORD, DEFAULT_PASSWORD, None, "must be different from your current one"),
        ("", NEW_PASSWORD, None, "Enter your current password"),
    ],
)
def test_a_bad_password_change_says_why_and_changes_nothing(
    login, make, db, current, new, confirm, message
):
    user = make.user(Role.DSL)
    client = login(user)
    response = _change(client, current, new, confirm)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert NEW_PASSWORD not in html and DEFAULT_PASSWORD not in html  # never sent back
    db.session.rollback()
    assert passwords.verify_password(db.session.get(User, user.id).password_hash, DEFAULT_PASSWORD)
    assert client.get("/").status_code == 200  # still signed in


# --- the administrator -------------------------------------------------------------------


def test_an_administrator_ends_all_of_a_users_sessions(two_devices, app, make, db):
    user, desk, phone = two_devices
    admin = make.user(Role.TRUST_ADMIN, trust=user.trust)
    admins = app.test_client()
    sign_in(admins, admin.email)
    page = admins.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "2 open sessions" in page and "Firefox on Windows" in page
    response = admins.post(
        f"/admin/users/{user.id}/end-sessions", data={"csrf_token": csrf_token_from(page)}
    )
    assert "2 sessions of" in admins.get(response.headers["Location"]).get_data(as_text=True)
    assert desk.get("/").status_code == 302 and phone.get("/").status_code == 302
    revoked = events(db.session, action="auth.session.revoked")
    assert {e.actor_id for e in revoked} == {admin.id} and len(revoked) == 2
    assert "is not signed in anywhere" in admins.get(f"/admin/users/{user.id}").get_data(
        as_text=True
    )


def test_only_an_administrator_has_the_accounts_link(login, make):
    assert "/admin/users" in login(make.user(Role.TRUST_ADMIN)).get("/").get_data(as_text=True)


def test_everyone_has_a_link_to_their_account(login, make):
    html = login(make.user()).get("/").get_data(as_text=True)
    assert 'href="/account"' in html
    assert "/admin/users" not in html
