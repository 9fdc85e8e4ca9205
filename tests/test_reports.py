"""The governance report: its figures against a hand-counted trust, who may see it and of
which schools, small numbers suppressed for trustees (page, CSV and PDF), the period form,
the audit events, and that it is counted in the database, not case by case.

The trust below is built through the real services (logging, triage, the LADO referral,
investigation, decision, closing, withdrawal, suspension), with the times each step
happened. The report is for the spring term 2025 (1 January to 31 March, 90 days); the
period before it is 3 October to 31 December 2024. Every KCSIE target of these cases has
passed by the time the tests run, so no figure depends on the day they run.

At Northfield (A), spring term:
  c1  6 Jan  low-level; decided 21 Jan (advice and guidance, management advice), closed 27 Jan
  c2 13 Jan  allegation, triaged Friday 17 Jan, referred Monday 20 Jan 16:00 (due 17:00: the
             weekend skipped, on time); suspended 21 Jan to 3 Feb (14 days); decided 20 Mar
             (substantiated, final written warning), closed 25 Mar; cites 3.4 and 3.2(e)
  c3 31 Mar  allegation, triaged Thursday 17 Apr; Good Friday, the weekend and Easter Monday
             skipped, due Tuesday 22 Apr 17:00; referred 22 Apr 16:30: on time
  c4 31 Mar  allegation, triaged 17 Apr; referred Wednesday 23 Apr: late
  c6 10 Feb  low-level, still in triage
  c7  3 Mar  withdrawn 6 Mar, never triaged
At Riverside (B), spring term:
  c5  3 Feb  allegation, triaged 3 Feb, never referred: overdue; suspended from 6 Feb, not
             ended
  c8 17 Mar  never triaged; reported by the member of staff themselves, on Facebook
At A, the period before:
  p1  4 Nov 2024  low-level; decided 20 Nov (no further action), closed 25 Nov
  p2  2 Dec 2024  never triaged, still open
and before both: one withdrawn in June 2024.

Every case cites clause 3.4, came to light by a parent's complaint and happened on
Instagram, unless said otherwise.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from tests.conftest import sign_in
from tests.querycount import count_statements
from tests.test_templates_read_nothing import watching_renders
from tracker.audit.actions import AuditAction
from tracker.audit.models import AuditEvent
from tracker.auth.models import User
from tracker.auth.roles import Role
from tracker.auth.services import grant_role
from tracker.cases.models import Case
from tracker.cases.services import CaseDetails, CitedClause, create_case, policy_for
from tracker.clock import today
from tracker.extensions import db as _db
from tracker.orgs.models import School
from tracker.policy.services import version_in_force
from tracker.staff.models import StaffMember
from tracker.workflow import services as wf
from tracker.workflow.clocks import lado_due_at

UK = ZoneInfo("Europe/London")
NO_HARM = dict.fromkeys(wf.HARM_QUESTIONS, "no")
HARM = {**NO_HARM, "harm_child": "yes"}
SPRING = "/reports/?period=term&term=2025-spring"


def uk(*parts: int) -> datetime:
    """A UK wall-clock time, as the aware UTC datetime the services take."""
    return datetime(*parts, tzinfo=UK).astimezone(UTC)


@dataclass
class Trust:
    school_a: School
    school_b: School
    users: dict[str, User]
    cases: dict[str, Case]


def _log(
    school: School,
    by: User,
    reported_on: date,
    *,
    subject: StaffMember,
    clauses: tuple[str, ...] = ("3.4",),
    source: str = "parent_complaint",
    platform: str = "instagram",
) -> Case:
    in_force = version_in_force(policy_for(school.trust_id), reported_on)
    case = create_case(
        school=school,
        subject=subject,
        details=CaseDetails(
            source=source,
            source_detail="",
            occurred_on=reported_on,
            reported_on=reported_on,
            platform=platform,
            platform_detail="",
            summary="Posted about a pupil.",
        ),
        cited=[CitedClause(in_force.clause(ref).id, f"Why {ref} applies") for ref in clauses],
        by=by,
        today=today(),
    )
    _db.session.commit()
    return case


def _decide(case: Case, *, outcome: str, sanction: str, on: date, by: User) -> None:
    wf.decide(
        case,
        wf.DecisionInput(
            outcome=outcome,
            sanction=sanction,
            rationale="As found",
            may_mention_in_references=False,
        ),
        by=by,
        today=on,
    )


def _low_level(case: Case, people: dict[str, User], *, steps: tuple[datetime, ...]) -> None:
    """Triage, investigate and submit a low-level concern at A at the times given."""
    dsl, deputy = people["dsl_a"], people["deputy_a"]
    triaged, investigated, submitted = steps
    wf.triage(case, track="low_level", answers=NO_HARM, rationale="Low", by=dsl, now=triaged)
    wf.start_investigation(case, investigator=deputy, by=dsl, now=investigated)
    wf.submit_for_decision(case, summary="Found", by=deputy, now=submitted)


@pytest.fixture
def trust(make, db) -> Trust:
    horizon = make.trust(name="Horizon Trust", code="HMAT")
    make.policy(horizon)
    a = make.school(horizon, name="Northfield")
    b = make.school(horizon, name="Riverside")
    users = {
        "dsl_a": make.user(Role.DSL, a, name="Dee Ess"),
        "deputy_a": make.user(Role.DEPUTY_DSL, a),
        "head_a": make.user(Role.HEADTEACHER, a),
        "dsl_b": make.user(Role.DSL, b),
        "head_b": make.user(Role.HEADTEACHER, b),
        "ceo": make.user(Role.CEO, trust=horizon),
        "chair": make.user(Role.CHAIR, trust=horizon),
        "dpo": make.user(Role.DPO, trust=horizon),
        "auditor": make.user(Role.AUDITOR, trust=horizon),
        "auditor_b": make.user(trust=horizon),
        "admin": make.user(Role.TRUST_ADMIN, trust=horizon),
        "staff_a": make.user(Role.STAFF, a),
    }
    grant_role(users["auditor_b"], Role.AUDITOR, school=b)
    db.session.commit()
    dsl, deputy, head, dsl_b = users["dsl_a"], users["deputy_a"], users["head_a"], users["dsl_b"]
    c: dict[str, Case] = {}

    c["c1"] = _log(a, dsl, date(2025, 1, 6), subject=make.staff(a))
    _low_level(c["c1"], users, steps=(uk(2025, 1, 7, 10), uk(2025, 1, 8, 10), uk(2025, 1, 16, 10)))
    _decide(c["c1"], outcome="advice_and_guidance", sanction="management_advice",
            on=date(2025, 1, 21), by=head)  # fmt: skip
    wf.close_case(c["c1"], by=dsl, today=date(2025, 1, 27))
    db.session.commit()

    c["c2"] = _log(a, dsl, date(2025, 1, 13), subject=make.staff(a), clauses=("3.4", "3.2(e)"))
    wf.triage(c["c2"], track="allegation", answers=HARM, rationale="Harm", by=dsl,
              now=uk(2025, 1, 17, 11))  # fmt: skip
    assert c["c2"].lado_due_at == uk(2025, 1, 20, 17)
    wf.record_lado_referral(c["c2"], referred_at=uk(2025, 1, 20, 16), method="phone",
                            reference="L1", by=dsl)  # fmt: skip
    wf.record_lado_advice(c["c2"], advice="Investigate", advised_on=date(2025, 1, 20),
                          today=today(), by=dsl)  # fmt: skip
    wf.start_investigation(c["c2"], investigator=deputy, by=dsl, now=uk(2025, 1, 21, 9))
    wf.record_suspension(c["c2"], starts_on=date(2025, 1, 21), ends_on=date(2025, 2, 3),
                         reason="Risk", reviewed_on=None, by=dsl)  # fmt: skip
    wf.submit_for_decision(c["c2"], summary="Found", by=deputy, now=uk(2025, 3, 10, 10))
    _decide(c["c2"], outcome="substantiated", sanction="final_written_warning",
            on=date(2025, 3, 20), by=head)  # fmt: skip
    wf.close_case(c["c2"], by=dsl, today=date(2025, 3, 25))
    db.session.commit()

    for name, referred in (("c3", uk(2025, 4, 22, 16, 30)), ("c4", uk(2025, 4, 23, 10))):
        c[name] = _log(a, dsl, date(2025, 3, 31), subject=make.staff(a))
        wf.triage(c[name], track="allegation", answers=HARM, rationale="Harm", by=dsl,
                  now=uk(2025, 4, 17, 12))  # fmt: skip
        assert c[name].lado_due_at == uk(2025, 4, 22, 17)
        wf.record_lado_referral(c[name], referred_at=referred, method="email", reference="",
                                by=dsl)  # fmt: skip
        db.session.commit()

    c["c5"] = _log(b, dsl_b, date(2025, 2, 3), subject=make.staff(b))
    wf.triage(c["c5"], track="allegation", answers=HARM, rationale="Harm", by=dsl_b,
              now=uk(2025, 2, 3, 10))  # fmt: skip
    wf.record_suspension(c["c5"], starts_on=date(2025, 2, 6), ends_on=None, reason="Risk",
                         reviewed_on=None, by=dsl_b)  # fmt: skip
    db.session.commit()

    c["c6"] = _log(a, dsl, date(2025, 2, 10), subject=make.staff(a))
    wf.triage(c["c6"], track="low_level", answers=NO_HARM, rationale="Low", by=dsl,
              now=uk(2025, 2, 11, 10))  # fmt: skip
    db.session.commit()

    c["c7"] = _log(a, dsl, date(2025, 3, 3), subject=make.staff(a))
    wf.withdraw_case(c["c7"], reason="Mistaken identity", by=dsl, today=date(2025, 3, 6))
    db.session.commit()

    c["c8"] = _log(b, dsl_b, date(2025, 3, 17), subject=make.staff(b), source="self_report",
                   platform="facebook")  # fmt: skip

    c["p1"] = _log(a, dsl, date(2024, 11, 4), subject=make.staff(a))
    _low_level(c["p1"], users, steps=(uk(2024, 11, 5, 10), uk(2024, 11, 6, 10),
                                      uk(2024, 11, 13, 10)))  # fmt: skip
    _decide(c["p1"], outcome="no_further_action", sanction="none", on=date(2024, 11, 20),
            by=head)  # fmt: skip
    wf.close_case(c["p1"], by=dsl, today=date(2024, 11, 25))
    db.session.commit()
    c["p2"] = _log(a, dsl, date(2024, 12, 2), subject=make.staff(a))

    c["old"] = _log(a, dsl, date(2024, 6, 3), subject=make.staff(a))
    wf.withdraw_case(c["old"], reason="Duplicate", by=dsl, today=date(2024, 6, 4))
    db.session.commit()
    return Trust(school_a=a, school_b=b, users=users, cases=c)


@pytest.fixture
def client_for(app):
    """A signed-in client of their own for each person."""

    def signed_in(user: User) -> FlaskClient:
        client = app.test_client()
        assert sign_in(client, user.email).status_code == 302
        return client

    return signed_in


_CELL = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.S)


def table_rows(html: str, key: str) -> dict[str, list[str]]:
    """A section's table on the page: {row label: [its other cells]}."""
    section = re.search(rf'data-testid="section-{key}">(.*?)</section>', html, re.S)
    assert section, f"no section {key}"
    body = section.group(1).split("<tbody", 1)[1]
    rows = {}
    for row in re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', body, re.S):
        cells = [re.sub(r"<[^>]+>", "", cell).strip().replace("&amp;", "&") for cell in
                 _CELL.findall(row)]  # fmt: skip
        rows[cells[0]] = cells[1:]
    return rows


