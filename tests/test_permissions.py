"""Role grants: which scope each role takes, and the school scope the predicates compute."""

import pytest
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from tracker.auth.permissions import (
    can_manage_organisation,
    can_read_cases,
    can_report_concern,
    case_scope,
    permission_required,
    school_in_scope_or_404,
    schools_in_scope,
)
from tracker.auth.roles import Role
from tracker.auth.services import grant_role
from tracker.errors import ValidationFailed
from tracker.orgs.models import School


@pytest.mark.parametrize("role", [Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER])
def test_school_roles_need_a_school(make, role):
    user = make.user()
    with pytest.raises(ValidationFailed, match="must be given a school"):
        grant_role(user, role)


@pytest.mark.parametrize("role", [Role.CEO, Role.CHAIR, Role.DPO, Role.TRUST_ADMIN])
def test_trust_roles_cannot_be_limited_to_a_school(make, role):
    user = make.user()
    with pytest.raises(ValidationFailed, match="whole trust"):
        grant_role(user, role, school=make.school())


def test_an_auditor_may_be_granted_a_school_or_the_trust(make, db):
    school = make.school()
    user = make.user()
    grant_role(user, Role.AUDITOR, school=school)
    grant_role(user, Role.AUDITOR)
    db.session.commit()
    assert len(user.grants) == 2


def test_the_same_grant_twice_is_refused(make):
    school = make.school()
    user = make.user(Role.DSL, school)
    with pytest.raises(ValidationFailed, match="already has this role"):
        grant_role(user, Role.DSL, school=school)


def test_a_school_has_one_headteacher_and_the_trust_one_ceo(make):
    school = make.school()
    make.user(Role.HEADTEACHER, school, name="First Head")
    with pytest.raises(ValidationFailed, match="First Head is already headteacher"):
        grant_role(make.user(), Role.HEADTEACHER, school=school)
    make.user(Role.CEO, name="The Chief")
    with pytest.raises(ValidationFailed, match="The Chief is already chief executive officer"):
        grant_role(make.user(), Role.CEO)


def test_a_school_of_another_trust_is_refused(make):
    user = make.user(trust=make.trust(name="Our Trust"))
    other_school = make.school(make.trust(name="Other Trust"))
    with pytest.raises(ValidationFailed, match="not in this person's trust"):
        grant_role(user, Role.DSL, school=other_school)


def test_case_scope_follows_the_grants(make, db):
    trust = make.default_trust()
    ash, elm, oak = make.school(trust), make.school(trust), make.school(trust)
    dsl = make.user(Role.DSL, ash)
    grant_role(dsl, Role.DEPUTY_DSL, school=elm)
    db.session.commit()

    scope = case_scope(dsl)
    assert scope.includes(ash.id) and scope.includes(elm.id) and not scope.includes(oak.id)
    visible = db.session.scalars(schools_in_scope(scope)).all()
    assert {school.id for school in visible} == {ash.id, elm.id}

    ceo = make.user(Role.CEO)
    assert {s.id for s in db.session.scalars(schools_in_scope(case_scope(ceo)))} == {
        ash.id,
        elm.id,
        oak.id,
    }


def test_whole_trust_scope_stops_at_the_trust(make, db):
    ours = make.school(make.default_trust())
    theirs = make.school(make.trust(name="Other"))
    ceo = make.user(Role.CEO, trust=ours.trust)
    ids = set(db.session.scalars(schools_in_scope(case_scope(ceo)).with_only_columns(School.id)))
    assert ours.id in ids and theirs.id not in ids
    assert not can_report_concern(ceo, theirs)
    assert can_report_concern(ceo, ours)


def test_trust_administrators_manage_but_read_no_cases(make):
    admin = make.user(Role.TRUST_ADMIN)
    assert can_manage_organisation(admin)
    assert not can_read_cases(admin)
    assert case_scope(admin).is_empty


def test_a_user_with_no_grant_reaches_nothing(make, db):
    user = make.user()
    make.school()
    assert db.session.scalars(schools_in_scope(case_scope(user))).all() == []
    assert db.session.scalars(select(School)).all() != []


def test_dsl_reports_only_at_their_school(make):
    ash, elm = make.school(), make.school()
    dsl = make.user(Role.DSL, ash)
    assert can_report_concern(dsl, ash)
    assert not can_report_concern(dsl, elm)
    assert not can_report_concern(make.user(Role.AUDITOR), ash)


def test_out_of_scope_school_is_404_not_403(make):
    ash, elm = make.school(), make.school()
    scope = case_scope(make.user(Role.DSL, ash))
    assert school_in_scope_or_404(scope, ash.id) == ash
    with pytest.raises(NotFound):
        school_in_scope_or_404(scope, elm.id)
    with pytest.raises(NotFound):
        school_in_scope_or_404(scope, 999_999)


@pytest.fixture
def app_with_an_admin_page(make_app):
    app = make_app()

    @app.route("/admin-only")
    @permission_required(can_manage_organisation)
    def admin_only():
        return "organisation settings"

    with app.app_context():
        yield app


def test_a_page_refused_by_role_is_a_plain_403(app_with_an_admin_page, make):
    from tests.conftest import sign_in

    client = app_with_an_admin_page.test_client()
    dsl = make.user(Role.DSL)
    sign_in(client, dsl.email)
    response = client.get("/admin-only")
    assert response.status_code == 403
    assert "You do not have access to this page" in response.get_data(as_text=True)

    admin_client = app_with_an_admin_page.test_client()
    sign_in(admin_client, make.user(Role.TRUST_ADMIN).email)
    assert admin_client.get("/admin-only").get_data(as_text=True) == "organisation settings"
