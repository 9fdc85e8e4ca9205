"""Who may do what: every permission is a named predicate in this one module.

Views ask these predicates, services enforce them, and the authorisation tests read them.
Records outside a user's scope answer 404 (see `school_in_scope_or_404`), never 403, so
that their existence does not leak.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Any, NoReturn, TypeVar

from flask_login import current_user
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    exists,
    false,
    not_,
    or_,
    select,
    true,
)

from tracker.audit.models import AuditEvent
from tracker.auth.models import RoleGrant, User
from tracker.auth.roles import Role
from tracker.cases.models import Case
from tracker.consents.models import ConsentStatus, PictureConsent
from tracker.errors import OutOfScope, RoleRefused
from tracker.extensions import db
from tracker.orgs.models import School
from tracker.policy.models import PolicyVersion
from tracker.staff.models import StaffMember
from tracker.workflow.models import Appeal

# The roles whose step triage and the LADO referral are at their schools. The
# headteacher may take them too, but they are the safeguarding lead's work: they are
# not "waiting for" the headteacher (tracker/cases/waiting.py).
TRIAGING_ROLES = frozenset({Role.DSL, Role.DEPUTY_DSL})
# Roles that read case content at the schools they are granted (or the whole trust).
CASE_READING_ROLES = frozenset(
    {Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER, Role.CEO, Role.DPO, Role.AUDITOR}
)
# Roles that may log a concern at their school (the CEO at any school).
REPORTING_ROLES = frozenset({Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER, Role.CEO})
# Roles that change case content (log, investigate, add evidence and chronology).
CASE_WORKING_ROLES = frozenset({Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER, Role.CEO})
# Roles that keep the staff register at their schools (or across the trust).
STAFF_REGISTER_ROLES = frozenset({Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER, Role.TRUST_ADMIN})
# Roles that draft and publish policy versions.
POLICY_MANAGING_ROLES = frozenset({Role.TRUST_ADMIN, Role.CEO})
# Roles that record which staff have read a policy (at their schools, or trust-wide).
ACKNOWLEDGEMENT_ROLES = frozenset(
    {Role.TRUST_ADMIN, Role.CEO, Role.HEADTEACHER, Role.DSL, Role.DEPUTY_DSL}
)


@dataclass(frozen=True)
class SchoolScope:
    """The schools a set of a user's roles reaches: all of the trust, or some schools."""

    trust_id: int
    whole_trust: bool
    school_ids: frozenset[int]

    @property
    def is_empty(self) -> bool:
        return not self.whole_trust and not self.school_ids

    def includes(self, school_id: int) -> bool:
        return self.whole_trust or school_id in self.school_ids

    @property
    def shape(self) -> str:
        """What a condition on this scope says, whatever its schools: "trust", "some" or
        "none" (see `filter` with a name)."""
        if self.whole_trust:
            return "trust"
        return "some" if self.school_ids else "none"

    def filter(self, school_id_column: Any, *, name: str | None = None) -> Any:
        """A SQL condition limiting a query's school column to this scope. With a `name`,
        the schools are a parameter of that name (an expanding list), so that a
        statement built once for this shape can run with another scope's schools."""
        if self.whole_trust:
            return true()
        if not self.school_ids:
            return false()
        if name is not None:
            return school_id_column.in_(bindparam(name, sorted(self.school_ids), expanding=True))
        return school_id_column.in_(sorted(self.school_ids))


def refuse(
    *, object_type: str | None = None, object_id: int | None = None, out_of_scope: bool = True
) -> NoReturn:
    """Refuse the request and have the refusal audited (access.denied).

    Out of scope (the default) answers 404, as if the record did not exist; otherwise 403
    for a page or step the user's role does not allow on a record they can see.
    """
    if out_of_scope:
        raise OutOfScope(object_type, object_id)
    raise RoleRefused(object_type, object_id)


def roles_of(user: User) -> set[Role]:
    return {Role(grant.role) for grant in user.grants}


def has_role(user: User, *roles: Role) -> bool:
    return any(grant.role in roles for grant in user.grants)


def school_scope(user: User, roles: Iterable[Role]) -> SchoolScope:
    wanted = set(roles)
    grants = [grant for grant in user.grants if Role(grant.role) in wanted]
    return SchoolScope(
        trust_id=user.trust_id,
        whole_trust=any(grant.school_id is None for grant in grants),
        school_ids=frozenset(g.school_id for g in grants if g.school_id is not None),
    )


def case_scope(user: User) -> SchoolScope:
    """Schools whose cases the user may read."""
    return school_scope(user, CASE_READING_ROLES)