def page(client: FlaskClient, url: str = SPRING) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


# --- the figures -----------------------------------------------------------------------


def test_the_lado_deadlines_skip_the_weekend_and_easter():
    assert lado_due_at(uk(2025, 1, 17, 11)) == uk(2025, 1, 20, 17)  # Friday to Monday
    assert lado_due_at(uk(2025, 4, 17, 12)) == uk(2025, 4, 22, 17)  # Good Friday to Easter Monday


def test_the_trust_report_matches_the_hand_count(trust, client_for):
    html = page(client_for(trust.users["ceo"]))
    assert "Spring term 2024 to 2025: Horizon Trust, all schools" in html
    assert "from 1 January 2025 to 31 March 2025" in html
    assert "from 3 October 2024 to 31 December 2024" in html
    overview = table_rows(html, "overview")
    assert overview["Concerns reported"] == ["8", "2", "up 6"]
    assert overview["Of which allegations"] == ["4", "0", "up 4"]
    assert overview["Of which decided, closed or withdrawn by now"] == ["3", "1", "up 2"]
    assert overview["Suspensions begun"] == ["2", "0", "up 2"]
    assert table_rows(html, "track") == {
        "Low-level concern": ["2", "1", "up 1"],
        "Allegation": ["4", "0", "up 4"],
        "Not triaged yet": ["2", "1", "up 1"],
    }
    sources = table_rows(html, "source")
    assert sources["Complaint from a parent or carer"] == ["7", "2", "up 5"]
    assert sources["The member of staff reported it themselves"] == ["1", "0", "up 1"]
    assert sources["Anonymous report"] == ["0", "0", "no change"]
    assert table_rows(html, "platform") == {
        "Instagram": ["7", "2", "up 5"],
        "Facebook": ["1", "0", "up 1"],
    }
    clauses = table_rows(html, "clause")
    assert [label.split()[0] for label in clauses] == ["3.2(e)", "3.4"]
    assert list(clauses.values()) == [["1", "0", "up 1"], ["8", "2", "up 6"]]
    assert table_rows(html, "outcome") == {
        "Allegation: substantiated": ["1", "0", "up 1"],
        "Low-level concern: no further action": ["0", "1", "down 1"],
        "Low-level concern: advice and guidance": ["1", "0", "up 1"],
    }
    assert table_rows(html, "sanction") == {
        "No sanction": ["0", "1", "down 1"],
        "Management advice": ["1", "0", "up 1"],
        "Final written warning (disregarded after 12 months)": ["1", "0", "up 1"],
    }
    # Within a month: c1 and c7 of the 8 (c2 took over two months, the rest are open).
    # Within 3 and 12 months: c2 too. The period before: p1 of p1 and p2. The LADO: c2 and
    # c3 in time, c4 late, c5 not referred and past its deadline.
    assert table_rows(html, "timeliness") == {
        "Resolved within 1 month (most cases)": [
            "25% (2 of 8)", "50% (1 of 2)", "down 25 percentage points"],
        "Resolved within 3 months (nearly all)": [
            "38% (3 of 8)", "50% (1 of 2)", "down 12 percentage points"],
        "Resolved within 12 months (all but exceptional)": [
            "38% (3 of 8)", "50% (1 of 2)", "down 12 percentage points"],
        "Allegations resolved within 1 month (most cases)": [
            "0% (0 of 4)", "no cases", "no comparison"],
        "Allegations resolved within 3 months (nearly all)": [
            "25% (1 of 4)", "no cases", "no comparison"],
        "Allegations resolved within 12 months (all but exceptional)": [
            "25% (1 of 4)", "no cases", "no comparison"],
        "Allegations referred to the LADO within the deadline": [
            "50% (2 of 4)", "no cases", "no comparison"],
    }  # fmt: skip
    assert table_rows(html, "lado") == {
        "Referred within the deadline": ["2", "0", "up 2"],
        "Referred after the deadline": ["1", "0", "up 1"],
        "Not referred yet, past the deadline": ["1", "0", "up 1"],
        "Not referred yet, deadline still to come": ["0", "0", "no change"],
    }
    # At 31 March: c3, c4 and c8 under a month; c5 and c6 one to three; p2 three to twelve.
    # At 31 December: p2, under a month.
    assert table_rows(html, "open") == {
        "Under 1 month": ["3", "1", "up 2"],
        "1 to 3 months": ["2", "0", "up 2"],
        "3 to 12 months": ["1", "0", "up 1"],
        "More than 12 months": ["0", "0", "no change"],
    }
    assert table_rows(html, "suspensions") == {
        "Up to 2 weeks": ["1", "0", "up 1"],
        "2 weeks to 1 month": ["0", "0", "no change"],
        "1 to 3 months": ["0", "0", "no change"],
        "More than 3 months": ["0", "0", "no change"],
        "Not ended yet": ["1", "0", "up 1"],
        "Average length of those ended": ["14 days", "none", "no comparison"],
    }
    schools = table_rows(html, "schools")
    assert schools == {
        "Northfield": ["6", "2", "3", "33% (2 of 6)", "67% (2 of 3)"],
        "Riverside": ["2", "0", "1", "0% (0 of 2)", "0% (0 of 1)"],
    }


