"""Signing in through the trust's identity provider (OpenID Connect), against a real
provider on loopback (tests/identity_provider.py): the journey with and without the
provider's multi-factor claim, and each way it is refused, with no session left behind
and the refusal's reason on the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token_from, sign_in, totp_code
from tests.identity_provider import path_of, through_provider
from tracker.audit.models import AuditEvent
from tracker.auth.models import User, UserSession
from tracker.auth.roles import Role
from tracker.extensions import db as _db
from tracker.orgs.services import set_sign_in

CALLBACK = "http://localhost/sign-in/callback"  # the test client's own address
DOMAIN = "trust.example"


@pytest.fixture
def trust_app(make_app, make):
    """An app whose trust signs in through a provider started for the test."""

    def build(provider, *, provider_mfa: bool = False, passwords: bool = True, issuer=None):
        trust = make.trust(name="Horizon Multi Academy Trust", code="HMAT")
        app = make_app(OIDC_CLIENT_SECRETS={"HMAT": provider.client_secret})
        with app.app_context():
            set_sign_in(
                _db.session.merge(trust),
                label="Microsoft",
                issuer=issuer or provider.issuer,
                client_id=provider.client_id,
                domains=[DOMAIN],
                trusts_provider_mfa=provider_mfa,
                mfa_acr=None,
                passwords_allowed=passwords,
            )
            _db.session.commit()
        return app, trust

    return build


def _start(client, trust) -> str:
    answer = client.get(f"/sign-in/with/{trust.id}")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer.headers["Location"]


def _signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def _sessions() -> int:
    _db.session.rollback()
    count = _db.session.scalar(select(func.count()).select_from(UserSession))
    _db.session.commit()
    return count


def _last_event(action: str) -> AuditEvent:
    _db.session.rollback()
    event = _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq.desc())
    ).first()
    _db.session.commit()
    return event


def test_the_button_shows_only_when_the_trust_has_set_up_its_provider(
    app, make_app, make, identity_provider
):
    assert "Sign in with" not in app.test_client().get("/sign-in").get_data(as_text=True)
    provider = identity_provider(redirect_uris=[CALLBACK])
    trust = make.trust(name="Horizon Multi Academy Trust", code="HMAT")
    set_sign_in(trust, label="Google", issuer=provider.issuer, client_id="x", domains=[DOMAIN],
                trusts_provider_mfa=False, mfa_acr=None, passwords_allowed=True)  # fmt: skip
    _db.session.commit()
    # Without its secret in the configuration the provider cannot be used: no button.
    assert "Sign in with Google" not in app.test_client().get("/sign-in").text
    _db.session.rollback()  # SQLite: the page's read holds the lock in this context
    with_secret = make_app(OIDC_CLIENT_SECRETS={"HMAT": "s"})
    page = with_secret.test_client().get("/sign-in?next=/cases/").get_data(as_text=True)
    assert f'href="/sign-in/with/{trust.id}?next=/cases/"' in page
    assert "Sign in with Google" in page


def test_without_the_providers_mfa_our_code_is_asked_for(trust_app, make, identity_provider):
    provider = identity_provider(redirect_uris=[CALLBACK])
    app, trust = trust_app(provider, provider_mfa=True)
    with app.app_context():
        user = make.user(Role.DSL, make.school(trust), email=f"sam@{DOMAIN}")
        sign_in(app.test_client(), user.email)  # sets up the authenticator app
        client = app.test_client()
        back = through_provider(_start(client, trust), f"Sam@{DOMAIN}", mfa=False)
        answer = client.get(path_of(back))
        assert answer.headers["Location"] == "/sign-in/code"
        assert not _signed_in(client)
        event = _last_event("auth.login.provider_accepted")
        assert event.details == {"provider_mfa": False, "linked": True}
        code = client.post(
            "/sign-in/code",
            data={
                "csrf_token": csrf_token_from(client.get("/sign-in/code").text),
                "code": totp_code(user.email),
            },
        )
        assert code.status_code == 302 and _signed_in(client)
        _db.session.rollback()
        linked = _db.session.get(User, user.id).sign_in_subject
        assert linked.startswith(provider.issuer + " ")
        _db.session.commit()


def test_the_providers_mfa_counts_where_the_trust_says_so(trust_app, make, identity_provider):
    provider = identity_provider(redirect_uris=[CALLBACK])
    app, trust = trust_app(provider, provider_mfa=True)
    with app.app_context():
        user = make.user(Role.DSL, make.school(trust), email=f"sam@{DOMAIN}")
        client = app.test_client()
        back = through_provider(_start(client, trust), user.email, mfa=True)
        answer = client.get(path_of(back))
        assert answer.status_code == 302 and answer.headers["Location"] == "/"
        assert _signed_in(client)
        event = _last_event("auth.login.succeeded")
        assert event.details == {"second_factor": "provider", "linked": True}


def test_the_providers_mfa_does_not_count_unless_the_trust_says_so(
    trust_app, make, identity_provider
):
    provider = identity_provider(redirect_uris=[CALLBACK])
    app, trust = trust_app(provider, provider_mfa=False)
    with app.app_context():
        make.user(Role.DSL, make.school(trust), email=f"sam@{DOMAIN}")
        client = app.test_client()
        back = through_provider(_start(client, trust), f"sam@{DOMAIN}", mfa=True)
        assert client.get(path_of(back)).headers["Location"] in (
            "/sign-in/code",
            "/sign-in/set-up-authenticator",
        )
        assert not _signed_in(client) and _sessions() == 0
        assert _last_event("auth.login.provider_accepted").details["provider_mfa"] is True


@pytest.mark.parametrize(
    ("email", "verified", "reason", "words"),
    [
        (f"nobody@{DOMAIN}", True, "no_account", "Your account has not been set up: ask"),
        (f"sam@{DOMAIN}", False, "email_unverified", "has not verified your e-mail address"),
        ("sam@gmail.example", True, "domain_not_allowed", "Sign in with your work account"),
    ],
)  # fmt: skip
def test_a_person_the_trust_has_not_set_up_is_refused(
    trust_app, make, identity_provider, email, verified, reason, words
):
    provider = identity_provider(redirect_uris=[CALLBACK])
    app, trust = trust_app(provider)
    with app.app_context():
        make.user(Role.DSL, make.school(trust), email=f"sam@{DOMAIN}")
        users = _db.session.scalar(select(func.count()).select_from(User))
        client = app.test_client()
        answer = client.get(
            path_of(through_provider(_start(client, trust), email, verified=verified))
        )
        assert answer.status_code == 403
        assert words in answer.get_data(as_text=True)
        assert not _signed_in(client) and _sessions() == 0
        event = _last_event("auth.login.failed")
        assert event.details == {"reason": reason, "method": "oidc"}
        assert _db.session.scalar(select(func.count()).select_from(User)) == users  # none made


def test_a_closed_account_is_refused_whatever_the_provider_says(trust_app, make, identity_provider):
    provider = identity_provider(redirect_uris=[CALLBACK])
    app, trust = trust_app(provider, provider_mfa=True)
    with app.app_context():
        user = make.user(Role.DSL, make.school(trust), email=f"sam@{DOMAIN}")
        user.disabled_at = user.created_at
        _db.session.commit()
        client = app.test_client()
        answer = client.get(path_of(through_provider(_start(client, trust), user.email, mfa=True)))
        assert answer.status_code == 403 and "Your account has been closed" in answer.text
        assert _sessions() == 0
        assert _last_event("auth.login.failed").details["reason"] == "disabled"


def test_a_changed_state_and_a_replayed_answer_are_refused(trust_app, make, identity_provider):
    provider = identity_provider(redirect_uris=[CALLBACK])
    app, trust = trust_app(provider, provider_mfa=True)
    with app.app_context():
        user = make.user(Role.DSL, make.school(trust), email=f"sam@{DOMAIN}")
        client = app.test_client()
        back = path_of(through_provider(_start(client, trust), user.email, mfa=True))
        forged = back.replace("state=", "state=x")
        answer = client.get(forged)
        assert answer.status_code == 400 and "Start again from the sign-in page" in answer.text
        assert _sessions() == 0
        assert _last_event("auth.login.failed").details["reason"] == "state_mismatch"

        # The real answer, then the same again: in this browser and in another.
        fresh = app.test_client()
        back = path_of(through_provider(_start(fresh, trust), user.email, mfa=True))
        assert fresh.get(back).headers["Location"] == "/"
        fresh.post("/sign-out", data={"csrf_token": csrf_token_from(fresh.get("/account").text)})
        for replaying in (fresh, app.test_client()):
            answer = replaying.get(back)
            assert answer.status_code == 400 and not _signed_in(replaying)
            assert _last_event("auth.login.failed").details["reason"] == "state_mismatch"
        assert _sessions() == 1  # only the one real sign-in ever opened a session


@pytest.mark.parametrize(
    ("where", "reason", "words"),
    [
        ("closed port", "provider_unreachable", "Microsoft cannot be reached just now"),
        ("another name", "wrong_issuer", "could not be checked"),
    ],
)
def test_a_provider_that_cannot_be_reached_or_is_not_the_one_configured(
    trust_app, identity_provider, where, reason, words
):
    provider = identity_provider(redirect_uris=[CALLBACK])
    issuer = {
        # Nothing listens there.
        "closed port": provider.issuer.rsplit(":", 1)[0] + ":9",
        # The provider answers, but its discovery document names another issuer.
        "another name": provider.issuer.replace("127.0.0.1", "localhost"),
    }[where]
    app, trust = trust_app(provider, issuer=issuer)
    with app.app_context():
        answer = app.test_client().get(f"/sign-in/with/{trust.id}")
        assert answer.status_code == 502 and words in answer.get_data(as_text=True)
        assert _last_event("auth.login.failed").details == {"reason": reason, "method": "oidc"}
        assert _sessions() == 0


@pytest.mark.parametrize(
    ("misbehaving", "reason"),
    [
        # Its clock an hour behind: the ID token has already expired.
        ({"clock_offset_seconds": -3600}, "expired"),
        # Signed with the client secret (HS256) rather than its published keys.
        ({"id_token_alg": "HS256"}, "bad_signature"),
        # At its token endpoint, signed with its published key after a claim is changed:
        # another service's token, another sign-in's nonce (a replayed token); or unsigned.
        ({"tamper": {"aud": "another-service"}}, "wrong_audience"),
        ({"tamper": {"nonce": "a-nonce-from-another-sign-in"}}, "nonce_mismatch"),
        ({"tamper": {"unsigned": True}}, "bad_signature"),
    ],
)
def test_a_token_the_app_cannot_trust_is_refused(
    trust_app, make, identity_provider, misbehaving, reason
):
    provider = identity_provider(redirect_uris=[CALLBACK], **misbehaving)
    app, trust = trust_app(provider, provider_mfa=True)
    with app.app_context():
        user = make.user(Role.DSL, make.school(trust), email=f"sam@{DOMAIN}")
        client = app.test_client()
        answer = client.get(path_of(through_provider(_start(client, trust), user.email, mfa=True)))
        assert answer.status_code == 502 and "could not be checked" in answer.text
        assert not _signed_in(client) and _sessions() == 0
        assert _last_event("auth.login.failed").details == {"reason": reason, "method": "oidc"}


def test_passwords_switched_off_leave_only_break_glass_accounts(
    trust_app, make, identity_provider, runner
):
    provider = identity_provider(redirect_uris=[CALLBACK])
    app, trust = trust_app(provider, passwords=False)
    with app.app_context():
        school = make.school(trust)
        user = make.user(Role.DSL, school, email=f"sam@{DOMAIN}")
        admin = make.user(Role.TRUST_ADMIN, trust=trust, email=f"admin@{DOMAIN}")
        assert sign_in(app.test_client(), user.email).status_code == 200  # refused
        assert _last_event("auth.login.failed").details == {"reason": "passwords_off"}
        done = app.test_cli_runner().invoke(args=["users", "break-glass", admin.email])
        assert done.exit_code == 0, done.output
        assert sign_in(app.test_client(), admin.email).status_code in (200, 302)
        assert _last_event("user.break_glass.changed").details == {"on": True}
        assert _last_event("auth.login.password_accepted").object_id == admin.id


def test_the_trust_sets_its_sign_in_from_the_command_line(app, make):
    trust = make.trust(name="Horizon Multi Academy Trust", code="HMAT")

    def run(*args: str):
        return app.test_cli_runner().invoke(args=["trust", "sign-in", *args])

    microsoft = ("--client-id", "c", "--label", "Microsoft")
    refused = run("--issuer", "http://login.example/tenant", *microsoft, "--domains", DOMAIN)
    assert refused.exit_code == 1 and "The issuer must be an https:// address" in refused.output
    refused = run("--issuer", "https://login.example/tenant", *microsoft)
    assert refused.exit_code == 1 and "at least one e-mail domain" in refused.output
    refused = run("--no-passwords")
    assert refused.exit_code == 1 and "Passwords can be switched off only when" in refused.output

    domains = f"@{DOMAIN.upper()}, other.example"
    done = run("--issuer", "https://login.example/tenant/", *microsoft, "--domains", domains,
               "--no-passwords")  # fmt: skip
    assert done.exit_code == 0, done.output
    assert (
        "signs in with Microsoft (https://login.example/tenant) for other.example,trust.example; "
        "passwords only for break-glass accounts" in done.output
    )
    assert "Set OIDC_CLIENT_SECRET_HMAT in the app's environment" in done.output
    event = _last_event("trust.sign_in.changed")
    assert (event.object_id, set(event.details["fields"])) == (
        trust.id,
        {"sign_in_label", "sign_in_issuer", "sign_in_client_id", "sign_in_domains",
         "passwords_allowed"},
    )  # fmt: skip
    assert "signs in with passwords only" in run().output
