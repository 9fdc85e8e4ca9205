"""A real OpenID Connect provider on loopback for the sign-in tests: the npm package
oidc-provider, started by tests/oidc/provider.mjs with a configuration written here.

`identity_provider(redirect_uris=[...])` starts one (stopped when the test ends);
`through_provider(...)` walks a browser's part of the flow over HTTP: from the app's
redirect to the provider, through its login page, back to the app's callback."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from config import PROJECT_ROOT, running_in_ci
from tests.smtp import free_port

CLIENT_ID = "safeguarding-tracker"
CLIENT_SECRET = "tests-client-secret-for-the-loopback-provider"  # noqa: S105


@dataclass
class IdentityProvider:
    issuer: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET


def _node() -> str:
    node = shutil.which("node")
    installed = (PROJECT_ROOT / "node_modules" / "oidc-provider").is_dir()
    if node is None or not installed:
        message = "Node.js and the npm package oidc-provider (`npm ci`) are needed"
        if running_in_ci():
            pytest.fail(f"{message}: CI must run the sign-in tests.")
        pytest.skip(message)
    return node


@pytest.fixture
def identity_provider(tmp_path) -> Iterator[Callable[..., IdentityProvider]]:
    started: list[subprocess.Popen[str]] = []

    def start(
        *,
        redirect_uris: list[str],
        clock_offset_seconds: int = 0,
        id_token_alg: str | None = None,
        tamper: dict[str, object] | None = None,
    ) -> IdentityProvider:
        port = free_port()
        provider = IdentityProvider(issuer=f"http://127.0.0.1:{port}")
        client = {
            "client_id": provider.client_id,
            "client_secret": provider.client_secret,
            "redirect_uris": redirect_uris,
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
        }
        if id_token_alg:
            client["id_token_signed_response_alg"] = id_token_alg
        config = tmp_path / f"provider-{port}.json"
        config.write_text(
            json.dumps(
                {
                    "port": port,
                    "issuer": provider.issuer,
                    "clients": [client],
                    "clockOffsetSeconds": clock_offset_seconds,
                    "tamper": tamper,
                }
            )
        )
        process = subprocess.Popen(  # noqa: S603 - node running our own test provider
            [_node(), str(PROJECT_ROOT / "tests" / "oidc" / "provider.mjs"), str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip() == "ready":
                break
        else:
            raise AssertionError("the identity provider did not start")
        return provider

    yield start
    for process in started:
        process.terminate()
        process.communicate(timeout=10)


_FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


def through_provider(
    authorize_url: str, email: str, *, verified: bool = True, mfa: bool = False
) -> str:
    """What a browser does at the provider: open the authorization address, sign in on
    its page, follow its redirects; returns the address it sends the browser back to."""
    browser = requests.Session()
    answer = browser.get(authorize_url, allow_redirects=False, timeout=10)
    location = urljoin(authorize_url, answer.headers["Location"])
    page = browser.get(location, timeout=10)
    action = _FORM_ACTION.search(page.text)
    assert action, page.text
    form = {"email": email}
    if verified:
        form["verified"] = "yes"
    if mfa:
        form["mfa"] = "yes"
    answer = browser.post(urljoin(location, action.group(1)), data=form, allow_redirects=False)
    base = f"{urlsplit(authorize_url).scheme}://{urlsplit(authorize_url).netloc}"
    while True:
        location = urljoin(base, answer.headers["Location"])
        if not location.startswith(base):
            return location
        answer = browser.get(location, allow_redirects=False, timeout=10)


def path_of(address: str) -> str:
    """The path and query of an address: what the app's test client asks for."""
    parts = urlsplit(address)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path