# --- who sees what ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "place", "reported"),
    [
        ("head_a", "Northfield", "6"),
        ("head_b", "Riverside", "2"),
        ("auditor_b", "Riverside", "2"),
        ("dpo", "Horizon Trust, all schools", "8"),
        ("auditor", "Horizon Trust, all schools", "8"),
    ],
)
def test_each_reader_sees_the_schools_of_their_scope(trust, client_for, who, place, reported):
    html = page(client_for(trust.users[who]))
    assert f"Spring term 2024 to 2025: {place}</h2>" in html
    assert table_rows(html, "overview")["Concerns reported"][0] == reported
    if who in {"dpo", "auditor"}:
        assert set(table_rows(html, "schools")) == {"Northfield", "Riverside"}
    else:
        # One school: no list of schools to choose from, no table by school, and nothing
        # of the other school.
        assert 'name="school"' not in html and 'data-testid="section-schools"' not in html
        other = "Riverside" if place == "Northfield" else "Northfield"
        assert other not in html


@pytest.mark.parametrize("who", ["admin", "dsl_a", "staff_a"])
def test_those_without_a_reading_role_are_refused_the_report_and_its_files(trust, client_for, who):
    client = client_for(trust.users[who])
    for url in (SPRING, SPRING.replace("/?", "/report.csv?"), SPRING.replace("/?", "/report.pdf?")):
        assert client.get(url).status_code == 403
    assert 'href="/reports/"' not in page(client, "/")


