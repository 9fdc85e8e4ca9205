"""Recording that members of staff read a policy version: by a DSL one at a time or from
a CSV file, or online by the member of staff themselves; and how many have read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import url_for
from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.auth.models import User
from tracker.auth.permissions import SchoolScope, is_member_of_staff, own_staff_record
from tracker.clock import uk_date, uk_time
from tracker.csvfiles import decode, parse_uk_date, rows
from tracker.errors import NotAllowed, ValidationFailed
from tracker.extensions import db
from tracker.orgs.models import School
from tracker.policy.models import (
    RECORDED_METHODS,
    AcknowledgementMethod,
    Policy,
    PolicyAcknowledgement,
    PolicyVersion,
    VersionStatus,
)
from tracker.staff.models import StaffMember

CSV_COLUMNS = ("employee_number", "acknowledged_on", "method")
MAX_CSV_ROWS = 5000
# The most school ids an import's audit event lists (an event's lists hold 100 at most).
MAX_LISTED_SCHOOLS = 100


def _method(value: str) -> AcknowledgementMethod | None:
    wanted = value.strip().lower().replace("-", "_").replace(" ", "_")
    if wanted == "elearning":
        wanted = "e_learning"
    try:
        method = AcknowledgementMethod(wanted)
    except ValueError:
        return None
    return method if method in RECORDED_METHODS else None


def _check(
    version: PolicyVersion, staff: StaffMember, acknowledged_on: date, today: date
) -> str | None:
    """What is wrong with this acknowledgement, in words, or None."""
    if acknowledged_on > today:
        return "The date cannot be in the future"
    if version.approved_on and acknowledged_on < version.approved_on:
        return (
            f"The date cannot be before the version was approved ({uk_date(version.approved_on)})"
        )
    existing = db.session.scalar(
        select(PolicyAcknowledgement).where(
            PolicyAcknowledgement.version_id == version.id,
            PolicyAcknowledgement.staff_member_id == staff.id,
        )
    )
    if existing is not None:
        return (
            f"{staff.full_name} already acknowledged this version on "
            f"{uk_date(existing.acknowledged_on)}"
        )
    return None


def _require_readable(version: PolicyVersion) -> None:
    if version.is_draft:
        raise NotAllowed("Staff can only acknowledge a published version")


def _acknowledgement(
    version: PolicyVersion,
    staff: StaffMember,
    acknowledged_on: date,
    method: AcknowledgementMethod,
    by: User,
) -> PolicyAcknowledgement:
    return PolicyAcknowledgement(
        version_id=version.id,
        staff_member_id=staff.id,
        acknowledged_on=acknowledged_on,
        method=method.value,
        recorded_by_id=by.id,
    )


def _record(record: PolicyAcknowledgement, staff: StaffMember, by: User) -> PolicyAcknowledgement:
    """Add the acknowledgement and its policy.acknowledgement.recorded event (ids only)."""
    audit.record_added(
        AuditAction.POLICY_ACKNOWLEDGED,
        record,
        actor=by,
        trust_id=staff.trust_id,
        school_id=staff.school_id,
        details={
            "version_id": record.version_id,
            "staff_member_id": staff.id,
            "method": record.method,
            "acknowledged_on": record.acknowledged_on.isoformat(),
        },
    )
    return record


def record_acknowledgement(
    version: PolicyVersion,
    staff: StaffMember,
    *,
    acknowledged_on: date,
    method: AcknowledgementMethod,
    by: User,
    today: date,
) -> PolicyAcknowledgement:
    """Record that a member of staff read a version.

    Guard: the version is not a draft; the method is not "online" (the member of staff's
    own, `acknowledge_online`); the date is not in the future nor before approval; not
    already recorded. The caller has checked the staff member is in scope. Side effects:
    records policy.acknowledgement.recorded at the member's school (details
    {"version_id", "staff_member_id", "method", "acknowledged_on"}). Flushes; the caller
    commits.
    """
    _require_readable(version)
    if method not in RECORDED_METHODS:
        raise ValidationFailed(
            "Only the member of staff can acknowledge online, signed in", field="method"
        )
    problem = _check(version, staff, acknowledged_on, today)
    if problem:
        raise ValidationFailed(problem, field="acknowledged_on")
    return _record(_acknowledgement(version, staff, acknowledged_on, method, by), staff, by)


# --- members of staff acknowledge online ------------------------------------------------

NO_STAFF_RECORD = (
    "Your account is not linked to your record on the staff register, so you cannot "
    "acknowledge the policy here yet. Ask your school's designated safeguarding lead to "
    "link it. You can still read the policy."
)


def _already(version: PolicyVersion, record: PolicyAcknowledgement) -> ValidationFailed:
    return ValidationFailed(
        f"You have already acknowledged version {version.version_label} on "
        f"{uk_date(record.acknowledged_on)}"
    )


def own_acknowledgement(user: User, version: PolicyVersion) -> PolicyAcknowledgement | None:
    """The user's own staff record's acknowledgement of the version, if any."""
    return db.session.scalar(
        select(PolicyAcknowledgement)
        .join(StaffMember, StaffMember.id == PolicyAcknowledgement.staff_member_id)
        .where(StaffMember.user_id == user.id, PolicyAcknowledgement.version_id == version.id)
    )


def acknowledge_online(version: PolicyVersion, *, by: User, today: date) -> PolicyAcknowledgement:
    """A member of staff acknowledges, signed in, that they have read the version.

    Guard: `by` holds the staff role and has a record on the staff register of the
    version's trust (else NO_STAFF_RECORD); the version is its policy's published one (not
    a draft, not superseded); that record has not acknowledged it already (refused with
    when it did, even when another request recorded it a moment before). Side effects: an
    acknowledgement with method "online", dated `today` (a UK date; the time is its
    recorded_at), recorded by `by`, and its policy.acknowledgement.recorded event as
    `record_acknowledgement` writes it. Flushes; the caller commits.
    """
    if not is_member_of_staff(by) or by.trust_id != version.policy.trust_id:
        raise NotAllowed("Only a member of staff can acknowledge the policy here")
    staff = own_staff_record(by)
    if staff is None or staff.trust_id != by.trust_id:
        raise NotAllowed(NO_STAFF_RECORD)
    if version.status != VersionStatus.PUBLISHED:
        raise NotAllowed(
            f"Version {version.version_label} is not the version in force: "
            "read and acknowledge the current one"
        )
    existing = own_acknowledgement(by, version)
    if existing is not None:
        raise _already(version, existing)
    record = _acknowledgement(version, staff, today, AcknowledgementMethod.ONLINE, by)
    try:
        # A second press in another tab may have saved one meanwhile: the unique
        # constraint sees it, and the savepoint keeps the caller's transaction usable.
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError:
        existing = own_acknowledgement(by, version)
        if existing is None:
            raise
        raise _already(version, existing) from None
    return _record(record, staff, by)


@dataclass(frozen=True)
class PolicyToRead:
    """A published version a member of staff has not acknowledged, for their home page."""

    version_id: int
    title: str  # the version's title
    version_label: str
    published_on: date | None  # the UK date it was published
    effective_from: date | None
    url: str  # its page to read and acknowledge


def _unacknowledged_by(user: User) -> ColumnElement[bool]:
    """SQL: the version has no acknowledgement by the user's own staff record."""
    return not_(
        exists(
            select(PolicyAcknowledgement.id)
            .join(StaffMember, StaffMember.id == PolicyAcknowledgement.staff_member_id)
            .where(
                StaffMember.user_id == user.id,
                PolicyAcknowledgement.version_id == PolicyVersion.id,
            )
        )
    )


