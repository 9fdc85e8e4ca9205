"""Every page each demo role can reach passes axe-core's WCAG 2.2 A and AA rules.

Signed in as each role of the demo trust, a crawler walks breadth-first from the home
page along the same-origin links (and the GET forms, such as the case list's filters),
visiting at most a few URLs of each route, and runs axe-core on every page. axe-core
comes from node_modules (package.json pins it); its source is evaluated through the
browser's debugging protocol, which the page's Content Security Policy does not govern,
so the app's policy stays as strict as it is in production.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urldefrag, urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import sign_in
from tracker.auth.models import User
from tracker.auth.services import normalise_email
from tracker.cases.models import Case
from tracker.cases.services import CaseDetails, CitedClause, create_case, policy_for
from tracker.clock import today
from tracker.concerns.services import ABOUT_COLLEAGUE, StaffReport, raise_concern
from tracker.db import utcnow
from tracker.demo import EMAIL_DOMAIN
from tracker.extensions import db
from tracker.orgs.models import School
from tracker.policy.services import current_version
from tracker.staff.models import StaffMember
from tracker.workflow import services as workflow

pytestmark = pytest.mark.browser

AXE_SOURCE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# The most URLs visited for one route with one set of query parameter names
# (/cases/1 and /cases/2 are one route; /audit/?page=2 is another than /audit/), except
# the case page, where each case of the demo is visited: the steps a case offers, each a
# route of its own, depend on its stage.
VISITS_PER_ROUTE = 2
CASE_PAGE = ("/cases/<id>", ())
CASES_VISITED = 6

# How long to wait (ms) before loading again a page whose own files did not load.
RETRY_WAITS = [1000, 3000, 0]

# What the crawler never follows: signing in or out, files rather than pages, and the
# health checks that load balancers read.
NOT_PAGES = re.compile(
    r"""^/(?:static/|sign-in|sign-out|healthz|readyz)
        |\.(?:csv|json|pdf|zip)$
        |^/cases/\d+/evidence/\d+$""",
    re.VERBOSE,
)

# govuk-frontend's script marks a radio or checkbox that reveals a question with
# aria-expanded, which ARIA allows only on other roles. The Design System keeps it on
# purpose, its research finding that screen readers announce it usefully (a known issue
# of govuk-frontend, number 979): that one attribute on those inputs is let through.
KNOWN_EXCEPTION = {
    "rule": "aria-allowed-attr",
    "selector": ".govuk-radios__input[aria-controls], .govuk-checkboxes__input[aria-controls]",
    "attribute": "aria-expanded=",
}

# One demo user of each role (tracker/demo.py): the Riverside school holds the demo case.
ROLES = {
    "designated safeguarding lead": "dsl.riverside",
    "headteacher": "head.riverside",
    "chief executive": "ceo",
    "data protection officer": "dpo",
    "auditor": "auditor",
    "trust administrator": "admin",
    "member of staff": "teacher.northfield",
}


@dataclass(frozen=True)
class Violation:
    url: str
    rule: str
    target: str
    help: str

    def __str__(self) -> str:
        return f"{self.url}  {self.rule}  {self.target}  ({self.help})"


def axe_violations(page) -> list[Violation]:
    """Run axe-core on the page as it is now: every node of every violated rule, less
    the Design System's conditional reveals (KNOWN_EXCEPTION)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    results = page.evaluate(
        """async ([tags, known]) => {
            const results = await window.axe.run(document, {
                runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
            });
            const isKnown = (rule, node) => {
                const element = document.querySelector(node.target.join(" "));
                const data = [...node.any, ...node.all, ...node.none]
                    .flatMap((check) => check.data?.values ?? []);
                return rule.id === known.rule && element !== null
                    && element.matches(known.selector) && data.length > 0
                    && data.every((attribute) => String(attribute).startsWith(known.attribute));
            };
            return results.violations.map((rule) => ({
                id: rule.id, help: rule.help,
                targets: rule.nodes
                    .filter((node) => !isKnown(rule, node))
                    .map((node) => node.target.join(" ")),
            }));
        }""",
        [WCAG_TAGS, KNOWN_EXCEPTION],
    )
    path = _path_of(page.url)
    return [
        Violation(path, rule["id"], target, rule["help"])
        for rule in results
        for target in rule["targets"]
    ]


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def route_of(url: str) -> tuple[str, tuple[str, ...]]:
    """The route a URL belongs to: its path with numbers as placeholders, and the names
    of its query parameters."""
    parts = urlsplit(url)
    path = re.sub(r"/\d+(?=/|$)", "/<id>", parts.path)
    names = tuple(sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)}))
    return path, names


