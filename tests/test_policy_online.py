"""Members of staff read the policy in force and acknowledge it themselves (issue 18, item
3); the trust sees how many have, by school."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from tests.audit_helpers import events
from tests.conftest import csrf_token_from, post_form
from tests.policy_helpers import publish_next, seed_policy
from tests.test_templates_read_nothing import watching_renders
from tracker.audit.actions import AuditAction
from tracker.auth.roles import Role
from tracker.clock import today
from tracker.errors import NotAllowed, ValidationFailed
from tracker.extensions import db as _db
from tracker.policy.acknowledgements import (
    NO_STAFF_RECORD,
    acknowledge_online,
    import_acknowledgements,
    policies_to_read,
    read_summary,
    record_acknowledgement,
)
from tracker.policy.models import AcknowledgementMethod, PolicyAcknowledgement
from tracker.staff.services import update_staff_member


@pytest.fixture
def trust(make):
    return make.trust(name="Horizon Multi Academy Trust")


@pytest.fixture
def version(trust):
    return seed_policy(trust)


@pytest.fixture
def school(make, trust):
    return make.school(trust, name="Ash School")


@pytest.fixture
def member(make, school):
    """A member of staff who signs in, with their record on the register."""
    user = make.user(Role.STAFF, school, name="Sam Staff")
    make.staff(school, name="Sam Staff", user=user)
    return user


def _acknowledgements(db) -> list[PolicyAcknowledgement]:
    db.session.rollback()  # what the view committed, not what the test's session holds
    return list(
        db.session.scalars(select(PolicyAcknowledgement).order_by(PolicyAcknowledgement.id))
    )


# --- reading ---------------------------------------------------------------------------


def test_a_member_of_staff_reads_the_version_in_force_in_full(login, member, version):
    client = login(member)
    html = client.get(f"/policies/read/{version.id}").get_data(as_text=True)
    assert "Staff Use of Social Media Policy 2020" in html
    for clause in version.clauses:
        assert f">{clause.reference}</span>" in html
        assert clause.heading.replace("'", "&#39;") in html
    assert "Full text of the policy as approved" in html
    assert "Acknowledge this policy" in html
    # Their page, not the register: no links into it.
    assert "/policies/clauses/" not in html and "/policies/versions/" not in html

    listing = client.get("/policies/read").get_data(as_text=True)
    assert f"/policies/read/{version.id}" in listing and "To read" in listing


def test_the_reading_pages_read_nothing_from_their_templates(app, db, login, member, version):
    client = login(member)
    for url in ("/policies/read", f"/policies/read/{version.id}"):
        with watching_renders(app, db.engine) as watch:
            assert client.get(url).status_code == 200
        assert watch.rendered and not watch.reached, (url, watch.reached)
    # Refused (twice), the page is shown again after the rollback: still nothing.
    post_form(client, f"/policies/read/{version.id}", {})
    page = client.get(f"/policies/read/{version.id}").get_data(as_text=True)
    with watching_renders(app, db.engine) as watch:
        again = client.post(
            f"/policies/read/{version.id}", data={"csrf_token": csrf_token_from(page)}
        )
    assert again.status_code == 200
    assert watch.rendered and not watch.reached, watch.reached


def test_with_no_policy_published_the_list_says_so(login, make, school):
    client = login(make.user(Role.STAFF, school))
    html = client.get("/policies/read").get_data(as_text=True)
    assert "The trust has not published a policy for you to read yet" in html


def test_a_draft_or_another_trusts_version_is_not_found(login, make, member, version):
    from tracker.policy.services import create_draft

    draft = create_draft(version.policy, version_label="2", by=None)
    other = seed_policy(make.trust(name="Other Trust"))
    _db.session.commit()
    client = login(member)
    assert client.get(f"/policies/read/{draft.id}").status_code == 404
    assert client.get(f"/policies/read/{other.id}").status_code == 404
    assert client.post(f"/policies/read/{other.id}", data={}).status_code in {400, 404}


# --- acknowledging ---------------------------------------------------------------------


def test_acknowledging_records_it_online_with_its_event(login, db, member, version):
    client = login(member)
    response = post_form(client, f"/policies/read/{version.id}", {})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "govuk-notification-banner--success" in html
    assert "You have acknowledged version 2020 of Staff Use of Social Media Policy 2020." in html
    assert "You acknowledged this version on" in html
    assert "Acknowledge this policy" not in html

    [record] = _acknowledgements(db)
    staff = record.staff_member
    assert staff.user_id == member.id
    assert record.version_id == version.id
    assert record.method == AcknowledgementMethod.ONLINE.value
    assert record.acknowledged_on == today()
    assert record.recorded_by_id == member.id
    assert record.recorded_at is not None

    [recorded] = events(db.session, action=AuditAction.POLICY_ACKNOWLEDGED.value)
    assert (recorded.actor_id, recorded.object_type, recorded.object_id) == (
        member.id,
        "policy_acknowledgement",
        record.id,
    )
    assert recorded.school_id == staff.school_id
    assert recorded.details == {
        "version_id": version.id,
        "staff_member_id": staff.id,
        "method": "online",
        "acknowledged_on": today().isoformat(),
    }
    assert "Sam" not in recorded.details_json

    listing = client.get("/policies/read").get_data(as_text=True)
    assert "Acknowledged" in listing and "To read" not in listing


def test_acknowledging_twice_is_refused_politely(login, db, member, version):
    client = login(member)
    assert post_form(client, f"/policies/read/{version.id}", {}).status_code == 302
    # A second tab still showing the button.
    again = client.post(
        f"/policies/read/{version.id}",
        data={"csrf_token": csrf_token_from(client.get("/policies/read").get_data(as_text=True))},
    )
    assert again.status_code == 200
    expected = f"You have already acknowledged version 2020 on {today().day} {today():%B %Y}"
    assert expected in again.get_data(as_text=True)
    assert len(_acknowledgements(db)) == 1
    assert len(events(db.session, action=AuditAction.POLICY_ACKNOWLEDGED.value)) == 1


def test_the_same_acknowledgement_saved_meanwhile_is_refused_not_an_error(db, member, version):
    """A second press that passed the check while the first was saving: the unique
    constraint catches it, and the refusal leaves the transaction usable."""
    first_id = acknowledge_online(version, by=member, today=today()).id
    db.session.commit()
    session = db.session()
    calls = {"n": 0}

    def miss_once(state):
        # The service's look-up misses the saved row once, as a racing request's would.
        described = state.statement.column_descriptions if state.is_select else []
        if calls["n"] == 0 and any(d.get("entity") is PolicyAcknowledgement for d in described):
            calls["n"] += 1
            return state.invoke_statement(
                statement=state.statement.where(PolicyAcknowledgement.id != first_id)
            )
        return None

    event.listen(session, "do_orm_execute", miss_once)
    try:
        with pytest.raises(ValidationFailed, match="You have already acknowledged version 2020"):
            acknowledge_online(version, by=member, today=today())
    finally:
        event.remove(session, "do_orm_execute", miss_once)
    assert calls["n"] == 1
    db.session.rollback()
    assert db.session.scalar(select(func.count(PolicyAcknowledgement.id))) == 1


def test_a_new_version_is_to_read_again(app, login, db, member, version):
    client = login(member)
    with app.test_request_context():
        [before] = policies_to_read(member)
    assert (before.version_id, before.version_label) == (version.id, "2020")
    assert before.url == f"/policies/read/{version.id}"
    assert before.title == "Staff Use of Social Media Policy 2020"
    assert before.published_on is not None

    assert post_form(client, f"/policies/read/{version.id}", {}).status_code == 302
    db.session.rollback()
    with app.test_request_context():
        assert policies_to_read(member) == []

    second = publish_next(version, label="2")
    with app.test_request_context():
        [after] = policies_to_read(member)
    assert (after.version_id, after.version_label) == (second.id, "2")
    assert after.url == f"/policies/read/{second.id}"
    assert after.effective_from == date(2025, 9, 1)

    # The superseded version's page points to the new one and offers no button.
    old = client.get(f"/policies/read/{version.id}").get_data(as_text=True)
    assert "This version has been replaced" in old
    assert f"/policies/read/{second.id}" in old
    assert "Acknowledge this policy" not in old
    refused = post_form(client, f"/policies/read/{version.id}", {})
    assert "is not the version in force" in refused.get_data(as_text=True)

    assert post_form(client, f"/policies/read/{second.id}", {}).status_code == 302
    db.session.rollback()
    with app.test_request_context():
        assert policies_to_read(member) == []


def test_policies_to_read_is_empty_for_other_roles(app, make, school, version):
    with app.test_request_context():
        assert policies_to_read(make.user(Role.DSL, school)) == []


def test_a_member_of_staff_without_a_staff_record_is_told_why(
    app, login, db, make, school, version
):
    loose = make.user(Role.STAFF, school)
    client = login(loose)
    page = client.get(f"/policies/read/{version.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "not linked to your record on the staff register" in html.replace("&#39;", "'")
    assert "Acknowledge this policy" not in html
    assert "not linked to your record" in client.get("/policies/read").get_data(as_text=True)
    posted = client.post(f"/policies/read/{version.id}", data={"csrf_token": csrf_token_from(html)})
    assert posted.status_code == 200
    assert "not linked to your record on the staff register" in posted.get_data(as_text=True)
    assert _acknowledgements(db) == []
    with app.test_request_context():
        assert [item.version_id for item in policies_to_read(loose)] == [version.id]


@pytest.mark.parametrize("role", [Role.DSL, Role.HEADTEACHER, Role.TRUST_ADMIN, Role.CEO])
def test_other_roles_are_refused_the_staff_pages(login, db, make, school, version, role):
    user = make.user(role, school if role in {Role.DSL, Role.HEADTEACHER} else None)
    make.staff(school, user=user)  # on the register, but without the staff role
    client = login(user)
    assert client.get("/policies/read").status_code == 403
    assert client.get(f"/policies/read/{version.id}").status_code == 403
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    assert (
        client.post(f"/policies/read/{version.id}", data={"csrf_token": token}).status_code == 403
    )
    with pytest.raises(NotAllowed):
        acknowledge_online(version, by=user, today=today())
    assert _acknowledgements(db) == []


def test_a_dsl_who_is_also_a_member_of_staff_may_acknowledge(login, db, make, school, version):
    from tracker.auth.services import grant_role

    user = make.user(Role.DSL, school)
    grant_role(user, Role.STAFF, school=school)
    make.staff(school, user=user)
    client = login(user)
    assert post_form(client, f"/policies/read/{version.id}", {}).status_code == 302
    assert [r.method for r in _acknowledgements(db)] == ["online"]


def test_a_dsl_cannot_record_online_for_someone(login, db, make, school, version):
    dsl = make.user(Role.DSL, school)
    other = make.staff(school)
    page = login(dsl).get(f"/policies/versions/{version.id}/acknowledgements")
    assert 'value="online"' not in page.get_data(as_text=True)
    with pytest.raises(ValidationFailed, match="Only the member of staff"):
        record_acknowledgement(
            version,
            other,
            acknowledged_on=today(),
            method=AcknowledgementMethod.ONLINE,
            by=dsl,
            today=today(),
        )
    db.session.rollback()
    from tracker.auth.permissions import acknowledgement_scope

    report = import_acknowledgements(
        version,
        f"employee_number,acknowledged_on,method\n{other.employee_number},2021-09-02,online\n".encode(),
        scope=acknowledgement_scope(dsl),
        by=dsl,
        today=today(),
    )
    assert not report.ok and "'online' is not a method" in report.errors[0][1]


# --- listed where acknowledgements show ------------------------------------------------


def test_the_online_acknowledgement_is_listed_and_shown_on_a_case(login, db, make, school, version):
    user = make.user(Role.STAFF, school)
    staff = make.staff(school, name="Olive Online", user=user)
    acknowledge_online(version, by=user, today=date(2021, 9, 2))
    db.session.commit()
    dsl = make.user(Role.DSL, school)
    client = login(dsl)
    html = client.get(f"/policies/versions/{version.id}/acknowledgements").get_data(as_text=True)
    assert "Olive Online" in html and "Online, by the member of staff" in html

    case = make.case(school, subject=staff, by=dsl, occurred_on=date(2026, 3, 2))
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    expected = "read this version on 2 September 2021 (online, by the member of staff), before"
    assert f"Olive Online {expected}" in page


# --- how many have read it, by school --------------------------------------------------


@pytest.fixture
def schools(make, trust, version):
    """Ash: three on the register (one acknowledged online, one by a signed form) and a
    leaver who acknowledged; Elm: one, who has not; Oak: nobody."""
    ash = make.school(trust, name="Ash School")
    elm = make.school(trust, name="Elm School")
    oak = make.school(trust, name="Oak School")
    online = make.user(Role.STAFF, ash)
    make.staff(ash, user=online)
    signed = make.staff(ash)
    make.staff(ash)
    leaver = make.staff(ash)
    make.staff(elm)
    admin = make.user(Role.TRUST_ADMIN, trust=trust)
    acknowledge_online(version, by=online, today=today())
    for person in (signed, leaver):
        record_acknowledgement(
            version,
            person,
            acknowledged_on=date(2021, 9, 2),
            method=AcknowledgementMethod.SIGNED_FORM,
            by=admin,
            today=today(),
        )
    update_staff_member(
        leaver,
        school=ash,
        full_name=leaver.full_name,
        job_title=leaver.job_title,
        employee_number=leaver.employee_number,
        normal_retirement_date=None,
        left_on=today() - timedelta(days=1),
    )
    _db.session.commit()
    return {"ash": ash, "elm": elm, "oak": oak, "admin": admin}


def test_the_summary_counts_by_school_in_one_query(db, version, schools):
    from tracker.auth.permissions import acknowledgement_scope

    scope = acknowledgement_scope(schools["admin"])
    assert version.id  # loaded before counting
    statements: list[str] = []

    def count(_conn, _cursor, sql, *_):
        if sql.lstrip().upper().startswith("SELECT"):
            statements.append(sql)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        summary = read_summary(version, scope, today())
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements
    by_name = {row.name: row for row in summary.schools}
    assert (by_name["Ash School"].on_register, by_name["Ash School"].acknowledged) == (3, 2)
    assert by_name["Ash School"].percentage == 66  # rounded down: never 100 until everyone
    assert (by_name["Elm School"].on_register, by_name["Elm School"].percentage) == (1, 0)
    assert (by_name["Oak School"].on_register, by_name["Oak School"].percentage) == (0, None)
    assert (summary.total.name, summary.total.on_register, summary.total.acknowledged) == (
        "Trust total",
        4,
        2,
    )
    assert summary.total.percentage == 50


def _summary_table(html: str) -> str:
    start = html.index('id="read-by-school"')
    return html[start : html.index("</table>", start)]


def test_the_trust_sees_the_percentage_by_school(login, make, trust, version, schools):
    client = login(make.user(Role.CEO, trust=trust))
    html = client.get(f"/policies/versions/{version.id}/acknowledgements").get_data(as_text=True)
    table = _summary_table(html)
    assert "How many have read it, by school" in table
    for figure in (">3<", ">2<", ">66%<", ">1<", ">0%<", ">4<", ">50%<"):
        assert figure in table.replace("<strong>", "").replace("</strong>", ""), figure
    assert "Oak School" in table and "No staff on the register" in table
    assert "Trust total" in table

    # Linked from the policy register.
    register = client.get("/policies/").get_data(as_text=True)
    assert f"/policies/versions/{version.id}/acknowledgements" in register


def test_a_headteacher_sees_only_their_school(login, make, version, schools):
    head = make.user(Role.HEADTEACHER, schools["elm"])
    html = (
        login(head).get(f"/policies/versions/{version.id}/acknowledgements").get_data(as_text=True)
    )
    table = _summary_table(html)
    assert "Elm School" in table
    assert "Ash School" not in table and "Oak School" not in table
    assert "Trust total" not in table and "All your schools" not in table


def test_the_summary_page_reads_nothing_from_its_template(
    app, db, login, make, trust, version, schools
):
    client = login(make.user(Role.CEO, trust=trust))
    with watching_renders(app, db.engine) as watch:
        assert client.get(f"/policies/versions/{version.id}/acknowledgements").status_code == 200
    assert watch.rendered and not watch.reached, watch.reached


def test_no_staff_record_message_names_who_to_ask():
    assert "designated safeguarding lead" in NO_STAFF_RECORD


def test_the_home_page_asks_until_the_version_is_acknowledged(login, db, member, version):
    client = login(member)
    home = client.get("/").get_data(as_text=True)
    assert "Policies to read" in home and f'href="/policies/read/{version.id}"' in home
    assert post_form(client, f"/policies/read/{version.id}", {}).status_code == 302
    db.session.rollback()
    home = client.get("/").get_data(as_text=True)
    assert "Policies to read" not in home
    second = publish_next(version, label="2")
    home = client.get("/").get_data(as_text=True)
    assert f'href="/policies/read/{second.id}"' in home and "(version 2)" in home
