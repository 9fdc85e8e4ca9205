"""At a glance, at 1280 x 900: the demo safeguarding lead's case list shows its first
cases on the first screen, each with its next step and when it is due, references on one
line, and the concerns about one person marked as such."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import sign_in
from tracker.auth.models import User
from tracker.auth.services import normalise_email
from tracker.cases.services import CaseDetails, CitedClause, create_case, policy_for
from tracker.clock import today
from tracker.extensions import db
from tracker.orgs.models import School
from tracker.policy.services import current_version
from tracker.staff.models import StaffMember

pytestmark = pytest.mark.browser

SCREEN = {"width": 1280, "height": 900}
DSL = "dsl.northfield"


@pytest.fixture
def northfield_concerns(demo_sign_ins) -> str:
    """Twelve concerns about one member of staff at Northfield, logged by its lead, and
    one about another; the lead's e-mail address."""
    email = next(address for address in demo_sign_ins if address.startswith(f"{DSL}@"))
    dsl = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    northfield = db.session.scalar(select(School).where(School.code == "NFP"))
    staff = list(
        db.session.scalars(
            select(StaffMember)
            .where(StaffMember.school_id == northfield.id, StaffMember.user_id.is_(None))
            .order_by(StaffMember.id)
        )
    )
    version = current_version(policy_for(northfield.trust_id))
    now = today()
    for number, subject in enumerate([staff[0]] * 12 + [staff[1]]):
        create_case(
            school=northfield,
            subject=subject,
            details=CaseDetails(
                source="parent_complaint",
                source_detail="",
                occurred_on=now - timedelta(days=3 + number),
                reported_on=now - timedelta(days=number % 3),
                platform="instagram",
                platform_detail="",
                summary="Posted a photo of pupils on a personal account.",
            ),
            cited=[CitedClause(version.clause("3.5").id, "Pictures of pupils")],
            by=dsl,
            today=now,
        )
    db.session.commit()
    return email


def test_the_first_cases_show_on_the_first_screen(page, demo_sign_ins, northfield_concerns) -> None:
    page.set_viewport_size(SCREEN)
    sign_in(page, northfield_concerns, demo_sign_ins[northfield_concerns])
    page.get_by_role("link", name="Cases", exact=True).first.click()
    expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible()

    table = page.get_by_role("table")
    first_row = table.get_by_role("row").nth(1)
    box = first_row.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= SCREEN["height"], box
    # Its next step and when that is due are in the row.
    expect(first_row.get_by_role("cell", name="Triage", exact=True)).to_be_visible()
    headers = table.get_by_role("columnheader")
    expect(headers).to_contain_text(["Reference", "Member of staff", "Status", "Next step", "Due"])
    # One school: no School column.
    expect(table.get_by_role("columnheader", name="School")).to_have_count(0)
    # The reference reads on one line, not broken at its hyphens.
    reference = first_row.get_by_role("link").first
    line = reference.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)")
    assert reference.bounding_box()["height"] < 1.5 * line
    # The twelve concerns about one person say so, and lead to that person's cases.
    marks = page.get_by_role("link", name="12 cases about this person", exact=False)
    expect(marks.first).to_be_visible()
    marks.first.click()
    expect(page.get_by_role("heading", name="12 cases match these filters")).to_be_visible()

    # The filters are folded away, and open on request.
    page.get_by_text("Filter and sort the cases").click()
    expect(page.get_by_label("Status")).to_be_visible()
    assert page.console_errors == []


def test_the_home_page_says_when_triage_is_due(page, demo_sign_ins, northfield_concerns):
    page.set_viewport_size(SCREEN)
    sign_in(page, northfield_concerns, demo_sign_ins[northfield_concerns])
    waiting = page.get_by_role("region", name="Waiting for you")
    expect(waiting.get_by_role("row")).to_have_count(11)  # the header and ten cases
    expect(waiting.get_by_role("cell", name="Triage this concern").first).to_be_visible()
    expect(page.get_by_role("link", name="See all 13 cases waiting for you")).to_be_visible()
    page.get_by_role("link", name="See all 13 cases waiting for you").click()
    expect(page.get_by_role("heading", name="13 cases match these filters")).to_be_visible()
