"""What each role's home page shows: one panel per role grant, with its empty state."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from flask import url_for
from sqlalchemy import Integer, bindparam, func, literal, select, true, union_all

from tracker.auth.models import RoleGrant, User
from tracker.auth.permissions import (
    Viewer,
    is_member_of_staff,
    own_staff_record,
    visible_cases_filter,
)
from tracker.auth.roles import Role
from tracker.cases.listing import OPEN
from tracker.cases.models import OPEN_STATUSES, Case, CaseStatus
from tracker.cases.waiting import (
    DueGroup,
    NextStep,
    due_group_params,
    due_groups,
    due_sort_key,
    next_step,
    submitted_for_decision_at,
    waiting_columns,
    waiting_for,
)
from tracker.clock import today as clock_today
from tracker.clock import uk_time
from tracker.concerns.services import Receipt, draft_of, receipts_of
from tracker.consents.models import PictureConsent
from tracker.consents.services import consents_asked
from tracker.db import missing_parameters, named_parameters, utcnow
from tracker.extensions import db
from tracker.orgs.models import School
from tracker.policy.acknowledgements import PolicyToRead, policies_to_read
from tracker.retention.overview import retention_counts
from tracker.staff.models import StaffMember
from tracker.workflow.models import CaseTransition

# Cases listed in each list of the home page ("Waiting for you", a school's open cases);
# a link leads to the case list filtered to the rest.
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
    next_step: NextStep | None = None


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
    # The case list with the rest, when the panel shows only the first OPEN_CASES_SHOWN.
    see_all: PanelLink | None = None


def _open_cases_at(user: User, school_id: int, now: datetime) -> tuple[list[CaseLink], int]:
    """The school's open cases that are not waiting for this user (those are in "Waiting
    for you" already), oldest report first, the first OPEN_CASES_SHOWN of them, and how
    many there are (a window count: one statement)."""
    rows = db.session.execute(
        select(
            Case.id,
            Case.reference,
            Case.status,
            Case.track,
            Case.reported_on,
            Case.lado_due_at,
            Case.lado_referred_at,
            (func.length(func.trim(Case.lado_advice)) > 0).label("advice_given"),
            submitted_for_decision_at().label("submitted_at"),
            StaffMember.full_name,
            func.count().over().label("total"),
        )
        .join(StaffMember, StaffMember.id == Case.subject_id)
        .where(
            visible_cases_filter(user),
            Case.school_id == school_id,
            Case.status.in_([status.value for status in OPEN_STATUSES]),
            # IS NOT TRUE rather than NOT: a case the condition leaves NULL (no
            # investigator yet) is not waiting for the user, and must still be listed.
            waiting_for(user).is_not(true()),
        )
        .order_by(Case.reported_on, Case.id)
        .limit(OPEN_CASES_SHOWN)
    ).all()
    links = [
        CaseLink(
            row.reference,
            row.id,
            row.full_name,
            CaseStatus(row.status).label,
            row.reported_on,
            next_step(
                status=row.status,
                track=row.track,
                reported_on=row.reported_on,
                lado_due_at=row.lado_due_at,
                lado_referred_at=row.lado_referred_at,
                lado_advice_given=bool(row.advice_given),
                submitted_at=row.submitted_at,
                now=now,
            ),
        )
        for row in rows
    ]
    return links, (rows[0].total if rows else 0)


def _school_panel(grant: RoleGrant, user: User, now: datetime, *, has_work: bool) -> Panel:
    school = grant.school.name if grant.school else "your trust"
    role = Role(grant.role)
    # Only school roles come here, and grant_role gives each of them a school.
    cases, total = (
        _open_cases_at(user, grant.school_id, now) if grant.school_id is not None else ([], 0)
    )
    see_all = None
    if total > len(cases):
        see_all = PanelLink(
            # No number: the list counts the cases waiting for the user too.
            f"See all the open cases at {school}",
            url_for("cases.index", school=grant.school_id, status=OPEN, sort="oldest"),
        )
    if role is Role.HEADTEACHER:
        empty = (
            f"No {'other ' if has_work else ''}cases are open at {school}. When your "
            "designated safeguarding lead logs a concern, it will be listed here with its "
            "next step and when it is due."
        )
    else:
        empty = (
            f"No {'other ' if has_work else ''}cases are open at {school}. When a member of "
            "staff is reported for breaching the social media policy, log the concern and "
            "it will stay on your "
            "home page, with its next step and when it is due, until it is closed."
        )
    return Panel(
        key=f"{role.value}-{grant.school_id}",
        # "Other" than those waiting for the user, listed above it.
        heading=f"{'Other open' if has_work else 'Open'} cases at {school}",
        role_label=role.label,
        scope_label=school,
        cases=cases,
        empty_message=empty,
        see_all=see_all,
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
        # Said whether or not there are cases yet: it never claims there are none.
        "Every case you can see is in the case list, each with its complete history, and "
        "every event is in the audit trail. What you open is itself recorded.",
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


def _auditor_links() -> list[PanelLink]:
    return [
        PanelLink("Open the case list", url_for("cases.index")),
        PanelLink("Search the audit trail", url_for("audit.search")),
    ]


def home_panels(
    user: User, today: date | None = None, *, has_work: bool = False, now: datetime | None = None
) -> list[Panel]:
    """One panel for each role grant the user holds, in a stable order. With `has_work`
    ("Waiting for you" lists cases), the trust roles' panels, which only say that nothing
    waits, are left out."""
    now = now or utcnow()
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
        elif role in (Role.CEO, Role.CHAIR) and grant.school_id is None and has_work:
            continue  # what waits for them is in "Waiting for you"
        elif role in _TRUST_PANELS and grant.school_id is None:
            heading, empty = _TRUST_PANELS[role]
            panels.append(
                Panel(
                    key=role.value,
                    heading=heading,
                    role_label=role.label,
                    scope_label="Whole trust",
                    empty_message=empty,
                    links=_auditor_links() if role is Role.AUDITOR else [],
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
                    links=_auditor_links(),
                )
            )
        else:
            panels.append(_school_panel(grant, user, now, has_work=has_work))
    return panels


# --- my work: what waits for this user, soonest deadline first -------------------------


@dataclass(frozen=True)
class WorkItem:
    case_id: int
    reference: str
    subject: str
    task: str
    due: datetime | None  # a time of day (triage, the LADO referral)
    due_on: date | None  # or the end of a day (the decision, KCSIE's targets)
    overdue: bool


_TASKS = {
    "Triage": "Triage this concern",
    "Decide": "Decide this case",
}


@lru_cache(maxsize=64)
def _my_work_statement(
    shape: tuple[str, str], limited: bool
) -> tuple[Any, frozenset[str], tuple[DueGroup, ...]]:
    """my_work's statement for a shape of reach (Viewer.shape), built once for a
    stand-in viewer and run with each viewer's values, as the case list's is; with the
    groups its rows come from (each row's `place`)."""
    viewer = Viewer.stand_in(shape)
    # The waiting cases' few columns first, found through waiting_for's indexed branches
    # (a group's own condition and order beside it would lead the planner to walk the
    # trust's cases by date instead), then the first `limit` of each group.
    waiting = (
        select(*waiting_columns()).where(visible_cases_filter(viewer), waiting_for(viewer))
    ).cte("waiting")
    limit = bindparam("due_limit", type_=Integer()) if limited else None
    groups = tuple(due_groups(waiting))
    chosen = union_all(
        *(
            select(waiting.c.id.label("case_id"), literal(place).label("place"))
            .where(group.condition)
            .order_by(*group.order(waiting))
            .limit(limit)
            .subquery()
            .select()
            for place, group in enumerate(groups)
        )
    ).subquery("chosen")
    last_action = (
        select(CaseTransition.action)
        .where(CaseTransition.case_id == Case.id)
        .order_by(CaseTransition.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    statement = (
        select(
            chosen.c.place,
            Case.id,
            Case.reference,
            StaffMember.full_name,
            Case.status,
            Case.track,
            Case.reported_on,
            Case.lado_due_at,
            Case.lado_referred_at,
            last_action.label("last_action"),
            submitted_for_decision_at().label("submitted_at"),
        )
        .join(Case, Case.id == chosen.c.case_id)
        .join(StaffMember, Case.subject_id == StaffMember.id)
    )
    return statement, named_parameters(statement, ("due_", "viewer_")), groups


def my_work(
    user: User, now: datetime | None = None, *, limit: int | None = OPEN_CASES_SHOWN
) -> list[WorkItem]:
    """The first `limit` cases (all of them with None) waiting for this user to act,
    soonest deadline first.

    Decisions routed to them, cases they investigate (or that came back to them),
    appeals they hear, and, at the schools where they are a safeguarding lead, concerns
    waiting for triage and allegations whose LADO referral is due (tracker/cases/
    waiting.py). A busy school's lead can have hundreds, so it does not read them all:
    the cases are split into groups whose deadline rises with one column (`due_groups`),
    the first `limit` of each group are read in one statement, and those are sorted.
    """
    now = now or utcnow()
    viewer = Viewer.of(user)
    statement, names, groups = _my_work_statement(viewer.shape, limit is not None)
    params: dict[str, Any] = {**viewer.params(), **due_group_params(uk_time(now).date())}
    if limit is not None:
        params["due_limit"] = limit
    missing_parameters(names, params)
    rows = db.session.execute(statement, params).all()
    ordered = []
    for row in rows:
        step = next_step(
            status=row.status,
            track=row.track,
            reported_on=row.reported_on,
            lado_due_at=row.lado_due_at,
            lado_referred_at=row.lado_referred_at,
            lado_advice_given=True,  # the LADO's advice is never "waiting for you"
            submitted_at=row.submitted_at,
            now=now,
        )
        if step is None:  # pragma: no cover - waiting_for matches open cases only
            continue
        # Within a group, the order its rows were cut in (see DueGroup).
        key = due_sort_key(row.place, groups[row.place], row, step.due_moment)
        ordered.append((key, step, row))
    ordered.sort(key=lambda entry: entry[0])
    items = []
    for _, step, row in ordered[:limit]:
        task = _TASKS.get(step.label, step.label)
        if row.status == CaseStatus.INVESTIGATION and row.last_action == "return_for_investigation":
            task = "Returned to you for more investigation"
        items.append(
            WorkItem(
                case_id=row.id,
                reference=row.reference,
                subject=row.full_name,
                task=task,
                due=step.due_at,
                due_on=step.due_on,
                overdue=step.overdue,
            )
        )
    return items


@lru_cache(maxsize=64)
def _count_statement(shape: tuple[str, str]) -> tuple[Any, frozenset[str]]:
    viewer = Viewer.stand_in(shape)
    statement = select(func.count(Case.id)).where(visible_cases_filter(viewer), waiting_for(viewer))
    return statement, named_parameters(statement, ("viewer_",))


def my_work_and_total(user: User) -> tuple[list[WorkItem], int]:
    """The home page's "Waiting for you": the first OPEN_CASES_SHOWN cases, and how many
    there are (counted only when the list is full: fewer means that is all of them)."""
    work = my_work(user, limit=OPEN_CASES_SHOWN)
    return work, count_my_work(user) if len(work) == OPEN_CASES_SHOWN else len(work)


def count_my_work(user: User) -> int:
    """How many cases wait for this user (my_work lists the first few)."""
    viewer = Viewer.of(user)
    statement, names = _count_statement(viewer.shape)
    params = viewer.params()
    missing_parameters(names, params)
    return db.session.scalar(statement, params) or 0


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