def test_the_menu_offers_the_report_to_its_readers(trust, client_for):
    assert 'href="/reports/"' in page(client_for(trust.users["head_a"]), "/")


def test_a_trust_reader_may_narrow_the_report_to_one_school(trust, client_for):
    school_b = trust.school_b.id
    html = page(client_for(trust.users["ceo"]), f"{SPRING}&school={school_b}")
    assert "Spring term 2024 to 2025: Riverside</h2>" in html
    assert table_rows(html, "overview")["Concerns reported"] == ["2", "0", "up 2"]
    assert table_rows(html, "track")["Allegation"] == ["1", "0", "up 1"]


def test_a_school_outside_the_readers_reach_is_refused_on_the_form(trust, client_for, make):
    elsewhere = make.school(make.trust(name="Another Trust"), name="Elsewhere")
    html = page(client_for(trust.users["ceo"]), f"{SPRING}&school={elsewhere.id}")
    assert "Choose a school from the list" in html
    assert 'data-testid="section-overview"' not in html
    # A headteacher has no list: a school in the address changes nothing.
    html = page(client_for(trust.users["head_a"]), f"{SPRING}&school={trust.school_b.id}")
    assert "Spring term 2024 to 2025: Northfield</h2>" in html


def test_cases_about_the_reader_are_not_counted(trust, client_for, make, db):
    head = trust.users["head_a"]
    about_head = make.staff(trust.school_a, user=head)
    _log(trust.school_a, trust.users["dsl_a"], date(2025, 2, 3), subject=about_head)
    assert table_rows(page(client_for(head)), "overview")["Concerns reported"][0] == "6"
    assert (
        table_rows(page(client_for(trust.users["ceo"])), "overview")["Concerns reported"][0] == "9"
    )