def links_on(page, origin: str) -> list[str]:
    """Same-origin pages the page leads to: its links, and where each GET form goes when
    submitted as it stands."""
    targets = page.evaluate(
        """() => [
            ...Array.from(document.querySelectorAll("a[href]"), (a) => a.href),
            ...Array.from(document.querySelectorAll("form"))
                .filter((form) => form.method === "get")
                .map((form) => {
                    const url = new URL(form.getAttribute("action") || "", document.baseURI);
                    url.search = new URLSearchParams(new FormData(form)).toString();
                    return url.href;
                }),
        ]"""
    )
    found = []
    for target in targets:
        url, _ = urldefrag(target)
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" == origin and not NOT_PAGES.search(parts.path):
            found.append(url)
    return found


def crawl(page, origin: str) -> tuple[list[str], list[str]]:
    """Visit every page reachable from the home page, breadth-first; return the pages
    visited and the faults found: axe violations, and pages or their style sheets and
    scripts that did not load (axe's verdict on an unstyled page means nothing)."""
    queue = deque([f"{origin}/"])
    queued = {queue[0]}
    visits: Counter[tuple[str, tuple[str, ...]]] = Counter({route_of(queue[0]): 1})
    visited: list[str] = []
    faults: list[str] = []
    not_loaded: list[str] = []
    page.on("requestfailed", lambda request: not_loaded.append(_path_of(request.url)))
    page.on(
        "response",
        lambda response: (
            not_loaded.append(f"{_path_of(response.url)} ({response.status})")
            if response.status >= 400
            else None
        ),
    )
    while queue:
        url = queue.popleft()
        for wait in RETRY_WAITS:  # a style sheet being rebuilt (`npm run build`) meanwhile
            not_loaded.clear()
            response = page.goto(url)
            if not not_loaded:
                break
            page.wait_for_timeout(wait)
        assert response is not None
        if not_loaded:
            faults.append(f"{_path_of(url)}  did not load: {', '.join(sorted(set(not_loaded)))}")
            continue
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        visited.append(_path_of(page.url))
        faults.extend(str(violation) for violation in axe_violations(page))
        for link in links_on(page, origin):
            route = route_of(link)
            limit = CASES_VISITED if route == CASE_PAGE else VISITS_PER_ROUTE
            if link in queued or visits[route] >= limit:
                continue
            queued.add(link)
            visits[route] += 1
            queue.append(link)
    return visited, faults