def schools_in_scope(scope: SchoolScope) -> Select[tuple[School]]:
    return (
        select(School)
        .where(School.trust_id == scope.trust_id, scope.filter(School.id))
        .order_by(School.name)
    )


def school_in_scope_or_404(scope: SchoolScope, school_id: int) -> School:
    """The school, if the scope reaches it; otherwise 404, as if it did not exist."""
    school = db.session.scalar(schools_in_scope(scope).where(School.id == school_id))
    if school is None:
        refuse(object_type="school", object_id=school_id)
    return school


@dataclass(frozen=True)
class Viewer:
    """Who a statement about cases is for, as its conditions need them: their ids and
    the schools their roles reach.

    Every value is a parameter with a name (`params`), so that a statement built once for
    a `shape` (tracker/cases/listing.py builds the case list's that way) runs for anyone
    of that shape with their own values. A statement built for `stand_in` carries
    impossible ids (-1), so a value a condition ever takes unnamed matches nothing.
    """

    id: int
    trust_id: int
    cases: SchoolScope  # where they read cases (case_scope)
    leads: SchoolScope  # where they are a safeguarding lead (the "waiting for" filter)

    @classmethod
    def of(cls, user: User) -> Viewer:
        return cls(
            id=user.id,
            trust_id=user.trust_id,
            cases=case_scope(user),
            leads=school_scope(user, TRIAGING_ROLES),
        )

    @property
    def shape(self) -> tuple[str, str]:
        return (self.cases.shape, self.leads.shape)

    @classmethod
    def stand_in(cls, shape: tuple[str, str]) -> Viewer:
        def scope(kind: str) -> SchoolScope:
            return SchoolScope(-1, kind == "trust", frozenset({-1} if kind == "some" else ()))

        return cls(id=-1, trust_id=-1, cases=scope(shape[0]), leads=scope(shape[1]))

    def params(self) -> dict[str, Any]:
        """The values of the parameters the conditions below name."""
        return {
            VIEWER_ID: self.id,
            VIEWER_TRUST: self.trust_id,
            VIEWER_CASE_SCHOOLS: sorted(self.cases.school_ids),
            VIEWER_LEAD_SCHOOLS: sorted(self.leads.school_ids),
        }


VIEWER_ID = "viewer_id"
VIEWER_TRUST = "viewer_trust_id"
VIEWER_CASE_SCHOOLS = "viewer_case_schools"
VIEWER_LEAD_SCHOOLS = "viewer_lead_schools"


def viewer_id(viewer: Viewer) -> Any:
    return bindparam(VIEWER_ID, viewer.id, type_=Integer)


def visible_cases_filter(user: User | Viewer) -> ColumnElement[bool]:
    """The SQL condition for the cases a user may read.

    Their trust, and the schools their case-reading roles reach or a case routed to
    them (a decision or an appeal: how the chair of trustees sees a case), and never a
    case whose subject is themselves, whatever roles they hold.
    """
    viewer = user if isinstance(user, Viewer) else Viewer.of(user)
    own_staff_records = select(StaffMember.id).where(StaffMember.user_id == viewer_id(viewer))
    return and_(
        Case.trust_id == bindparam(VIEWER_TRUST, viewer.trust_id, type_=Integer),
        or_(
            viewer.cases.filter(Case.school_id, name=VIEWER_CASE_SCHOOLS),
            Case.decision_maker_id == viewer_id(viewer),
            Case.appeals.any(Appeal.heard_by_id == viewer_id(viewer)),
        ),
        Case.subject_id.not_in(own_staff_records),
    )


def visible_cases(user: User) -> Select[tuple[Case]]:
    return select(Case).where(visible_cases_filter(user))


def is_routed_to(user: User, case: Case) -> bool:
    """The case's decision or an appeal on it was routed to this user."""
    return case.decision_maker_id == user.id or any(
        appeal.heard_by_id == user.id for appeal in case.appeals
    )


def can_view_case(user: User, case: Case) -> bool:
    return (
        case.trust_id == user.trust_id
        and (case_scope(user).includes(case.school_id) or is_routed_to(user, case))
        and not is_subject_of(user, case)
    )


def is_subject_of(user: User, case: Case) -> bool:
    return case.subject.user_id is not None and case.subject.user_id == user.id


def is_case_worker(user: User, case: Case) -> bool:
    """Works on the case day to day: a safeguarding lead, deputy or the headteacher of its
    school, or the CEO (never its subject, who cannot see it at all)."""
    return can_view_case(user, case) and school_scope(user, CASE_WORKING_ROLES).includes(
        case.school_id
    )


