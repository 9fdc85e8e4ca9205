"""What each role's home page shows: one panel per role grant, with its empty state."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from flask import url_for
from sqlalchemy import and_, func, or_, select

from tracker.auth.models import RoleGrant, User
from tracker.auth.permissions import (
    is_member_of_staff,
    own_staff_record,
    school_scope,
    visible_cases_filter,
)
from tracker.auth.roles import Role
from tracker.cases.models import OPEN_STATUSES, Case, CaseStatus, Track
from tracker.clock import UK, uk_time
from tracker.clock import today as clock_today
from tracker.concerns.services import Receipt, draft_of, receipts_of
from tracker.consents.models import PictureConsent
from tracker.consents.services import consents_asked
from tracker.db import utcnow
from tracker.extensions import db
from tracker.orgs.models import School
from tracker.policy.acknowledgements import PolicyToRead, policies_to_read
from tracker.retention.overview import retention_counts
from tracker.staff.models import StaffMember
from tracker.workflow.clocks import END_OF_WORKING_DAY, kcsie_targets
from tracker.workflow.models import Appeal, CaseTransition

SCHOOL_SAFEGUARDING_ROLES = frozenset({Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER})

# Open cases listed per school on the home page, oldest report first; the case list
# has the rest.
OPEN_CASES_SHOWN = 10


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True)
class CaseLink:
    reference: str
    case_id: int
    subject: str
    status: str
    reported_on: date


@dataclass(frozen=True)
class PanelLink:
    text: str
    href: str


@dataclass(frozen=True)
class Panel:
    """A block on the home page: a heading, what the role is for, and what waits."""

    key: str
    heading: str
    role_label: str
    scope_label: str
    items: list[str] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    cases: list[CaseLink] = field(default_factory=list)
    empty_message: str = ""
    links: list[PanelLink] = field(default_factory=list)


def _open_cases_at(user: User, school_id: int) -> list[CaseLink]:
    rows = db.session.execute(
        select(Case.id, Case.reference, Case.status, Case.reported_on, StaffMember.full_name)
        .join(StaffMember, StaffMember.id == Case.subject_id)
        .where(
            visible_cases_filter(user),
            Case.school_id == school_id,
            Case.status.in_([status.value for status in OPEN_STATUSES]),
        )
        .order_by(Case.reported_on, Case.id)
        .limit(OPEN_CASES_SHOWN)
    )
    return [
        CaseLink(
            row.reference, row.id, row.full_name, CaseStatus(row.status).label, row.reported_on
        )
        for row in rows
    ]


def _school_panel(grant: RoleGrant, user: User) -> Panel:
    school = grant.school.name if grant.school else "your trust"
    role = Role(grant.role)
    # Only school roles come here, and grant_role gives each of them a school.
    cases = _open_cases_at(user, grant.school_id) if grant.school_id is not None else []
    if role is Role.HEADTEACHER:
        return Panel(
            key=f"headteacher-{grant.school_id}",
            heading=f"Waiting for you at {school}",
            role_label=role.label,
            scope_label=school,
            cases=cases,
            empty_message=(
                f"Nothing at {school} needs your decision. When your designated "
                "safeguarding lead submits a case for decision, it will be listed here "
                "with its deadline."
            ),
        )
    return Panel(
        key=f"{role.value}-{grant.school_id}",
        heading=f"Concerns at {school}",
        role_label=role.label,
        scope_label=school,
        cases=cases,
        empty_message=(
            f"No concerns at {school} need your attention. When a member of staff is "
            "reported for breaching the social media policy, log the concern here and it "
            "will stay on this list, soonest deadline first, until it is closed."
        ),
    )


def _trust_admin_panel(user: User) -> Panel:
    trust_id = user.trust_id
    schools = db.session.scalar(select(func.count(School.id)).where(School.trust_id == trust_id))
    users = db.session.scalar(select(func.count(User.id)).where(User.trust_id == trust_id))
    staff = db.session.scalar(
        select(func.count(StaffMember.id)).where(StaffMember.trust_id == trust_id)
    )
    without_role = db.session.scalars(
        select(User.display_name)
        .where(User.trust_id == trust_id, User.disabled_at.is_(None), ~User.grants.any())
        .order_by(User.display_name)
    ).all()
    return Panel(
        key="trust_admin",
        heading="Your trust",
        role_label=Role.TRUST_ADMIN.label,
        scope_label="Whole trust",
        facts=[
            Fact("Schools", str(schools or 0)),
            Fact("People who can sign in", str(users or 0)),
            Fact("Staff on the register", str(staff or 0)),
        ],
        items=[f"{name} can sign in but has no role yet" for name in without_role],
        empty_message="Everyone who can sign in has a role.",
    )


_TRUST_PANELS: dict[Role, tuple[str, str]] = {
    Role.CEO: (
        "Decisions routed to the trust",
        "No case needs your decision. A case comes to you when the headteacher is its "
        "subject, reported it or investigated it, and when a decision is appealed.",
    ),
    Role.CHAIR: (
        "Decisions routed to the chair",
        "No case needs you. A case comes to the chair of trustees only when the chief "
        "executive is its subject or has been involved in it.",
    ),
    Role.DPO: (
        "Data protection work",
        "No subject access requests, legal holds or disposals need you. Requests you "
        "record will be listed here with their one-month deadline.",
    ),
    Role.AUDITOR: (
        "Case histories",
        "There are no cases to review yet. Every case you can see will be listed with its "
        "complete history; what you open is itself recorded.",
    ),
}


def _dpo_panel(user: User, today: date) -> Panel:
    """The data protection officer's: open subject access requests and how many are late."""
    from tracker.privacy.services import open_requests_count

    heading, empty = _TRUST_PANELS[Role.DPO]
    open_count, overdue = open_requests_count(user.trust_id, today)
    facts = []
    if open_count:
        facts = [
            Fact("Open subject access requests", str(open_count)),
            Fact("Past their deadline", str(overdue)),
        ]
    return Panel(
        key=Role.DPO.value,
        heading=heading,
        role_label=Role.DPO.label,
        scope_label="Whole trust",
        facts=facts,
        empty_message="" if open_count else empty,
        links=[PanelLink("Subject access requests", url_for("privacy.requests"))],
    )


