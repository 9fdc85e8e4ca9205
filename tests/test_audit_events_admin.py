"""Accounts, sessions, schools, staff, policies and notifications: each change leaves its event.

Every case below makes one change through the real service or the real form and then
checks the events written after it, all of them, field by field. The factories write
events of their own while a test sets up, so each case reads only the events after a
marker taken just before the change.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from typing import Any, NamedTuple

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import DEFAULT_PASSWORD, Factory, csrf_token_from
from tests.policy_helpers import seed_policy
from tests.smtp import free_port
from tracker.audit.actions import AuditAction
from tracker.audit.models import AuditEvent
from tracker.auth.models import RoleGrant, User, UserSession
from tracker.auth.roles import Role
from tracker.auth.services import create_user, disable_user, grant_role
from tracker.auth.sessions import EndReason, end_session, start_session
from tracker.errors import NotAllowed, ValidationFailed
from tracker.notifications.services import send_due_notifications
from tracker.orgs.models import School, Trust
from tracker.orgs.services import add_school, create_trust
from tracker.policy.importer import SEED_FILE, import_policy, read_policy_file
from tracker.policy.models import Clause, Policy, PolicyAcknowledgement, PolicyVersion
from tracker.policy.services import create_draft, create_policy, remove_clause
from tracker.staff.models import StaffMember
from tracker.workflow import services as wf
from tracker.workflow.models import SentNotification


class Seen(NamedTuple):
    """What a test checks of an event: everything but time, hashes and request origin."""

    action: str
    actor_id: int | None
    trust_id: int | None
    object_type: str | None
    object_id: int | None
    school_id: int | None
    outcome: str
    details: dict[str, Any]


def seen(
    action: AuditAction,
    actor: User | None,
    trust: Trust,
    object_type: str,
    object_id: int,
    *,
    school: School | None = None,
    outcome: str = "allowed",
    details: dict[str, Any] | None = None,
) -> Seen:
    return Seen(
        action.value,
        actor.id if actor is not None else None,
        trust.id,
        object_type,
        object_id,
        school.id if school is not None else None,
        outcome,
        details or {},
    )


@dataclass
class World:
    """The fixtures a case needs, and the marker it takes just before its change."""

    db: Any
    make: Factory
    login: Callable[..., FlaskClient]
    app: Any
    marker: int = 0

    def mark(self) -> None:
        self.marker = self.db.session.scalar(select(func.coalesce(func.max(AuditEvent.seq), 0)))

    def new_events(self) -> list[Seen]:
        rows = self.db.session.scalars(
            select(AuditEvent).where(AuditEvent.seq > self.marker).order_by(AuditEvent.seq)
        )
        return [
            Seen(
                e.action,
                e.actor_id,
                e.trust_id,
                e.object_type,
                e.object_id,
                e.school_id,
                e.outcome,
                e.details,
            )
            for e in rows
        ]

    def submit(self, client: FlaskClient, url: str, data: dict, *, form_url: str | None = None):
        """post_form, with the marker taken between fetching the form and posting it.

        Fetching the page is not the change under test (and a page may record a read).
        """
        page = client.get(form_url or url)
        assert page.status_code == 200, page.status_code
        self.mark()
        return client.post(
            url, data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), **data}
        )

    def session_of(self, user: User) -> UserSession:
        return self.db.session.scalars(
            select(UserSession).where(
                UserSession.user_id == user.id, UserSession.ended_at.is_(None)
            )
        ).one()


@pytest.fixture
def world(app, db, make, login) -> World:
    return World(db=db, make=make, login=login, app=app)


def _latest(db, model):
    return db.session.scalars(select(model).order_by(model.id.desc()).limit(1)).one()


# --- signing out and sessions ----------------------------------------------------------


def sign_out(w: World) -> list[Seen]:
    user = w.make.user(Role.DSL)
    client = w.login(user)
    record = w.session_of(user)
    response = w.submit(client, "/sign-out", {}, form_url="/")
    assert response.status_code == 302
    return [seen(AuditAction.LOGOUT, user, user.trust, "session", record.id)]


def _session_runs_out(w: World, reason: str) -> list[Seen]:
    user = w.make.user(Role.DSL)
    client = w.login(user)
    record = w.session_of(user)
    if reason == EndReason.IDLE:
        record.last_seen_at -= timedelta(minutes=w.app.config["SESSION_IDLE_MINUTES"], seconds=1)
    else:
        record.created_at -= timedelta(hours=w.app.config["SESSION_MAX_HOURS"])
    w.db.session.commit()
    w.mark()
    assert client.get("/").headers["Location"] == "/sign-in"
    return [
        seen(
            AuditAction.SESSION_ENDED,
            user,
            user.trust,
            "session",
            record.id,
            details={"reason": reason},
        )
    ]


def session_idle(w: World) -> list[Seen]:
    return _session_runs_out(w, EndReason.IDLE)


def session_expired(w: World) -> list[Seen]:
    return _session_runs_out(w, EndReason.EXPIRED)


def session_revoked(w: World) -> list[Seen]:
    admin = w.make.user(Role.TRUST_ADMIN)
    user = w.make.user(Role.DSL)
    start_session(user, ip_address=None, user_agent=None)
    w.db.session.commit()
    record = w.session_of(user)
    w.mark()
    end_session(record, EndReason.REVOKED, by=admin)
    w.db.session.commit()
    return [
        seen(
            AuditAction.SESSION_REVOKED,
            admin,
            user.trust,
            "session",
            record.id,
            details={"reason": "revoked", "user_id": user.id},
        )
    ]


# --- accounts --------------------------------------------------------------------------


def user_created(w: World) -> list[Seen]:
    admin = w.make.user(Role.TRUST_ADMIN)
    w.mark()
    user = create_user(
        admin.trust,
        email="new.person@example.org",
        display_name="New Person",
        password=DEFAULT_PASSWORD,
        by=admin,
    )
    w.db.session.commit()
    return [seen(AuditAction.USER_CREATED, admin, admin.trust, "user", user.id)]


def user_created_on_the_command_line(w: World) -> list[Seen]:
    trust = w.make.trust()
    w.mark()
    result = w.app.test_cli_runner().invoke(
        args=["users", "create", "--email", "p@example.org", "--name", "P"]
        + ["--password", DEFAULT_PASSWORD]
    )
    assert result.exit_code == 0, result.output
    user = _latest(w.db, User)
    return [seen(AuditAction.USER_CREATED, None, trust, "user", user.id)]


def user_disabled(w: World) -> list[Seen]:
    admin = w.make.user(Role.TRUST_ADMIN)
    user = w.make.user(Role.DSL)
    for _ in range(2):
        start_session(user, ip_address=None, user_agent=None)
    w.db.session.commit()
    first, second = w.db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
    )
    w.mark()
    assert disable_user(user, by=admin) == 2
    w.db.session.commit()
    revoked = {"reason": "disabled", "user_id": user.id}
    return [
        seen(AuditAction.SESSION_REVOKED, admin, user.trust, "session", first.id, details=revoked),
        seen(AuditAction.SESSION_REVOKED, admin, user.trust, "session", second.id, details=revoked),
        seen(
            AuditAction.USER_DISABLED,
            admin,
            user.trust,
            "user",
            user.id,
            details={"sessions_ended": 2},
        ),
    ]


def role_granted(w: World) -> list[Seen]:
    admin = w.make.user(Role.TRUST_ADMIN)
    school = w.make.school()
    user = w.make.user()
    w.mark()
    grant = grant_role(user, Role.DSL, school=school, granted_by=admin)
    w.db.session.commit()
    return [
        seen(
            AuditAction.ROLE_GRANTED,
            admin,
            user.trust,
            "user",
            user.id,
            school=school,
            details={"role": "dsl", "school_id": school.id, "grant_id": grant.id},
        )
    ]


# --- the trust and its schools ---------------------------------------------------------


def trust_created(w: World) -> list[Seen]:
    w.mark()
    trust = create_trust(name="Another Trust", code="AT")
    w.db.session.commit()
    return [seen(AuditAction.TRUST_CREATED, None, trust, "trust", trust.id)]


def school_created(w: World) -> list[Seen]:
    admin = w.make.user(Role.TRUST_ADMIN)
    w.mark()
    school = add_school(admin.trust, name="Oak School", code="OAK", by=admin)
    w.db.session.commit()
    return [
        seen(AuditAction.SCHOOL_CREATED, admin, admin.trust, "school", school.id, school=school)
    ]


def school_lado_updated(w: World) -> list[Seen]:
    school = w.make.school()
    w.mark()
    result = w.app.test_cli_runner().invoke(
        args=["schools", "set-lado", school.code, "--local-authority", "Oak County Council"]
        + ["--working-days", "2"]
    )
    assert result.exit_code == 0, result.output
    return [
        seen(
            AuditAction.SCHOOL_LADO_UPDATED,
            None,
            school.trust,
            "school",
            school.id,
            school=school,
            details={"fields": ["local_authority", "lado_working_days"]},
        )
    ]


# --- the staff register, through its forms ---------------------------------------------

STAFF_FORM = {
    "full_name": "Carol Carter",
    "job_title": "Science teacher",
    "employee_number": "C400",
    "normal_retirement_date": ["31", "8", "2045"],
}


def staff_created(w: World) -> list[Seen]:
    school = w.make.school()
    dsl = w.make.user(Role.DSL, school)
    client = w.login(dsl)
    response = w.submit(client, "/staff/new", {**STAFF_FORM, "school": str(school.id)})
    assert response.status_code == 302
    w.db.session.rollback()
    member = _latest(w.db, StaffMember)
    return [
        seen(
            AuditAction.STAFF_CREATED,
            dsl,
            school.trust,
            "staff_member",
            member.id,
            school=school,
            details={"user_id": None},
        )
    ]


def staff_updated(w: World) -> list[Seen]:
    school = w.make.school()
    member = w.make.staff(school)
    dsl = w.make.user(Role.DSL, school)
    client = w.login(dsl)
    response = w.submit(
        client,
        f"/staff/{member.id}/edit",
        {
            "school": str(school.id),
            "full_name": member.full_name,
            "job_title": "Head of science",
            "employee_number": member.employee_number,
            "normal_retirement_date": ["31", "8", "2045"],
        },
    )
    assert response.status_code == 302
    return [
        seen(
            AuditAction.STAFF_UPDATED,
            dsl,
            school.trust,
            "staff_member",
            member.id,
            school=school,
            details={"fields": ["job_title", "normal_retirement_date"]},
        )
    ]


def staff_moved(w: World) -> list[Seen]:
    ash, elm = w.make.school(name="Ash School"), w.make.school(name="Elm School")
    member = w.make.staff(ash)
    admin = w.make.user(Role.TRUST_ADMIN)
    client = w.login(admin)
    response = w.submit(
        client,
        f"/staff/{member.id}/edit",
        {
            "school": str(elm.id),
            "full_name": member.full_name,
            "job_title": member.job_title,
            "employee_number": member.employee_number,
        },
    )
    assert response.status_code == 302
    return [
        seen(
            AuditAction.STAFF_UPDATED,
            admin,
            ash.trust,
            "staff_member",
            member.id,
            school=elm,
            details={"fields": ["school"], "previous_school_id": ash.id},
        )
    ]


# --- the policy register ---------------------------------------------------------------


def _admin_and_policy(w: World) -> tuple[User, PolicyVersion, FlaskClient]:
    admin = w.make.user(Role.TRUST_ADMIN)
    version = seed_policy(admin.trust)
    return admin, version, w.login(admin)


def _draft_of(w: World, version: PolicyVersion) -> PolicyVersion:
    draft = create_draft(version.policy, version_label="2", by=None)
    w.db.session.commit()
    return draft


def policy_created(w: World) -> list[Seen]:
    admin = w.make.user(Role.TRUST_ADMIN)
    w.mark()
    policy = create_policy(admin.trust, title="Acceptable Use Policy", by=admin)
    w.db.session.commit()
    return [seen(AuditAction.POLICY_CREATED, admin, admin.trust, "policy", policy.id)]


def policy_version_drafted(w: World) -> list[Seen]:
    admin, version, client = _admin_and_policy(w)
    response = w.submit(
        client,
        f"/policies/{version.policy_id}/drafts",
        {"version_label": "2025"},
        form_url=f"/policies/{version.policy_id}",
    )
    assert response.status_code == 302
    w.db.session.rollback()
    draft = _latest(w.db, PolicyVersion)
    return [
        seen(
            AuditAction.POLICY_VERSION_DRAFTED,
            admin,
            admin.trust,
            "policy_version",
            draft.id,
            details={
                "policy_id": version.policy_id,
                "based_on_id": version.id,
                "clauses_copied": 17,
            },
        )
    ]


def policy_version_updated(w: World) -> list[Seen]:
    admin, version, client = _admin_and_policy(w)
    draft = _draft_of(w, version)
    response = w.submit(
        client,
        f"/policies/versions/{draft.id}/details",
        {
            "title": draft.title,
            "version_label": "2",
            "approved_on": ["14", "7", "2025"],
            "review_due": ["1", "7", "2028"],
            "full_text": draft.full_text,
        },
    )
    assert response.status_code == 302
    return [
        seen(
            AuditAction.POLICY_VERSION_UPDATED,
            admin,
            admin.trust,
            "policy_version",
            draft.id,
            details={"policy_id": version.policy_id, "fields": ["approved_on", "review_due"]},
        )
    ]


CLAUSE_FORM = {
    "reference": "9.1",
    "heading": "Smart watches",
    "text": "Staff do not use smart watches to photograph pupils.",
    "kind": "rule",
    "significance": "medium",
}


def policy_clause_added(w: World) -> list[Seen]:
    admin, version, client = _admin_and_policy(w)
    draft = _draft_of(w, version)
    response = w.submit(client, f"/policies/versions/{draft.id}/clauses/new", CLAUSE_FORM)
    assert response.status_code == 302
    w.db.session.rollback()
    clause = _latest(w.db, Clause)
    return [
        seen(
            AuditAction.POLICY_CLAUSE_ADDED,
            admin,
            admin.trust,
            "clause",
            clause.id,
            details={"policy_id": version.policy_id, "version_id": draft.id},
        )
    ]


def policy_clause_updated(w: World) -> list[Seen]:
    admin, version, client = _admin_and_policy(w)
    draft = _draft_of(w, version)
    clause = draft.clause("3.4")
    response = w.submit(
        client,
        f"/policies/clauses/{clause.id}/edit",
        {
            "reference": "3.4",
            "heading": clause.heading,
            "text": "Staff never contact pupils online, except through school systems.",
            "kind": "rule",
            "significance": "high",
        },
    )
    assert response.status_code == 302
    return [
        seen(
            AuditAction.POLICY_CLAUSE_UPDATED,
            admin,
            admin.trust,
            "clause",
            clause.id,
            details={"policy_id": version.policy_id, "version_id": draft.id, "fields": ["text"]},
        )
    ]


def policy_clause_removed(w: World) -> list[Seen]:
    admin, version, client = _admin_and_policy(w)
    draft = _draft_of(w, version)
    clause_id = draft.clause("3.4").id
    response = w.submit(client, f"/policies/clauses/{clause_id}/remove", {})
    assert response.status_code == 302
    w.db.session.rollback()
    assert w.db.session.get(Clause, clause_id) is None
    return [
        seen(
            AuditAction.POLICY_CLAUSE_REMOVED,
            admin,
            admin.trust,
            "clause",
            clause_id,
            details={"policy_id": version.policy_id, "version_id": draft.id},
        )
    ]


def policy_version_published(w: World) -> list[Seen]:
    admin, version, client = _admin_and_policy(w)
    draft = _draft_of(w, version)
    draft.approved_on, draft.review_due = date(2025, 7, 1), date(2028, 7, 1)
    w.db.session.commit()
    response = w.submit(
        client, f"/policies/versions/{draft.id}/publish", {"effective_from": ["1", "9", "2025"]}
    )
    assert response.status_code == 302
    return [
        seen(
            AuditAction.POLICY_VERSION_PUBLISHED,
            admin,
            admin.trust,
            "policy_version",
            draft.id,
            details={
                "policy_id": version.policy_id,
                "effective_from": "2025-09-01",
                "superseded_id": version.id,
            },
        )
    ]


def policy_imported(w: World) -> list[Seen]:
    """The importer goes through the services, so it leaves their events, as the system."""
    trust = w.make.trust()
    w.mark()
    version = import_policy(trust, read_policy_file(SEED_FILE))
    w.db.session.commit()
    policy_id = version.policy_id
    in_policy = {"policy_id": policy_id}
    in_version = {"policy_id": policy_id, "version_id": version.id}
    return [
        seen(AuditAction.POLICY_CREATED, None, trust, "policy", policy_id),
        seen(
            AuditAction.POLICY_VERSION_DRAFTED,
            None,
            trust,
            "policy_version",
            version.id,
            details={**in_policy, "based_on_id": None, "clauses_copied": 0},
        ),
        seen(
            AuditAction.POLICY_VERSION_UPDATED,
            None,
            trust,
            "policy_version",
            version.id,
            details={
                **in_policy,
                "fields": ["title", "approved_on", "review_due", "full_text"],
            },
        ),
        *(
            seen(
                AuditAction.POLICY_CLAUSE_ADDED,
                None,
                trust,
                "clause",
                clause_id,
                details=in_version,
            )
            for clause_id in sorted(clause.id for clause in version.clauses)
        ),
        seen(
            AuditAction.POLICY_VERSION_PUBLISHED,
            None,
            trust,
            "policy_version",
            version.id,
            details={**in_policy, "effective_from": "2020-12-01", "superseded_id": None},
        ),
    ]


def policy_acknowledged(w: World) -> list[Seen]:
    school = w.make.school()
    version = seed_policy(school.trust)
    member = w.make.staff(school)
    dsl = w.make.user(Role.DSL, school)
    client = w.login(dsl)
    response = w.submit(
        client,
        f"/policies/versions/{version.id}/acknowledgements",
        {
            "staff_member": str(member.id),
            "acknowledged_on": ["2", "9", "2021"],
            "method": "training_session",
        },
    )
    assert response.status_code == 302
    w.db.session.rollback()
    record = _latest(w.db, PolicyAcknowledgement)
    return [
        seen(
            AuditAction.POLICY_ACKNOWLEDGED,
            dsl,
            school.trust,
            "policy_acknowledgement",
            record.id,
            school=school,
            details={
                "version_id": version.id,
                "staff_member_id": member.id,
                "method": "training_session",
                "acknowledged_on": "2021-09-02",
            },
        )
    ]


def policy_acknowledgements_imported(w: World) -> list[Seen]:
    school = w.make.school()
    version = seed_policy(school.trust)
    first, second = w.make.staff(school), w.make.staff(school)
    dsl = w.make.user(Role.DSL, school)
    client = w.login(dsl)
    content = (
        "employee_number,acknowledged_on,method\n"
        f"{first.employee_number},2021-09-02,training session\n"
        f"{second.employee_number},03/09/2021,signed form\n"
    ).encode()
    response = w.submit(
        client,
        f"/policies/versions/{version.id}/acknowledgements/import",
        {"csv_file": (BytesIO(content), "acks.csv")},
        form_url=f"/policies/versions/{version.id}/acknowledgements",
    )
    assert response.status_code == 302
    return [
        seen(
            AuditAction.POLICY_ACKNOWLEDGEMENTS_IMPORTED,
            dsl,
            school.trust,
            "policy_version",
            version.id,
            school=school,
            details={"imported": 2, "rows": 2, "school_ids": [school.id], "schools": 1},
        )
    ]


# --- notifications ---------------------------------------------------------------------


def _case_with_lado_referral_overdue(w: World):
    school = w.make.school()
    dsl = w.make.user(Role.DSL, school)
    case = w.make.case(school, by=dsl)
    wf.triage(
        case,
        track="allegation",
        answers=dict.fromkeys(wf.HARM_QUESTIONS, "yes"),
        rationale="r",
        by=dsl,
        now=datetime.now(UTC) - timedelta(days=7),
    )
    w.db.session.commit()
    return case, dsl


def notification_sent(w: World) -> list[Seen]:
    case, dsl = _case_with_lado_referral_overdue(w)
    w.mark()
    assert send_due_notifications().sent == 1
    sent = _latest(w.db, SentNotification)
    return [
        Seen(
            AuditAction.NOTIFICATION_SENT.value,
            None,
            case.trust_id,
            "sent_notification",
            sent.id,
            case.school_id,
            "allowed",
            {"kind": "lado_referral_due", "key": sent.key, "recipient_id": dsl.id},
        )
    ]


CHANGES: dict[str, Callable[[World], list[Seen]]] = {
    change.__name__: change
    for change in [
        sign_out,
        session_idle,
        session_expired,
        session_revoked,
        user_created,
        user_created_on_the_command_line,
        user_disabled,
        role_granted,
        trust_created,
        school_created,
        school_lado_updated,
        staff_created,
        staff_updated,
        staff_moved,
        policy_created,
        policy_version_drafted,
        policy_version_updated,
        policy_clause_added,
        policy_clause_updated,
        policy_clause_removed,
        policy_version_published,
        policy_imported,
        policy_acknowledged,
        policy_acknowledgements_imported,
        notification_sent,
    ]
}


@pytest.mark.parametrize("change", CHANGES)
def test_each_change_leaves_exactly_its_event(world, change):
    expected = CHANGES[change](world)
    # What the view committed, not what the test's session still holds.
    world.db.session.rollback()
    assert world.new_events() == expected


def test_the_factories_record_the_system_as_the_actor(world):
    world.mark()
    world.make.school()
    assert [(e.action, e.actor_id) for e in world.new_events()] == [
        ("trust.created", None),
        ("school.created", None),
    ]


# --- a change refused leaves nothing ---------------------------------------------------


def test_a_duplicate_email_leaves_no_event(world):
    admin = world.make.user(Role.TRUST_ADMIN, email="taken@example.org")
    world.mark()
    with pytest.raises(ValidationFailed):
        create_user(
            admin.trust,
            email="Taken@Example.org",
            display_name="Someone",
            password=DEFAULT_PASSWORD,
            by=admin,
        )
    world.db.session.rollback()
    assert world.new_events() == []


@pytest.mark.parametrize(
    "changes",
    [
        {"full_name": "  "},  # the form's own check
        {"employee_number": "TAKEN"},  # the service's check, after the form passed
    ],
)
def test_a_refused_staff_form_leaves_no_event(world, changes):
    school = world.make.school()
    world.make.staff(school)
    taken = world.make.staff(school)
    taken.employee_number = "TAKEN"
    world.db.session.commit()
    client = world.login(world.make.user(Role.DSL, school))
    response = world.submit(
        client, "/staff/new", {**STAFF_FORM, "school": str(school.id), **changes}
    )
    assert response.status_code == 200
    world.db.session.rollback()
    assert world.new_events() == []
    assert world.db.session.scalar(select(func.count(StaffMember.id))) == 2


def test_saving_a_staff_record_unchanged_leaves_no_event(world):
    school = world.make.school()
    member = world.make.staff(school)
    client = world.login(world.make.user(Role.DSL, school))
    response = world.submit(
        client,
        f"/staff/{member.id}/edit",
        {
            "school": str(school.id),
            "full_name": member.full_name,
            "job_title": member.job_title,
            "employee_number": member.employee_number,
        },
    )
    assert response.status_code == 302
    world.db.session.rollback()
    assert world.new_events() == []


def test_publishing_without_dates_leaves_no_event(world):
    admin, version, client = _admin_and_policy(world)
    draft = _draft_of(world, version)
    response = world.submit(
        client, f"/policies/versions/{draft.id}/publish", {"effective_from": ["1", "9", "2025"]}
    )
    assert "Set the date the version was approved" in response.get_data(as_text=True)
    world.db.session.rollback()
    assert world.new_events() == []


def test_removing_a_clause_of_a_published_version_leaves_no_event(world):
    admin, version, _client = _admin_and_policy(world)
    world.mark()
    with pytest.raises(NotAllowed):
        remove_clause(version.clause("3.4"), by=admin)
    world.db.session.rollback()
    assert world.new_events() == []


def test_a_refused_acknowledgements_file_leaves_no_event(world):
    school = world.make.school()
    version = seed_policy(school.trust)
    member = world.make.staff(school)
    client = world.login(world.make.user(Role.DSL, school))
    content = (
        "employee_number,acknowledged_on,method\n"
        f"{member.employee_number},2021-09-02,training session\n"
        "NOBODY,2021-09-02,training session\n"
    ).encode()
    response = world.submit(
        client,
        f"/policies/versions/{version.id}/acknowledgements/import",
        {"csv_file": (BytesIO(content), "acks.csv")},
        form_url=f"/policies/versions/{version.id}/acknowledgements",
    )
    assert "Nothing was imported" in response.get_data(as_text=True)
    world.db.session.rollback()
    assert world.new_events() == []


def test_a_notification_that_fails_to_send_leaves_no_event(world):
    world.app.config.update(
        MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_TIMEOUT=5
    )
    _case_with_lado_referral_overdue(world)
    world.mark()
    assert send_due_notifications().failed == 1
    world.db.session.rollback()
    assert world.new_events() == []


def test_ending_a_session_twice_records_it_once(world):
    user = world.make.user(Role.DSL)
    start_session(user, ip_address=None, user_agent=None)
    world.db.session.commit()
    record = world.session_of(user)
    end_session(record, EndReason.REVOKED)
    world.mark()
    end_session(record, EndReason.REVOKED)
    assert disable_user(user) == 0  # no session left open to end
    disable_user(user)  # already disabled: nothing changes, nothing recorded
    world.db.session.commit()
    assert [e.action for e in world.new_events()] == ["user.disabled"]


# --- refused pages are audited ---------------------------------------------------------


def _without_csrf(response) -> str:
    return re.sub(r'value="[^"]*"', "", response.get_data(as_text=True))


def _denied(actor: User, object_type: str | None, object_id: int | None, endpoint: str, status):
    return Seen(
        AuditAction.ACCESS_DENIED.value,
        actor.id,
        actor.trust_id,
        object_type,
        object_id,
        None,
        "denied",
        {"endpoint": endpoint, "status": status},
    )


def test_a_dsl_opening_a_policy_draft_is_refused_as_not_found_and_audited(world):
    admin = world.make.user(Role.TRUST_ADMIN)
    version = seed_policy(admin.trust)
    draft = _draft_of(world, version)
    dsl = world.make.user(Role.DSL)
    client = world.login(dsl)
    world.mark()
    refused = client.get(f"/policies/versions/{draft.id}")
    missing = client.get("/policies/versions/999999")
    assert refused.status_code == missing.status_code == 404
    # Nothing on the page tells a draft from a version that does not exist.
    assert _without_csrf(refused) == _without_csrf(missing)
    world.db.session.rollback()
    assert world.new_events() == [_denied(dsl, "policy_version", draft.id, "policy.version", 404)]


def test_a_draft_clause_is_refused_as_its_clause(world):
    admin = world.make.user(Role.TRUST_ADMIN)
    draft = _draft_of(world, seed_policy(admin.trust))
    clause = draft.clause("3.4")
    dsl = world.make.user(Role.DSL)
    client = world.login(dsl)
    world.mark()
    assert client.get(f"/policies/clauses/{clause.id}").status_code == 404
    world.db.session.rollback()
    assert world.new_events() == [_denied(dsl, "clause", clause.id, "policy.clause", 404)]


def test_another_trusts_policy_is_refused_and_audited(world):
    version = seed_policy(world.make.trust(name="First Trust"))
    ceo = world.make.user(Role.CEO, trust=world.make.trust(name="Second Trust"))
    client = world.login(ceo)
    world.mark()
    assert client.get(f"/policies/{version.policy_id}").status_code == 404
    world.db.session.rollback()
    assert world.new_events() == [_denied(ceo, "policy", version.policy_id, "policy.history", 404)]
    assert world.db.session.get(Policy, version.policy_id) is not None


def test_another_schools_staff_record_is_refused_and_audited(world):
    ash, elm = world.make.school(name="Ash School"), world.make.school(name="Elm School")
    eve = world.make.staff(elm)
    dsl = world.make.user(Role.DSL, ash)
    client = world.login(dsl)
    token = csrf_token_from(client.get("/staff/new").get_data(as_text=True))
    world.mark()
    assert client.get(f"/staff/{eve.id}").status_code == 404
    response = client.post(
        f"/staff/{eve.id}/edit", data={"csrf_token": token, **STAFF_FORM, "school": str(ash.id)}
    )
    assert response.status_code == 404
    world.db.session.rollback()
    assert world.new_events() == [
        _denied(dsl, "staff_member", eve.id, "staff.show", 404),
        _denied(dsl, "staff_member", eve.id, "staff.edit", 404),
    ]
    assert world.db.session.get(StaffMember, eve.id).school_id == elm.id


def test_a_staff_number_that_does_not_exist_is_a_plain_404(world):
    client = world.login(world.make.user(Role.DSL))
    world.mark()
    assert client.get("/staff/999999").status_code == 404
    world.db.session.rollback()
    assert world.new_events() == []


def test_a_page_the_role_does_not_allow_is_refused_403_and_audited(world):
    admin = world.make.user(Role.TRUST_ADMIN)
    draft = _draft_of(world, seed_policy(admin.trust))
    dsl = world.make.user(Role.DSL)
    client = world.login(dsl)
    world.mark()
    assert client.get(f"/policies/versions/{draft.id}/details").status_code == 403
    world.db.session.rollback()
    assert world.new_events() == [_denied(dsl, None, None, "policy.edit_details", 403)]


def test_granting_a_role_twice_leaves_one_event(world):
    school = world.make.school()
    user = world.make.user(Role.DSL, school)
    world.mark()
    with pytest.raises(ValidationFailed):
        grant_role(user, Role.DSL, school=school)
    world.db.session.rollback()
    assert world.new_events() == []
    assert world.db.session.scalar(select(func.count(RoleGrant.id))) == 1
