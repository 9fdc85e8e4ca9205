"""The command line: `flask users ...` and `flask demo`."""

import stat
from pathlib import Path

import pyotp
from sqlalchemy import func, select

from tests.conftest import post_form, sign_in
from tracker.auth.models import RoleGrant, User, UserSession
from tracker.auth.roles import Role
from tracker.cases.models import Case
from tracker.staff.models import StaffMember


def test_users_create_grant_and_list(runner, make, db):
    school = make.school(name="Oak School")
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "New.Person@Example.org",
            "--name",
            "New Person",
            "--password",
            "twelve chars ok",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created new.person@example.org" in result.output

    result = runner.invoke(
        args=["users", "grant", "new.person@example.org", "dsl", "--school", school.code]
    )
    assert result.exit_code == 0, result.output
    assert "designated safeguarding lead (Oak School)" in result.output

    db.session.rollback()
    user = db.session.scalar(select(User).where(User.email == "new.person@example.org"))
    assert [(g.role, g.school_id) for g in user.grants] == [("dsl", school.id)]

    listing = runner.invoke(args=["users", "list"])
    assert "new.person@example.org" in listing.output
    assert "Designated safeguarding lead (Oak School)" in listing.output


def test_users_create_prompts_for_the_password_without_echoing(runner, make, db):
    make.school()
    result = runner.invoke(
        args=["users", "create", "--email", "p@example.org", "--name", "P"],
        input="a good long password\na good long password\n",
    )
    assert result.exit_code == 0, result.output
    assert "a good long password" not in result.output


def test_users_create_explains_a_short_password(runner, make, db):
    make.school()
    result = runner.invoke(
        args=["users", "create", "--email", "p@example.org", "--name", "P", "--password", "short"]
    )
    assert result.exit_code == 1
    assert "Password must be 12 characters or more" in result.output
    db.session.rollback()
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_users_grant_explains_bad_scope_and_unknown_school(runner, make):
    make.user(email="a@example.org")
    result = runner.invoke(args=["users", "grant", "a@example.org", "dsl"])
    assert result.exit_code == 1 and "must be given a school" in result.output
    result = runner.invoke(args=["users", "grant", "a@example.org", "dsl", "--school", "NOPE"])
    assert result.exit_code == 1 and "has no school with code NOPE" in result.output
    result = runner.invoke(args=["users", "grant", "nobody@example.org", "ceo"])
    assert result.exit_code == 1 and "No account has the e-mail address" in result.output
    result = runner.invoke(args=["users", "grant", "a@example.org", "emperor"])
    assert result.exit_code == 2


def test_users_disable_ends_sessions(runner, make, db, client):
    user = make.user(Role.DSL, email="d@example.org")
    sign_in(client, "d@example.org")
    assert client.get("/").status_code == 200
    result = runner.invoke(args=["users", "disable", "d@example.org"])
    assert result.exit_code == 0, result.output
    assert "ended 1 open session" in result.output
    assert client.get("/").status_code == 302
    db.session.rollback()
    assert db.session.get(User, user.id).disabled_at is not None
    assert db.session.scalar(select(UserSession.end_reason)) == "disabled"


def test_users_list_on_an_empty_database_says_what_to_do(runner):
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 1
    assert "flask --app app demo" in result.output


def test_demo_loads_a_trust_that_can_sign_in(runner, app, db, client):
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "Horizon Multi Academy Trust" in result.output

    db.session.rollback()
    grants = db.session.scalars(select(RoleGrant.role)).all()
    assert set(grants) == {role.value for role in Role}
    assert db.session.scalar(select(func.count(StaffMember.id))) >= 5
    # A low-level concern under investigation at Riverside, moved on by the real services.
    demo_case = db.session.scalars(select(Case)).one()
    assert (demo_case.status, demo_case.track) == ("investigation", "low_level")
    assert [t.action for t in demo_case.transitions] == ["triage", "start_investigation"]

    # Every printed sign-in works, with a code from the printed authenticator key.
    lines = [line.split() for line in result.output.splitlines() if "@" in line]
    keys = [
        line.split()[1] for line in result.output.splitlines() if line.strip().startswith("key ")
    ]
    users = db.session.scalar(select(func.count(User.id)))
    assert len(lines) == len(keys) == users
    for (email, password, *_), key in zip(lines, keys, strict=True):
        with client.session_transaction() as cookie_session:
            cookie_session.clear()
        response = post_form(client, "/sign-in", {"email": email, "password": password})
        assert response.headers["Location"] == "/sign-in/code", email
        response = post_form(client, "/sign-in/code", {"code": pyotp.TOTP(key).now()})
        assert response.headers["Location"] == "/", email

    saved = Path(app.instance_path) / "demo-sign-ins.txt"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600

    # Running it again changes nothing and shows the same sign-ins.
    again = runner.invoke(args=["demo", "--if-empty"])
    assert again.exit_code == 0
    assert lines[0][1] in again.output
    db.session.rollback()
    assert db.session.scalar(select(func.count(User.id))) == users

    refused = runner.invoke(args=["demo"])
    assert refused.exit_code == 1 and "already holds a trust" in refused.output


def test_schools_lado_arrangements(runner, make, db):
    school = make.school(name="Oak School")
    result = runner.invoke(
        args=[
            "schools",
            "set-lado",
            school.code,
            "--local-authority",
            "Shire Council",
            "--working-days",
            "2",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Shire Council" in result.output
    db.session.rollback()
    db.session.refresh(school)
    assert (school.local_authority, school.lado_working_days) == ("Shire Council", 2)
    assert "within 2 working day(s)" in runner.invoke(args=["schools", "list"]).output
    bad = runner.invoke(
        args=["schools", "set-lado", school.code, "--local-authority", "X", "--working-days", "0"]
    )
    assert bad.exit_code == 1 and "between 1 and 10" in bad.output
