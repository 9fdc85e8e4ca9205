"""The auditor's pages: searching the trail, exporting it, and a case's complete history."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from flask.testing import FlaskClient

from tests.audit_helpers import events, last_event
from tests.conftest import sign_in
from tests.querycount import count_statements
from tracker.audit import services as audit
from tracker.audit.actions import AuditAction, Outcome
from tracker.audit.models import AuditEvent
from tracker.auth.models import User
from tracker.auth.permissions import audit_scope, can_read_audit_trail
from tracker.auth.roles import Role
from tracker.auth.services import grant_role
from tracker.cases.models import Case, CaseRevision
from tracker.cases.services import CaseDetails, update_case_details
from tracker.clock import today
from tracker.extensions import db as _db
from tracker.orgs.models import School, Trust
from tracker.policy import services as policy_services

# --- the world -------------------------------------------------------------------------


@dataclass
class World:
    """A trust with two schools, a safeguarding lead at each, and the trail's readers."""

    trust: Trust
    school_a: School
    school_b: School
    dsl_a: User
    dsl_b: User
    auditor: User  # the whole trust
    auditor_a: User  # Ashford Primary only
    dpo: User
    make: object

    def log(self, school: School, **details) -> Case:
        reporter = self.dsl_a if school.id == self.school_a.id else self.dsl_b
        return self.make.case(school, by=reporter, **details)


@pytest.fixture
def world(make) -> World:
    trust = make.trust(name="Horizon Trust", code="HMAT")
    make.policy(trust)
    school_a = make.school(trust, name="Ashford Primary")
    school_b = make.school(trust, name="Beacon Academy")
    return World(
        trust=trust,
        school_a=school_a,
        school_b=school_b,
        dsl_a=make.user(Role.DSL, school_a, name="Priya Shah"),
        dsl_b=make.user(Role.DSL, school_b, name="Ben Okoro"),
        auditor=make.user(Role.AUDITOR, name="Avery Audit"),
        auditor_a=make.user(Role.AUDITOR, school_a, name="Ash Auditor"),
        dpo=make.user(Role.DPO, name="Dana Protect"),
        make=make,
    )


@pytest.fixture
def client_for(app):
    """A fresh, signed-in test client for each user (several people in one test)."""

    def signed_in(user: User) -> FlaskClient:
        client = app.test_client()
        assert sign_in(client, user.email).status_code == 302
        return client

    return signed_in


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def event_at(when: datetime, *, actor: User | None, school: School | None = None, **kw) -> int:
    """An event recorded at a given time (the trail only grows: record them in order)."""
    kw.setdefault("action", AuditAction.STAFF_UPDATED)
    seq = audit.record(
        kw.pop("action"),
        actor=actor,
        school_id=school.id if school else None,
        trust_id=school.trust_id if school else None,
        now=when,
        **kw,
    )
    _db.session.commit()
    return seq


_ROW_SEQ = re.compile(r"No\. (\d+)</span>")


def shown(page: str) -> list[int]:
    """The event numbers on a search or history page, in the order shown."""
    return [int(seq) for seq in _ROW_SEQ.findall(page)]


def results(page: str) -> str:
    """The results table of a search page (the form's hints hold example references)."""
    if 'data-testid="audit-events"' not in page:
        return ""
    return page.split('data-testid="audit-events"', 1)[1].split("</table>", 1)[0]


def link(page: str, name: str) -> str | None:
    """The address of the link whose words start with `name`."""
    for href, inside in re.findall(r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', page, re.S):
        if " ".join(re.sub(r"<[^>]+>", " ", inside).split()).startswith(name):
            return html.unescape(href)
    return None


def date_args(name: str, day: date) -> dict[str, list[str]]:
    return {name: [str(day.day), str(day.month), str(day.year)]}


# --- who may read the trail ------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "at_school", "may"),
    [
        (Role.AUDITOR, False, True),
        (Role.AUDITOR, True, True),
        (Role.DPO, False, True),
        (Role.DSL, True, False),
        (Role.DEPUTY_DSL, True, False),
        (Role.HEADTEACHER, True, False),
        (Role.CEO, False, False),
        (Role.CHAIR, False, False),
        (Role.TRUST_ADMIN, False, False),
    ],
)
def test_only_auditors_and_the_dpo_read_the_trail(make, role, at_school, may):
    school = make.school()
    user = make.user(role, school if at_school else None)
    assert can_read_audit_trail(user) is may
    assert audit_scope(user).is_empty is not may


def test_audit_scope_follows_the_grants(world):
    assert audit_scope(world.auditor).whole_trust
    assert audit_scope(world.dpo).whole_trust
    scope = audit_scope(world.auditor_a)
    assert not scope.whole_trust and scope.school_ids == {world.school_a.id}