# --- small numbers, for trustees -----------------------------------------------------------


def test_the_chairs_report_suppresses_small_numbers(trust, client_for):
    html = page(client_for(trust.users["chair"]))
    assert 'data-testid="suppression-notice"' in html
    assert table_rows(html, "overview")["Concerns reported"] == ["8", "fewer than 5", "not shown"]
    assert table_rows(html, "track") == {
        "Low-level concern": ["fewer than 5", "fewer than 5", "not shown"],
        "Allegation": ["fewer than 5", "0", "not shown"],
        "Not triaged yet": ["fewer than 5", "fewer than 5", "not shown"],
    }
    assert table_rows(html, "source")["Complaint from a parent or carer"] == [
        "7", "fewer than 5", "not shown"]  # fmt: skip
    timeliness = table_rows(html, "timeliness")
    # 2 of 8: from a small count, so not shown; 0 of 4: four cases.
    assert timeliness["Resolved within 1 month (most cases)"] == ["not shown"] * 3
    assert timeliness["Allegations resolved within 1 month (most cases)"][0] == "not shown"
    assert table_rows(html, "suspensions")["Average length of those ended"][0] == "not shown"
    # Nothing of the hand count's small figures is left on the page.
    for figure in ("25%", "38%", "(2 of 8)", "14 days"):
        assert figure not in html
    # The chart draws no bar for a suppressed count, and says why in words.
    chart = re.search(r'<svg class="app-chart".*?aria-labelledby="chart-track.*?</svg>', html, re.S)
    assert chart and "<rect" not in chart.group(0) and "fewer than 5" in chart.group(0)


