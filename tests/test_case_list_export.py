"""The case list as CSV: every page of the filtered list, in its order, in the list's
scope, capped and saying so, cells a spreadsheet would run made text, and the download
recorded with the filters' names and the number of cases, never what was searched for."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import sign_in
from tests.querycount import count_statements
from tests.test_case_list import World
from tracker.audit.actions import AuditAction
from tracker.audit.models import AuditEvent
from tracker.auth.roles import Role
from tracker.cases.list_export import CSV_COLUMNS
from tracker.workflow import services as wf

NO_HARM = dict.fromkeys(wf.HARM_QUESTIONS, "no")


@pytest.fixture
def world(make) -> World:
    """A trust with two schools, a safeguarding lead at each and the seeded policy (as in
    tests/test_case_list.py)."""
    trust = make.trust(name="Horizon Trust", code="HMAT")
    make.policy(trust)
    school_a = make.school(trust, name="Ashford Primary")
    school_b = make.school(trust, name="Beacon Academy")
    return World(
        school_a=school_a,
        school_b=school_b,
        dsl_a=make.user(Role.DSL, school_a),
        dsl_b=make.user(Role.DSL, school_b),
        make=make,
    )


@pytest.fixture
def client_for(app):
    def signed_in(user) -> FlaskClient:
        client = app.test_client()
        assert sign_in(client, user.email).status_code == 302
        return client

    return signed_in


def download(client: FlaskClient, query: str = "") -> list[list[str]]:
    response = client.get(f"/cases/export.csv{query}")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="cases-')
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == list(CSV_COLUMNS)
    return rows[1:]


def exported_events(db) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == AuditAction.CASE_LIST_EXPORTED.value)
            .order_by(AuditEvent.seq)
        )
    )


def test_the_file_holds_every_page_of_the_list_in_its_order(world: World, client_for, db):
    cases = [
        world.log(world.school_a, occurred_on=date(2026, 1, 1), reported_on=date(2026, 1, day))
        for day in range(1, 31)
    ]
    client = client_for(world.dsl_a)
    page = client.get("/cases/").get_data(as_text=True)
    assert "Showing 1 to 25 of 30." in page
    link = re.search(r'<a class="govuk-link" href="([^"]+)" download>Download these cases', page)
    assert link and html.unescape(link.group(1)) == "/cases/export.csv"
    assert "every page, not just this one" in page
    rows = download(client)
    assert [row[0] for row in rows] == [case.reference for case in reversed(cases)]
    first = rows[-1]
    subject = cases[0].subject
    assert first == [
        cases[0].reference,
        "Ashford Primary",
        subject.full_name,
        "Reported",
        "Not triaged",
        "3.4",
        "Instagram",
        "Complaint from a parent or carer",
        "2026-01-01",
        "2026-01-01",
    ]
    # Oldest first, as the list sorts.
    assert [row[0] for row in download(client, "?sort=oldest")][:2] == [
        cases[0].reference,
        cases[1].reference,
    ]


def test_the_file_follows_the_filters(world: World, client_for, make):
    wanted = world.log(world.school_a, platform="facebook", clauses=("3.4", "3.2(e)"))
    wf.triage(wanted, track="low_level", answers=NO_HARM, rationale="Low", by=world.dsl_a)
    world.log(world.school_a, platform="instagram")
    world.log(world.school_b, platform="facebook")
    client = client_for(make.user(Role.CEO))
    rows = download(client, f"?platform=facebook&school={world.school_a.id}&track=low_level")
    assert [row[0] for row in rows] == [wanted.reference]
    assert rows[0][3:7] == ["Triage", "Low-level concern", "3.2(e), 3.4", "Facebook"]


def test_the_file_holds_only_the_cases_the_list_would_show(world: World, make, client_for):
    mine = world.log(world.school_a)
    theirs = world.log(world.school_b)
    deputy = make.user(Role.DEPUTY_DSL, world.school_a)
    world.log(world.school_a, subject=make.staff(world.school_a, user=deputy))
    assert [row[0] for row in download(client_for(world.dsl_b))] == [theirs.reference]
    # The deputy at A: A's cases but the one about them.
    assert [row[0] for row in download(client_for(deputy))] == [mine.reference]
    for role in (Role.TRUST_ADMIN, Role.CHAIR):
        assert client_for(make.user(role)).get("/cases/export.csv").status_code == 403


def test_a_cell_a_spreadsheet_would_run_is_made_text(world: World, make, client_for):
    subject = make.staff(world.school_a, name='=HYPERLINK("http://x.example","Hi")')
    world.log(world.school_a, subject=subject)
    minus = make.staff(world.school_a, name="-2+3")
    world.log(world.school_a, subject=minus)
    names = [row[2] for row in download(client_for(world.dsl_a))]
    assert names == ["'-2+3", '\'=HYPERLINK("http://x.example","Hi")']


def test_a_long_list_is_capped_and_the_file_says_so(world: World, client_for, db, monkeypatch):
    monkeypatch.setattr("tracker.cases.list_views.EXPORT_LIMIT", 3)
    cases = [
        world.log(world.school_a, occurred_on=date(2026, 1, 1), reported_on=date(2026, 1, day))
        for day in range(1, 6)
    ]
    rows = download(client_for(world.dsl_a))
    assert [row[0] for row in rows[:3]] == [case.reference for case in reversed(cases)][:3]
    assert len(rows) == 4
    assert rows[3][0].startswith("This file holds the first 3 cases in the list's order; more")
    [event] = exported_events(db)
    assert event.details == {"filters": [], "format": "csv", "rows": 3, "truncated": True}


def test_the_download_is_recorded_with_the_filters_names_only(world: World, client_for, db):
    case = world.log(world.school_a)
    client = client_for(world.dsl_a)
    surname = case.subject.full_name.split()[-1]
    rows = download(client, f"?q={surname}&status=reported&reported_from=1&reported_from=1"
                            "&reported_from=2026")  # fmt: skip
    assert [row[0] for row in rows] == [case.reference]
    [event] = exported_events(db)
    assert event.actor_id == world.dsl_a.id
    assert event.details == {
        "filters": ["reported_from", "search", "status"],
        "format": "csv",
        "rows": 1,
        "truncated": False,
    }
    assert surname not in str(event.details)


def test_filters_with_a_problem_go_back_to_the_list(world: World, client_for, db):
    client = client_for(world.dsl_a)
    response = client.get("/cases/export.csv?status=nonsense")
    assert response.status_code == 302
    assert response.headers["Location"] == "/cases/?status=nonsense"
    assert "Choose a status from the list" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert exported_events(db) == []


def test_no_link_when_nothing_matches(world: World, client_for):
    page = client_for(world.dsl_a).get("/cases/").get_data(as_text=True)
    assert "export.csv" not in page


@pytest.mark.parametrize("cases", [2, 12])
def test_the_file_costs_the_same_statements_however_many_cases(world: World, client_for, db, cases):
    for day in range(1, cases + 1):
        world.log(world.school_a, occurred_on=date(2026, 1, 1), reported_on=date(2026, 1, day))
    client = client_for(world.dsl_a)
    download(client)
    with count_statements(db.engine) as log:
        rows = download(client)
    assert len(rows) == cases
    # The signed-in user, the filter choices, the file's one statement, the audit event.
    assert len(log.queries) <= 7, log.report()