@pytest.mark.parametrize("role", [Role.DSL, Role.HEADTEACHER, Role.TRUST_ADMIN, Role.CEO])
def test_other_roles_are_refused_and_the_refusal_is_audited(world, make, client_for, db, role):
    case = world.log(world.school_a)
    user = make.user(role, world.school_a if role in {Role.DSL, Role.HEADTEACHER} else None)
    client = client_for(user)
    for path in ("/audit/", "/audit/export.csv", "/audit/export.json", f"/audit/cases/{case.id}"):
        before = len(events(db.session))
        response = client.get(path)
        assert response.status_code == 403, path
        db.session.rollback()
        refusal = last_event(db.session)
        assert len(events(db.session)) == before + 1
        assert refusal.action == AuditAction.ACCESS_DENIED
        assert refusal.actor_id == user.id
        assert refusal.outcome == Outcome.DENIED
        assert refusal.details["status"] == 403
        assert refusal.details["endpoint"].startswith("audit.")
    assert not events(db.session, action=AuditAction.AUDIT_SEARCHED)


def test_the_menu_offers_the_trail_only_to_those_who_can_read_it(world, client_for):
    in_menu = re.compile(
        r'<a class="govuk-service-navigation__link" href="/audit/"[^>]*>\s*Audit trail'
    )
    assert in_menu.search(client_for(world.auditor).get("/").get_data(as_text=True))
    assert in_menu.search(client_for(world.dpo).get("/").get_data(as_text=True))
    assert "/audit/" not in client_for(world.dsl_a).get("/").get_data(as_text=True)