@pytest.fixture
def cases_at_every_stage(demo_sign_ins) -> None:
    """Beside the demo's case under investigation, cases whose pages and steps the demo
    does not reach: concerns not yet triaged (one raised by a member of staff), an
    allegation awaiting the headteacher's decision, and a decided concern in its appeal
    window. All through the real services, as people would have done it."""
    users = {
        email.split("@")[0]: db.session.scalar(
            select(User).where(User.email == normalise_email(email))
        )
        for email in demo_sign_ins
    }
    staff = {member.full_name: member for member in db.session.scalars(select(StaffMember))}
    riverside = db.session.scalar(select(School).where(School.code == "RSA"))
    dsl, head = users["dsl.riverside"], users["head.riverside"]
    version = current_version(policy_for(riverside.trust_id))
    now = today()

    raise_concern(
        StaffReport(
            about=ABOUT_COLLEAGUE,
            colleague_id=staff["Liam Hughes"].id,
            what_happened="Shared a photo of a Year 5 trip on a personal Instagram account.",
            occurred_on=now - timedelta(days=2),
            where_seen="A parent showed me a screenshot",
            platform="instagram",
            platform_detail="",
        ),
        by=users["teacher.northfield"],
        today=now,
    )

    def logged(subject: str, summary: str) -> Case:
        return create_case(
            school=riverside,
            subject=staff[subject],
            details=CaseDetails(
                source="parent_complaint",
                source_detail="",
                occurred_on=now - timedelta(days=12),
                reported_on=now - timedelta(days=10),
                platform="instagram",
                platform_detail="",
                summary=summary,
            ),
            cited=[CitedClause(version.clause("3.5").id, "Why it applies")],
            by=dsl,
            today=now,
        )

    logged("Owen Price", "Shared a pupil's drawing on a public Facebook page.")  # untriaged
    allegation = logged("Nadia Hussain", "Messaged two Year 9 pupils from a personal account.")
    workflow.triage(
        allegation,
        track="allegation",
        answers={**dict.fromkeys(workflow.HARM_QUESTIONS, "no"), "harm_risk": "yes"},
        rationale="Private messages to pupils: a possible risk of harm.",
        by=dsl,
    )
    workflow.record_lado_referral(
        allegation, referred_at=utcnow(), method="phone", reference="LADO-117", by=dsl
    )
    workflow.record_lado_advice(
        allegation, advice="Investigate internally.", advised_on=now, today=now, by=dsl
    )
    workflow.start_investigation(allegation, investigator=dsl, by=dsl)
    workflow.submit_for_decision(allegation, summary="She admitted sending them.", by=dsl)

    decided = logged("Sophie Turner", "Posted a photo from the staff room.")
    workflow.triage(
        decided,
        track="low_level",
        answers=dict.fromkeys(workflow.HARM_QUESTIONS, "no"),
        rationale="No child harmed or at risk.",
        by=dsl,
    )
    workflow.start_investigation(decided, investigator=dsl, by=dsl)
    workflow.submit_for_decision(decided, summary="She took the photo down.", by=dsl)
    workflow.decide(
        decided,
        workflow.DecisionInput(
            outcome="advice_and_guidance",
            sanction="management_advice",
            rationale="A first lapse, put right at once.",
            may_mention_in_references=False,
        ),
        by=head,
        today=now,
    )
    db.session.commit()


@pytest.mark.usefixtures("cases_at_every_stage")
@pytest.mark.parametrize("email", ROLES.values(), ids=ROLES.keys())
def test_every_page_a_demo_role_reaches_passes_axe(page, live_server, demo_sign_ins, email):
    address = f"{email}@{EMAIL_DOMAIN}"
    sign_in(page, address, demo_sign_ins[address])
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    visited, faults = crawl(page, live_server)

    assert not faults, f"{len(faults)} faults on the pages {email} reaches:\n" + "\n".join(faults)
    assert len(visited) > 3, f"the crawl reached only {visited}"


def test_the_pages_before_signing_in_pass_axe(page, demo_sign_ins):
    """The sign-in pages, the privacy notice and a page that is not there."""
    faults: list[str] = []
    page.goto("/sign-in")
    faults.extend(map(str, axe_violations(page)))
    address = f"dsl.riverside@{EMAIL_DOMAIN}"
    page.get_by_label("E-mail address").fill(address)
    page.get_by_label("Password", exact=True).fill(demo_sign_ins[address])
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(
        page.get_by_role("heading", name="Enter the code from your authenticator app")
    ).to_be_visible()
    faults.extend(map(str, axe_violations(page)))
    page.get_by_role("button", name="Continue").click()  # no code: the error summary
    expect(page.get_by_role("alert")).to_be_visible()
    faults.extend(map(str, axe_violations(page)))
    for path in ("/privacy", "/no-such-page"):
        page.goto(path)
        faults.extend(map(str, axe_violations(page)))
    assert not faults, "\n".join(faults)


def test_the_check_sees_a_violation(page, demo_sign_ins):
    """The checks above are not vacuous: a field stripped of its label is reported, and
    the Design System's aria-expanded is let through on its reveals only."""
    page.goto("/sign-in")
    page.evaluate("document.querySelector('label[for=email]').remove()")
    page.evaluate("document.querySelector('#password').setAttribute('aria-expanded', 'true')")
    rules = {(violation.rule, violation.target) for violation in axe_violations(page)}
    assert ("label", "#email") in rules
    assert ("aria-allowed-attr", "#password") in rules