def test_the_threshold_comes_from_configuration(make_app, make_trust_for):
    app = make_app(REPORT_SUPPRESS_BELOW=3)
    with app.app_context():
        chair = make_trust_for()
        client = app.test_client()
        assert sign_in(client, chair.email).status_code == 302
        html = page(client)
    assert table_rows(html, "overview")["Concerns reported"] == ["4", "fewer than 3", "not shown"]


@pytest.fixture
def make_trust_for(make):
    """A trust with four cases this spring and two the period before, and its chair."""

    def build() -> User:
        trust = make.trust(name="Small Trust", code="SMT")
        make.policy(trust)
        school = make.school(trust, name="Only School")
        dsl = make.user(Role.DSL, school)
        for reported_on in (date(2025, 1, 6), date(2025, 1, 7), date(2025, 2, 3),
                            date(2025, 3, 3), date(2024, 11, 4), date(2024, 12, 2)):  # fmt: skip
            _log(school, dsl, reported_on, subject=make.staff(school))
        return make.user(Role.CHAIR, trust=trust)

    return build


def _csv(client: FlaskClient, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def _figures(rows: list[list[str]]) -> dict[tuple[str, str], list[str]]:
    start = rows.index(["section", "measure", "this_period", "previous_period", "change"])
    return {(row[0], row[1]): row[2:] for row in rows[start + 1 :]}


def _pdf_text(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return " ".join(" ".join(p.extract_text() or "" for p in reader.pages).split())


def test_the_chairs_csv_and_pdf_are_suppressed_too(trust, client_for):
    client = client_for(trust.users["chair"])
    figures = _figures(_csv(client, SPRING.replace("/?", "/report.csv?")))
    assert figures[("At a glance", "Concerns reported")] == ["8", "fewer than 5", "not shown"]
    assert figures[("Concerns by track", "Allegation")] == ["fewer than 5", "0", "not shown"]
    assert figures[("KCSIE timeliness", "Resolved within 1 month (most cases)")] == [
        "not shown"] * 3  # fmt: skip
    assert figures[("By school", "Northfield: concerns reported")][:2] == [
        "6", "fewer than 5"]  # fmt: skip
    text = _pdf_text(client, SPRING.replace("/?", "/report.pdf?"))
    assert "Governance report: Spring term 2024 to 2025" in text
    assert "fewer than 5" in text and "For trustees" in text
    for figure in ("25%", "(2 of 8)", "14 days"):
        assert figure not in text


def test_the_ceos_csv_and_pdf_carry_every_figure(trust, client_for):
    client = client_for(trust.users["ceo"])
    figures = _figures(_csv(client, SPRING.replace("/?", "/report.csv?")))
    assert figures[("At a glance", "Concerns reported")] == ["8", "2", "6"]
    assert figures[("Concerns by track", "Low-level concern")] == ["2", "1", "1"]
    assert figures[("Outcomes of decided cases", "Low-level concern: no further action")] == [
        "0", "1", "-1"]  # fmt: skip
    assert figures[("KCSIE timeliness", "Resolved within 1 month (most cases)")] == [
        "25% (2 of 8)", "50% (1 of 2)", "-25"]  # fmt: skip
    assert figures[("By school", "Riverside: concerns reported")][:2] == ["2", "0"]
    text = _pdf_text(client, SPRING.replace("/?", "/report.pdf?"))
    for words in ("Horizon Trust, all schools", "25% (2 of 8)", "50% (2 of 4)", "14 days",
                  "Concerns by clause of the policy cited", "Northfield"):  # fmt: skip
        assert words in text, words


def test_a_csv_cell_a_spreadsheet_would_run_is_made_text(trust, client_for, db):
    trust.school_b.name = '=HYPERLINK("http://x.example")'
    db.session.commit()
    rows = _csv(client_for(trust.users["ceo"]), SPRING.replace("/?", "/report.csv?"))
    cells = [cell for row in rows for cell in row]
    assert '\'=HYPERLINK("http://x.example"): concerns reported' in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)


# --- the form ----------------------------------------------------------------------------


def test_without_choices_the_report_is_for_the_current_term(trust, client_for):
    html = page(client_for(trust.users["ceo"]), "/reports/")
    from tracker.reports.periods import term_of

    current = term_of(today())
    assert f"{current.label}: Horizon Trust, all schools</h2>" in html
    assert 'value="term" checked' in html


def test_an_academic_year_and_two_dates(trust, client_for):
    client = client_for(trust.users["ceo"])
    html = page(client, "/reports/?period=year&year=2024")
    assert "Academic year 2024 to 2025: Horizon Trust, all schools" in html
    # The eight of the spring term; the year before: p1, p2 and June's.
    assert table_rows(html, "overview")["Concerns reported"] == ["10", "1", "up 9"]
    html = page(client, "/reports/?period=dates&start=1&start=3&start=2025&end=31&end=3&end=2025")
    assert "1 March 2025 to 31 March 2025: Horizon Trust, all schools" in html
    # c3, c4, c7 and c8; the 31 days before: c5 and c6.
    assert table_rows(html, "overview")["Concerns reported"] == ["4", "2", "up 2"]


@pytest.mark.parametrize(
    ("query", "messages"),
    [
        ("period=dates", ["Enter the start date", "Enter the end date"]),
        (
            "period=dates&start=31&start=3&start=2025&end=1&end=3&end=2025",
            ["The end date must be after the start date"],
        ),
        (
            "period=dates&start=31&start=2&start=2025&end=&end=13&end=2025",
            ["The start date must be a real date", "The end date must be a real date"],
        ),
        (
            "period=dates&start=31&start=12&start=1999&end=1&end=1&end=2100",
            [
                "The start date must be on or after 1 January 2000",
                "The end date must be on or before 31 December 2099",
            ],
        ),  # fmt: skip
        ("period=term&term=1999-autumn", ["Choose a term from the list"]),
        ("period=year&year=<script>", ["Choose an academic year from the list"]),
        ("period=fortnight", ["Choose which period the report should cover"]),
        (
            "period=dates&school=nowhere",
            ["Enter the start date", "Enter the end date", "Choose a school from the list"],
        ),  # fmt: skip
    ],
)
def test_every_problem_with_the_choices_is_shown_at_once(trust, client_for, db, query, messages):
    html = page(client_for(trust.users["ceo"]), f"/reports/?{query}")
    assert html.count("There is a problem") == 1
    summary = html.split("govuk-error-summary__list", 1)[1].split("</ul>", 1)[0]
    assert re.findall(r'<a href="#[^"]+">([^<]+)</a>', summary) == messages
    assert "<title>Error: Governance report" in html
    assert 'data-testid="section-overview"' not in html
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.REPORT_VIEWED.value)
    ).all()


