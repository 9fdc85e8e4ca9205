"""The home page's "Waiting for you": each person's next tasks, soonest deadline first."""

import random
from datetime import UTC, datetime, timedelta

from tests.conftest import sign_in
from tracker.auth.roles import Role
from tracker.clock import UK, today
from tracker.home.services import my_work
from tracker.workflow import services as wf

NO = dict.fromkeys(wf.HARM_QUESTIONS, "no")
YES = {**NO, "harm_risk": "yes"}


def test_each_person_sees_what_waits_for_them(make, db, login):
    school = make.school(name="Northfield")
    make.policy(school.trust)
    dsl = make.user(Role.DSL, school)
    head = make.user(Role.HEADTEACHER, school)
    ceo = make.user(Role.CEO)
    outsider = make.user(Role.DSL, make.school())

    new_case = make.case(school, by=dsl, reported_on=today())
    allegation = make.case(school, by=dsl)
    wf.triage(
        allegation,
        track="allegation",
        answers=YES,
        rationale="r",
        by=dsl,
        now=datetime.now(UTC) - timedelta(days=7),
    )
    deciding = make.case(school, by=dsl)
    wf.triage(deciding, track="low_level", answers=NO, rationale="r", by=dsl)
    wf.start_investigation(deciding, investigator=dsl, by=dsl)
    wf.submit_for_decision(deciding, summary="s", by=dsl)
    db.session.commit()

    tasks = {(item.reference, item.task, item.overdue) for item in my_work(dsl)}
    assert (new_case.reference, "Triage this concern", False) in tasks
    assert (allegation.reference, "Refer to the LADO", True) in tasks
    assert deciding.reference not in {reference for reference, *_ in tasks}
    # The overdue LADO referral comes first.
    assert my_work(dsl)[0].reference == allegation.reference

    assert [(i.reference, i.task) for i in my_work(head) if i.reference == deciding.reference] == [
        (deciding.reference, "Decide this case")
    ]
    assert my_work(outsider) == []

    wf.return_for_investigation(deciding, reason="More", by=head)
    db.session.commit()
    assert (deciding.reference, "Returned to you for more investigation") in {
        (i.reference, i.task) for i in my_work(dsl)
    }

    wf.submit_for_decision(deciding, summary="s", by=dsl)
    wf.decide(
        deciding, wf.DecisionInput("no_further_action", "none", "r", False), by=head, today=today()
    )
    wf.lodge_appeal(deciding, lodged_on=today(), grounds="g", by=dsl, today=today())
    db.session.commit()
    assert [i.task for i in my_work(ceo)] == ["Hear the appeal"]

    html = login(dsl).get("/").get_data(as_text=True)
    assert "Waiting for you" in html and "Refer to the LADO" in html and "Overdue" in html


def _home(app, user) -> str:
    client = app.test_client()
    assert sign_in(client, user.email).status_code == 302
    return client.get("/").get_data(as_text=True)


def _links_to(html: str, reference: str) -> int:
    return html.count(f">{reference}</a>")


def test_triage_is_due_the_next_working_day_not_in_a_month(make, db, login, app):
    from tracker.workflow.clocks import add_working_days

    school = make.school()
    make.policy(school.trust)
    dsl = make.user(Role.DSL, school)
    case = make.case(school, by=dsl, reported_on=today())
    db.session.commit()

    (item,) = my_work(dsl)
    due_day = add_working_days(today(), 1)
    assert item.task == "Triage this concern"
    assert (item.due.astimezone(UK).date(), item.due.astimezone(UK).hour) == (due_day, 17)
    client = login(dsl)
    home = client.get("/").get_data(as_text=True)
    assert f"{due_day.day} {due_day:%B %Y}, 17:00" in home
    # The case page's next step says the same.
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"{due_day.day} {due_day:%B %Y}, 17:00" in page

    app.config["TRIAGE_DUE_WORKING_DAYS"] = 3
    (item,) = my_work(dsl)
    assert item.due.astimezone(UK).date() == add_working_days(today(), 3)


def test_each_case_is_listed_once_under_the_step_the_viewer_takes(make, db, app):
    school = make.school(name="Northfield")
    make.policy(school.trust)
    dsl = make.user(Role.DSL, school)
    head = make.user(Role.HEADTEACHER, school)
    to_triage = make.case(school, by=dsl, reported_on=today())
    deciding = make.case(school, by=dsl)
    wf.triage(deciding, track="low_level", answers=NO, rationale="r", by=dsl)
    wf.start_investigation(deciding, investigator=dsl, by=dsl)
    wf.submit_for_decision(deciding, summary="s", by=dsl)
    db.session.commit()

    # The headteacher: their decision waits for them; the lead's triage is not theirs.
    assert [item.reference for item in my_work(head)] == [deciding.reference]
    home = _home(app, head)
    assert "Waiting for you at" not in home
    assert _links_to(home, deciding.reference) == 1
    assert _links_to(home, to_triage.reference) == 1
    others = home[home.index("Other open cases at Northfield") :]
    assert to_triage.reference in others and deciding.reference not in others
    assert "Triage" in others

    # The lead: the triage is theirs; the decision is listed once, among the others.
    assert [item.reference for item in my_work(dsl)] == [to_triage.reference]
    home = _home(app, dsl)
    assert _links_to(home, deciding.reference) == 1
    assert _links_to(home, to_triage.reference) == 1