def can_work_on_case(user: User, case: Case) -> bool:
    """Change the case's content: its details, people, evidence and chronology."""
    return case.is_open and is_case_worker(user, case)


def is_decision_maker(user: User, case: Case) -> bool:
    """The case's decision was routed to this user (tracker/workflow/routing.py)."""
    return case.decision_maker_id is not None and case.decision_maker_id == user.id


def is_appeal_hearer(user: User, case: Case) -> bool:
    """The appeal now standing on the case is to be heard by this user."""
    appeal = case.appeal
    return appeal is not None and appeal.heard_by_id == user.id


def is_worker_or_decision_maker(user: User, case: Case) -> bool:
    return is_case_worker(user, case) or is_decision_maker(user, case)


def is_conflicted_in_decision(user: User, case: Case) -> bool:
    """Separation of duties (Acas Code): nobody decides a case they are the subject of,
    reported, or investigated."""
    return is_subject_of(user, case) or user.id in {case.reported_by_id, case.investigator_id}


# Roles that place and lift legal holds and record the facts retention depends on
# (DESIGN.md section 2: the DPO handles legal holds and disposal; the CEO answers for
# the trust).
RETENTION_MANAGING_ROLES = frozenset({Role.DPO, Role.CEO})


def can_manage_retention(user: User, case: Case) -> bool:
    """Place or lift a legal hold on the case, or change its retention facts (the sexual
    abuse flag, the subject's consent to keep a false or malicious allegation)."""
    return can_view_case(user, case) and has_role(user, *RETENTION_MANAGING_ROLES)


def can_review_retention(user: User) -> bool:
    """The DPO's list of what is due for disposal or review, held, or missing facts."""
    return has_role(user, Role.DPO)


def case_in_scope_or_404(user: User, case_id: int, *options: Any) -> Case:
    """The case if the user may read it; otherwise 404, as if it did not exist.

    `options` are loader options kept in module constants (tracker/cases/loads.py, the
    workflow's pages): the statement is built once for each set of them and each shape
    of reach, and runs with the viewer's values and the case id as parameters.
    """
    viewer = Viewer.of(user)
    statement = _case_statement(viewer.shape, options)
    found = db.session.execute(statement, {**viewer.params(), "case_id": case_id})
    case = found.unique().scalar_one_or_none()  # unique(): options may join collections
    if case is None:
        refuse(object_type="case", object_id=case_id)
    return case


@lru_cache(maxsize=128)
def _case_statement(shape: tuple[str, str], options: tuple[Any, ...]) -> Select[tuple[Case]]:
    # Built for a stand-in viewer whose values are never used (Viewer.stand_in).
    viewer = Viewer.stand_in(shape)
    return (
        select(Case)
        .where(visible_cases_filter(viewer), Case.id == bindparam("case_id", type_=Integer))
        .options(*options)
    )


def reporting_scope(user: User) -> SchoolScope:
    """Schools where the user may log a concern."""
    return school_scope(user, REPORTING_ROLES)


def staff_register_scope(user: User) -> SchoolScope:
    """Schools whose staff register the user keeps."""
    return school_scope(user, STAFF_REGISTER_ROLES)


def can_keep_staff_register(user: User) -> bool:
    return not staff_register_scope(user).is_empty


def can_read_cases(user: User) -> bool:
    return not case_scope(user).is_empty


def can_report_concern(user: User, school: School) -> bool:
    return school.trust_id == user.trust_id and school_scope(user, REPORTING_ROLES).includes(
        school.id
    )


def can_manage_organisation(user: User) -> bool:
    """Trust administrators manage schools, users, grants and the policy register."""
    return has_role(user, Role.TRUST_ADMIN)


def can_manage_accounts(user: User) -> bool:
    """Trust administrators see the trust's accounts, reset a second factor, end sessions."""
    return has_role(user, Role.TRUST_ADMIN)


F = TypeVar("F", bound=Callable[..., Any])


def can_view_policies(user: User) -> bool:
    """Anyone with a role may read the policy register (policies are not case content),
    but for members of staff, who read the published version on their own page."""
    return any(grant.role != Role.STAFF for grant in user.grants)


def can_manage_policies(user: User) -> bool:
    return has_role(user, *POLICY_MANAGING_ROLES)


def can_view_policy_version(user: User, version: PolicyVersion) -> bool:
    """A version of the user's trust; drafts only for those who manage policies."""
    return version.policy.trust_id == user.trust_id and (
        not version.is_draft or can_manage_policies(user)
    )