def test_what_was_typed_is_kept(trust, client_for):
    html = page(
        client_for(trust.users["ceo"]),
        "/reports/?period=dates&start=31&start=3&start=2025&end=1&end=3&end=2025",
    )
    assert 'value="dates" checked' in html
    for name, value in (("start-day", "31"), ("start-year", "2025"), ("end-day", "1")):
        assert re.search(rf'id="{name}" name="\w+" type="text"[^>]*value="{value}"', html), name


def test_a_download_with_wrong_choices_goes_back_to_the_form(trust, client_for):
    response = client_for(trust.users["ceo"]).get("/reports/report.csv?period=dates")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/reports/?period=dates")


# --- the audit trail ------------------------------------------------------------------------


def _events(db, action: AuditAction) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action.value)))


def test_viewing_and_exporting_are_recorded_with_codes_and_counts_only(trust, client_for, db):
    ceo = trust.users["ceo"]
    client = client_for(ceo)
    page(client, f"{SPRING}&school={trust.school_a.id}")
    [viewed] = _events(db, AuditAction.REPORT_VIEWED)
    assert viewed.actor_id == ceo.id and viewed.school_id == trust.school_a.id
    assert viewed.details == {
        "period": "term",
        "from": "2025-01-01",
        "to": "2025-03-31",
        "school_id": trust.school_a.id,
        "suppressed": False,
        "cases": 6,
        "cases_before": 2,
    }
    client.get(SPRING.replace("/?", "/report.csv?"))
    client.get(SPRING.replace("/?", "/report.pdf?"))
    exported = _events(db, AuditAction.REPORT_EXPORTED)
    assert [event.details["format"] for event in exported] == ["csv", "pdf"]
    assert exported[0].details == {
        "period": "term",
        "from": "2025-01-01",
        "to": "2025-03-31",
        "school_id": None,
        "format": "csv",
        "suppressed": False,
        "cases": 8,
        "cases_before": 2,
    }
    client_for(trust.users["chair"]).get(SPRING)
    assert _events(db, AuditAction.REPORT_VIEWED)[-1].details["suppressed"] is True