def policies_to_read(user: User) -> list[PolicyToRead]:
    """The published versions of the user's trust's policies that their own staff record
    has not acknowledged (a newly published version is here until they acknowledge it,
    whatever they acknowledged before), by policy title. Empty for a user without the
    staff role. A member of staff with no staff record sees them all: the page says why
    they cannot acknowledge yet. One query; needs a request (for the URLs)."""
    if not is_member_of_staff(user):
        return []
    versions = db.session.scalars(
        select(PolicyVersion)
        .join(Policy, Policy.id == PolicyVersion.policy_id)
        .where(
            Policy.trust_id == user.trust_id,
            PolicyVersion.status == VersionStatus.PUBLISHED.value,
            _unacknowledged_by(user),
        )
        .order_by(Policy.title, PolicyVersion.id)
    )
    return [
        PolicyToRead(
            version_id=version.id,
            title=version.title,
            version_label=version.version_label,
            published_on=uk_time(version.published_at).date() if version.published_at else None,
            effective_from=version.effective_from,
            url=url_for("policy.read", version_id=version.id),
        )
        for version in versions
    ]


@dataclass(frozen=True)
class Reading:
    """What a member of staff's reading page shows: the version in full, whether they
    may acknowledge it, and what they acknowledged."""

    version: PolicyVersion  # its policy and clauses loaded
    on_register: bool
    acknowledgement: PolicyAcknowledgement | None
    current: PolicyVersion | None  # the policy's published version, when this one is not

    @property
    def may_acknowledge(self) -> bool:
        return (
            self.on_register
            and self.acknowledgement is None
            and self.version.status == VersionStatus.PUBLISHED
        )