def test_nothing_here_accepts_a_post(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("audit."):
            assert rule.methods - {"HEAD", "OPTIONS"} == {"GET"}, rule.rule


# --- the search page -------------------------------------------------------------------


def test_a_row_shows_who_did_what_where_and_how_it_went(world, client_for, db):
    case = world.log(world.school_a)
    client = client_for(world.auditor)
    page = client.get("/audit/", headers={"X-Request-ID": "req-abcdef12"}).get_data(as_text=True)
    db.session.rollback()
    created = events(db.session, action=AuditAction.CASE_CREATED)[0]
    assert "Case logged" in page
    assert "Priya Shah" in page
    assert "Designated safeguarding lead" in page
    assert "Ashford Primary" in page
    assert f'href="/audit/cases/{case.id}">{case.reference}</a>' in page
    # The object and the details name what their ids are now, in words (the case, the
    # object of its own events, is named once, in "Where").
    assert f"Case {case.id}" not in page
    assert "Clause breach cited" in page
    # Only refusals and failures carry a tag, so that they stand out.
    assert "govuk-tag--green" not in results(page)
    assert f"No. {created.seq}" in page
    assert f"Subject: {case.subject.full_name}" in page
    assert "Clauses: 3.4 " in page
    assert "subject_id" not in page and "clause_ids" not in page
    # The auditor's own sign-in: its request id and address.
    signed_in = events(db.session, action=AuditAction.LOGIN_SUCCEEDED)[-1]
    assert f'Request <span class="app-reference">{signed_in.request_id}</span>' in page
    assert 'from <span class="app-reference">127.0.0.1</span>' in page
    # Newest first.
    assert shown(page) == sorted(shown(page), reverse=True)
    assert "Signed in" in page


def test_ids_in_details_are_named_for_the_reader(world, make, client_for):
    """Each kind of id reads as what it names: a case's reference, a clause's number and
    heading, a member of staff's and a user's name, a school; keys read as words."""
    case = world.log(world.school_a)
    clause_id = case.breaches[0].clause_id
    event_at(
        at(2026, 2, 2, 9),
        actor=world.dsl_a,
        school=world.school_a,
        action=AuditAction.CASE_TRANSITIONED,
        case_id=case.id,
        object_type="case",
        object_id=case.id,
        details={
            "decision_maker_id": world.dsl_b.id,
            "staff_member_id": case.subject_id,
            "school_id": world.school_b.id,
            "clause_id": clause_id,
            "linked_case_id": case.id,
            "sessions_ended": 2,
        },
    )
    page = results(client_for(world.auditor).get("/audit/").get_data(as_text=True))
    assert "Decision maker: Ben Okoro" in page
    assert f"Member of staff: {case.subject.full_name}" in page
    assert "School: Beacon Academy" in page
    assert re.search(r"Clause: 3\.4 \S", page)
    assert f"Linked case: {case.reference}" in page
    assert "Sessions ended: 2" in page
    assert "_id" not in re.sub(r"<[^>]+>", " ", page)


def test_ids_outside_the_readers_scope_are_withheld(world, make, client_for):
    """A school's auditor reads an event at their school that names a case, a member of
    staff and a school elsewhere: those read "withheld", and their names are not sent."""
    elsewhere = world.log(world.school_b)
    event_at(
        at(2026, 2, 2, 9),
        actor=world.dsl_a,
        school=world.school_a,
        details={
            "linked_case_id": elsewhere.id,
            "staff_member_id": elsewhere.subject_id,
            "school_id": world.school_b.id,
        },
    )
    page = results(client_for(world.auditor_a).get("/audit/").get_data(as_text=True))
    assert "Linked case: withheld" in page
    assert "Member of staff: withheld" in page
    assert "School: withheld" in page
    for hidden in (elsewhere.reference, elsewhere.subject.full_name, "Beacon Academy"):
        assert hidden not in page
    # The trust's auditor may read all three.
    page = results(client_for(world.auditor).get("/audit/").get_data(as_text=True))
    assert f"Linked case: {elsewhere.reference}" in page
    assert f"Member of staff: {elsewhere.subject.full_name}" in page
    assert "School: Beacon Academy" in page


def test_an_id_whose_record_has_gone_reads_no_longer_held(world, client_for, db):
    """A clause removed from a draft: the events about it still name its id, and the page
    says it is no longer held rather than showing a number."""
    version = world.make.policy(world.trust)
    draft = policy_services.create_draft(version.policy, version_label="2027", by=None)
    db.session.commit()
    removed = draft.clauses[-1]
    removed_id = removed.id
    policy_services.remove_clause(removed, by=None)
    db.session.commit()
    page = results(
        client_for(world.dpo)
        .get("/audit/", query_string={"action": AuditAction.POLICY_CLAUSE_REMOVED.value})
        .get_data(as_text=True)
    )
    assert "Clause: no longer held" in page
    assert f"Clause {removed_id}" not in page
    # The version it was removed from is still held, and named.
    assert f"Policy version: {draft.title}, version 2027" in page


def test_the_date_range_is_in_uk_dates_both_ends_included(world, client_for):
    early = event_at(at(2026, 3, 1, 12), actor=world.dsl_a, school=world.school_a)
    # 23:30 on 15 June in the UK is 22:30 UTC (British Summer Time).
    late_evening = event_at(at(2026, 6, 15, 22, 30), actor=world.dsl_a, school=world.school_a)
    next_morning = event_at(at(2026, 6, 15, 23, 30), actor=world.dsl_a, school=world.school_a)
    client = client_for(world.auditor)
    page = client.get(
        "/audit/",
        query_string={
            **date_args("date_from", date(2026, 6, 1)),
            **date_args("date_to", date(2026, 6, 15)),
        },
    ).get_data(as_text=True)
    assert shown(page) == [late_evening]
    assert "1 event matches these filters" in page
    page = client.get("/audit/", query_string=date_args("date_from", date(2026, 6, 16))).get_data(
        as_text=True
    )
    assert next_morning in shown(page) and late_evening not in shown(page)
    page = client.get("/audit/", query_string=date_args("date_to", date(2026, 3, 1))).get_data(
        as_text=True
    )
    assert shown(page) == [early]


def test_wrong_dates_are_shown_with_what_was_typed(world, client_for, db):
    client = client_for(world.auditor)
    before = len(events(db.session))
    response = client.get(
        "/audit/",
        query_string={
            "date_from": ["31", "2", "2026"],
            "date_to": ["1", "1", "2026"],
            "case": "not a ref",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "<title>Error: Audit trail" in page
    assert "From must be a real date" in page
    assert 'href="#date_from-day"' in page
    assert 'value="31"' in page
    assert "Enter the whole case reference, like HMAT-2026-0001" in page
    assert 'value="not a ref"' in page
    assert "Correct the filters above" in page
    db.session.rollback()
    assert len(events(db.session)) == before  # nothing was searched, nothing recorded
    page = client.get(
        "/audit/",
        query_string={
            **date_args("date_from", date(2026, 3, 2)),
            **date_args("date_to", date(2026, 3, 1)),
        },
    ).get_data(as_text=True)
    assert "The ‘to’ date must be the same as or after the ‘from’ date" in page


def test_the_person_filter(world, client_for, db):
    world.log(world.school_a)  # by Priya Shah
    world.log(world.school_b)  # by Ben Okoro
    client = client_for(world.auditor)
    page = client.get("/audit/", query_string={"actor": world.dsl_b.id}).get_data(as_text=True)
    db.session.rollback()
    bens = [e.seq for e in events(db.session) if e.actor_id == world.dsl_b.id]
    assert shown(page) == sorted(bens, reverse=True)
    assert f'<option value="{world.dsl_b.id}" selected>Ben Okoro</option>' in page


def test_the_system_actor_finds_sign_ins_of_unknown_accounts(world, client, client_for, db):
    sign_in(client, "nobody@example.org")
    page = client_for(world.auditor).get("/audit/?actor=system").get_data(as_text=True)
    db.session.rollback()
    failed = events(db.session, action=AuditAction.LOGIN_FAILED)
    assert failed[0].seq in shown(page)
    assert all(db.session.get(AuditEvent, seq).actor_id is None for seq in shown(page))
    assert "Nobody signed in" in page
    assert "Sign-in refused" in page


def test_the_action_filter(world, client_for, db):
    world.log(world.school_a)
    page = (
        client_for(world.auditor)
        .get("/audit/", query_string={"action": AuditAction.CLAUSE_BREACH_ADDED.value})
        .get_data(as_text=True)
    )
    db.session.rollback()
    cited = events(db.session, action=AuditAction.CLAUSE_BREACH_ADDED)
    assert cited and shown(page) == [e.seq for e in reversed(cited)]
    assert ">Clause breach cited</option>" in page


def test_the_school_filter(world, client_for, db):
    a = world.log(world.school_a)
    b = world.log(world.school_b)
    client = client_for(world.auditor)
    page = client.get("/audit/", query_string={"school": world.school_b.id}).get_data(as_text=True)
    assert b.reference in results(page) and a.reference not in results(page)
    assert all(
        db.session.get(AuditEvent, seq).school_id == world.school_b.id for seq in shown(page)
    )
    # Events that belong to no school: sign-ins, accounts.
    page = client.get("/audit/", query_string={"school": "none"}).get_data(as_text=True)
    assert "Signed in" in results(page)
    assert all(db.session.get(AuditEvent, seq).school_id is None for seq in shown(page))
    page = client.get("/audit/", query_string={"school": "999999"}).get_data(as_text=True)
    assert "Choose a school from the list" in page


def test_the_case_reference_filter(world, client_for, db):
    mine = world.log(world.school_a)
    other = world.log(world.school_a)
    client = client_for(world.auditor)
    # Typed in lower case with spaces: still the one case, exactly.
    page = client.get("/audit/", query_string={"case": f" {mine.reference.lower()} "}).get_data(
        as_text=True
    )
    db.session.rollback()
    about = [e.seq for e in events(db.session) if e.case_id == mine.id]
    assert about and shown(page) == sorted(about, reverse=True)
    assert other.reference not in page
    assert f"See the complete history of {mine.reference}" in page
    assert f'href="/audit/cases/{mine.id}"' in page


def test_an_unknown_or_unreadable_case_reference_gets_a_message(world, client_for, db):
    elsewhere = world.log(world.school_b)
    client = client_for(world.auditor_a)
    for reference in ("HMAT-2026-9999", elsewhere.reference):
        response = client.get("/audit/", query_string={"case": reference})
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f"There is no case {reference} whose audit trail you can read" in page
        assert f'value="{reference}"' in page
        assert 'href="#case"' in page


def test_a_school_auditor_sees_only_their_schools_events(world, make, client_for, db):
    a = world.log(world.school_a)
    b = world.log(world.school_b)
    other_trust = make.trust(name="Other Trust", code="OTH")
    far = make.school(other_trust, name="Far School")
    event_at(at(2026, 1, 5), actor=None, school=far)
    client = client_for(world.auditor_a)
    page = client.get("/audit/").get_data(as_text=True)
    db.session.rollback()
    at_a = [e.seq for e in events(db.session) if e.school_id == world.school_a.id]
    assert shown(page) == sorted(at_a, reverse=True)
    assert a.reference in results(page) and b.reference not in results(page)
    assert "Signed in" not in results(page)  # sign-ins belong to no school
    # One school: no school filter to choose.
    assert 'name="school"' not in page
    # Nor can the address be edited to reach another school's events.
    page = client.get("/audit/", query_string={"school": world.school_b.id}).get_data(as_text=True)
    assert shown(page) == sorted(at_a, reverse=True)


def test_a_trust_wide_reader_sees_the_whole_trust_and_its_sign_ins(
    world, make, client, client_for, db
):
    a = world.log(world.school_a)
    b = world.log(world.school_b)
    sign_in(client, "nobody@example.org")  # a failed sign-in of no known account
    other_trust = make.trust(name="Other Trust", code="OTH")
    far = make.school(other_trust, name="Far School")
    stranger = make.user(Role.AUDITOR, trust=other_trust)
    elsewhere = event_at(at(2026, 1, 5), actor=stranger, school=far)
    outsider_signed_in = event_at(
        at(2026, 1, 5), actor=stranger, action=AuditAction.LOGIN_SUCCEEDED
    )
    for reader in (world.auditor, world.dpo):
        page = client_for(reader).get("/audit/").get_data(as_text=True)
        assert a.reference in results(page) and b.reference in results(page)
        assert "Sign-in refused" in results(page)
        assert elsewhere not in shown(page) and outsider_signed_in not in shown(page)
        db.session.rollback()
        for seq in shown(page):
            event = db.session.get(AuditEvent, seq)
            assert event.trust_id in (world.trust.id, None)
            assert event.school_id in (world.school_a.id, world.school_b.id, None)


def test_the_trail_of_a_case_about_the_reader_is_hidden_from_them(world, make, client_for, db):
    auditor_staff = make.staff(world.school_a, user=world.auditor_a)
    about_them = world.log(world.school_a, subject=auditor_staff)
    other = world.log(world.school_a)
    client = client_for(world.auditor_a)
    page = client.get("/audit/").get_data(as_text=True)
    assert about_them.reference not in results(page) and other.reference in results(page)
    db.session.rollback()
    assert not [
        seq for seq in shown(page) if db.session.get(AuditEvent, seq).case_id == about_them.id
    ]
    page = client.get("/audit/", query_string={"case": about_them.reference}).get_data(as_text=True)
    assert "There is no case" in page
    assert client.get(f"/audit/cases/{about_them.id}").status_code == 404


def test_pages_of_fifty_newest_first_by_sequence(world, client_for):
    seqs = [
        event_at(at(2026, 2, 1, 9 + n // 60, n % 60), actor=world.dsl_a, school=world.school_a)
        for n in range(120)
    ]
    client = client_for(world.auditor)
    query = {"actor": world.dsl_a.id, "action": AuditAction.STAFF_UPDATED.value}
    first = client.get("/audit/", query_string=query).get_data(as_text=True)
    assert shown(first) == seqs[::-1][:50]
    assert 'class="govuk-pagination' in first
    assert "120 events match these filters" in first
    assert link(first, "Newer") is None
    older = link(first, "Older")
    # Every filter is kept in the page links.
    assert older and f"actor={world.dsl_a.id}" in older and "action=staff.updated" in older
    second = client.get(older).get_data(as_text=True)
    assert shown(second) == seqs[::-1][50:100]
    third = client.get(link(second, "Older")).get_data(as_text=True)
    assert shown(third) == seqs[::-1][100:]
    assert link(third, "Older") is None
    back = client.get(link(third, "Newer")).get_data(as_text=True)
    assert shown(back) == seqs[::-1][50:100]
    top = client.get(link(back, "Newer")).get_data(as_text=True)
    assert shown(top) == seqs[::-1][:50]
    assert link(top, "Newer") is None
    # A hand-edited position past the end says so, and offers the way back.
    past = client.get("/audit/", query_string={**query, "before": seqs[0]}).get_data(as_text=True)
    assert "There are no events at this point in the trail" in past


def test_a_search_is_recorded_with_filter_names_and_count_never_values(world, client_for, db):
    case = world.log(world.school_a)
    client = client_for(world.auditor)
    client.get(
        "/audit/",
        query_string={
            "case": case.reference,
            "actor": world.dsl_a.id,
            "action": AuditAction.CASE_CREATED.value,
            **date_args("date_from", date(2020, 1, 1)),
        },
    )
    db.session.rollback()
    searched = last_event(db.session)
    assert searched.action == AuditAction.AUDIT_SEARCHED
    assert searched.actor_id == world.auditor.id
    assert searched.details == {"filters": ["action", "actor", "case", "date_from"], "results": 1}
    stored = (
        searched.details_json if hasattr(searched, "details_json") else json.dumps(searched.details)
    )
    assert case.reference not in stored and "2020" not in stored
    client.get("/audit/")
    db.session.rollback()
    assert last_event(db.session).details["filters"] == []


def test_a_search_event_is_readable_by_the_next_search(world, client_for):
    client = client_for(world.auditor)
    client.get("/audit/")
    page = client.get(
        "/audit/", query_string={"action": AuditAction.AUDIT_SEARCHED.value}
    ).get_data(as_text=True)
    assert "Audit trail searched" in page
    assert "1 event matches these filters" in page


def test_no_events_match(world, client_for):
    page = (
        client_for(world.auditor)
        .get("/audit/", query_string={"action": AuditAction.APPEAL_DECIDED.value})
        .get_data(as_text=True)
    )
    assert "0 events match these filters" in page
    assert "clear the filters" in page
    assert "Download as CSV" not in page


# --- the query budget ------------------------------------------------------------------

# Session and user, choices, count, page, what the page's ids name, the searched event (2).
QUERY_BUDGET = 7


def test_the_search_page_costs_the_same_few_queries_however_many_people(world, make, client_for):
    for number in range(30):
        person = make.user(Role.DSL, world.school_a if number % 2 else world.school_b)
        event_at(at(2026, 2, 1, 9, number), actor=person, school=world.school_a)
    case = world.log(world.school_a)
    client = client_for(world.auditor)
    counts = []
    for query in ({}, {"case": case.reference}):
        _db.session.rollback()
        with count_statements(_db.engine) as log:
            page = client.get("/audit/", query_string=query).get_data(as_text=True)
        assert len(shown(page)) > 0
        extra = 1 if query else 0  # looking up the case reference
        assert len(log.queries) <= QUERY_BUDGET + extra, log.report()
        counts.append(len(log.queries) - extra)
    assert counts[0] == counts[1]


def test_naming_the_ids_of_a_page_is_one_statement_however_many(world, make, client_for):
    """Forty events naming forty cases, members of staff, people and schools cost what one
    event naming one of each does: every id of the page is named in one statement."""
    client = client_for(world.auditor)
    counts = []
    for many in (1, 40):
        for number in range(many):
            school = world.school_a if number % 2 else world.school_b
            case = world.log(school)
            event_at(
                at(2026, 2, 1, 9, number),
                actor=world.dsl_a,
                school=school,
                details={
                    "linked_case_id": case.id,
                    "subject_id": case.subject_id,
                    "user_id": make.user(Role.DSL, school).id,
                    "school_id": school.id,
                    "clause_ids": [breach.clause_id for breach in case.breaches],
                },
            )
        _db.session.rollback()
        query = {"action": AuditAction.STAFF_UPDATED.value}
        with count_statements(_db.engine) as log:
            page = client.get("/audit/", query_string=query).get_data(as_text=True)
        assert len(shown(page)) == (1 if many == 1 else 41)
        assert f"Linked case: {case.reference}" in results(page)
        assert "no longer held" not in results(page) and "withheld" not in results(page)
        assert len(log.queries) <= QUERY_BUDGET, log.report()
        counts.append(len(log.queries))
    assert counts[0] == counts[1]


# Session and user, case, events, revisions, people, what the ids name, the viewed event (2).
HISTORY_BUDGET = 8


def test_a_case_history_costs_the_same_few_queries_however_long(world, make, client_for, history):
    client = client_for(world.auditor)
    url = f"/audit/cases/{history.id}"
    counts = []
    for readers in (0, 12):
        for _ in range(readers):
            audit.record_for_case(
                AuditAction.CASE_VIEWED, history, actor=make.user(Role.DSL, world.school_a)
            )
        _db.session.commit()
        _db.session.rollback()
        with count_statements(_db.engine) as log:
            response = client.get(url)
        assert response.status_code == 200
        assert len(log.queries) <= HISTORY_BUDGET, log.report()
        counts.append(len(log.queries))
    assert counts[0] == counts[1]


# --- exports ---------------------------------------------------------------------------


def read_csv(response) -> list[dict[str, str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_the_csv_export_holds_every_matching_event_oldest_first(world, client_for, db):
    case = world.log(world.school_a)
    client = client_for(world.auditor)
    response = client.get("/audit/export.csv", query_string={"school": world.school_a.id})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(
        rf'attachment; filename="audit-trail-{today():%Y-%m-%d}-\d{{4}}\.csv"', disposition
    )
    rows = read_csv(response)
    db.session.rollback()
    expected = [e for e in events(db.session) if e.school_id == world.school_a.id]
    assert [int(row["seq"]) for row in rows] == [e.seq for e in expected]
    created = events(db.session, action=AuditAction.CASE_CREATED)[0]
    first = next(row for row in rows if row["seq"] == str(created.seq))
    assert list(rows[0]) == [
        "seq",
        "occurred_at",
        "actor_id",
        "actor_name",
        "actor_role",
        "action",
        "action_label",
        "object_type",
        "object_id",
        "school_id",
        "school",
        "case_id",
        "case_reference",
        "outcome",
        "request_id",
        "client_address",
        "details",
        "prev_hash",
        "hash",
    ]
    assert first["action"] == "case.created"
    assert first["action_label"] == "Case logged"
    assert first["actor_id"] == str(world.dsl_a.id)
    assert first["actor_name"] == "Priya Shah"
    assert first["actor_role"] == "dsl"
    assert first["school"] == "Ashford Primary"
    assert first["case_reference"] == case.reference
    assert first["outcome"] == "allowed"
    assert datetime.fromisoformat(first["occurred_at"]) == created.occurred_at
    assert first["occurred_at"].endswith("+00:00")
    assert json.loads(first["details"]) == created.details
    assert first["hash"] == created.hash and first["prev_hash"] == created.prev_hash
    # The export is recorded, and committed before the file was sent.
    exported = last_event(db.session)
    assert exported.action == AuditAction.AUDIT_EXPORTED
    assert exported.actor_id == world.auditor.id
    assert exported.details == {
        "format": "csv",
        "filters": ["school"],
        "results": len(expected),
        "truncated": False,
    }
    assert response.headers["X-Audit-Matching-Events"] == str(len(expected))


def test_the_json_export_and_its_own_event_is_not_in_it(world, client_for, db):
    world.log(world.school_b)
    client = client_for(world.auditor)
    response = client.get("/audit/export.json")
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].endswith('.json"')
    document = json.loads(response.get_data(as_text=True))
    db.session.rollback()
    exported = last_event(db.session)
    assert exported.action == AuditAction.AUDIT_EXPORTED
    assert exported.details["format"] == "json"
    before_it = [e for e in events(db.session) if e.seq < exported.seq]
    assert [item["seq"] for item in document["events"]] == [e.seq for e in before_it]
    assert document["matching_events"] == len(before_it)
    assert document["truncated"] is False
    assert document["exported_by"] == {"id": world.auditor.id, "name": "Avery Audit"}
    sample = document["events"][0]
    assert sample["details"] == before_it[0].details
    assert sample["hash"] == before_it[0].hash
    # The next search finds the export itself.
    page = client.get(
        "/audit/", query_string={"action": AuditAction.AUDIT_EXPORTED.value}
    ).get_data(as_text=True)
    assert shown(page) == [exported.seq]
    assert "Audit trail exported" in page


def test_a_cell_that_a_spreadsheet_would_run_is_made_text(world, make, client_for):
    plotter = make.user(Role.DSL, world.school_a, name='=HYPERLINK("http://evil")')
    event_at(at(2026, 1, 5), actor=plotter, school=world.school_a)
    for name in ("+1", "-1", "@SUM(A1)"):
        event_at(
            at(2026, 1, 5),
            actor=make.user(Role.DSL, world.school_a, name=name),
            school=world.school_a,
        )
    rows = read_csv(client_for(world.auditor).get("/audit/export.csv"))
    names = {row["actor_name"] for row in rows}
    assert '\'=HYPERLINK("http://evil")' in names
    assert {"'+1", "'-1", "'@SUM(A1)"} <= names
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)


def test_an_export_over_the_limit_holds_the_oldest_and_says_so(world, client_for, db, monkeypatch):
    import tracker.audit.views as views

    monkeypatch.setattr(views, "EXPORT_LIMIT", 5)
    monkeypatch.setattr(views, "EXPORT_CHUNK", 2)  # several reads, each short
    seqs = [
        event_at(at(2026, 1, 5, 9, n), actor=world.dsl_a, school=world.school_a) for n in range(7)
    ]
    client = client_for(world.auditor)
    response = client.get("/audit/export.csv", query_string={"actor": world.dsl_a.id})
    assert response.headers["X-Audit-Export-Truncated"] == "first 5 of 7"
    assert [int(row["seq"]) for row in read_csv(response)] == seqs[:5]
    db.session.rollback()
    assert last_event(db.session).details["truncated"] is True
    assert last_event(db.session).details["results"] == 7
    page = client.get("/audit/", query_string={"actor": world.dsl_a.id}).get_data(as_text=True)
    assert "A download holds at most 5 events" in page


def test_an_export_with_wrong_filters_goes_back_to_the_search(world, client_for, db):
    client = client_for(world.auditor)
    before = len(events(db.session))
    response = client.get("/audit/export.csv", query_string={"case": "HMAT-2026-9999"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/audit/?case=HMAT-2026-9999"
    db.session.rollback()
    assert len(events(db.session)) == before


def test_the_search_page_links_the_exports_with_its_filters(world, client_for):
    world.log(world.school_a)
    page = (
        client_for(world.auditor)
        .get("/audit/", query_string={"school": world.school_a.id})
        .get_data(as_text=True)
    )
    assert (
        link(page, "Download as CSV (spreadsheet)")
        == f"/audit/export.csv?school={world.school_a.id}"
    )
    assert link(page, "Download as JSON") == f"/audit/export.json?school={world.school_a.id}"


# --- a case's complete history ---------------------------------------------------------


@pytest.fixture
def history(world, make, client_for, db):
    """A case logged, viewed, changed, given a revision no event names, and refused."""
    case = world.log(world.school_a, summary="Messaged pupils from a personal account.")
    audit.record_for_case(AuditAction.CASE_VIEWED, case, actor=world.dsl_a)
    db.session.commit()
    update_case_details(
        case,
        CaseDetails(
            source=case.source,
            source_detail=case.source_detail,
            occurred_on=case.occurred_on,
            reported_on=case.reported_on,
            platform="tiktok",
            platform_detail="",
            summary="Messaged two pupils from a personal account.",
        ),
        expected_version=case.version,
        by=world.dsl_a,
        today=today(),
    )
    db.session.commit()
    # A revision written without an event (as an import or a repair script might).
    db.session.add(
        CaseRevision(
            case_id=case.id,
            number=3,
            changed_by_id=world.dsl_a.id,
            audit_seq=None,
            changes={"platform_detail": ["", "Private account"]},
        )
    )
    db.session.commit()
    # Someone at another school tries to open it: refused (404) and audited.
    assert client_for(world.dsl_b).get(f"/cases/{case.id}").status_code == 404
    return case


def test_a_case_history_merges_events_and_revisions_oldest_first(world, client_for, db, history):
    case = history
    response = client_for(world.auditor).get(f"/audit/cases/{case.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"History of {case.reference}" in page
    assert "Ashford Primary" in page
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    order = [
        "Case logged",
        "Case viewed",
        "Case details changed",
        "Case revision 3",
        "Access refused",
    ]
    positions = [text.index(words) for words in order]
    assert positions == sorted(positions)
    # Revision 1 sits with the event that logged the case; revision 2 with the change.
    assert 'data-testid="revision-1"' in page and 'data-testid="revision-2"' in page
    changed = text[text.index("Case details changed") : text.index("Case revision 3")]
    assert "Platform Instagram TikTok" in changed
    assert "Messaged pupils from a personal account. Messaged two pupils" in changed
    assert "Private account" in text[text.index("Case revision 3") :]
    # Event numbers shown are in order.
    assert shown(page) == sorted(shown(page))
    db.session.rollback()
    viewed = last_event(db.session)
    assert viewed.action == AuditAction.CASE_HISTORY_VIEWED
    assert viewed.details == {"page": "audit"}
    assert viewed.case_id == case.id and viewed.school_id == world.school_a.id
    assert viewed.actor_id == world.auditor.id


@pytest.mark.parametrize(
    ("show", "present", "absent"),
    [
        (
            "changes",
            ["Case logged", "Case details changed", "Case revision 3"],
            ["Case viewed", "Access refused"],
        ),
        (
            "reads",
            ["Case viewed"],
            ["Case logged", "Case details changed", "Case revision 3", "Access refused"],
        ),
        ("refusals", ["Access refused"], ["Case logged", "Case viewed", "Case revision 3"]),
        ("all", ["Case logged", "Case viewed", "Case revision 3", "Access refused"], []),
    ],
)
def test_a_case_history_can_show_changes_reads_or_refusals(
    world, client_for, history, show, present, absent
):
    page = (
        client_for(world.auditor)
        .get(f"/audit/cases/{history.id}", query_string={"show": show})
        .get_data(as_text=True)
    )
    table = page.split('data-testid="case-history"', 1)[1]
    for words in present:
        assert words in table, words
    for words in absent:
        assert words not in table, words


def test_a_case_history_by_one_person(world, client_for, history):
    client = client_for(world.auditor)
    page = client.get(
        f"/audit/cases/{history.id}", query_string={"actor": world.dsl_b.id}
    ).get_data(as_text=True)
    table = page.split('data-testid="case-history"', 1)[1]
    assert "Access refused" in table and "Case logged" not in table
    assert ">Ben Okoro</option>" in page and ">Priya Shah</option>" in page
    page = client.get(
        f"/audit/cases/{history.id}", query_string={"actor": world.dsl_a.id}
    ).get_data(as_text=True)
    table = page.split('data-testid="case-history"', 1)[1]
    assert "Case logged" in table and "Case revision 3" in table and "Access refused" not in table
    page = client.get(f"/audit/cases/{history.id}", query_string={"actor": "12345"}).get_data(
        as_text=True
    )
    assert "Choose a person from the list" in page


def test_a_case_history_outside_the_scope_is_not_found_and_audited(world, client_for, db):
    elsewhere = world.log(world.school_b)
    client = client_for(world.auditor_a)
    assert client.get(f"/audit/cases/{elsewhere.id}").status_code == 404
    assert client.get("/audit/cases/999999").status_code == 404
    db.session.rollback()
    refusals = events(db.session, action=AuditAction.ACCESS_DENIED)
    assert [(e.object_type, e.object_id) for e in refusals[-2:]] == [
        ("case", elsewhere.id),
        ("case", 999999),
    ]
    assert not events(db.session, action=AuditAction.CASE_HISTORY_VIEWED)


def test_a_case_readable_through_another_role_but_not_its_trail(world, make, client_for, db):
    case = world.log(world.school_b)
    grant_role(world.dsl_b, Role.AUDITOR, school=world.school_a)
    db.session.commit()
    # Ben reads Beacon's cases as its DSL, but audits only Ashford.
    assert client_for(world.dsl_b).get(f"/audit/cases/{case.id}").status_code == 404


def test_a_case_history_with_nothing_matching(world, client_for, history):
    page = (
        client_for(world.auditor_a)
        .get(
            f"/audit/cases/{history.id}", query_string={"show": "refusals", "actor": world.dsl_a.id}
        )
        .get_data(as_text=True)
    )
    assert "Nothing in this case's history matches these filters." in page


def test_a_case_history_reads_as_a_timeline_with_before_and_after_side_by_side(
    world, client_for, history
):
    page = client_for(world.auditor).get(f"/audit/cases/{history.id}").get_data(as_text=True)
    timeline = page.split('data-testid="case-history"', 1)[1].split("</ol>", 1)[0]
    entries = timeline.split('data-testid="history-entry"')[1:]
    assert f"{len(entries)} entries, oldest first" in page
    text = [" ".join(re.sub(r"<[^>]+>", " ", entry).split()) for entry in entries]
    # Each entry says when, who and what.
    logged = (
        r"> Case logged \d+ \w+ \d{4}, \d\d:\d\d:\d\d · Priya Shah \(Designated safeguarding lead\)"
    )
    assert re.match(logged, text[0]), text[0]
    # A refusal carries its tag; an allowed event none.
    refused = next(entry for entry in text if "Access refused" in entry)
    assert "Access refused Refused" in refused
    assert "Allowed" not in " ".join(text)
    # The values before and after are columns of their own, not squeezed into a cell of
    # a table of events.
    before = timeline.split('data-testid="revision-2"', 1)[0]
    assert before.count("<td") == before.count("</td>")  # not inside a cell
    changed = timeline.split('data-testid="revision-2"', 1)[1].split("</table>", 1)[0]
    headings = re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', changed)
    assert headings == ["Field", "Before", "After"]


def test_ids_in_a_revision_are_named(world, make, client_for, db, history):
    """A revision that changed who decides and whom the case is about names both people."""
    head = make.user(Role.HEADTEACHER, world.school_a, name="Hannah Jones")
    other = make.staff(world.school_a, name="Oliver Grant")
    db.session.add(
        CaseRevision(
            case_id=history.id,
            number=4,
            changed_by_id=world.dsl_a.id,
            audit_seq=None,
            changes={
                "decision_maker_id": [None, head.id],
                "subject_id": [history.subject_id, other.id],
            },
        )
    )
    db.session.commit()
    page = client_for(world.auditor).get(f"/audit/cases/{history.id}").get_data(as_text=True)
    revision = page.split('data-testid="revision-4"', 1)[1].split("</table>", 1)[0]
    text = " ".join(re.sub(r"<[^>]+>", " ", revision).split())
    assert "Decision maker (none) Hannah Jones" in text
    assert f"Member of staff {history.subject.full_name} Oliver Grant" in text