# --- counted in the database -----------------------------------------------------------------


def test_the_report_costs_the_same_statements_however_many_cases(trust, client_for, make, db):
    client = client_for(trust.users["ceo"])
    page(client)  # warm: the first request loads what every request does once
    with count_statements(db.engine) as before:
        page(client)
    for day in range(5, 10):
        _log(trust.school_b, trust.users["dsl_b"], date(2025, 2, day), subject=make.staff(
            trust.school_b))  # fmt: skip
    with count_statements(db.engine) as after:
        html = page(client)
    assert table_rows(html, "overview")["Concerns reported"][0] == "13"
    assert len(after.queries) == len(before.queries), after.report()
    # The user, the schools, six grouped statements and the audit event's two (with the
    # session's own).
    assert len(after.queries) <= 12, after.report()


def test_the_page_reaches_nothing_from_its_templates(trust, client_for, app, db):
    client = client_for(trust.users["ceo"])
    with watching_renders(app, db.engine) as watch:
        page(client)
    assert watch.rendered and not watch.reached, watch.reached


def test_the_page_carries_no_script_or_style(trust, client_for):
    html = page(client_for(trust.users["ceo"]))
    assert " style=" not in html and "<style" not in html and "<script>" not in html
    assert html.count('<svg class="app-chart"') >= 10


def test_a_case_decided_again_counts_its_latest_decision_and_its_first_day(trust, client_for, db):
    """c1, reopened in February and decided again (referred to the disciplinary
    procedure, first written warning): its outcome is the latest decision's, and it was
    still resolved within a month, on the day of its first."""
    case, people = trust.cases["c1"], trust.users
    wf.reopen_case(case, reason="New evidence", by=people["dsl_a"], now=uk(2025, 2, 3, 10))
    wf.submit_for_decision(case, summary="More found", by=people["deputy_a"],
                           now=uk(2025, 2, 10, 10))  # fmt: skip
    _decide(case, outcome="referred_to_disciplinary", sanction="first_written_warning",
            on=date(2025, 2, 14), by=people["head_a"])  # fmt: skip
    db.session.commit()
    html = page(client_for(people["ceo"]))
    outcomes = table_rows(html, "outcome")
    assert "Low-level concern: advice and guidance" not in outcomes
    assert outcomes["Low-level concern: referred to the disciplinary procedure"] == [
        "1", "0", "up 1"]  # fmt: skip
    assert (
        table_rows(html, "sanction")["First written warning (disregarded after 6 months)"][0] == "1"
    )
    assert table_rows(html, "timeliness")["Resolved within 1 month (most cases)"][0] == (
        "25% (2 of 8)"
    )


# --- the benchmark's measurement (bench/governance.py): correct, not timed ----------------


def test_the_benchs_report_figures_come_from_real_report_pages(app, db):
    from bench.governance import budgets, measure_report
    from bench.seed import seed

    seeded = seed(cases=60, audit_events=0, schools=2, staff=12, today=today())
    figures = measure_report(app, seeded.users, 1, today=today(), pdf_requests=0)
    assert set(figures.pages) == {
        "report_year",
        "report_term",
        "report_history",
        "report_head",
        "report_chair",
        "report_csv",
    }
    assert figures.cases_history == 60
    assert all(page.requests == 1 and page.p95_ms > 0 for page in figures.pages.values())
    # The page, the audit event's two statements and no more (the same for every page).
    assert {page.queries_max for page in figures.pages.values()} <= {8, 9}
    assert figures.reference_p50_ms > 0
    assert len(budgets(figures)) == 5
    viewed = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.REPORT_VIEWED.value)
    ).all()
    assert len(viewed) == 5 * 6  # five pages, each warmed five times and timed once
