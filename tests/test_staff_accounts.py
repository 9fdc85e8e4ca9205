"""Accounts from the staff register: the trust administrator gives the people on it an
account with their work e-mail, for signing in through the trust's identity provider."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.conftest import csrf_token_from, sign_in
from tracker.audit.models import AuditEvent
from tracker.auth.models import User
from tracker.auth.roles import Role
from tracker.clock import today
from tracker.extensions import db as _db
from tracker.staff.models import StaffMember


def _with_email(make, school, name: str, email: str | None, **fields) -> StaffMember:
    member = make.staff(school, name=name)
    member.work_email = email
    for key, value in fields.items():
        setattr(member, key, value)
    _db.session.commit()
    return member


def test_the_administrator_gives_accounts_to_people_on_the_register(app, make, login):
    school = make.school()
    admin = make.user(Role.TRUST_ADMIN, trust=school.trust)
    chosen = _with_email(make, school, "Ada Chosen", "ada@school.example")
    existing = make.user(email="ben@school.example", trust=school.trust)
    links = _with_email(make, school, "Ben Existing", "BEN@school.example")
    left_out = _with_email(make, school, "Cal Unticked", "cal@school.example")
    _with_email(make, school, "Dee Left", "dee@school.example", left_on=today() - timedelta(days=1))
    _with_email(make, school, "Eve NoEmail", None)
    client = login(admin)

    page = client.get("/staff/accounts").get_data(as_text=True)
    assert "3 people without an account" in page
    assert "Dee Left" not in page and "Eve NoEmail" not in page
    assert "Sign-in through the trust&#39;s identity provider is not set up yet" in page

    token = csrf_token_from(page)
    none = client.post("/staff/accounts", data={"csrf_token": token})
    assert "Select at least one person to give an account to" in none.get_data(as_text=True)
    done = client.post(
        "/staff/accounts",
        data={"csrf_token": token, "member": [str(chosen.id), str(links.id)]},
    )
    assert done.status_code == 302
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "1 accounts made and 1 existing accounts linked" in after
    assert "1 person without an account" in after and left_out.full_name in after

    _db.session.rollback()
    made = _db.session.scalars(select(User).where(User.email == "ada@school.example")).one()
    assert (made.display_name, made.trust_id) == ("Ada Chosen", school.trust_id)
    # Each is a member of staff at their school, made or linked: no other role.
    for user in (made, existing):
        assert [(g.role, g.school_id) for g in user.grants] == [("staff", school.id)]
    assert _db.session.get(StaffMember, chosen.id).user_id == made.id
    assert _db.session.get(StaffMember, links.id).user_id == existing.id
    event = _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "staff.accounts.given")
    ).one()
    assert event.details == {"created": 1, "linked": 1, "skipped": 0}
    _db.session.commit()
    # No password: the account signs in only through the provider.
    assert sign_in(app.test_client(), made.email, "any password at all").status_code == 200


def test_only_the_trust_administrator_gives_accounts(make, login):
    school = make.school()
    client = login(make.user(Role.DSL, school))
    assert client.get("/staff/accounts").status_code == 403
    assert "Give staff accounts" not in client.get("/staff/").get_data(as_text=True)
