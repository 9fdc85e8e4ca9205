"""Signing in through the trust's identity provider: OpenID Connect (Microsoft Entra ID,
Google Workspace), with Authlib as the client.

The protocol's checks are Authlib's: the authorization code flow with PKCE (S256),
`state` (kept in the signed cookie, used once) and `nonce`; the ID token's signature
against the provider's published keys, its issuer, audience, expiry and nonce. Ours are
the issuer in the provider's discovery document (it must be the one configured) and who
may come in: nobody is ever created from a token. An account is found by the provider's
subject once linked, or else by a verified e-mail address at one of the trust's allowed
domains, which links it.

The provider's multi-factor sign-in stands in for our second factor only where the trust
has said so and the ID token proves it (amr "mfa", or the acr value configured);
otherwise our own authenticator code follows, as after a password.

Every refusal is auth.login.failed with a reason code; no session is opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import FlaskOAuth2App
from authlib.integrations.flask_client.integration import FlaskIntegration
from flask import current_app
from joserfc.errors import ClaimError, JoseError
from sqlalchemy import select

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.auth.models import User
from tracker.auth.services import normalise_email, record_login_failed
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.orgs.models import Trust

SCOPE = "openid email profile"
# Clock difference allowed between us and the provider when checking expiry.
LEEWAY_SECONDS = 60
# What the person is told, by reason code; {label} is the provider's name.
_TRY_AGAIN = (
    "{label}'s answer could not be checked, so you have not been signed in. Try again; "
    "if it happens again, tell your trust's administrator"
)
MESSAGES = {
    "state_mismatch": "The sign-in was started in another window, or took too long. "
    "Start again from the sign-in page",
    "provider_refused": "{label} did not sign you in. Try again, or ask your trust's administrator",
    "provider_unreachable": "{label} cannot be reached just now. Try again in a few minutes",
    "wrong_issuer": _TRY_AGAIN,
    "wrong_audience": _TRY_AGAIN,
    "expired": _TRY_AGAIN,
    "nonce_mismatch": _TRY_AGAIN,
    "bad_signature": _TRY_AGAIN,
    "bad_token": _TRY_AGAIN,
    "email_unverified": "{label} has not verified your e-mail address, so it cannot be "
    "used to sign in here. Ask your trust's administrator",
    "domain_not_allowed": "You signed in with an account this service does not accept. "
    "Sign in with your work account",
    "no_account": "Your account has not been set up: ask your trust's administrator",
    "disabled": "Your account has been closed. Ask your trust's administrator if you "
    "think this is wrong",
    "subject_mismatch": "Your account here is linked to a different {label} account. Ask "
    "your trust's administrator",
}


class ProviderSignInFailed(DomainError):
    """Signing in through the provider was refused: `reason` is the audit trail's code."""

    def __init__(self, reason: str, label: str) -> None:
        super().__init__(MESSAGES[reason].format(label=label))
        self.reason = reason


@dataclass(frozen=True)
class Provider:
    trust_id: int
    label: str
    issuer: str
    client_id: str
    client_secret: str
    domains: frozenset[str]
    trusts_provider_mfa: bool
    mfa_acr: str | None

    @property
    def client_name(self) -> str:
        return f"trust{self.trust_id}"


def provider_of(trust: Trust) -> Provider | None:
    """The trust's provider, if sign-in through one is set up and its secret configured."""
    secret = current_app.config.get("OIDC_CLIENT_SECRETS", {}).get(trust.code.upper())
    if not (trust.sign_in_issuer and trust.sign_in_client_id and secret):
        return None
    return Provider(
        trust_id=trust.id,
        label=trust.sign_in_label or "your organisation",
        issuer=trust.sign_in_issuer.rstrip("/"),
        client_id=trust.sign_in_client_id,
        client_secret=secret,
        domains=frozenset(
            d.strip().lower().lstrip("@")
            for d in (trust.sign_in_domains or "").split(",")
            if d.strip()
        ),
        trusts_provider_mfa=trust.sign_in_trusts_provider_mfa,
        mfa_acr=trust.sign_in_mfa_acr or None,
    )


def offered() -> list[tuple[Trust, Provider]]:
    """Every trust whose provider the sign-in page offers."""
    trusts = db.session.scalars(
        select(Trust).where(Trust.sign_in_issuer.is_not(None)).order_by(Trust.name)
    )
    return [(trust, provider) for trust in trusts if (provider := provider_of(trust))]


def client_for(provider: Provider) -> FlaskOAuth2App:
    """A client for the provider, made afresh (settings may have changed), with its
    discovery document read and its issuer checked against the one configured."""
    client = FlaskOAuth2App(
        FlaskIntegration(provider.client_name),
        provider.client_name,
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        server_metadata_url=f"{provider.issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "timeout": current_app.config.get("OIDC_TIMEOUT_SECONDS", 10),
        },
    )
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError):
        raise ProviderSignInFailed("provider_unreachable", provider.label) from None
    if str(metadata.get("issuer", "")).rstrip("/") != provider.issuer:
        raise ProviderSignInFailed("wrong_issuer", provider.label)
    return client