def _with_retention(panel: Panel, user: User, today: date) -> Panel:
    """The DPO's panel with what retention needs of them, and the way to the list."""
    counts = retention_counts(user, today)
    facts = [
        Fact("Cases due for disposal", str(counts.due_now)),
        Fact("Cases due for review", str(counts.reviews)),
        Fact("Closed cases held", str(counts.held)),
    ]
    waiting = counts.due_now or counts.reviews
    return replace(
        panel,
        facts=[*panel.facts, *facts],
        empty_message=(
            "Cases are waiting for disposal or your review: check them before the next run."
            if waiting
            else panel.empty_message
        ),
        links=[
            *panel.links,
            PanelLink(
                "Retention and disposal: what is due, held or missing facts",
                url_for("retention.index"),
            ),
        ],
    )


def home_panels(user: User, today: date | None = None) -> list[Panel]:
    """One panel for each role grant the user holds, in a stable order."""
    panels: list[Panel] = []
    order = list(Role)
    for grant in sorted(user.grants, key=lambda g: (order.index(Role(g.role)), g.scope_label)):
        role = Role(grant.role)
        if role is Role.STAFF:
            continue  # a member of staff's own section (staff_home), not a panel per school
        if role is Role.TRUST_ADMIN:
            panels.append(_trust_admin_panel(user))
        elif role is Role.DPO and grant.school_id is None:
            day = today or clock_today()
            panels.append(_with_retention(_dpo_panel(user, day), user, day))
        elif role in _TRUST_PANELS and grant.school_id is None:
            heading, empty = _TRUST_PANELS[role]
            panels.append(
                Panel(
                    key=role.value,
                    heading=heading,
                    role_label=role.label,
                    scope_label="Whole trust",
                    empty_message=empty,
                )
            )
        elif role is Role.AUDITOR:
            heading, empty = _TRUST_PANELS[role]
            panels.append(
                Panel(
                    key=f"auditor-{grant.school_id}",
                    heading=f"{heading} at {grant.scope_label}",
                    role_label=role.label,
                    scope_label=grant.scope_label,
                    empty_message=empty,
                )
            )
        else:
            panels.append(_school_panel(grant, user))
    return panels


# --- my work: what waits for this user, soonest deadline first -------------------------