def acknowledgement_scope(user: User) -> SchoolScope:
    """Schools whose staff the user may record policy acknowledgements for."""
    return school_scope(user, ACKNOWLEDGEMENT_ROLES)


def can_record_acknowledgements(user: User) -> bool:
    return not acknowledgement_scope(user).is_empty


def permission_required(predicate: Callable[[User], bool]) -> Callable[[F], F]:
    """Refuse a whole page (403) to signed-in users for whom `predicate` is false."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not predicate(current_user):
                refuse(out_of_scope=False)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


# --- the audit trail ---------------------------------------------------------------------

# Roles that read the audit trail: at their schools, or across the trust.
AUDIT_READING_ROLES = frozenset({Role.AUDITOR, Role.DPO})


def can_read_audit_trail(user: User) -> bool:
    """Auditors (of the trust or a school) and the data protection officer."""
    return has_role(user, *AUDIT_READING_ROLES)


def audit_scope(user: User) -> SchoolScope:
    """Schools whose audit events the user may read."""
    return school_scope(user, AUDIT_READING_ROLES)


def can_audit_case(user: User, case: Case) -> bool:
    """Read the case's whole audit history (the user can already see the case)."""
    return can_read_audit_trail(user) and audit_scope(user).includes(case.school_id)


def visible_audit_events_filter(user: User) -> ColumnElement[bool]:
    """The SQL condition for the audit events a user may read.

    Events at the schools their audit roles reach; for a trust-wide reader also the
    events that belong to no school (sign-ins, accounts, the policy register) of their
    own trust, and failed sign-ins that named no known account (no trust at all). Never
    the events of a case whose subject is the user: the trail would tell them the case
    exists and who has been reading it.

    Its subqueries are never correlated (`correlate(None)`): an outer query that joins
    schools or cases must not silently change what they mean.
    """
    scope = audit_scope(user)
    if scope.is_empty:
        return false()
    if scope.whole_trust:
        trust_schools = select(School.id).where(School.trust_id == scope.trust_id).correlate(None)
        reach: ColumnElement[bool] = or_(
            AuditEvent.school_id.in_(trust_schools),
            and_(
                AuditEvent.school_id.is_(None),
                or_(AuditEvent.trust_id == scope.trust_id, AuditEvent.trust_id.is_(None)),
            ),
        )
    else:
        reach = AuditEvent.school_id.in_(sorted(scope.school_ids))
    cases_about_the_user = (
        select(Case.id)
        .join(StaffMember, StaffMember.id == Case.subject_id)
        .where(StaffMember.user_id == user.id)
        .correlate(None)
    )
    return and_(
        reach,
        or_(AuditEvent.case_id.is_(None), AuditEvent.case_id.not_in(cases_about_the_user)),
    )


# --- subject access requests and hearing packs ----------------------------------------


def can_handle_subject_access(user: User) -> bool:
    """The trust's data protection officer records, redacts and exports subject access
    requests, across the whole trust."""
    return school_scope(user, {Role.DPO}).whole_trust


def can_prepare_hearing_pack(user: User, case: Case) -> bool:
    """Download a case's hearing pack and add redactions to it.

    Those who work on cases at its school, whoever a decision or appeal on it was routed
    to, and the trust's data protection officer: never the subject (they cannot see the
    case at all), never a read-only auditor. Open or not: a hearing often follows the
    decision.
    """
    return can_view_case(user, case) and (
        school_scope(user, CASE_WORKING_ROLES).includes(case.school_id)
        or is_routed_to(user, case)
        or can_handle_subject_access(user)
    )


# --- members of staff: their own pages (tracker/concerns/, tracker/consents/) ----------


def staff_scope(user: User) -> SchoolScope:
    """Schools where the user is a member of staff: whose colleagues they may raise a
    concern about."""
    return school_scope(user, {Role.STAFF})


def is_member_of_staff(user: User) -> bool:
    """Holds the staff role: raises concerns, acknowledges the policy, asks consent. It
    reads no case, no case list, no register and no one else's records."""
    return not staff_scope(user).is_empty


def own_staff_record(user: User) -> StaffMember | None:
    """The register's record of the user (at most one: StaffMember.user_id is unique)."""
    return db.session.scalar(select(StaffMember).where(StaffMember.user_id == user.id))


# Roles that read and search the consent register (clause 3.5) at their schools; the CEO
# across the trust.
CONSENT_REGISTER_ROLES = frozenset({Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER, Role.CEO})


