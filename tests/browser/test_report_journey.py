"""The chief executive prepares the trustees' papers: opens the governance report from the
menu, chooses the spring term, reads the figures and downloads the trustee report as a
PDF, whose text carries the same figures. The trust is the hand-counted one of
tests/test_reports.py."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import sign_in
from tests.test_reports import trust  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


def test_the_ceo_reads_a_terms_report_and_downloads_the_pdf(page, trust, tmp_path):  # noqa: F811
    sign_in(page, trust.users["ceo"].email)
    expect(page.get_by_role("heading", name="What needs your attention")).to_be_visible()
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Governance report", level=1)).to_be_visible()

    # A term: its list shows once the choice is made (the other choices stay folded).
    page.get_by_label("A school term").check()
    expect(page.get_by_label("Academic year", exact=True)).to_be_hidden()
    page.get_by_label("Term", exact=True).select_option(label="Spring term 2024 to 2025")
    page.get_by_role("button", name="Show the report").click()

    expect(
        page.get_by_role("heading", name="Spring term 2024 to 2025: Horizon Trust, all schools")
    ).to_be_visible()
    overview = page.get_by_test_id("section-overview")
    expect(overview.get_by_role("row", name="Concerns reported")).to_contain_text("8")
    timeliness = page.get_by_test_id("section-timeliness")
    expect(timeliness).to_contain_text("25% (2 of 8)")
    chart = page.get_by_role("img", name="Concerns by track")
    expect(chart).to_be_visible()
    schools = page.get_by_test_id("section-schools")
    expect(schools.get_by_role("row", name="Northfield")).to_contain_text("33% (2 of 6)")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="download the trustee report (PDF)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("governance-report-2025-01-01-to-2025-03-31-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    reader = PdfReader(io.BytesIO(saved.read_bytes()))
    text = " ".join(" ".join(p.extract_text() or "" for p in reader.pages).split())
    for words in (
        "Governance report: Spring term 2024 to 2025",
        "Horizon Trust, all schools",
        "Concerns reported 8 2 up 6",
        "25% (2 of 8)",
        "50% (2 of 4)",
        "Northfield",
    ):
        assert words in text, words
    assert page.console_errors == []