def test_the_chief_executive_is_not_told_nothing_waits_when_something_does(make, db, app):
    school = make.school()
    make.policy(school.trust)
    dsl = make.user(Role.DSL, school)
    make.user(Role.HEADTEACHER, school)
    ceo = make.user(Role.CEO)
    home = _home(app, ceo)
    assert "No case needs your decision" in home
    case = make.case(school, by=dsl)
    wf.triage(case, track="low_level", answers=NO, rationale="r", by=dsl)
    wf.start_investigation(case, investigator=dsl, by=dsl)
    wf.submit_for_decision(case, summary="s", by=dsl)
    db.session.commit()
    case.decision_maker_id = ceo.id  # routed to the trust (the headteacher is involved)
    db.session.commit()
    home = _home(app, ceo)
    assert "Decide this case" in home
    assert "No case needs your decision" not in home


def test_home_lists_show_ten_and_link_to_the_rest(make, db, login):
    school = make.school()
    make.policy(school.trust)
    dsl = make.user(Role.DSL, school)
    cases = [make.case(school, by=dsl, reported_on=today()) for _ in range(12)]
    db.session.commit()
    client = login(dsl)
    home = client.get("/").get_data(as_text=True)
    shown = sum(_links_to(home, case.reference) for case in cases)
    assert shown == 10
    assert "See all 12 cases waiting for you" in home
    href = home[: home.index("See all 12 cases waiting for you")].rsplit('href="', 1)[1]
    href = href.split('"', 1)[0].replace("&amp;", "&")
    listed = client.get(href).get_data(as_text=True)
    assert all(_links_to(listed, case.reference) == 1 for case in cases)
    assert "12 cases match these filters" in listed


def test_a_case_waiting_for_nobody_named_is_still_listed_at_the_school(make, db, app):
    school = make.school(name="Northfield")
    make.policy(school.trust)
    dsl = make.user(Role.DSL, school)
    case = make.case(school, by=dsl)
    # A stage whose person is not named (yet): waiting_for is NULL for it, not false.
    case.status, case.track, case.investigator_id = "investigation", "low_level", None
    db.session.commit()
    home = _home(app, dsl)
    assert _links_to(home, case.reference) == 1


def test_the_first_few_listed_are_the_soonest_of_all_that_wait(make, db):
    """my_work reads only the first few of each kind of deadline (waiting.py due_groups);
    what it lists must be what sorting every waiting case would put first, at any limit
    and on any day (which KCSIE target is next moves with the day). Each person here has
    one mix of kinds, so that no kind is hidden behind another's overdue cases."""
    from tracker.home.services import count_my_work
    from tracker.workflow.models import CaseTransition

    rng = random.Random(21)
    school = make.school()
    make.policy(school.trust)
    dsl = make.user(Role.DSL, school)  # triage
    other_school = make.school(trust=school.trust)
    referrer = make.user(Role.DSL, other_school)  # LADO referrals, timed or not
    investigator = make.user(Role.HEADTEACHER, school)  # KCSIE's targets only
    decider = make.user(Role.CEO, trust=school.trust)  # decisions, submitted or not
    now = datetime.now(UTC)
    kinds = ["reported", "lado", "lado_untimed", "investigation", "decide", "unsubmitted"]
    for n in range(90):
        kind = kinds[n % len(kinds)]
        reported_on = today() - timedelta(days=rng.randrange(0, 500))
        case = make.case(
            other_school if kind.startswith("lado") else school,
            by=referrer if kind.startswith("lado") else dsl,
            reported_on=reported_on,
            occurred_on=reported_on,
        )
        if kind in ("lado", "lado_untimed"):
            case.status, case.track = "triage", "allegation"
            if kind == "lado":
                case.lado_due_at = now + timedelta(hours=rng.randrange(-900, 900))
        elif kind == "investigation":
            case.status, case.track = "investigation", "low_level"
            case.investigator_id = investigator.id
        elif kind in ("decide", "unsubmitted"):
            case.status, case.track = "awaiting_decision", "low_level"
            case.decision_maker_id = decider.id
            if kind == "decide":
                # Some submitted on the same day, so deadlines tie across cases.
                at = now - timedelta(days=rng.randrange(0, 20), minutes=rng.randrange(0, 3))
                db.session.add(
                    CaseTransition(
                        case_id=case.id,
                        action="submit_for_decision",
                        from_status="investigation",
                        to_status="awaiting_decision",
                        actor_id=dsl.id,
                        at=at,
                    )
                )
    db.session.commit()
    for user, expected in ((dsl, 15), (referrer, 30), (investigator, 15), (decider, 30)):
        assert count_my_work(user) == expected
        for days_on in (0, 17, 45, 130, 400):
            moment = now + timedelta(days=days_on)
            everything = my_work(user, moment, limit=None)
            assert len({item.case_id for item in everything}) == len(everything) == expected
            dues = [
                (item.due or datetime.combine(item.due_on, datetime.min.time(), UK)).date()
                for item in everything
                if item.due or item.due_on
            ]
            assert dues == sorted(dues)
            for limit in (1, 2, 5, 10, 25):
                assert my_work(user, moment, limit=limit) == everything[:limit], (days_on, limit)


def test_a_full_list_of_exactly_ten_has_no_link_to_more(make, db, login):
    school = make.school()
    make.policy(school.trust)
    dsl = make.user(Role.DSL, school)
    cases = [make.case(school, by=dsl, reported_on=today()) for _ in range(10)]
    db.session.commit()
    home = login(dsl).get("/").get_data(as_text=True)
    assert sum(_links_to(home, case.reference) for case in cases) == 10
    assert "cases waiting for you</a>" not in home
