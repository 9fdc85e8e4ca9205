"""The case list: who sees what, every filter, search, sorting, paging and its query budget."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date

import pytest
from flask.testing import FlaskClient

from tests.conftest import sign_in
from tests.policy_helpers import publish_next
from tests.querycount import count_statements
from tracker.auth.models import User
from tracker.auth.roles import Role
from tracker.auth.services import grant_role
from tracker.cases.listing import Sort, encode_cursor
from tracker.cases.models import Case, CaseStatus, Track
from tracker.extensions import db as _db
from tracker.orgs.models import School
from tracker.staff.models import StaffMember

_LISTED = re.compile(
    r'<a class="govuk-link app-reference app-nowrap" href="/cases/\d+">([^<]+)</a>'
)


def listed(page: str) -> list[str]:
    """The case references on a list page, in the order shown."""
    return _LISTED.findall(page)


def link(page: str, rel: str) -> str | None:
    match = re.search(rf'href="([^"]+)" rel="{rel}"', page)
    return html.unescape(match.group(1)) if match else None


@dataclass
class World:
    """A trust with two schools, a safeguarding lead at each and the seeded policy."""

    school_a: School
    school_b: School
    dsl_a: User
    dsl_b: User
    make: object

    def log(self, school: School, *, subject: StaffMember | None = None, **details) -> Case:
        reporter = self.dsl_a if school.id == self.school_a.id else self.dsl_b
        return self.make.case(school, subject=subject, by=reporter, **details)


@pytest.fixture
def world(make) -> World:
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
    """A fresh, signed-in test client for each user (several people in one test)."""

    def signed_in(user: User) -> FlaskClient:
        client = app.test_client()
        assert sign_in(client, user.email).status_code == 302
        return client

    return signed_in


def set_state(case: Case, *, status: CaseStatus | None = None, track: Track | None = None) -> None:
    # The workflow that moves cases on is not built yet; set the columns directly.
    if status is not None:
        case.status = status.value
    if track is not None:
        case.track = track.value
    _db.session.commit()


# --- who sees what ---------------------------------------------------------------------


def test_a_safeguarding_lead_sees_only_their_schools_cases(world, client_for):
    mine = world.log(world.school_a)
    theirs = world.log(world.school_b)
    page = client_for(world.dsl_a).get("/cases/").get_data(as_text=True)
    assert listed(page) == [mine.reference]
    assert theirs.reference not in page
    # One school: no school filter to choose from.
    assert 'name="school"' not in page


def test_the_chief_executive_sees_every_school(world, make, client_for):
    a, b = world.log(world.school_a), world.log(world.school_b)
    page = client_for(make.user(Role.CEO)).get("/cases/").get_data(as_text=True)
    assert sorted(listed(page)) == sorted([a.reference, b.reference])
    assert 'name="school"' in page
    assert ">Ashford Primary</option>" in page
    assert ">Beacon Academy</option>" in page


def test_the_subject_of_a_case_never_sees_it_whatever_their_role(world, make, client_for):
    deputy = make.user(Role.DEPUTY_DSL, world.school_a)
    about_deputy = world.log(world.school_a, subject=make.staff(world.school_a, user=deputy))
    other = world.log(world.school_a)
    page = client_for(deputy).get("/cases/").get_data(as_text=True)
    assert listed(page) == [other.reference]
    assert about_deputy.reference not in page
    # Searching for it directly finds nothing either.
    search = client_for(deputy).get("/cases/", query_string={"q": about_deputy.reference})
    assert listed(search.get_data(as_text=True)) == []


def test_another_trusts_cases_are_never_listed(world, make, client_for):
    world.log(world.school_a)
    other_ceo = make.user(Role.CEO, trust=make.trust(name="Other Trust", code="OTH"))
    page = client_for(other_ceo).get("/cases/").get_data(as_text=True)
    assert listed(page) == []
    assert "When a concern is logged it will appear here" in page


@pytest.mark.parametrize("role", [Role.TRUST_ADMIN, Role.CHAIR])
def test_roles_that_do_not_read_cases_are_refused(world, make, client_for, role):
    world.log(world.school_a)
    assert client_for(make.user(role)).get("/cases/").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(world, client):
    response = client.get("/cases/?status=closed")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


# --- what each row shows ---------------------------------------------------------------


def test_a_row_shows_the_case_at_a_glance(world, make, client_for):
    subject = make.staff(world.school_a, name="Alice Brown")
    case = world.log(
        world.school_a,
        subject=subject,
        clauses=("3.4", "3.2(e)", "2.3"),
        platform="whatsapp",
        reported_on=date(2026, 3, 4),
    )
    page = client_for(world.dsl_a).get("/cases/").get_data(as_text=True)
    row = page[page.index(case.reference) :]
    row = row[: row.index("</tr>")]
    assert f'href="/cases/{case.id}"' in page
    for text in ("Alice Brown", "Reported", "Not triaged", "WhatsApp"):
        assert text in row
    # One school: no School column (every row would say the same).
    assert "Ashford Primary" not in row and ">School</th>" not in page
    assert "2.3, 3.2(e), 3.4" in row
    assert "4 March 2026" in row
    assert "1 case</h2>" in page

    set_state(case, status=CaseStatus.INVESTIGATION, track=Track.ALLEGATION)
    page = client_for(world.dsl_a).get("/cases/").get_data(as_text=True)
    assert ">Investigation</strong>" in page
    assert "Allegation" in page


# --- filters ---------------------------------------------------------------------------


def test_filter_by_school(world, make, client_for):
    a, b = world.log(world.school_a), world.log(world.school_b)
    client = client_for(make.user(Role.CEO))
    page = client.get("/cases/", query_string={"school": world.school_b.id}).get_data(as_text=True)
    assert listed(page) == [b.reference]
    assert a.reference not in page
    assert "1 case match" in page


def test_a_school_outside_the_users_scope_cannot_be_chosen(world, make, client_for):
    # A lead at two schools: the school filter offers those two, never a third.
    lead = make.user(Role.DSL, world.school_a)
    grant_role(lead, Role.DSL, school=make.school(name="Cedar School"))
    _db.session.commit()
    world.log(world.school_b)
    response = client_for(lead).get("/cases/", query_string={"school": world.school_b.id})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Choose a school from the list" in page
    assert listed(page) == []
    assert ">Ashford Primary</option>" in page
    assert ">Cedar School</option>" in page
    assert ">Beacon Academy</option>" not in page


def test_filter_by_status(world, client_for):
    open_case, closed = world.log(world.school_a), world.log(world.school_a)
    set_state(closed, status=CaseStatus.CLOSED)
    client = client_for(world.dsl_a)
    page = client.get("/cases/?status=closed").get_data(as_text=True)
    assert listed(page) == [closed.reference]
    page = client.get("/cases/?status=reported").get_data(as_text=True)
    assert listed(page) == [open_case.reference]


def test_filter_by_track_including_not_triaged(world, client_for):
    untriaged, low, allegation = (world.log(world.school_a) for _ in range(3))
    set_state(low, track=Track.LOW_LEVEL)
    set_state(allegation, track=Track.ALLEGATION)
    client = client_for(world.dsl_a)
    assert listed(client.get("/cases/?track=low_level").get_data(as_text=True)) == [low.reference]
    assert listed(client.get("/cases/?track=allegation").get_data(as_text=True)) == [
        allegation.reference
    ]
    assert listed(client.get("/cases/?track=none").get_data(as_text=True)) == [untriaged.reference]


def test_filter_by_clause_reference_across_policy_versions(world, make, client_for):
    # Conduct before version 2 took effect cites version 1's clause 3.4; conduct after
    # cites version 2's. Both are "3.4".
    under_v1 = world.log(
        world.school_a,
        clauses=("3.4",),
        occurred_on=date(2025, 1, 10),
        reported_on=date(2025, 1, 12),
    )
    publish_next(make.policy(), effective_from=date(2025, 9, 1))
    under_v2 = world.log(world.school_a, clauses=("3.4", "3.3"))
    other = world.log(world.school_a, clauses=("3.2(e)",))
    assert under_v1.breaches[0].clause_id != under_v2.breaches[0].clause_id

    client = client_for(world.dsl_a)
    page = client.get("/cases/?clause=3.4").get_data(as_text=True)
    assert sorted(listed(page)) == sorted([under_v1.reference, under_v2.reference])
    assert other.reference not in page
    assert listed(client.get("/cases/?clause=3.2(e)").get_data(as_text=True)) == [other.reference]
    # The choices are the citable rules, in the policy's order, each once.
    choices = re.findall(r'<option value="([0-9][0-9.()a-z]*)"', page)
    assert choices[:4] == ["2.3", "2.4", "3.1", "3.2(a)"]
    assert choices.count("3.4") == 1
    assert "2.1" not in choices  # information, never cited


def test_filter_by_platform(world, client_for):
    insta = world.log(world.school_a, platform="instagram")
    tiktok = world.log(world.school_a, platform="tiktok")
    page = client_for(world.dsl_a).get("/cases/?platform=tiktok").get_data(as_text=True)
    assert listed(page) == [tiktok.reference]
    assert insta.reference not in page


def test_filter_by_the_date_reported(world, client_for):
    early = world.log(world.school_a, occurred_on=date(2026, 1, 2), reported_on=date(2026, 1, 5))
    middle = world.log(world.school_a, occurred_on=date(2026, 2, 2), reported_on=date(2026, 2, 9))
    late = world.log(world.school_a, occurred_on=date(2026, 3, 2), reported_on=date(2026, 3, 20))
    client = client_for(world.dsl_a)

    def between(start: tuple[str, str, str] | None, end: tuple[str, str, str] | None):
        query = [("reported_from", part) for part in start or ()]
        query += [("reported_to", part) for part in end or ()]
        return listed(client.get("/cases/", query_string=query).get_data(as_text=True))

    assert between(("9", "2", "2026"), None) == [late.reference, middle.reference]
    assert between(None, ("9", "2", "2026")) == [middle.reference, early.reference]
    assert between(("6", "1", "2026"), ("19", "3", "2026")) == [middle.reference]
    # Both ends are inclusive.
    assert between(("5", "1", "2026"), ("5", "1", "2026")) == [early.reference]


def test_an_impossible_date_is_explained_and_what_was_typed_is_kept(world, client_for):
    world.log(world.school_a)
    query = [("reported_from", "31"), ("reported_from", "2"), ("reported_from", "2026")]
    response = client_for(world.dsl_a).get("/cases/", query_string=query + [("q", "Smith")])
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert "Reported from must be a real date" in page
    assert 'href="#reported_from-day"' in page
    assert 'value="31"' in page
    assert 'value="Smith"' in page
    assert "<title>Error: Cases" in page
    assert listed(page) == []


def test_a_from_date_after_the_to_date_is_explained_and_kept(world, client_for):
    world.log(world.school_a)
    query = [("reported_from", p) for p in ("20", "3", "2026")]
    query += [("reported_to", p) for p in ("1", "3", "2026")]
    page = client_for(world.dsl_a).get("/cases/", query_string=query).get_data(as_text=True)
    assert "Reported to must be the same as or after reported from" in page
    assert 'value="20"' in page
    assert 'value="1"' in page
    assert listed(page) == []


@pytest.mark.parametrize(
    "query",
    [
        "reported_from=12",  # one box only, from a hand-edited address
        "reported_from=1&reported_from=2&reported_from=3&reported_from=4",
        "reported_from=aa&reported_from=bb&reported_from=cc",
        "reported_to=1&reported_to=1&reported_to=99999",
        "status=nonsense",
        "track=maybe",
        "clause=99.9",
        "platform=myspace",
        "school=abc",
        "sort=sideways",
        "page=-4&per_page=100000",
        "page=abc&per_page=xyz",
        "page=99999999999999999999",
        "after=not-a-cursor",
        "before=%25%25%25",
        "after=WyJ4Il0",  # a list of the wrong length and type
        "after=WyIyMDI2LTEzLTQwIiwxXQ",  # ["2026-13-40",1]: not a date
        "sort=reference&after=WzFd",  # [1] where a reference is expected
        "after=" + "A" * 300,
        "q=" + "x" * 500,
        "waiting=everyone",
        "waiting=you&waiting=me",
        "status=open&sort=oldest&after=WyIyMDI2LTAxLTAxIiwxXQ",
    ],
)
def test_bad_input_never_gives_a_server_error(world, make, client_for, query):
    world.log(world.school_a)
    response = client_for(make.user(Role.CEO)).get(f"/cases/?{query}")
    assert response.status_code == 200


def test_a_value_not_on_the_list_is_explained(world, client_for):
    client = client_for(world.dsl_a)
    page = client.get("/cases/?status=nonsense").get_data(as_text=True)
    assert "Choose a status from the list" in page
    page = client.get("/cases/", query_string={"q": "x" * 101}).get_data(as_text=True)
    assert "Enter 100 characters or fewer to search for" in page


# --- search ----------------------------------------------------------------------------


def test_search_by_reference_exact_or_prefix_in_any_case(world, client_for):
    cases = [world.log(world.school_a) for _ in range(3)]
    client = client_for(world.dsl_a)
    first = cases[0].reference  # e.g. HMAT-2026-0001

    def search(term: str) -> list[str]:
        return listed(client.get("/cases/", query_string={"q": term}).get_data(as_text=True))

    assert search(first) == [first]
    assert search(first.lower()) == [first]
    assert search(f"  {first}  ") == [first]
    assert sorted(search(first[:-1])) == sorted(case.reference for case in cases)
    # Shorter than the trust's code: still the beginning of every reference.
    assert sorted(search(first[:2].lower())) == sorted(case.reference for case in cases)
    # Not a prefix: the middle of a reference does not match.
    assert search(first[5:]) == []
    # A term with letters no reference has (references are ASCII) is only a name.
    assert search(first[:3] + "é") == []
    # SQLite matches references with GLOB (listing.py ReferenceBegins): its wildcards,
    # like LIKE's, are searched for literally.
    for term in ("*", "?", "[", first[:2] + "*", first[:1] + "?" + first[2:4], "[A-Z]"):
        assert search(term) == [], term
    # The count (which seeks through the references' index) agrees with the page (which
    # reads by date).
    page = client.get("/cases/", query_string={"q": first[:-1].lower()}).get_data(as_text=True)
    assert "3 cases match" in page


def test_search_by_the_subjects_name(world, make, client_for):
    alice = world.log(world.school_a, subject=make.staff(world.school_a, name="Alice Brown"))
    bob = world.log(world.school_a, subject=make.staff(world.school_a, name="Bob Browning"))
    carol = world.log(world.school_a, subject=make.staff(world.school_a, name="Carol Smith"))
    client = client_for(world.dsl_a)

    def search(term: str) -> set[str]:
        page = client.get("/cases/", query_string={"q": term}).get_data(as_text=True)
        return set(listed(page))

    assert search("brown") == {alice.reference, bob.reference}
    assert search("ALICE") == {alice.reference}
    assert search("ol Sm") == {carol.reference}
    zoe = world.log(world.school_a, subject=make.staff(world.school_a, name="Zoë Ng"))
    assert search("Zoë") == {zoe.reference}
    # LIKE wildcards are searched for literally.
    assert search("%") == set()
    assert search("_") == set()


# --- sorting ---------------------------------------------------------------------------


def test_sorting(world, client_for):
    # Logged in this order, so references run first, second, third.
    first = world.log(world.school_a, occurred_on=date(2026, 2, 1), reported_on=date(2026, 2, 10))
    second = world.log(world.school_a, occurred_on=date(2026, 1, 1), reported_on=date(2026, 1, 3))
    third = world.log(world.school_a, occurred_on=date(2026, 3, 1), reported_on=date(2026, 3, 1))
    set_state(first, status=CaseStatus.CLOSED)
    set_state(third, status=CaseStatus.INVESTIGATION)
    client = client_for(world.dsl_a)

    def order(sort: str | None) -> list[str]:
        query = {"sort": sort} if sort else {}
        return listed(client.get("/cases/", query_string=query).get_data(as_text=True))

    refs = [first.reference, second.reference, third.reference]
    newest = [third.reference, first.reference, second.reference]
    assert order(None) == newest
    assert order("newest") == newest
    assert order("oldest") == list(reversed(newest))
    assert order("reference") == refs
    # Workflow order: reported, ..., investigation, ..., closed.
    assert order("status") == [second.reference, third.reference, first.reference]


# --- pages -----------------------------------------------------------------------------


def test_pages_keep_the_filters_and_the_sort(world, client_for):
    wanted = [
        world.log(world.school_a, platform="tiktok", reported_on=date(2026, 3, day))
        for day in range(4, 9)
    ]
    world.log(world.school_a, platform="instagram")
    client = client_for(world.dsl_a)

    first = client.get(
        "/cases/", query_string={"platform": "tiktok", "sort": "oldest", "per_page": 2}
    ).get_data(as_text=True)
    assert listed(first) == [c.reference for c in wanted[:2]]
    assert "5 cases match these filters" in first
    assert "Showing 1 to 2 of 5." in first
    assert link(first, "prev") is None
    next_url = link(first, "next")
    assert "platform=tiktok" in next_url
    assert "sort=oldest" in next_url
    assert "per_page=2" in next_url
    assert "page=2" in next_url
    # Applying the filters again keeps the page size.
    assert '<input type="hidden" name="per_page" value="2">' in first

    second = client.get(next_url).get_data(as_text=True)
    assert listed(second) == [c.reference for c in wanted[2:4]]
    assert "Showing 3 to 4 of 5." in second
    third = client.get(link(second, "next")).get_data(as_text=True)
    assert listed(third) == [wanted[4].reference]
    assert link(third, "next") is None

    back = client.get(link(third, "prev")).get_data(as_text=True)
    assert listed(back) == listed(second)


def test_date_filters_survive_paging(world, client_for):
    for day in range(1, 4):
        world.log(world.school_a, occurred_on=date(2026, 2, 1), reported_on=date(2026, 2, day))
    world.log(world.school_a, occurred_on=date(2026, 1, 1), reported_on=date(2026, 1, 1))
    client = client_for(world.dsl_a)
    query = [("reported_from", p) for p in ("1", "2", "2026")] + [("per_page", "2")]
    first = client.get("/cases/", query_string=query).get_data(as_text=True)
    second = client.get(link(first, "next")).get_data(as_text=True)
    assert len(listed(second)) == 1
    assert "3 cases match these filters" in second


def test_a_page_number_alone_shows_the_first_page(world, client_for):
    # Pages are found by cursor; a number without one (an old or hand-made address) is
    # only a label, so the list starts again rather than guessing.
    case = world.log(world.school_a)
    page = client_for(world.dsl_a).get("/cases/?page=7").get_data(as_text=True)
    assert listed(page) == [case.reference]
    assert "1 case</h2>" in page


def test_a_cursor_past_the_end_says_so(world, client_for):
    oldest = world.log(world.school_a, occurred_on=date(2026, 2, 1), reported_on=date(2026, 3, 1))
    world.log(world.school_a, occurred_on=date(2026, 2, 1), reported_on=date(2026, 3, 2))
    after_the_oldest = encode_cursor(oldest, Sort.NEWEST)
    page = client_for(world.dsl_a).get(f"/cases/?page=3&after={after_the_oldest}")
    text = page.get_data(as_text=True)
    assert "There are no more cases here" in text
    assert 'href="/cases/">Go to the first page' in text
    assert listed(text) == []


def _walk(client: FlaskClient, url: str, rel: str) -> list[list[str]]:
    """Every page from `url`, following `rel` links to the end: the references on each."""
    pages = []
    while url:
        page = client.get(url).get_data(as_text=True)
        pages.append(listed(page))
        url = link(page, rel)
        assert len(pages) < 50, "the links never end"
    return pages


@pytest.mark.parametrize("sort", ["newest", "oldest", "reference", "status"])
def test_keyset_pages_hold_every_case_exactly_once_both_ways(world, client_for, sort):
    # Ties on the date reported and on the status, so that the unique tie-breaker matters.
    cases = [
        world.log(
            world.school_a, occurred_on=date(2026, 2, 1), reported_on=date(2026, 3, 1 + number % 3)
        )
        for number in range(11)
    ]
    for case in cases[::4]:
        set_state(case, status=CaseStatus.CLOSED)
    client = client_for(world.dsl_a)
    forwards = _walk(client, f"/cases/?sort={sort}&per_page=3", "next")
    assert [len(page) for page in forwards] == [3, 3, 3, 2]
    shown = [reference for page in forwards for reference in page]
    assert sorted(shown) == sorted(case.reference for case in cases)
    assert shown == listed(client.get(f"/cases/?sort={sort}&per_page=20").get_data(as_text=True))
    # From the last page back to the first, through "Previous", the same pages.
    last = client.get(f"/cases/?sort={sort}&per_page=3").get_data(as_text=True)
    for _ in range(3):
        last = client.get(link(last, "next")).get_data(as_text=True)
    assert "Showing 10 to 11 of 11." in last
    backwards = _walk(client, link(last, "prev"), "prev")
    assert list(reversed(backwards)) == forwards[:-1]


def test_a_case_logged_between_pages_does_not_shift_the_next_page(world, client_for):
    first_cases = [
        world.log(world.school_a, occurred_on=date(2026, 2, 1), reported_on=date(2026, 3, day))
        for day in (1, 2, 3)
    ]
    client = client_for(world.dsl_a)
    page_one = client.get("/cases/?per_page=2").get_data(as_text=True)
    world.log(world.school_a, reported_on=date(2026, 3, 9))  # newest: goes on page one
    page_two = client.get(link(page_one, "next")).get_data(as_text=True)
    assert listed(page_two) == [first_cases[0].reference]
    assert "4 cases</h2>" in page_two


# --- empty states ----------------------------------------------------------------------


def test_no_cases_at_all(world, client_for):
    page = client_for(world.dsl_a).get("/cases/").get_data(as_text=True)
    assert "There are no cases yet." in page
    assert "When a concern is logged it will appear here." in page
    assert "No cases match" not in page


def test_no_cases_matching_the_filters(world, client_for):
    world.log(world.school_a, platform="instagram")
    page = client_for(world.dsl_a).get("/cases/?platform=tiktok").get_data(as_text=True)
    assert "No cases match these filters" in page
    assert "clear the filters</a>" in page
    assert "When a concern is logged" not in page


# --- the query budget ------------------------------------------------------------------

QUERY_BUDGET = 3  # data queries, including the one that loads the signed-in session and user
# Recording the read (case.list.viewed): lock the audit chain's head, insert the event.
AUDIT_STATEMENTS = 2


def _is_audit_statement(statement: str) -> bool:
    return "audit_chain_head" in statement or "INTO audit_events" in statement


def test_a_list_page_costs_three_queries_whatever_its_size(world, make, app, client_for):
    reporter = world.dsl_a
    subjects = [make.staff(world.school_a) for _ in range(4)]
    for number in range(55):
        make.case(
            world.school_a,
            subject=subjects[number % 4],
            by=reporter,
            clauses=("3.4", "3.2(e)", "2.3"),
            platform="tiktok" if number % 2 else "instagram",
        )
    world.log(world.school_b)  # another school, so the school filter has choices
    ceo = make.user(Role.CEO)
    # Signing in has just set last_seen_at, so these requests do not also write it.
    client = client_for(ceo)
    engine = _db.engine

    counts = {}
    for per_page in (5, 50):
        # As at the end of a real request: the test client shares this test's app
        # context, so the view's transaction would otherwise still be open.
        _db.session.rollback()
        with count_statements(engine) as log:
            page = client.get(
                "/cases/", query_string={"per_page": per_page, "clause": "3.4", "sort": "status"}
            ).get_data(as_text=True)
        assert len(listed(page)) == per_page
        assert "56 cases match these filters" in page
        assert "2.3, 3.2(e), 3.4" in page
        audit_statements = [q for q in log.queries if _is_audit_statement(q)]
        assert len(audit_statements) == AUDIT_STATEMENTS, log.report()
        assert len(log.queries) - AUDIT_STATEMENTS <= QUERY_BUDGET, log.report()
        # SQLite also sends BEGIN IMMEDIATE for each of the request's two transactions
        # (the session check, then the view and its audit event); PostgreSQL sends none.
        assert len(log) - len(log.queries) <= 2, log.report()
        counts[per_page] = len(log)
    assert counts[5] == counts[50]


def test_an_overdue_lado_referral_is_red_in_the_list(make, login, db):
    from datetime import UTC, datetime, timedelta

    from tracker.workflow import services as wf

    school = make.school()
    dsl = make.user(Role.DSL, school)
    late = make.case(school, by=dsl)
    on_time = make.case(school, by=dsl)
    answers = {**dict.fromkeys(wf.HARM_QUESTIONS, "no"), "harm_child": "yes"}
    wf.triage(
        late,
        track="allegation",
        answers=answers,
        rationale="r",
        by=dsl,
        now=datetime.now(UTC) - timedelta(days=7),
    )
    wf.triage(on_time, track="allegation", answers=answers, rationale="r", by=dsl)
    db.session.commit()
    html = login(dsl).get("/cases/").get_data(as_text=True)
    assert html.count("LADO referral overdue") == 1
    row = html[html.index(late.reference) :]
    assert row.index("LADO referral overdue") < row.index("</tr>")


# --- at a glance: next step, due, school, the same person -------------------------------


def _row(page: str, reference: str) -> str:
    row = page[page.index(f">{reference}</a>") :]
    return row[: row.index("</tr>")]


def test_the_school_column_shows_for_more_than_one_school(world, make, client_for):
    case = world.log(world.school_a)
    page = client_for(make.user(Role.CEO)).get("/cases/").get_data(as_text=True)
    assert ">School</th>" in page
    assert "Ashford Primary" in _row(page, case.reference)


def test_each_row_says_its_next_step_and_when_it_is_due(world, make, app, client_for):
    from tracker.clock import today
    from tracker.workflow import services as wf
    from tracker.workflow.clocks import add_working_days

    make.user(Role.HEADTEACHER, world.school_a)  # decides the school's cases
    fresh = world.log(world.school_a, reported_on=today())
    late = world.log(world.school_a, reported_on=date(2026, 3, 4))
    deciding = world.log(world.school_a, reported_on=today())
    no = dict.fromkeys(wf.HARM_QUESTIONS, "no")
    wf.triage(deciding, track="low_level", answers=no, rationale="r", by=world.dsl_a)
    wf.start_investigation(deciding, investigator=world.dsl_a, by=world.dsl_a)
    wf.submit_for_decision(deciding, summary="s", by=world.dsl_a)
    closed = world.log(world.school_a)
    set_state(closed, status=CaseStatus.WITHDRAWN)
    _db.session.commit()
    page = client_for(world.dsl_a).get("/cases/").get_data(as_text=True)
    assert ">Next step</th>" in page and ">Due</th>" in page

    row = _row(page, fresh.reference)
    due_day = add_working_days(today(), app.config["TRIAGE_DUE_WORKING_DAYS"])
    assert '"next-step">Triage</td>' in row
    assert f"{due_day.day} {due_day:%B %Y}, 17:00" in row, row
    assert "Overdue" not in row
    late_row = _row(page, late.reference)
    assert '"next-step">Triage</td>' in late_row and "Overdue" in late_row
    decide_row = _row(page, deciding.reference)
    decision_due = add_working_days(today(), app.config["DECISION_DUE_WORKING_DAYS"])
    assert '"next-step">Decide</td>' in decide_row
    assert f"{decision_due.day} {decision_due:%B %Y}" in decide_row
    assert '"next-step"></td>' in _row(page, closed.reference)


def test_cases_about_the_same_person_are_marked_counting_only_visible_ones(world, make, client_for):
    subject = make.staff(world.school_a, name="Dana Frost")
    mine = [world.log(world.school_a, subject=subject) for _ in range(3)]
    # The same person, since moved to the other school, has a case there: the first
    # school's lead cannot see it, so it is not counted for them.
    subject.school_id = world.school_b.id
    _db.session.commit()
    world.log(world.school_b, subject=subject)
    alone = world.log(world.school_a)
    page = client_for(world.dsl_a).get("/cases/").get_data(as_text=True)
    for case in mine:
        assert "3 cases about this person" in _row(page, case.reference)
    assert "cases about this person" not in _row(page, alone.reference)
    ceo_page = client_for(make.user(Role.CEO)).get("/cases/").get_data(as_text=True)
    assert "4 cases about this person" in _row(ceo_page, mine[0].reference)
    # The mark leads to the list of that person's cases.
    assert 'href="/cases/?q=Dana+Frost"' in page
    found = client_for(world.dsl_a).get("/cases/?q=Dana+Frost").get_data(as_text=True)
    assert sorted(listed(found)) == sorted(case.reference for case in mine)


def test_filters_are_folded_away_and_those_in_use_are_listed(world, client_for):
    world.log(world.school_a, platform="tiktok")
    client = client_for(world.dsl_a)
    page = client.get("/cases/").get_data(as_text=True)
    assert '<details class="govuk-details govuk-!-margin-bottom-4">' in page
    assert 'data-testid="active-filters"' not in page
    page = client.get("/cases/?platform=tiktok&status=open").get_data(as_text=True)
    assert '<details class="govuk-details govuk-!-margin-bottom-4">' in page  # still folded
    assert "Platform: TikTok" in page and "Status: Any open status" in page
    # A filter with a problem opens the filters, so that its message is beside it.
    page = client.get("/cases/?platform=myspace").get_data(as_text=True)
    assert '<details class="govuk-details govuk-!-margin-bottom-4" open>' in page


def test_open_status_and_waiting_for_you_filters(world, make, client_for):
    from tracker.clock import today
    from tracker.workflow import services as wf

    head = make.user(Role.HEADTEACHER, world.school_a)
    triage_me = world.log(world.school_a, reported_on=today())
    deciding = world.log(world.school_a)
    no = dict.fromkeys(wf.HARM_QUESTIONS, "no")
    wf.triage(deciding, track="low_level", answers=no, rationale="r", by=world.dsl_a)
    wf.start_investigation(deciding, investigator=world.dsl_a, by=world.dsl_a)
    wf.submit_for_decision(deciding, summary="s", by=world.dsl_a)
    closed = world.log(world.school_a)
    set_state(closed, status=CaseStatus.CLOSED)
    _db.session.commit()

    page = client_for(world.dsl_a).get("/cases/?waiting=you").get_data(as_text=True)
    assert listed(page) == [triage_me.reference]
    page = client_for(head).get("/cases/?waiting=you").get_data(as_text=True)
    assert listed(page) == [deciding.reference]
    page = client_for(world.dsl_a).get("/cases/?status=open").get_data(as_text=True)
    assert sorted(listed(page)) == sorted([triage_me.reference, deciding.reference])


# --- one statement per shape ---------------------------------------------------------------


def test_viewers_of_the_same_shape_each_get_their_own_reach(world, make, client_for):
    """The list's statement is built once per shape and run with each viewer's values
    (tracker/cases/listing.py): two leads at different schools, one after the other, and
    a lead who is the subject of a case, each see only what they may."""
    at_a = world.log(world.school_a, subject=make.staff(world.school_a, name="Ann Able"))
    at_b = world.log(world.school_b, subject=make.staff(world.school_b, name="Ann Baker"))
    deputy = make.user(Role.DEPUTY_DSL, world.school_a)
    about_deputy = world.log(world.school_a, subject=make.staff(world.school_a, user=deputy))
    for _ in range(2):  # the second time round, every shape is built already
        for user, expected in (
            (world.dsl_a, {at_a.reference, about_deputy.reference}),
            (world.dsl_b, {at_b.reference}),
            (deputy, {at_a.reference}),
        ):
            client = client_for(user)
            assert set(listed(client.get("/cases/").get_data(as_text=True))) == expected
            searched = client.get("/cases/", query_string={"q": "Ann"}).get_data(as_text=True)
            assert set(listed(searched)) == expected & {at_a.reference, at_b.reference}
            waiting = client.get("/cases/?waiting=you").get_data(as_text=True)
            assert set(listed(waiting)) == expected  # reported: waiting for triage


def test_a_shapes_statement_finds_nothing_with_the_viewer_left_out(world, app):
    """Built for a stand-in viewer with impossible ids: a value not bound by name would
    match nothing rather than someone else's cases, and a run that leaves out a named
    value is refused before it reaches the database."""
    from tracker.auth.permissions import Viewer
    from tracker.cases.listing import CaseFilters, _shape, _statement, case_list_query

    world.log(world.school_a)
    filters = CaseFilters(search="HMAT")
    statement, params = case_list_query(world.dsl_a, filters)
    assert len(_db.session.execute(statement, params).all()) == 1
    viewer = Viewer.of(world.dsl_a)
    built = _statement(_shape(viewer, filters, world.dsl_a.trust.code))
    assert {"viewer_id", "viewer_trust_id", "viewer_case_schools", "f_reference"} <= built.names
    without_viewer = {key: value for key, value in params.items() if key not in viewer.params()}
    assert _db.session.execute(built.statement, without_viewer).all() == []
    _db.session.rollback()


def test_a_search_alone_is_planned_for_its_term_on_postgresql(world, make, client_for):
    """A generic plan cannot know how many people a name matches (listing.py _planned,
    db.py configure_postgresql): on PostgreSQL a search's transaction asks for plans made
    for its own values; a list without a search, and SQLite, leave the planner alone."""
    alice = world.log(world.school_a, subject=make.staff(world.school_a, name="Alice Brown"))
    client = client_for(world.dsl_a)
    postgresql = _db.engine.dialect.name == "postgresql"
    for query, searching in (({"q": "alice"}, True), ({"status": "reported"}, False)):
        _db.session.rollback()
        with count_statements(_db.engine) as log:
            page = client.get("/cases/", query_string=query).get_data(as_text=True)
        assert alice.reference in listed(page)
        planned = [q for q in log.queries if "plan_cache_mode" in q]
        assert len(planned) == (1 if searching and postgresql else 0), log.report()
    _db.session.rollback()
    with count_statements(_db.engine) as log:
        response = client.get("/cases/export.csv", query_string={"q": "alice"})
    assert response.status_code == 200
    assert sum("plan_cache_mode" in q for q in log.queries) == (1 if postgresql else 0)
