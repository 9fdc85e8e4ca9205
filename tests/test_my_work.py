"""The home page's "Waiting for you": each person's next tasks, soonest deadline first."""

from datetime import UTC, datetime, timedelta

from tracker.auth.roles import Role
from tracker.clock import today
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

    new_case = make.case(school, by=dsl)
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
