"""Recording that members of staff read a policy version: one at a time or from a CSV file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.auth.models import User
from tracker.auth.permissions import SchoolScope
from tracker.clock import uk_date
from tracker.csvfiles import decode, parse_uk_date, rows
from tracker.errors import NotAllowed, ValidationFailed
from tracker.extensions import db
from tracker.policy.models import AcknowledgementMethod, PolicyAcknowledgement, PolicyVersion
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
        return AcknowledgementMethod(wanted)
    except ValueError:
        return None


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

    Guard: the version is not a draft; the date is not in the future nor before approval;
    not already recorded. The caller has checked the staff member is in scope. Side
    effects: records policy.acknowledgement.recorded at the member's school (details
    {"version_id", "staff_member_id", "method", "acknowledged_on"}). Flushes; the caller
    commits.
    """
    _require_readable(version)
    problem = _check(version, staff, acknowledged_on, today)
    if problem:
        raise ValidationFailed(problem, field="acknowledged_on")
    record = _acknowledgement(version, staff, acknowledged_on, method, by)
    audit.record_added(
        AuditAction.POLICY_ACKNOWLEDGED,
        record,
        actor=by,
        trust_id=staff.trust_id,
        school_id=staff.school_id,
        details={
            "version_id": version.id,
            "staff_member_id": staff.id,
            "method": method.value,
            "acknowledged_on": acknowledged_on.isoformat(),
        },
    )
    return record


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
    return list(
        db.session.scalars(
            select(PolicyAcknowledgement)
            .join(StaffMember)
            .where(
                PolicyAcknowledgement.version_id == version.id,
                StaffMember.trust_id == scope.trust_id,
                scope.filter(StaffMember.school_id),
            )
            .order_by(StaffMember.full_name)
        )
    )
