"""Earlier concerns about the same person, the pattern rule and its review, linked cases
(issue 19, items 1 and 2)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.audit_helpers import events
from tests.conftest import csrf_token_from, sign_in
from tests.querycount import count_statements
from tracker.audit.actions import AuditAction
from tracker.auth.roles import Role
from tracker.cases.models import Case
from tracker.extensions import db as _db
from tracker.insight import patterns
from tracker.insight.models import CaseLink, PatternReview
from tracker.insight.patterns import PatternRule, pattern_holds
from tracker.insight.services import link_cases, review_pattern
from tracker.notifications.services import due_notifications
from tracker.workflow import services as wf
from tracker.workflow.models import Action
from tracker.workflow.registry import refusal

NO_HARM = dict.fromkeys(wf.HARM_QUESTIONS, "no")
NOTICE = "A pattern of concerns may exist: review needed"


@pytest.fixture
def world(make):
    trust = make.trust(name="Pattern Trust")
    school = make.school(trust, name="Ash School")
    other = make.school(trust, name="Birch School")
    make.policy(trust)
    return {
        "trust": trust,
        "school": school,
        "other": other,
        "dsl": make.user(Role.DSL, school, name="Dee Lead"),
        "dsl_other": make.user(Role.DSL, other, name="Bea Birch"),
        "ceo": make.user(Role.CEO, trust=trust, email="ceo@example.org"),
        "subject": make.staff(school, name="Pat Tern"),
    }


def _case(make, world, reported_on: date, clauses=("3.4",), school=None, by=None):
    school = school or world["school"]
    return make.case(
        school,
        subject=world["subject"],
        by=by or world["dsl"],
        clauses=clauses,
        occurred_on=reported_on - timedelta(days=1),
        reported_on=reported_on,
    )


# --- the rule at its boundaries ----------------------------------------------------------


def test_three_concerns_within_twelve_months_flag_the_third(make, world):
    first = _case(make, world, date(2025, 3, 5), clauses=("3.4",))
    second = _case(make, world, date(2025, 9, 1), clauses=("3.5",))
    assert not first.pattern_flagged_at and not second.pattern_flagged_at
    third = _case(make, world, date(2026, 3, 4), clauses=("3.2(c)",))  # 5 March is 12 months back
    assert third.pattern_unreviewed
    (event,) = events(_db.session, action=AuditAction.PATTERN_FLAGGED)
    assert event.case_id == third.id and event.details == {"rule": "concerns"}


def test_a_concern_just_over_twelve_months_ago_does_not_count(make, world):
    _case(make, world, date(2025, 3, 4), clauses=("3.4",))  # exactly 12 months: outside
    _case(make, world, date(2025, 9, 1), clauses=("3.5",))
    third = _case(make, world, date(2026, 3, 4), clauses=("3.2(c)",))
    assert third.pattern_flagged_at is None


def test_two_citing_the_same_clause_flag_the_second(make, world):
    _case(make, world, date(2025, 6, 1), clauses=("3.5",))
    second = _case(make, world, date(2026, 1, 10), clauses=("3.5", "3.4"))
    assert pattern_holds(second, PatternRule(3, 12, 2)) == "same_clause"
    assert second.pattern_unreviewed


def test_the_rule_is_the_trusts_own(make, world):
    world["trust"].pattern_concerns = 2
    world["trust"].pattern_same_clause = 5
    _db.session.commit()
    _case(make, world, date(2026, 1, 1), clauses=("3.4",))
    second = _case(make, world, date(2026, 2, 1), clauses=("3.5",))
    assert second.pattern_unreviewed


def test_withdrawn_concerns_do_not_count(make, world):
    first = _case(make, world, date(2025, 6, 1), clauses=("3.5",))
    wf.withdraw_case(first, reason="Wrong person", by=world["dsl"], today=date(2025, 6, 2))
    _db.session.commit()
    second = _case(make, world, date(2026, 1, 10), clauses=("3.5",))
    assert second.pattern_flagged_at is None


# --- what the viewer learns --------------------------------------------------------------


def test_the_notice_reveals_nothing_the_viewer_cannot_read(make, world, login):
    """Two concerns at Birch, then the person moves to Ash and a third is logged there:
    Ash's lead sees the notice, and not one word of Birch's records."""
    subject = world["subject"]
    subject.school_id = world["other"].id
    _db.session.commit()
    birch = [
        _case(make, world, date(2025, 11, 1), school=world["other"], by=world["dsl_other"]),
        _case(make, world, date(2026, 1, 5), school=world["other"], by=world["dsl_other"]),
    ]
    subject.school_id = world["school"].id
    _db.session.commit()
    third = _case(make, world, date(2026, 3, 4), clauses=("3.5",))
    assert third.pattern_unreviewed

    page = login(world["dsl"]).get(f"/cases/{third.id}").get_data(as_text=True)
    assert NOTICE in page
    assert "You can see no other concern about Pat Tern" in page
    for case in birch:
        assert case.reference not in page and f"/cases/{case.id}" not in page
    assert "Birch" not in page and "Bea Birch" not in page


def test_earlier_concerns_are_listed_newest_first_on_the_case_and_triage_pages(make, world, login):
    first = _case(make, world, date(2025, 10, 1), clauses=("3.4",))
    wf.triage(first, track="low_level", answers=NO_HARM, rationale="Low", by=world["dsl"])
    _db.session.commit()
    second = _case(make, world, date(2026, 1, 1), clauses=("3.5",))
    third = _case(make, world, date(2026, 2, 1), clauses=("3.2(c)",))
    client = login(world["dsl"])
    for url in (f"/cases/{third.id}", f"/cases/{third.id}/triage"):
        page = client.get(url).get_data(as_text=True)
        table = page.split('data-testid="earlier-concerns"')[1].split("</table>")[0]
        assert table.index(second.reference) < table.index(first.reference)
        assert third.reference not in table
        assert "Low-level concern" in table and "3.4" in table and "3.5" in table


def test_the_panel_lists_the_newest_few_and_says_how_many_there_are(make, world, login):
    shown = patterns.EARLIER_SHOWN
    cases = [_case(make, world, date(2025, 1, 1) + timedelta(days=7 * n)) for n in range(shown + 3)]
    latest = cases[-1]
    page = login(world["dsl"]).get(f"/cases/{latest.id}").get_data(as_text=True)
    table = page.split('data-testid="earlier-concerns"')[1].split("</table>")[0]
    listed = [case for case in cases[:-1] if case.reference in table]
    assert listed == cases[-1 - shown : -1]  # the newest, the oldest two left out
    assert f"the {shown} most recent of the {shown + 2} other concerns" in page


def test_the_earlier_concerns_add_at_most_two_queries(make, world, login, app):
    for day in (date(2025, 10, 1), date(2025, 12, 1)):
        _case(make, world, day, clauses=("3.4", "3.5"))
    lone = make.case(world["school"], subject=make.staff(world["school"]), by=world["dsl"])
    busy = _case(make, world, date(2026, 2, 1), clauses=("3.2(c)",))
    client = login(world["dsl"])
    with count_statements(_db.engine) as alone:
        client.get(f"/cases/{lone.id}")
    with count_statements(_db.engine) as with_earlier:
        client.get(f"/cases/{busy.id}")
    added = len(with_earlier.queries) - len(alone.queries)
    assert added <= 2, with_earlier.report()


# --- the review ---------------------------------------------------------------------------


def _flagged_low_level(make, world):
    _case(make, world, date(2025, 10, 1), clauses=("3.4",))
    _case(make, world, date(2026, 1, 1), clauses=("3.5",))
    third = _case(make, world, date(2026, 2, 1), clauses=("3.2(c)",))
    wf.triage(third, track="low_level", answers=NO_HARM, rationale="Low", by=world["dsl"])
    _db.session.commit()
    return third


def _post(client, url, data):
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def test_the_review_escalates_and_is_audited(make, world, login):
    case = _flagged_low_level(make, world)
    client = login(world["dsl"])
    url = f"/cases/{case.id}/pattern-review"
    assert "Review the pattern of concerns" in client.get(f"/cases/{case.id}").get_data(
        as_text=True
    )
    missing = _post(client, url, {}).get_data(as_text=True)
    for message in (
        "Choose whether the concerns now meet the harm threshold",
        "Choose whether to escalate this case to an allegation",
        "Say why you decided this",
    ):
        assert message in missing
    not_escalated = _post(
        client, url, {"meets_threshold": "yes", "escalate": "no", "rationale": "x"}
    )
    assert "so escalate this case to an allegation" in not_escalated.get_data(as_text=True)
    done = _post(
        client,
        url,
        {"meets_threshold": "yes", "escalate": "yes", "rationale": "Three in a year"},
    )
    assert done.status_code == 302
    _db.session.expire_all()
    case = _db.session.get(Case, case.id)
    assert case.track == "allegation" and case.status == "triage"
    assert case.pattern_reviewed_at is not None and not case.pattern_unreviewed
    review = _db.session.scalar(select(PatternReview))
    assert (review.meets_threshold, review.escalated) == ("yes", True)
    (event,) = events(_db.session, action=AuditAction.PATTERN_REVIEWED)
    assert event.details == {"meets_threshold": "yes", "escalated": True}
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert NOTICE not in page and "was reviewed on" in page
    assert client.get(url).status_code == 200  # says why it cannot be taken again
    again = _post(client, url, {"meets_threshold": "no", "escalate": "no", "rationale": "x"})
    assert "has been reviewed already" in again.get_data(as_text=True)


def test_a_case_with_an_unreviewed_pattern_cannot_close(make, world):
    case = _flagged_low_level(make, world)
    head = make.user(Role.HEADTEACHER, world["school"])
    wf.start_investigation(case, investigator=world["dsl"], by=world["dsl"])
    wf.submit_for_decision(case, summary="Found", by=world["dsl"])
    answer = wf.DecisionInput(
        outcome="advice_and_guidance",
        sanction="none",
        rationale="Advice given",
        may_mention_in_references=False,
    )
    wf.decide(case, answer, by=head, today=date(2026, 3, 1))
    _db.session.commit()
    assert refusal(case, Action.CLOSE, world["dsl"]) == (
        "Record the review of the pattern of concerns before the case is closed"
    )
    review_pattern(case, meets_threshold="no", escalate="no", rationale="Minor", by=world["dsl"])
    assert refusal(case, Action.CLOSE, world["dsl"]) is None


def test_the_ceo_is_told_without_content(make, world):
    case = _flagged_low_level(make, world)
    due = [d for d in due_notifications(case.created_at) if d.kind == "pattern_flagged"]
    assert [(d.case.id, d.recipient.id) for d in due] == [(case.id, world["ceo"].id)]


# --- links --------------------------------------------------------------------------------


def test_linking_shows_both_ways_is_audited_and_respects_scope(app, make, world, login):
    one = _case(make, world, date(2026, 1, 1))
    two = make.case(world["school"], subject=make.staff(world["school"]), by=world["dsl"])
    elsewhere = make.case(world["other"], subject=make.staff(world["other"]), by=world["dsl_other"])
    client = login(world["dsl"])
    url = f"/cases/{one.id}/links/new"
    out_of_scope = _post(client, url, {"reference": elsewhere.reference, "kind": "same_incident"})
    assert f"No case you can see has the reference {elsewhere.reference}" in out_of_scope.get_data(
        as_text=True
    )
    itself = _post(client, url, {"reference": one.reference, "kind": "same_incident"})
    assert "Enter the reference of another case" in itself.get_data(as_text=True)
    done = _post(client, url, {"reference": f" {two.reference.lower()} ", "kind": "same_incident"})
    assert done.status_code == 302
    for case, other in ((one, two), (two, one)):
        page = client.get(f"/cases/{case.id}").get_data(as_text=True)
        section = page.split('id="linked-cases"')[1].split("</ul>")[0]
        assert other.reference in section and "the same incident" in section
    linked = events(_db.session, action=AuditAction.CASE_LINKED)
    assert sorted(e.case_id for e in linked) == sorted([one.id, two.id])
    assert all(set(e.details) == {"linked_case_id", "kind"} for e in linked)
    twice = _post(client, url, {"reference": two.reference, "kind": "same_person"})
    assert f"already linked to {two.reference}" in twice.get_data(as_text=True)

    link = _db.session.scalar(select(CaseLink))
    # The other school's lead cannot reach the link through a case of theirs.
    other_client = app.test_client()
    sign_in(other_client, world["dsl_other"].email)
    assert other_client.get(f"/cases/{elsewhere.id}/links/{link.id}/remove").status_code == 404
    removed = _post(client, f"/cases/{two.id}/links/{link.id}/remove", {})
    assert removed.status_code == 302
    assert _db.session.scalar(select(CaseLink)) is None
    assert len(events(_db.session, action=AuditAction.CASE_UNLINKED)) == 2


def test_the_trust_sets_its_pattern_rule_from_the_command_line(app, make, world):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["trust", "pattern", "--trust", world["trust"].code, "--concerns", "4",
              "--months", "6", "--same-clause", "3"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "4 concerns about one person within 6 months, or 3 citing" in result.output
    _db.session.expire_all()
    trust = _db.session.get(type(world["trust"]), world["trust"].id)
    assert (trust.pattern_concerns, trust.pattern_months, trust.pattern_same_clause) == (4, 6, 3)
    (event,) = events(_db.session, action=AuditAction.TRUST_PATTERN_RULE_CHANGED)
    assert event.details == {"concerns": 4, "months": 6, "same_clause": 3}
    refused = runner.invoke(args=["trust", "pattern", "--trust", world["trust"].code,
                                  "--concerns", "1"])  # fmt: skip
    assert refused.exit_code != 0 and "at least 2 concerns" in refused.output


def test_disposing_of_a_case_takes_its_links_and_reviews_with_it(make, world):
    case = _flagged_low_level(make, world)
    other = make.case(world["school"], subject=make.staff(world["school"]), by=world["dsl"])
    link_cases(case, reference=other.reference, kind="same_incident", by=world["dsl"])
    review_pattern(case, meets_threshold="no", escalate="no", rationale="Minor", by=world["dsl"])
    _db.session.commit()
    _db.session.delete(case)  # as retention's dispose_case deletes it
    _db.session.commit()
    assert _db.session.scalar(select(CaseLink)) is None
    assert _db.session.scalar(select(PatternReview)) is None
    assert _db.session.get(Case, other.id) is not None
