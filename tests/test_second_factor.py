"""The second factor: setting up an authenticator app, codes that work once, recovery
codes, secrets encrypted at rest, and an administrator's reset."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select, text

from tests.audit_helpers import events
from tests.conftest import DEFAULT_PASSWORD, csrf_token_from, post_form, sign_in, totp_code
from tracker.auth import mfa
from tracker.auth.models import RecoveryCode, User, UserSession
from tracker.auth.roles import Role
from tracker.extensions import db as _db

SECRET_ON_PAGE = re.compile(r'data-testid="totp-secret">([A-Z2-7 ]+)<')
CODES_ON_PAGE = re.compile(r'<li class="app-code">([a-z2-9]{5}-[a-z2-9]{5})</li>')


def _password_step(client, email: str):
    return post_form(client, "/sign-in", {"email": email, "password": DEFAULT_PASSWORD})


def _fresh(db, user: User) -> User:
    db.session.rollback()
    return db.session.get(User, user.id)


def _open_sessions(db, user: User) -> list[UserSession]:
    db.session.rollback()
    return db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    ).all()


def _enrol_through_the_pages(client, user: User) -> tuple[str, list[str]]:
    """Sign in for the first time and set up an app; returns the secret and the codes."""
    response = _password_step(client, user.email)
    assert response.headers["Location"] == "/sign-in/set-up-authenticator"
    page = client.get("/sign-in/set-up-authenticator").get_data(as_text=True)
    secret = SECRET_ON_PAGE.search(page).group(1).replace(" ", "")
    code = pyotp.TOTP(secret).now()
    done = client.post(
        "/sign-in/set-up-authenticator", data={"csrf_token": csrf_token_from(page), "code": code}
    )
    assert done.status_code == 200
    return secret, CODES_ON_PAGE.findall(done.get_data(as_text=True))


# --- setting up ------------------------------------------------------------------------


def test_a_first_sign_in_sets_up_an_authenticator_app(client, db, make):
    user = make.user(Role.DSL, second_factor=False)
    response = _password_step(client, user.email)
    assert response.headers["Location"] == "/sign-in/set-up-authenticator"
    # The password alone opens nothing.
    assert client.get("/").status_code == 302
    assert _open_sessions(db, user) == []

    page = client.get("/sign-in/set-up-authenticator").get_data(as_text=True)
    assert "<svg" in page and 'class="app-qr"' in page  # the QR code, drawn on the server
    secret = SECRET_ON_PAGE.search(page).group(1).replace(" ", "")
    assert len(secret) == 32
    # Reloading shows the same secret: the app someone has just scanned keeps working.
    again = client.get("/sign-in/set-up-authenticator").get_data(as_text=True)
    assert SECRET_ON_PAGE.search(again).group(1).replace(" ", "") == secret

    done = client.post(
        "/sign-in/set-up-authenticator",
        data={"csrf_token": csrf_token_from(page), "code": pyotp.TOTP(secret).now()},
    )
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert "Your authenticator app is set up" in html
    codes = CODES_ON_PAGE.findall(html)
    assert len(codes) == len(set(codes)) == 10
    assert client.get("/").status_code == 200  # signed in
    assert len(_open_sessions(db, user)) == 1

    [enrolled] = events(db.session, action="auth.mfa.enrolled")
    assert (enrolled.actor_id, enrolled.object_id, enrolled.details) == (
        user.id,
        user.id,
        {"replacing": False},
    )
    [signed_in] = events(db.session, action="auth.login.succeeded")
    assert signed_in.details == {"second_factor": "new_totp"}


def test_secrets_are_encrypted_and_recovery_codes_hashed_at_rest(client, db, make):
    user = make.user(Role.DSL, second_factor=False)
    secret, codes = _enrol_through_the_pages(client, user)
    stored = db.session.execute(
        text("SELECT totp_secret FROM users WHERE id = :id"), {"id": user.id}
    ).scalar_one()
    assert secret not in stored and secret.lower() not in stored
    assert mfa.decrypt_secret(stored) == secret
    hashes = db.session.scalars(
        select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)
    ).all()
    assert len(hashes) == 10
    dump = " ".join(hashes)
    assert all(code not in dump and code.replace("-", "") not in dump for code in codes)
    assert all(h.startswith("$argon2id$") for h in hashes)


def test_a_wrong_code_while_setting_up_is_refused_and_counted(client, db, make):
    user = make.user(Role.DSL, second_factor=False)
    _password_step(client, user.email)
    page = client.get("/sign-in/set-up-authenticator").get_data(as_text=True)
    response = client.post(
        "/sign-in/set-up-authenticator", data={"csrf_token": csrf_token_from(page), "code": "12345"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter the 6-digit code your authenticator app shows now" in html
    assert _fresh(db, user).totp_secret is None
    [failed] = events(db.session, action="auth.login.failed")
    assert failed.details == {"reason": "wrong_code"}


def test_the_set_up_page_is_only_for_someone_whose_password_was_just_accepted(client, make):
    for path in ("/sign-in/set-up-authenticator", "/sign-in/code", "/sign-in/recovery-code"):
        response = client.get(path)
        assert response.headers["Location"] == "/sign-in", path


def test_the_step_between_password_and_code_expires(client, db, make):
    user = make.user(Role.DSL)
    _password_step(client, user.email)
    with client.session_transaction() as cookie:
        cookie["pending_sign_in"] = {**cookie["pending_sign_in"], "since": 0}
    response = client.get("/sign-in/code")
    assert response.headers["Location"] == "/sign-in"
    page = client.get("/sign-in").get_data(as_text=True)
    assert "You took too long to enter the code" in page


# --- signing in with a code --------------------------------------------------------------


def test_each_code_works_once(client, db, make):
    user = make.user(Role.DSL)
    _password_step(client, user.email)
    code = totp_code(user.email)
    first = post_form(client, "/sign-in/code", {"code": code})
    assert first.headers["Location"] == "/"
    post_form(client, "/sign-out", {}, form_url="/")

    _password_step(client, user.email)
    again = post_form(client, "/sign-in/code", {"code": code})
    html = again.get_data(as_text=True)
    assert again.status_code == 200
    assert "That code has already been used" in html
    assert client.get("/").status_code == 302
    [refused] = events(db.session, action="auth.login.failed")
    assert refused.details == {"reason": "reused_code"}
    succeeded = events(db.session, action="auth.login.succeeded")
    assert [e.details for e in succeeded] == [{"second_factor": "totp"}]


@pytest.mark.parametrize("typed", ["000000", "12 34", "abcdef", "1" * 64, "<script>"])
def test_a_wrong_code_is_refused_with_a_clear_message(client, db, make, typed):
    user = make.user(Role.DSL)
    _password_step(client, user.email)
    response = post_form(client, "/sign-in/code", {"code": typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter the 6-digit code your authenticator app shows now" in html
    assert "<script>" not in html
    assert client.get("/").status_code == 302


def test_a_code_typed_with_spaces_is_accepted(client, make):
    user = make.user(Role.DSL)
    _password_step(client, user.email)
    code = totp_code(user.email)
    response = post_form(client, "/sign-in/code", {"code": f" {code[:3]} {code[3:]} "})
    assert response.headers["Location"] == "/"


def test_the_return_address_survives_both_steps(client, make):
    user = make.user(Role.DSL)
    page = client.get("/sign-in?next=/cases/%3Fq%3Dx")
    client.post(
        "/sign-in?next=/cases/%3Fq%3Dx",
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "email": user.email,
            "password": DEFAULT_PASSWORD,
        },
    )
    response = post_form(client, "/sign-in/code", {"code": totp_code(user.email)})
    assert response.headers["Location"] == "/cases/?q=x"


# --- recovery codes ---------------------------------------------------------------------


def test_a_recovery_code_signs_in_once(client, db, make):
    user = make.user(Role.DSL, second_factor=False)
    _secret, codes = _enrol_through_the_pages(client, user)
    post_form(client, "/sign-out", {}, form_url="/")

    _password_step(client, user.email)
    response = post_form(client, "/sign-in/recovery-code", {"code": codes[3].upper()})
    assert response.headers["Location"] == "/"
    assert "You have 9 left" in client.get("/").get_data(as_text=True)
    [used] = events(db.session, action="auth.recovery_code.used")
    assert used.details == {"remaining": 9}
    post_form(client, "/sign-out", {}, form_url="/")

    _password_step(client, user.email)
    again = post_form(client, "/sign-in/recovery-code", {"code": codes[3]})
    assert again.status_code == 200
    assert "Enter one of your recovery codes that has not been used yet" in again.get_data(
        as_text=True
    )
    assert mfa.recovery_codes_left(_fresh(db, user)) == 9


def test_few_recovery_codes_left_brings_a_warning(client, db, make):
    user = make.user(Role.DSL, second_factor=False)
    _secret, codes = _enrol_through_the_pages(client, user)
    for code in codes[:7]:
        post_form(client, "/sign-out", {}, form_url="/")
        _password_step(client, user.email)
        post_form(client, "/sign-in/recovery-code", {"code": code})
    assert "You have 3 recovery codes left" in client.get("/").get_data(as_text=True)


# --- replacing and resetting ------------------------------------------------------------


def test_changing_the_authenticator_app_ends_other_sessions_and_old_codes(app, make, db):
    user = make.user(Role.DSL, second_factor=False)
    phone, laptop = app.test_client(), app.test_client()
    old_secret, old_codes = _enrol_through_the_pages(phone, user)
    sign_in(laptop, user.email)
    assert len(_open_sessions(db, user)) == 2

    page = phone.get("/account/authenticator").get_data(as_text=True)
    new_secret = SECRET_ON_PAGE.search(page).group(1).replace(" ", "")
    assert new_secret != old_secret
    wrong = phone.post(
        "/account/authenticator",
        data={
            "csrf_token": csrf_token_from(page),
            "current_password": "not my password at all",
            "code": pyotp.TOTP(new_secret).now(),
        },
    )
    assert "Your current password is not right" in wrong.get_data(as_text=True)
    done = phone.post(
        "/account/authenticator",
        data={
            "csrf_token": csrf_token_from(page),
            "current_password": DEFAULT_PASSWORD,
            "code": pyotp.TOTP(new_secret).now(),
        },
    )
    new_codes = CODES_ON_PAGE.findall(done.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert phone.get("/").status_code == 200
    assert laptop.get("/").status_code == 302  # ended
    assert mfa.decrypt_secret(_fresh(db, user).totp_secret) == new_secret

    post_form(phone, "/sign-out", {}, form_url="/")
    _password_step(phone, user.email)
    old = post_form(phone, "/sign-in/recovery-code", {"code": old_codes[0]})
    assert old.status_code == 200  # the old recovery codes no longer work
    [replaced] = [
        e for e in events(db.session, action="auth.mfa.enrolled") if e.details["replacing"]
    ]
    assert replaced.actor_id == user.id


def test_an_administrator_resets_a_lost_second_factor(app, make, db):
    school = make.school()
    user = make.user(Role.DSL, school)
    admin = make.user(Role.TRUST_ADMIN, trust=school.trust)
    theirs, admins = app.test_client(), app.test_client()
    sign_in(theirs, user.email)
    sign_in(admins, admin.email)

    page = admins.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Reset second factor" in page
    response = admins.post(
        f"/admin/users/{user.id}/reset-second-factor", data={"csrf_token": csrf_token_from(page)}
    )
    assert response.headers["Location"] == f"/admin/users/{user.id}"
    assert "second factor has been reset and 1 session ended" in admins.get(
        response.headers["Location"]
    ).get_data(as_text=True)

    assert theirs.get("/").status_code == 302  # their session ended
    fresh = _fresh(db, user)
    assert fresh.totp_secret is None and mfa.recovery_codes_left(fresh) == 0
    [reset] = events(db.session, action="auth.mfa.reset")
    assert (reset.actor_id, reset.object_id, reset.details) == (
        admin.id,
        user.id,
        {"sessions_ended": 1},
    )
    # They must set up an app again: no way round it.
    again = _password_step(theirs, user.email)
    assert again.headers["Location"] == "/sign-in/set-up-authenticator"
    assert theirs.get("/sign-in/code").headers["Location"] == "/sign-in/set-up-authenticator"


def test_an_administrator_cannot_reach_another_trusts_accounts(login, make):
    other_trust = make.trust(name="Other Trust")
    stranger = make.user(Role.CEO, trust=other_trust)
    admin = make.user(Role.TRUST_ADMIN, trust=make.trust(name="Home Trust"))
    client = login(admin)
    assert client.get(f"/admin/users/{stranger.id}").status_code == 404
    token = csrf_token_from(client.get("/admin/users").get_data(as_text=True))
    for action in ("reset-second-factor", "end-sessions"):
        response = client.post(f"/admin/users/{stranger.id}/{action}", data={"csrf_token": token})
        assert response.status_code == 404
    assert "Other Trust" not in client.get("/admin/users").get_data(as_text=True)


def test_an_administrator_resets_their_own_factor_elsewhere(login, make, db):
    admin = make.user(Role.TRUST_ADMIN)
    client = login(admin)
    page = client.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    assert "Reset second factor" not in page
    response = client.post(
        f"/admin/users/{admin.id}/reset-second-factor", data={"csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 302
    assert _fresh(db, admin).totp_secret is not None
    assert events(db.session, action="auth.mfa.reset") == []


def test_the_accounts_page_shows_who_has_set_up_an_app(login, make):
    admin = make.user(Role.TRUST_ADMIN, name="Ada Admin")
    make.user(Role.DSL, name="Nina New", second_factor=False, trust=admin.trust)
    html = login(admin).get("/admin/users").get_data(as_text=True)
    assert "Nina New" in html and "Not set up yet" in html
    assert "Ada Admin" in html and "Set up" in html


def test_the_command_line_resets_a_second_factor(app, make, db, runner):
    user = make.user(Role.TRUST_ADMIN)
    result = runner.invoke(args=["users", "reset-second-factor", user.email])
    assert result.exit_code == 0, result.output
    assert "They will set up an authenticator app" in result.output
    assert _fresh(db, user).totp_secret is None
    [reset] = events(db.session, action="auth.mfa.reset")
    assert reset.actor_id is None  # the system, from the command line


# --- the key that encrypts secrets --------------------------------------------------------


def test_a_new_key_reads_old_secrets_during_rotation(make_app, make, db):
    user = make.user(Role.DSL)
    old_key = "test-totp-key-not-for-production-use"
    rotated = make_app(TOTP_KEY="a-brand-new-totp-key-for-the-rotation", TOTP_OLD_KEYS=[old_key])
    with rotated.app_context():
        stored = _db.session.get(User, user.id).totp_secret
        secret = mfa.decrypt_secret(stored)
        result = rotated.test_cli_runner().invoke(args=["users", "rotate-totp-key"])
        assert result.exit_code == 0, result.output
        assert "Re-encrypted 1 secret(s)" in result.output
        _db.session.rollback()
        restored = _db.session.get(User, user.id).totp_secret
        assert restored != stored
        _db.session.rollback()
    new_only = make_app(TOTP_KEY="a-brand-new-totp-key-for-the-rotation")
    with new_only.app_context():
        assert mfa.decrypt_secret(_db.session.get(User, user.id).totp_secret) == secret
        _db.session.rollback()
    old_only = make_app()
    with old_only.app_context(), pytest.raises(mfa.SecretUnreadable):
        mfa.decrypt_secret(_db.session.get(User, user.id).totp_secret)


def test_the_app_refuses_to_start_without_a_totp_key(make_app):
    from tracker import ConfigurationError

    with pytest.raises(ConfigurationError, match="TOTP_KEY"):
        make_app(TESTING=False, DEBUG=False, SECRET_KEY="s" * 32, AUDIT_KEY="a" * 32, TOTP_KEY="")
    with pytest.raises(ConfigurationError, match="TOTP_KEY must differ"):
        make_app(TESTING=False, SECRET_KEY="s" * 32, AUDIT_KEY="a" * 32, TOTP_KEY="s" * 32)


def test_a_new_password_from_the_command_line_never_bypasses_the_second_factor(
    app, make, db, runner
):
    user = make.user(Role.DSL)
    client = app.test_client()
    sign_in(client, user.email)
    result = runner.invoke(
        args=["users", "set-password", user.email, "--password", "a fresh long passphrase"]
    )
    assert result.exit_code == 0, result.output
    assert "They still need their authenticator app" in result.output
    assert client.get("/").status_code == 302  # the old session ended
    response = post_form(
        client, "/sign-in", {"email": user.email, "password": "a fresh long passphrase"}
    )
    assert response.headers["Location"] == "/sign-in/code"  # still asked for a code
    assert client.get("/").status_code == 302
    [changed] = events(db.session, action="auth.password.changed")
    assert (changed.actor_id, changed.details) == (None, {"sessions_ended": 1, "reset": True})
    refused = runner.invoke(args=["users", "set-password", user.email, "--password", "short"])
    assert refused.exit_code == 1 and "12 characters or more" in refused.output