def reading_of(user: User, version_id: int) -> Reading | None:
    """The version for the user's reading page, loaded in full (a template reads nothing);
    None when it is not a published or superseded version of their trust."""
    version = db.session.scalar(
        select(PolicyVersion)
        .join(Policy, Policy.id == PolicyVersion.policy_id)
        .where(
            PolicyVersion.id == version_id,
            Policy.trust_id == user.trust_id,
            PolicyVersion.status != VersionStatus.DRAFT.value,
        )
        .options(joinedload(PolicyVersion.policy), selectinload(PolicyVersion.clauses))
        .execution_options(populate_existing=True)
    )
    if version is None:
        return None
    current = None
    if version.status != VersionStatus.PUBLISHED:
        current = db.session.scalar(
            select(PolicyVersion).where(
                PolicyVersion.policy_id == version.policy_id,
                PolicyVersion.status == VersionStatus.PUBLISHED.value,
            )
        )
    return Reading(
        version=version,
        on_register=own_staff_record(user) is not None,
        acknowledgement=own_acknowledgement(user, version),
        current=current,
    )


@dataclass(frozen=True)
class PolicyRead:
    """A row of a member of staff's list of policies: the version in force, and whether
    (and when) they acknowledged it."""

    version: PolicyVersion  # its policy loaded
    acknowledged_on: date | None


def policies_for_staff(user: User) -> list[PolicyRead]:
    """The published version of each of the trust's policies, with the user's own
    acknowledgement date; two queries."""
    versions = list(
        db.session.scalars(
            select(PolicyVersion)
            .join(Policy, Policy.id == PolicyVersion.policy_id)
            .where(
                Policy.trust_id == user.trust_id,
                PolicyVersion.status == VersionStatus.PUBLISHED.value,
            )
            .options(joinedload(PolicyVersion.policy))
            .order_by(Policy.title, PolicyVersion.id)
        )
    )
    acknowledged = dict(
        db.session.execute(
            select(PolicyAcknowledgement.version_id, PolicyAcknowledgement.acknowledged_on)
            .join(StaffMember, StaffMember.id == PolicyAcknowledgement.staff_member_id)
            .where(
                StaffMember.user_id == user.id,
                PolicyAcknowledgement.version_id.in_([v.id for v in versions]),
            )
        )
        .tuples()
        .all()
    )
    return [PolicyRead(version, acknowledged.get(version.id)) for version in versions]


@dataclass
class ImportReport:
    imported: int = 0
    rows: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, message)

    @property
    def ok(self) -> bool:
        return not self.errors


def import_acknowledgements(
    version: PolicyVersion,
    content: bytes,
    *,
    scope: SchoolScope,
    by: User,
    today: date,
) -> ImportReport:
    """Record many acknowledgements from a CSV file, all or nothing.

    Columns: employee_number, acknowledged_on (YYYY-MM-DD or DD/MM/YYYY), method
    (signed form, training session or e-learning). Every row is checked first; if any is
    wrong the report lists each problem by line and nothing is recorded. Staff outside
    the user's scope are reported as unknown. Side effects: when the file is imported,
    one policy.acknowledgements.imported event about the version (details {"imported",
    "rows", "school_ids", "schools"}: counts and the schools whose staff were recorded,
    never employee numbers); a refused file records nothing. Flushes; the caller commits.
    """
    _require_readable(version)
    report = ImportReport()
    try:
        text = decode(content).text
    except ValueError as error:
        report.errors.append((0, str(error)))
        return report
    reader = (row for _line, row in rows(text, lambda line, why: report.errors.append((line, why))))
    header = next(reader, None)
    if report.errors:
        return report
    if header is None or [c.strip().lower() for c in header] != list(CSV_COLUMNS):
        report.errors.append(
            (1, "The first line must be the column names: " + ",".join(CSV_COLUMNS))
        )
        return report

    staff_by_number = {
        member.employee_number: member
        for member in db.session.scalars(
            select(StaffMember).where(
                StaffMember.trust_id == scope.trust_id, scope.filter(StaffMember.school_id)
            )
        )
    }
    school_of = {member.id: member.school_id for member in staff_by_number.values()}
    seen: dict[int, int] = {}
    pending: list[PolicyAcknowledgement] = []
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        report.rows += 1
        if report.rows > MAX_CSV_ROWS:
            report.errors.append((line, f"The file has more than {MAX_CSV_ROWS} rows; split it"))
            break
        if len(row) != len(CSV_COLUMNS):
            report.errors.append((line, f"Expected {len(CSV_COLUMNS)} values, found {len(row)}"))
            continue
        number, when, how = (cell.strip() for cell in row)
        staff = staff_by_number.get(number)
        acknowledged_on = parse_uk_date(when)
        method = _method(how)
        if staff is None:
            report.errors.append((line, f"No member of staff has employee number {number!r}"))
            continue
        if acknowledged_on is None:
            report.errors.append((line, f"{when!r} is not a date like 2024-09-02 or 02/09/2024"))
            continue
        if method is None:
            report.errors.append(
                (line, f"{how!r} is not a method: use signed form, training session or e-learning")
            )
            continue
        if staff.id in seen:
            report.errors.append((line, f"{number} is already on line {seen[staff.id]}"))
            continue
        seen[staff.id] = line
        problem = _check(version, staff, acknowledged_on, today)
        if problem:
            report.errors.append((line, problem))
            continue
        pending.append(_acknowledgement(version, staff, acknowledged_on, method, by))
    if report.rows == 0 and not report.errors:
        report.errors.append((2, "The file has no rows after the column names"))
    if report.errors:
        return report
    db.session.add_all(pending)
    db.session.flush()
    report.imported = len(pending)
    school_ids = sorted({school_of[ack.staff_member_id] for ack in pending})
    audit.record_about(
        AuditAction.POLICY_ACKNOWLEDGEMENTS_IMPORTED,
        version,
        actor=by,
        trust_id=scope.trust_id,
        # One school's file (the usual case) is found under that school too.
        school_id=school_ids[0] if len(school_ids) == 1 else None,
        details={
            "imported": report.imported,
            "rows": report.rows,
            # A trust has far fewer schools than an event's list may hold; the count
            # alone is kept should one ever have more.
            "school_ids": school_ids if len(school_ids) <= MAX_LISTED_SCHOOLS else None,
            "schools": len(school_ids),
        },
    )
    return report


