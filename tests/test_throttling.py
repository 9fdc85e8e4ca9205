"""Sign-in throttling and lockout: per account and per client address, with a growing
wait, kept in the database so that every server process sees it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.audit_helpers import events
from tests.conftest import DEFAULT_PASSWORD, csrf_token_from, post_form, sign_in, totp_code
from tracker.auth import throttle
from tracker.auth.models import SignInThrottle
from tracker.auth.roles import Role
from tracker.db import utcnow
from tracker.extensions import db as _db

WAIT = "There have been too many attempts to sign in."


WRONG_PASSWORD = "a wrong password, surely"  # noqa: S105 - a test value


def _attempt(client, email: str, password: str = WRONG_PASSWORD, address: str = "127.0.0.1"):
    page = client.get("/sign-in", environ_base={"REMOTE_ADDR": address})
    return client.post(
        "/sign-in",
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "email": email,
            "password": password,
        },
        environ_base={"REMOTE_ADDR": address},
    )


def _text(response) -> str:
    return response.get_data(as_text=True)


def _rewind(db, minutes: int) -> None:
    """Move every recorded failure back in time, as if the minutes had passed."""
    for row in db.session.scalars(select(SignInThrottle)):
        row.last_failure_at -= timedelta(minutes=minutes)
        row.first_failure_at -= timedelta(minutes=minutes)
    db.session.commit()


# --- the rule ----------------------------------------------------------------------------


def test_the_wait_doubles_after_the_limit_up_to_the_maximum(app):
    delays = [throttle.delay_after(throttle.ACCOUNT, n) for n in range(1, 13)]
    minutes = [d.total_seconds() / 60 for d in delays]
    assert minutes == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60]
    assert throttle.delay_after(throttle.ACCOUNT, 10_000) == timedelta(minutes=60)
    assert throttle.delay_after(throttle.ADDRESS, 99) == timedelta(0)
    assert throttle.delay_after(throttle.ADDRESS, 100) == timedelta(minutes=1)


def test_the_wait_message_rounds_up_to_whole_minutes(app):
    now = utcnow()
    assert "Wait 1 minute," in throttle.wait_message(now + timedelta(seconds=5), now=now)
    assert "Wait 2 minutes," in throttle.wait_message(now + timedelta(seconds=61), now=now)


# --- per account -------------------------------------------------------------------------


def test_an_account_is_locked_after_five_failures_even_for_the_right_password(client, db, make):
    user = make.user(Role.DSL)
    for _ in range(5):
        assert "Enter a correct e-mail address and password" in _text(_attempt(client, user.email))
    locked = _attempt(client, user.email, DEFAULT_PASSWORD)
    assert WAIT in _text(locked) and "Wait 1 minute," in _text(locked)
    assert client.get("/").status_code == 302
    refused = events(db.session, action="auth.login.failed")
    assert [e.details["reason"] for e in refused] == ["wrong_password"] * 5 + ["throttled"]
    assert refused[-1].object_id == user.id


def test_the_lockout_says_nothing_about_whether_the_account_exists(client, make):
    user = make.user(Role.DSL)
    for email in (user.email, "nobody-here@example.org"):
        for _ in range(5):
            _attempt(client, email)
    real = _text(_attempt(client, user.email, DEFAULT_PASSWORD))
    unknown = _text(_attempt(client, "nobody-here@example.org"))
    assert WAIT in real and WAIT in unknown
    # The same page, but for the e-mail address kept in the box and the form token.
    strip = lambda html: html.replace(user.email, "X").replace("nobody-here@example.org", "X")  # noqa: E731
    assert _without_tokens(strip(real)) == _without_tokens(strip(unknown))


def _without_tokens(html: str) -> str:
    import re

    return re.sub(r'value="[^"]*"', 'value=""', re.sub(r'data-request-id="[^"]*"', "", html))


def test_the_wait_grows_with_each_failure_after_it_ends(client, db, make):
    user = make.user(Role.DSL)
    for _ in range(5):
        _attempt(client, user.email)
    _rewind(db, 1)  # the first wait (one minute) is over
    assert "Enter a correct e-mail address" in _text(_attempt(client, user.email))
    assert "Wait 2 minutes," in _text(_attempt(client, user.email))
    _rewind(db, 2)
    _attempt(client, user.email)
    assert "Wait 4 minutes," in _text(_attempt(client, user.email))


def test_signing_in_fully_clears_the_account_count(client, db, make):
    user = make.user(Role.DSL)
    for _ in range(4):
        _attempt(client, user.email)
    assert sign_in(client, user.email).headers["Location"] == "/"
    post_form(client, "/sign-out", {}, form_url="/")
    for _ in range(4):
        _attempt(client, user.email)
    assert sign_in(client, user.email).headers["Location"] == "/"


def test_failures_long_ago_are_forgotten(client, db, make):
    user = make.user(Role.DSL)
    for _ in range(5):
        _attempt(client, user.email)
    _rewind(db, 25 * 60)  # more than THROTTLE_FORGET_HOURS (24)
    _attempt(client, user.email)  # counts as the first of a new run
    assert "Enter a correct e-mail address" in _text(_attempt(client, user.email))
    rows = db.session.scalars(select(SignInThrottle)).all()
    assert {row.failures for row in rows} == {2}


def test_wrong_codes_count_against_the_account_too(client, db, make):
    user = make.user(Role.DSL)
    for _ in range(5):
        post_form(client, "/sign-in", {"email": user.email, "password": DEFAULT_PASSWORD})
        response = post_form(client, "/sign-in/code", {"code": "000000"})
        assert "Enter the 6-digit code" in _text(response)
    # The password is right, but the account must now wait.
    response = post_form(client, "/sign-in", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert WAIT in _text(response)


def test_the_lockout_holds_across_two_app_instances_sharing_the_database(make_app, make, db):
    user = make.user(Role.DSL)
    db.session.commit()
    first, second = make_app(), make_app()
    with first.test_client() as one:
        for _ in range(5):
            _attempt(one, user.email)
    with second.test_client() as two:
        response = _attempt(two, user.email, DEFAULT_PASSWORD)
        assert WAIT in _text(response)
    with first.app_context():
        assert (
            _db.session.scalar(
                select(SignInThrottle.failures).where(SignInThrottle.kind == throttle.ACCOUNT)
            )
            == 5
        )
        _db.session.rollback()


def test_nothing_identifying_is_stored_in_the_throttle(client, db, make):
    user = make.user(Role.DSL)
    _attempt(client, user.email, address="203.0.113.9")
    rows = db.session.scalars(select(SignInThrottle)).all()
    assert {row.kind for row in rows} == {"account", "address"}
    stored = " ".join(row.key for row in rows)
    assert user.email not in stored and "203.0.113.9" not in stored


# --- per client address ----------------------------------------------------------------


@pytest.fixture
def strict_address_app(make_app):
    app = make_app(THROTTLE_ADDRESS_ATTEMPTS=3)
    with app.app_context():
        yield app


def test_one_address_trying_many_accounts_is_made_to_wait(strict_address_app, make):
    users = [make.user(Role.DSL) for _ in range(3)]
    client = strict_address_app.test_client()
    for user in users:
        _attempt(client, user.email, address="198.51.100.7")
    fourth = make.user(Role.DSL)
    from_there = _attempt(client, fourth.email, DEFAULT_PASSWORD, address="198.51.100.7")
    assert WAIT in _text(from_there)
    elsewhere = _attempt(client, fourth.email, DEFAULT_PASSWORD, address="198.51.100.8")
    assert elsewhere.status_code == 302 and elsewhere.headers["Location"] == "/sign-in/code"


def test_a_good_sign_in_does_not_clear_the_address_count(strict_address_app, make):
    attacker_account = make.user(Role.DSL)
    victim = make.user(Role.DSL)
    client, attackers = strict_address_app.test_client(), strict_address_app.test_client()
    _attempt(client, victim.email, address="198.51.100.7")
    _attempt(client, victim.email, address="198.51.100.7")
    # The attacker signs in properly with their own account, from the same address.
    _attempt(attackers, attacker_account.email, DEFAULT_PASSWORD, address="198.51.100.7")
    page = attackers.get("/sign-in/code", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    done = attackers.post(
        "/sign-in/code",
        data={
            "csrf_token": csrf_token_from(_text(page)),
            "code": totp_code(attacker_account.email),
        },
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert done.headers["Location"] == "/"
    _attempt(client, victim.email, address="198.51.100.7")
    assert WAIT in _text(_attempt(client, victim.email, DEFAULT_PASSWORD, address="198.51.100.7"))


def test_changing_a_password_needs_the_current_one_and_is_throttled(login, make, db):
    user = make.user(Role.DSL)
    client = login(user)
    for _ in range(5):
        response = post_form(
            client,
            "/account/password",
            {
                "current_password": "not the right one at all",
                "new_password": "a new long password here",
                "confirm_password": "a new long password here",
            },
        )
        assert "Your current password is not right" in _text(response)
    response = post_form(
        client,
        "/account/password",
        {
            "current_password": DEFAULT_PASSWORD,
            "new_password": "a new long password here",
            "confirm_password": "a new long password here",
        },
    )
    assert WAIT in _text(response)
