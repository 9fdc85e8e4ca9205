"""Playwright driving the system Chromium (never a downloaded browser).

Outside CI a machine without Chromium skips these tests; in CI that is a failure.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from config import chromium_path, running_in_ci
from tests.conftest import DEFAULT_PASSWORD, totp_code
from tracker.demo import EMAIL_DOMAIN, load_demo_trust
from tracker.extensions import db

# Flags for a headless browser on a machine with no network beyond loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    configured = chromium_path()
    if configured and Path(configured).exists():
        return configured
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = find_chromium()
    if executable is None:
        message = "Chromium is not installed (Debian package `chromium`)"
        if running_in_ci():
            pytest.fail(f"{message}: CI must run the browser tests.")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    console_errors: list[str] = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    page.console_errors = console_errors
    yield page
    context.close()


def sign_in(page, email: str, password: str = DEFAULT_PASSWORD) -> None:
    """Sign in through the pages: the password, then a code from the user's app.

    The code comes from the user's real secret (tests.conftest.totp_code), as an
    authenticator app would show it.
    """
    page.goto("/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(
        page.get_by_role("heading", name="Enter the code from your authenticator app")
    ).to_be_visible()
    page.get_by_label("Enter the code from your authenticator app").fill(totp_code(email))
    page.get_by_role("button", name="Continue").click()


@pytest.fixture
def demo_sign_ins(app) -> dict[str, str]:
    """The demo trust (`flask demo`) loaded into the test database: each demo user's
    e-mail address and password, in the order tracker.demo lists them. Their second
    factors are set up already (tests.conftest.totp_code reads them)."""
    sign_ins = load_demo_trust()
    db.session.commit()
    return {f"{demo.email}@{EMAIL_DOMAIN}": password for demo, password, _ in sign_ins}