def _reason(error: Exception) -> str:
    """The audit trail's code for what went wrong in the protocol."""
    if isinstance(error, MismatchingStateError):
        return "state_mismatch"
    if isinstance(error, OAuthError):
        return "provider_refused"
    if isinstance(error, requests.RequestException):
        return "provider_unreachable"
    if isinstance(error, ClaimError):
        return {
            "iss": "wrong_issuer",
            "aud": "wrong_audience",
            "azp": "wrong_audience",
            "exp": "expired",
            "nonce": "nonce_mismatch",
        }.get(error.claim, "bad_token")
    if isinstance(error, JoseError):
        # Not verified against the provider's published keys: a bad signature, an
        # algorithm or key it does not publish, or no token at all.
        return "bad_signature"
    return "bad_token"


@dataclass(frozen=True)
class Verified:
    user: User
    provider_mfa: bool  # the ID token proves the provider's multi-factor sign-in, and counts


# Refusals about the person (403); the sign-in not started here (400); else the
# provider's answer could not be used (502).
ACCOUNT_REASONS = frozenset(
    {"email_unverified", "domain_not_allowed", "no_account", "disabled", "subject_mismatch"}
)


def status_for(reason: str) -> int:
    if reason in ACCOUNT_REASONS:
        return 403
    return 400 if reason == "state_mismatch" else 502


def record_refusal(
    reason: str, provider: Provider | None, user: User | None = None
) -> ProviderSignInFailed:
    """Record auth.login.failed (details {"reason", "method": "oidc"}) and return the
    failure to raise or show. Flushes; the caller commits."""
    record_login_failed(
        reason, user=user, trust_id=provider.trust_id if provider else None, method="oidc"
    )
    return ProviderSignInFailed(reason, provider.label if provider else "your organisation")


def finish_sign_in(client: FlaskOAuth2App, provider: Provider) -> Verified:
    """The provider's answer on the callback: exchange the code, check the ID token, find
    the account.

    Guard: every protocol check passes; the account is found by its linked subject, or
    by a verified e-mail address at an allowed domain in this trust, and is active.
    Raises ProviderSignInFailed with the reason (auth.login.failed recorded). Side
    effects: links the account to the provider's subject the first time; records
    auth.login.provider_accepted (details {"provider_mfa"}) when our second factor
    follows, or auth.login.succeeded (details {"second_factor": "provider"}) when the
    provider's counts. Flushes; the caller commits, on refusal too.
    """
    try:
        token = client.authorize_access_token(leeway=LEEWAY_SECONDS)
    except (OAuthError, requests.RequestException, JoseError, ValueError) as error:
        raise record_refusal(_reason(error), provider) from None
    claims: dict[str, Any] = dict(token.get("userinfo") or {})
    if not claims.get("sub"):
        raise record_refusal("bad_token", provider)
    subject = f"{provider.issuer} {claims['sub']}"
    user = db.session.scalar(select(User).where(User.sign_in_subject == subject))
    linked_now = False
    if user is None:
        email = normalise_email(str(claims.get("email") or ""))
        # Google says email_verified; Entra ID, when asked for the optional claim,
        # xms_edov (the domain's owner verified it).
        if not email or not (
            claims.get("email_verified") is True or claims.get("xms_edov") in (True, "1", "true")
        ):
            raise record_refusal("email_unverified", provider)
        if email.rpartition("@")[2] not in provider.domains:
            raise record_refusal("domain_not_allowed", provider)
        user = db.session.scalar(
            select(User).where(User.email == email, User.trust_id == provider.trust_id)
        )
        if user is None:
            raise record_refusal("no_account", provider)
        if user.sign_in_subject is not None:
            raise record_refusal("subject_mismatch", provider, user)
        user.sign_in_subject = subject
        linked_now = True
    elif user.trust_id != provider.trust_id:
        raise record_refusal("no_account", provider)
    if not user.is_active:
        raise record_refusal("disabled", provider, user)
    amr = claims.get("amr") or []
    proved = "mfa" in amr or (
        provider.mfa_acr is not None and claims.get("acr") == provider.mfa_acr
    )
    counts = provider.trusts_provider_mfa and proved
    if counts:
        audit.record_about(
            AuditAction.LOGIN_SUCCEEDED,
            user,
            actor=user,
            details={"second_factor": "provider", "linked": linked_now},
        )
    else:
        audit.record_about(
            AuditAction.LOGIN_PROVIDER_ACCEPTED,
            user,
            actor=user,
            details={"provider_mfa": proved, "linked": linked_now},
        )
    db.session.flush()
    return Verified(user, counts)
