"""`make screens`: pictures of the main pages as each demo role sees them, in docs/screens/.

Starts the app on a fresh SQLite database in a temporary folder (migrated, the demo trust
loaded: what `make run` serves), signs in through the pages as each role (the password,
then a code from the user's authenticator key), and saves what a 1280 x 900 window shows
of each page as a PNG: no more than the first screen, which is what a person sees
before scrolling. The demo's case under investigation is submitted for decision through
its page, as the safeguarding lead would, so that the headteacher has a decision to make.

Needs the keys in the environment (the Makefile reads instance/secrets.env) and Chromium
(CHROMIUM_PATH, else Debian's `chromium`).
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # config.py sits beside the tracker package
OUT = ROOT / "docs" / "screens"
VIEWPORT = {"width": 1280, "height": 900}

# Flags for a headless browser on a machine with no network beyond loopback.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


@dataclass(frozen=True)
class Shot:
    file: str
    what: str


# Each role's home page, in the order tracker/demo.py lists the demo users.
HOMES = [
    ("dsl.riverside", "dsl-home", "Home page of a designated safeguarding lead (Riverside)"),
    ("deputy.northfield", "deputy-dsl-home", "Home page of a deputy safeguarding lead"),
    ("head.riverside", "headteacher-home", "Home page of a headteacher with a decision to make"),
    ("ceo", "ceo-home", "Home page of the chief executive"),
    ("chair", "chair-home", "Home page of the chair of trustees"),
    ("dpo", "dpo-home", "Home page of the data protection officer"),
    ("auditor", "auditor-home", "Home page of the auditor"),
    ("admin", "trust-admin-home", "Home page of the trust administrator"),
    ("teacher.northfield", "staff-home", "Home page of a member of staff"),
]


def main() -> int:
    from config import chromium_path

    executable = chromium_path()
    if not Path(executable).exists():
        executable = shutil.which("chromium") or shutil.which("chromium-browser") or ""
    if not executable:
        print("Chromium is not installed (Debian package `chromium`).", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as folder, serving(Path(folder)) as (url, sign_ins):
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            try:
                shots = take_screens(browser, url, sign_ins)
            finally:
                browser.close()
    write_readme(shots)
    print(f"{len(shots)} screens in {OUT.relative_to(ROOT)}/")
    return 0


@contextmanager
def serving(folder: Path) -> Iterator[tuple[str, dict[str, tuple[str, str]]]]:
    """The app on a new database with the demo trust, served on a free loopback port;
    yields its address and each demo user's password and authenticator key, by the
    first part of their e-mail address."""
    os.environ.update(
        DATABASE_URL=f"sqlite:///{folder / 'screens.db'}",
        INSTANCE_PATH=str(folder / "instance"),
        SESSION_COOKIE_SECURE="false",
        LOG_LEVEL="WARNING",
    )
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from tracker import create_app
    from tracker.demo import load_demo_trust
    from tracker.extensions import db

    app = create_app()
    with app.app_context():
        upgrade()
        sign_ins = {demo.email: (password, key) for demo, password, key in load_demo_trust()}
        db.session.commit()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", sign_ins
    finally:
        server.shutdown()
        thread.join(timeout=10)


def take_screens(browser, url: str, sign_ins: dict[str, tuple[str, str]]) -> list[Shot]:
    shots: list[Shot] = []

    def save(page, name: str, what: str) -> None:
        page.wait_for_load_state("load")
        page.screenshot(path=OUT / f"{name}.png", full_page=False)
        shots.append(Shot(f"{name}.png", what))

    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    case_url = ""  # the demo case's page, found by the safeguarding lead (first in HOMES)
    for user, name, what in HOMES:
        with signed_in(browser, url, user, sign_ins[user]) as page:
            save(page, name, what)
            if user == "dsl.riverside":
                page.goto("/cases/")
                save(page, "case-list", "The case list, as the safeguarding lead sees it")
                page.locator("a[href^='/cases/']").filter(has_text="HMAT-").first.click()
                case_url = page.url
                save(page, "case", "A case under investigation, as the safeguarding lead sees it")
                page.goto(f"{case_url}/history")
                save(page, "case-history", "The case's history")
                page.goto(case_url)
                page.get_by_role("button", name="Submit for decision").click()
                page.get_by_label("Investigation summary").fill(
                    "Mr Price agreed the comments were unprofessional and has taken them down."
                )
                page.get_by_role("button", name="Submit for decision").click()
                page.wait_for_url(case_url)
            if user == "head.riverside":
                page.goto(f"{case_url}/decide")
                save(page, "decision", "The decision page, as the headteacher sees it")
            if user == "auditor":
                page.goto(case_url.replace("/cases/", "/audit/cases/"))
                save(page, "audit-case-history", "The case's audit trail, as the auditor sees it")
    return shots


@contextmanager
def signed_in(browser, url: str, user: str, credentials: tuple[str, str]) -> Iterator[object]:
    """A new browser window signed in as the user, through the sign-in pages."""
    from tracker.auth import mfa
    from tracker.demo import EMAIL_DOMAIN

    password, key = credentials
    context = browser.new_context(base_url=url, viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto("/sign-in")
        page.get_by_label("E-mail address").fill(f"{user}@{EMAIL_DOMAIN}")
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.get_by_label("Enter the code from your authenticator app").fill(
            mfa.code_for(key, mfa.current_step())
        )
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name="Sign out").wait_for()
        yield page
    finally:
        context.close()


def write_readme(shots: list[Shot]) -> None:
    lines = [
        "# Screens",
        "",
        "What each demo role sees at 1280 x 900, the first screen of each page only (no",
        "scrolling). Made by `make screens` from a fresh demo trust: run it again after a",
        "change to the pages, and commit the pictures with the change.",
        "",
        "| Picture | What it shows |",
        "| --- | --- |",
        *(f"| [{shot.file}]({shot.file}) | {shot.what} |" for shot in shots),
    ]
    (OUT / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