def consent_register_scope(user: User) -> SchoolScope:
    return school_scope(user, CONSENT_REGISTER_ROLES)


def can_read_consent_register(user: User) -> bool:
    return not consent_register_scope(user).is_empty


def consent_goes_to_ceo(consent: PictureConsent) -> bool:
    """A consent is the CEO's to decide when the headteacher passed it on, when the asker
    is the school's headteacher, or when the school has no headteacher (the trust's
    central team); otherwise the headteacher's."""
    if consent.referred_at is not None:
        return True
    headteachers = set(
        db.session.scalars(
            select(RoleGrant.user_id).where(
                RoleGrant.school_id == consent.school_id, RoleGrant.role == Role.HEADTEACHER
            )
        )
    )
    return not headteachers or consent.asked_by_id in headteachers


def can_decide_consent(user: User, consent: PictureConsent) -> bool:
    """Grant or refuse a consent waiting for a decision: the headteacher of its school, or
    the CEO when it goes to the CEO; never the person who asked."""
    if consent.trust_id != user.trust_id or consent.asked_by_id == user.id:
        return False
    if consent_goes_to_ceo(consent):
        return has_role(user, Role.CEO)
    return school_scope(user, {Role.HEADTEACHER}).includes(consent.school_id)


def can_see_consent(user: User, consent: PictureConsent) -> bool:
    """The person who asked, whoever may decide it, and the register's readers at its
    school (never another member of staff)."""
    return consent.trust_id == user.trust_id and (
        consent.asked_by_id == user.id
        or can_decide_consent(user, consent)
        or consent_register_scope(user).includes(consent.school_id)
    )


def can_refer_consent(user: User, consent: PictureConsent) -> bool:
    """Pass a consent to the CEO: the headteacher who would otherwise decide it."""
    return can_decide_consent(user, consent) and not consent_goes_to_ceo(consent)


def can_withdraw_consent(user: User, consent: PictureConsent) -> bool:
    """Withdraw a request: only the person who asked."""
    return consent.trust_id == user.trust_id and consent.asked_by_id == user.id


def may_decide_consents(user: User) -> bool:
    """Holds a role that decides consents (a headteacher, the CEO): the list of those
    waiting for them is theirs."""
    return has_role(user, Role.HEADTEACHER, Role.CEO)


def consents_to_decide_filter(user: User) -> ColumnElement[bool]:
    """The SQL condition for the consents waiting for this user's decision: the rule of
    `consent_goes_to_ceo` and `can_decide_consent`, for a list (tests hold them equal)."""
    headteachers_here = select(RoleGrant.id).where(
        RoleGrant.school_id == PictureConsent.school_id, RoleGrant.role == Role.HEADTEACHER
    )
    goes_to_ceo = or_(
        PictureConsent.referred_at.is_not(None),
        not_(exists(headteachers_here)),
        exists(headteachers_here.where(RoleGrant.user_id == PictureConsent.asked_by_id)),
    )
    reach: list[ColumnElement[bool]] = []
    if has_role(user, Role.CEO):
        reach.append(goes_to_ceo)
    headteacher_of = school_scope(user, {Role.HEADTEACHER})
    if not headteacher_of.is_empty:
        reach.append(and_(not_(goes_to_ceo), headteacher_of.filter(PictureConsent.school_id)))
    if not reach:
        return false()
    return and_(
        PictureConsent.trust_id == user.trust_id,
        PictureConsent.status == ConsentStatus.ASKED.value,
        PictureConsent.asked_by_id != user.id,
        or_(*reach),
    )


# --- the governance report (tracker/reports/) ------------------------------------------

# Roles that read the governance report: a headteacher for their school; the CEO, the
# chair of trustees, the DPO and a trust auditor for the trust; a school's auditor for it.
REPORT_READING_ROLES = frozenset({Role.HEADTEACHER, Role.CEO, Role.CHAIR, Role.DPO, Role.AUDITOR})


def report_scope(user: User) -> SchoolScope:
    """Schools whose figures the user may read in the governance report."""
    return school_scope(user, REPORT_READING_ROLES)


def can_read_reports(user: User) -> bool:
    """The governance report and its exports; never safeguarding leads, administrators or
    members of staff (403)."""
    return not report_scope(user).is_empty


def report_suppresses_small_numbers(user: User) -> bool:
    """The chair of trustees reads the report that goes to trustees: its small counts are
    shown as "fewer than" the configured threshold (REPORT_SUPPRESS_BELOW)."""
    return has_role(user, Role.CHAIR)