@dataclass(frozen=True)
class WorkItem:
    case_id: int
    reference: str
    subject: str
    task: str
    due: datetime | None
    overdue: bool

    @property
    def sort_key(self) -> tuple[bool, datetime, str]:
        return (self.due is None, self.due or datetime.max.replace(tzinfo=UTC), self.reference)


def _first_kcsie_due(reported_on: date, today_uk: date) -> datetime:
    """The next KCSIE target not yet passed (the last one once all have), at end of day."""
    targets = kcsie_targets(reported_on)
    target = next((t for t in targets if t.due >= today_uk), targets[-1])
    return datetime.combine(target.due, END_OF_WORKING_DAY, UK).astimezone(UTC)


def my_work(user: User, now: datetime | None = None) -> list[WorkItem]:
    """The cases waiting for this user to act, soonest deadline first.

    Decisions routed to them, cases they investigate (or that came back to them),
    appeals they hear, and, at the schools where they work on cases, concerns waiting
    for triage and allegations whose LADO referral is due. One statement reading only
    what the list shows (a busy school's lead can have hundreds of items).
    """
    now = now or utcnow()
    today_uk = uk_time(now).date()
    # Triage and LADO referrals are the school's to do, not the CEO's across the trust.
    worker_scope = school_scope(user, SCHOOL_SAFEGUARDING_ROLES)
    last_action = (
        select(CaseTransition.action)
        .where(CaseTransition.case_id == Case.id)
        .order_by(CaseTransition.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    # Each kind of waiting on its own indexed column (SQLite uses an index for an OR
    # only when every branch has one, so a school branch that cannot match is left out).
    waiting = [
        and_(Case.status == CaseStatus.AWAITING_DECISION, Case.decision_maker_id == user.id),
        and_(Case.status == CaseStatus.INVESTIGATION, Case.investigator_id == user.id),
        and_(
            Case.status == CaseStatus.APPEAL,
            Case.id.in_(select(Appeal.case_id).where(Appeal.heard_by_id == user.id)),
        ),
    ]
    if not worker_scope.is_empty:
        waiting.append(
            and_(
                worker_scope.filter(Case.school_id),
                or_(
                    Case.status == CaseStatus.REPORTED,
                    and_(
                        Case.status == CaseStatus.TRIAGE,
                        Case.track == Track.ALLEGATION,
                        Case.lado_referred_at.is_(None),
                    ),
                ),
            )
        )
    rows = db.session.execute(
        select(
            Case.id,
            Case.reference,
            StaffMember.full_name,
            Case.status,
            Case.reported_on,
            Case.lado_due_at,
            last_action,
        )
        # Outer, so that the cases are read first (every case has a subject).
        .outerjoin(StaffMember, Case.subject_id == StaffMember.id)
        .where(
            visible_cases_filter(user),
            or_(*waiting),
        )
    ).all()
    items = []
    for case_id, reference, subject, status, reported_on, lado_due_at, last in rows:
        due: datetime | None = _first_kcsie_due(reported_on, today_uk)
        if status == CaseStatus.AWAITING_DECISION:
            task = "Decide this case"
        elif status == CaseStatus.INVESTIGATION:
            returned = last == "return_for_investigation"
            task = "Returned to you for more investigation" if returned else "Investigate"
        elif status == CaseStatus.APPEAL:
            task = "Hear the appeal"
        elif status == CaseStatus.REPORTED:
            task = "Triage this concern"
        else:
            task = "Refer to the LADO"
            due = lado_due_at
        items.append(
            WorkItem(
                case_id=case_id,
                reference=reference,
                subject=subject,
                task=task,
                due=due,
                overdue=due is not None and due < now,
            )
        )
    return sorted(items, key=lambda item: item.sort_key)


# --- a member of staff's own section ---------------------------------------------------


@dataclass(frozen=True)
class StaffHome:
    """What a member of staff sees of their own: what they raised, policies to read."""

    receipts: list[Receipt]
    draft_saved_at: datetime | None
    on_register: bool
    to_read: list[PolicyToRead]
    consents: list[PictureConsent]


def staff_home(user: User) -> StaffHome | None:
    """The member of staff's section of the home page; None for a user without the role."""
    if not is_member_of_staff(user):
        return None
    draft = draft_of(user)
    return StaffHome(
        receipts=receipts_of(user),
        draft_saved_at=draft.updated_at if draft else None,
        on_register=own_staff_record(user) is not None,
        to_read=policies_to_read(user),
        consents=consents_asked(user),
    )
