"""Signing in and out, the sign-in record, and server-side sessions that can be revoked."""

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from tests.audit_helpers import events
from tests.conftest import DEFAULT_PASSWORD, csrf_token_from, post_form, sign_in, totp_code
from tracker.auth import passwords, sessions
from tracker.auth.models import User, UserSession
from tracker.auth.roles import Role
from tracker.auth.services import disable_user
from tracker.auth.sessions import EndReason, end_session, hash_token
from tracker.extensions import db as _db


def _open_sessions(db, user):
    db.session.rollback()
    return db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    ).all()


def test_sign_in_opens_a_server_side_session_and_shows_home(client, db, make):
    user = make.user(Role.DSL, email="dsl@example.org")
    response = sign_in(client, "DSL@Example.org ", DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"

    sessions = _open_sessions(db, user)
    assert len(sessions) == 1
    with client.session_transaction() as cookie_session:
        token = cookie_session["sid"]
    # Only a hash of the cookie's token is stored.
    assert sessions[0].token_hash == hash_token(token) != token

    page = client.get("/")
    assert page.status_code == 200
    assert "What needs your attention" in page.get_data(as_text=True)

    [event] = events(db.session, action="auth.login.succeeded")
    assert (event.actor_id, event.object_id, event.outcome) == (user.id, user.id, "allowed")
    assert event.details == {"second_factor": "totp"}
    # The password step is recorded too: a password accepted without a second factor
    # following it is worth an auditor's attention.
    [accepted] = events(db.session, action="auth.login.password_accepted")
    assert accepted.seq < event.seq and accepted.object_id == user.id


@pytest.mark.parametrize(
    ("email", "password", "reason"),
    [
        ("dsl@example.org", "wrong password entirely", "wrong_password"),
        ("nobody@example.org", DEFAULT_PASSWORD, "unknown_account"),
    ],
)
def test_failed_sign_in_is_generic_keeps_the_email_and_is_recorded(
    client, db, make, email, password, reason
):
    make.user(Role.DSL, email="dsl@example.org")
    response = sign_in(client, email, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter a correct e-mail address and password" in html
    assert f'value="{email}"' in html
    assert password not in html
    with client.session_transaction() as cookie_session:
        assert "sid" not in cookie_session

    db.session.rollback()
    [event] = events(db.session, action="auth.login.failed")
    assert (event.outcome, event.details, event.actor_id) == ("denied", {"reason": reason}, None)
    # Nothing typed is kept: not the e-mail address, not the password.
    stored = repr(event.details) + repr(event.object_type)
    assert email not in stored and password not in stored


def test_a_password_typed_into_the_email_box_is_not_recorded(client, db, make):
    sign_in(client, "my-secret-password", DEFAULT_PASSWORD)
    db.session.rollback()
    [event] = events(db.session, action="auth.login.failed")
    assert event.details == {"reason": "unknown_account"} and event.object_id is None


def test_empty_form_says_what_to_enter(client):
    response = post_form(client, "/sign-in", {"email": "", "password": ""})
    html = response.get_data(as_text=True)
    assert "Enter your e-mail address" in html
    assert "Enter your password" in html
    assert 'href="#email"' in html


def test_a_disabled_account_cannot_sign_in(client, db, make):
    user = make.user(Role.DSL, email="dsl@example.org")
    disable_user(user)
    db.session.commit()
    response = sign_in(client, "dsl@example.org")
    assert "Enter a correct e-mail address and password" in response.get_data(as_text=True)
    db.session.rollback()
    [event] = events(db.session, action="auth.login.failed")
    assert (event.details, event.object_id) == ({"reason": "disabled"}, user.id)


def test_sign_out_ends_the_session_record(login, db, make):
    user = make.user(Role.CEO)
    client = login(user)
    response = post_form(client, "/sign-out", {}, form_url="/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"
    record = db.session.scalars(select(UserSession)).one()
    db.session.refresh(record)
    assert record.end_reason == EndReason.SIGNED_OUT and record.ended_at is not None
    assert client.get("/").status_code == 302


def test_sign_out_needs_a_post_with_a_csrf_token(login, db, make):
    client = login(make.user(Role.CEO))
    assert client.get("/sign-out").status_code == 405
    assert client.post("/sign-out").status_code == 400
    assert len(_open_sessions(db, db.session.scalars(select(UserSession)).one().user)) == 1


def test_a_revoked_session_is_refused_on_its_next_request(login, db, make):
    user = make.user(Role.DSL)
    client = login(user)
    assert client.get("/").status_code == 200
    end_session(_open_sessions(db, user)[0], EndReason.REVOKED)
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    page = client.get("/sign-in").get_data(as_text=True)
    assert "Your session was ended" in page


def test_an_idle_session_times_out(login, db, make, app):
    user = make.user(Role.DSL)
    client = login(user)
    record = _open_sessions(db, user)[0]
    record.last_seen_at -= timedelta(minutes=app.config["SESSION_IDLE_MINUTES"], seconds=1)
    db.session.commit()
    response = client.get("/")
    assert response.headers["Location"] == "/sign-in"
    db.session.refresh(record)
    assert record.end_reason == EndReason.IDLE
    assert "had not used the service for a while" in client.get("/sign-in").get_data(as_text=True)


def test_activity_keeps_a_session_alive(login, db, make):
    user = make.user(Role.DSL)
    client = login(user)
    record = _open_sessions(db, user)[0]
    record.last_seen_at -= timedelta(minutes=29)
    record.created_at -= timedelta(minutes=29)
    db.session.commit()
    assert client.get("/").status_code == 200
    db.session.refresh(record)
    # Seen again just now, so the idle clock restarted.
    assert record.ended_at is None
    assert record.last_seen_at > record.created_at + timedelta(minutes=28)


def test_a_page_that_reads_costs_one_transaction_when_last_seen_has_not_moved(login, db, make):
    user = make.user(Role.DSL)
    client = login(user)  # signing in has just set last-seen
    commits: list[int] = []

    def note(_connection) -> None:
        commits.append(1)

    event.listen(db.engine, "commit", note)
    try:
        assert client.get("/cases/").status_code == 200  # writes its audit event
    finally:
        event.remove(db.engine, "commit", note)
    # The audit event's commit only: the session check read, and left its transaction
    # to the view (it used to commit on its own first).
    assert len(commits) == 1
    record = _open_sessions(db, user)[0]
    record.last_seen_at -= sessions.TOUCH_INTERVAL
    db.session.commit()
    assert client.get("/").status_code == 200
    db.session.refresh(record)
    assert record.last_seen_at > record.created_at  # moved on, and committed


def test_a_session_expires_after_its_absolute_lifetime(login, db, make, app):
    user = make.user(Role.DSL)
    client = login(user)
    record = _open_sessions(db, user)[0]
    record.created_at -= timedelta(hours=app.config["SESSION_MAX_HOURS"])
    db.session.commit()
    assert client.get("/").headers["Location"] == "/sign-in"
    db.session.refresh(record)
    assert record.end_reason == EndReason.EXPIRED


def test_idle_timeout_is_configurable(make_app, make):
    app = make_app(SESSION_IDLE_MINUTES=5)
    with app.app_context():
        user = make.user(Role.DSL)
        client = app.test_client()
        sign_in(client, user.email)
        record = _db.session.scalars(select(UserSession)).one()
        record.last_seen_at -= timedelta(minutes=5)
        _db.session.commit()
        assert client.get("/").status_code == 302


def test_disabling_a_user_ends_their_sessions(login, db, make):
    user = make.user(Role.DSL)
    client = login(user)
    assert disable_user(user) == 1
    db.session.commit()
    assert client.get("/").status_code == 302
    assert _open_sessions(db, user) == []


def test_session_id_changes_at_sign_in(client, make):
    user = make.user(Role.DSL)
    client.get("/sign-in")
    with client.session_transaction() as before:
        before["planted"] = "by someone else"
    sign_in(client, user.email)
    with client.session_transaction() as after:
        assert "planted" not in after
        assert "sid" in after


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_next_never_leaves_the_site(client, make, target):
    user = make.user(Role.DSL)
    page = client.get(f"/sign-in?next={target}")
    response = client.post(
        f"/sign-in?next={target}",
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "email": user.email,
            "password": DEFAULT_PASSWORD,
        },
    )
    assert response.headers["Location"] == "/sign-in/code"
    response = post_form(client, "/sign-in/code", {"code": totp_code(user.email)})
    assert response.headers["Location"] == "/"


def test_next_returns_to_the_page_asked_for(client, make):
    user = make.user(Role.DSL)
    first = client.get("/privacy?x=1")
    assert first.status_code == 200  # public
    response = client.get("/")
    assert response.headers["Location"] == "/sign-in"
    page = client.get("/sign-in?next=/%3Fa%3D1")
    response = client.post(
        "/sign-in?next=/%3Fa%3D1",
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "email": user.email,
            "password": DEFAULT_PASSWORD,
        },
    )
    response = post_form(client, "/sign-in/code", {"code": totp_code(user.email)})
    assert response.headers["Location"] == "/?a=1"


class TestPasswords:
    def test_hashes_are_argon2id(self, app):
        assert passwords.hash_password("a long enough password").startswith("$argon2id$")

    @pytest.mark.parametrize(
        ("password", "problem"),
        [
            ("x" * 11, "Password must be 12 characters or more"),
            ("xy" * 65, "Password must be 128 characters or fewer"),
            ("xyz" * 4, None),
            ("wxyz" * 32, None),
            ("all lower case, no digits", None),  # no composition rules
            ("correct horse battery staple", None),
            # Among the most used passwords, or one of them padded.
            ("qwerty123456", passwords.COMMON),
            ("1Q2W3E4R5T6Y", passwords.COMMON),
            ("password12345678", passwords.COMMON),
            ("Summer2026!!!", passwords.COMMON),
            ("  football!!  ", passwords.COMMON),
            ("aaaaaaaaaaaa", passwords.COMMON),
            ("abababababab", passwords.COMMON),
        ],
    )
    def test_length_and_the_common_password_list_are_the_only_rules(self, password, problem):
        assert passwords.password_problem(password) == problem

    def test_hashes_are_upgraded_when_the_cost_changes(self, make_app, make):
        app = make_app()
        with app.app_context():
            user = make.user(Role.DSL)
            old_hash = user.password_hash
        stronger = make_app(ARGON2_TIME_COST=2)
        with stronger.app_context():
            client = stronger.test_client()
            assert sign_in(client, user.email).status_code == 302
            _db.session.expire_all()
            new_hash = _db.session.get(User, user.id).password_hash
        assert new_hash != old_hash and "t=2" in new_hash
