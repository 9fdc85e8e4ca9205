"""An auditor answers "who saw this case, and who decided it?": the DSL opens a case, the
headteacher decides it through the real pages, and the auditor finds both in the case's
history, downloads the trail as CSV, and then finds that download in the trail itself."""

import csv
import io

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in as sign_in_through_the_pages
from tracker.auth.roles import Role
from tracker.clock import today
from tracker.db import utcnow
from tracker.extensions import db
from tracker.workflow import services as workflow

pytestmark = pytest.mark.browser


def sign_in(page, email):
    sign_in_through_the_pages(page, email)
    expect(page.get_by_role("heading", name="What needs your attention")).to_be_visible()


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()


def awaiting_decision(case, dsl):
    """Triage, LADO, investigation and submission: the decision journey covers these pages."""
    workflow.triage(
        case,
        track="allegation",
        answers={**dict.fromkeys(workflow.HARM_QUESTIONS, "no"), "harm_risk": "yes"},
        rationale="Messaged two Year 8 pupils privately.",
        by=dsl,
    )
    workflow.record_lado_referral(
        case, referred_at=utcnow(), method="phone", reference="LADO-117", by=dsl
    )
    workflow.record_lado_advice(
        case, advice="Investigate internally.", advised_on=today(), today=today(), by=dsl
    )
    workflow.start_investigation(case, investigator=dsl, by=dsl)
    workflow.submit_for_decision(case, summary="He admitted sending the messages.", by=dsl)
    db.session.commit()


def test_an_auditor_finds_who_saw_and_who_decided_a_case(page, make, tmp_path):
    trust = make.trust(name="Horizon Multi Academy Trust", code="HMAT")
    school = make.school(trust, name="Northfield Primary School")
    make.policy(trust)
    dsl = make.user(Role.DSL, school, email="dsl@example.org", name="Priya Shah")
    make.user(Role.HEADTEACHER, school, email="head@example.org", name="Hannah Jones")
    make.user(Role.AUDITOR, email="auditor@example.org", name="Avery Audit")
    case = make.case(school, subject=make.staff(school, name="Liam Hughes"), by=dsl)
    awaiting_decision(case, dsl)
    reference = case.reference

    # The DSL opens the case.
    sign_in(page, "dsl@example.org")
    page.get_by_role("link", name=reference).first.click()
    expect(page.get_by_role("main")).to_contain_text(reference)
    # A case worker's menu has no audit trail.
    expect(page.get_by_role("link", name="Audit trail")).to_have_count(0)
    sign_out(page)

    # The headteacher decides it.
    sign_in(page, "head@example.org")
    page.get_by_role("link", name=reference).first.click()
    page.get_by_role("button", name="Record the decision").click()
    page.get_by_label("Substantiated", exact=True).check()
    page.get_by_label("Final written warning (disregarded after 12 months)").check()
    page.get_by_role(
        "group", name="May this matter be mentioned in future references?"
    ).get_by_label("Yes", exact=True).check()
    page.get_by_label("Reasons for the decision").fill(
        "He admitted messaging pupils from a personal account, against clause 3.4."
    )
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("Decision recorded: substantiated.")).to_be_visible()
    sign_out(page)

    # The auditor finds the case's trail by its reference, then its whole history.
    sign_in(page, "auditor@example.org")
    page.get_by_role("link", name="Audit trail", exact=True).click()
    expect(page.get_by_role("heading", name="Audit trail", level=1)).to_be_visible()
    page.get_by_label("Case reference").fill(reference)
    page.get_by_role("button", name="Search").click()
    logged = (
        page.get_by_test_id("audit-events").locator("tbody > tr").filter(has_text="Case logged")
    )
    # The ids the event keeps are shown as what they name now.
    expect(logged).to_contain_text("Subject: Liam Hughes")
    expect(logged).to_contain_text("Clauses: 3.4")
    page.get_by_role("link", name=f"See the complete history of {reference}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"History of {reference}")
    expect(page.get_by_text("Northfield Primary School").first).to_be_visible()
    history = page.get_by_test_id("case-history")
    # A timeline: one entry for each thing that happened, with when, who and what.
    rows = history.locator(":scope > li")
    expect(rows.filter(has_text="Case viewed").filter(has_text="Priya Shah")).to_have_count(1)
    expect(rows.filter(has_text="Decision recorded").filter(has_text="Hannah Jones")).to_have_count(
        1
    )
    # Only the reads, then only the headteacher's doings.
    page.get_by_label("Reads only").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(rows.filter(has_text="Decision recorded")).to_have_count(0)
    expect(rows.filter(has_text="Case logged")).to_have_count(0)
    expect(rows.filter(has_text="Case viewed").filter(has_text="Priya Shah")).to_have_count(1)
    page.get_by_label("Everything").check()
    page.get_by_label("Person").select_option(label="Hannah Jones")
    page.get_by_role("button", name="Apply filters").click()
    expect(rows.filter(has_text="Decision recorded")).to_have_count(1)
    expect(rows.filter(has_text="Priya Shah")).to_have_count(0)

    # The whole trail as a spreadsheet.
    page.get_by_role("link", name="Audit trail").first.click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as CSV (spreadsheet)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("audit-trail-")
    assert download.suggested_filename.endswith(".csv")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    exported = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    by_action = {(row["action"], row["actor_name"], row["case_reference"]) for row in exported}
    assert ("case.viewed", "Priya Shah", reference) in by_action
    assert ("decision.recorded", "Hannah Jones", reference) in by_action

    # The download is itself in the trail.
    page.get_by_label("Action").select_option(label="Audit trail exported")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 event matches these filters")).to_be_visible()
    results = page.get_by_test_id("audit-events")
    expect(results).to_contain_text("Audit trail exported")
    expect(results).to_contain_text("Avery Audit")
    expect(results).to_contain_text("Format: csv")
    assert page.console_errors == []


# --- the header ------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_the_service_name_stays_on_one_line_beside_the_menu_at_1280(page, make, role):
    """At 1280 x 900 the header keeps the service name on one line, on the same row as the
    menu, for every role (the data protection officer's menu is among the longest)."""
    trust = make.trust(name="Horizon Multi Academy Trust", code="HMAT")
    school = make.school(trust, name="Northfield Primary School")
    make.policy(trust)
    whole_trust_roles = {Role.CEO, Role.CHAIR, Role.DPO, Role.AUDITOR, Role.TRUST_ADMIN}
    make.user(
        role,
        None if role in whole_trust_roles else school,
        trust=trust,
        email="reader@example.org",
        name="Samantha Patel-Worthington",
    )
    db.session.commit()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in_through_the_pages(page, "reader@example.org")
    header = page.locator("header")
    service_name = header.get_by_role("link", name="Safeguarding case tracker")
    menu = header.get_by_role("navigation", name="Menu")
    first_item = menu.get_by_role("link").first
    expect(service_name).to_be_visible()
    name_box = service_name.bounding_box()
    item_box = first_item.bounding_box()
    # A line of the menu's text: its first item's height.
    line_height = item_box["height"]
    # One line: no taller than a line of its text.
    assert name_box["height"] <= line_height * 1.5, (name_box, line_height)
    # Beside the menu, not on a row of its own above it.
    assert abs(name_box["y"] - item_box["y"]) < line_height, (name_box, item_box)
    assert name_box["x"] + name_box["width"] <= item_box["x"], (name_box, item_box)