def acknowledgements_for(version: PolicyVersion, scope: SchoolScope) -> list[PolicyAcknowledgement]:
    """The version's acknowledgements by staff at schools in scope, by name, with each
    member of staff and their school loaded (the page reads nothing more)."""
    return list(
        db.session.scalars(
            select(PolicyAcknowledgement)
            .join(StaffMember)
            .options(
                contains_eager(PolicyAcknowledgement.staff_member).joinedload(StaffMember.school)
            )
            .where(
                PolicyAcknowledgement.version_id == version.id,
                StaffMember.trust_id == scope.trust_id,
                scope.filter(StaffMember.school_id),
            )
            .order_by(StaffMember.full_name)
        )
    )


# --- how many have read a version, by school ------------------------------------------


@dataclass(frozen=True)
class ReadCount:
    """Staff on the register (not left) and how many of them acknowledged a version."""

    name: str
    on_register: int
    acknowledged: int

    @property
    def percentage(self) -> int | None:
        """Whole percent, rounded down (100 only when everyone has); None with no staff."""
        if self.on_register == 0:
            return None
        return self.acknowledged * 100 // self.on_register


@dataclass(frozen=True)
class ReadSummary:
    schools: list[ReadCount]
    total: ReadCount
    whole_trust: bool


def read_summary(version: PolicyVersion, scope: SchoolScope, today: date) -> ReadSummary:
    """For each school in scope: staff on the register on `today` (no leaving date, or
    one not yet passed) and how many of them acknowledged the version, in any way; and
    the total over the scope. One aggregate query, whatever the number of staff."""
    on_register = and_(
        StaffMember.school_id == School.id,
        or_(StaffMember.left_on.is_(None), StaffMember.left_on >= today),
    )
    found = db.session.execute(
        select(
            School.name,
            func.count(StaffMember.id),
            func.count(PolicyAcknowledgement.id),
        )
        .select_from(School)
        .outerjoin(StaffMember, on_register)
        .outerjoin(
            PolicyAcknowledgement,
            and_(
                PolicyAcknowledgement.staff_member_id == StaffMember.id,
                PolicyAcknowledgement.version_id == version.id,
            ),
        )
        .where(School.trust_id == scope.trust_id, scope.filter(School.id))
        .group_by(School.id, School.name)
        .order_by(School.name, School.id)
    ).tuples()
    schools = [ReadCount(name, staff, read) for name, staff, read in found]
    total = ReadCount(
        "Trust total" if scope.whole_trust else "All your schools",
        sum(row.on_register for row in schools),
        sum(row.acknowledged for row in schools),
    )
    return ReadSummary(schools=schools, total=total, whole_trust=scope.whole_trust)
