"""The data protection officer answers a subject access request: records it, produces the
export, sees a witness named in a chronology entry, redacts the name, and downloads the
ZIP, which then has the name nowhere in it."""

from __future__ import annotations

import json
import zipfile

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.test_subject_access import (
    assert_no_third_party,
    case_with_third_parties,
    pdf_text,
)
from tracker.cases.services import add_chronology_entry, add_person
from tracker.clock import today
from tracker.extensions import db
from tracker.privacy.deadlines import response_due

pytestmark = pytest.mark.browser

WITNESS_NAME = "Gareth Pryce"


def test_the_dpo_records_redacts_and_downloads_a_subject_access_export(page, make, tmp_path):
    scenario = case_with_third_parties(make, decide=False)
    case = scenario.case
    # Recorded as a witness by initials only, then named in full in an interview note:
    # the automatic redaction cannot know the name, the reviewer can.
    add_person(
        case,
        kind="witness",
        identifier="G.P.",
        year_group=None,
        role_in_case="saw the messages",
        by=scenario.dsl,
    )
    add_chronology_entry(
        case,
        kind="meeting",
        occurred_on=today(),
        occurred_time=None,
        summary=f"Interview: {WITNESS_NAME} confirmed what G.P. had seen.",
        by=scenario.dsl,
        today=today(),
    )
    db.session.commit()
    received = today()
    due = response_due(received)

    sign_in(page, "dpo@example.org")
    expect(page.get_by_role("heading", name="What needs your attention")).to_be_visible()
    page.get_by_role("link", name="Subject access requests").click()
    expect(page.get_by_role("heading", name="Subject access requests", level=1)).to_be_visible()
    expect(page.get_by_text("No subject access requests have been recorded")).to_be_visible()
    page.get_by_role("button", name="Record a request").click()
    page.get_by_label("Member of staff who made the request").select_option(
        label="Liam Hughes, Teacher (Northfield Primary School, "
        f"{scenario.subject.employee_number})"
    )
    received_on = page.get_by_role("group", name="Date the request was received")
    received_on.get_by_label("Day").fill(str(received.day))
    received_on.get_by_label("Month").fill(str(received.month))
    received_on.get_by_label("Year").fill(str(received.year))
    page.get_by_role("button", name="Record the request").click()
    expect(
        page.get_by_text(f"Subject access request recorded. It is due by {due.day} {due:%B %Y}.")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Liam Hughes", level=1)).to_be_visible()
    expect(page.get_by_test_id("cases-held")).to_contain_text(case.reference)

    # A first export, before any manual redaction.
    with page.expect_download() as first:
        page.get_by_role("button", name="Produce and download the export (ZIP)").click()
    assert first.value.suggested_filename.endswith(".zip")

    # The preview shows the witness's full name in a chronology entry: redact it.
    chronology = page.get_by_test_id("preview-chronology")
    expect(chronology).to_contain_text(f"{WITNESS_NAME} confirmed")
    page.get_by_label("Words to redact").fill(WITNESS_NAME)
    page.get_by_label("Why").select_option(label="Identifies a witness")
    page.get_by_role("button", name="Redact these words").click()
    expect(page.get_by_text("Redaction added")).to_be_visible()
    expect(page.get_by_test_id("redactions")).to_contain_text(WITNESS_NAME)
    expect(chronology).not_to_contain_text(WITNESS_NAME)
    expect(chronology).to_contain_text("[Redacted] confirmed")

    with page.expect_download() as second:
        page.get_by_role("button", name="Produce and download the export (ZIP)").click()
    saved = tmp_path / second.value.suggested_filename
    second.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        data = archive.read("subject-access-export.json").decode()
        text = pdf_text(archive.read("subject-access-export.pdf"))
        log = archive.read("redaction-log.csv").decode()
    for content in (data, text, log):
        assert_no_third_party(content, also=(WITNESS_NAME, "Gareth", "Pryce"))
    assert "[Redacted] confirmed" in text
    assert json.loads(data)["data_subject"]["full_name"] == "Liam Hughes"
    # The page lists both exports, with their fingerprints, once it is opened again.
    page.reload()
    expect(page.get_by_test_id("exports").locator("tbody tr")).to_have_count(2)
