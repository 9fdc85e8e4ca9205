"""Logging and editing cases: references, clause breaches, people involved, chronology.

Every function here is one business action: it checks its guard, changes objects,
records its audit event (tracker/audit/services.py) and flushes. Views commit. Status
changes live in tracker/workflow/. Reads that the trail records (the case page, its
history, the case list) also go through a function here, so that views never write
audit events themselves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.exc import StaleDataError

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.auth.models import User
from tracker.auth.permissions import can_report_concern, can_view_case, can_work_on_case
from tracker.cases.listing import CaseFilters, CasePage
from tracker.cases.models import (
    Case,
    CaseReferenceCounter,
    CaseRevision,
    ChronologyEntry,
    ClauseBreach,
    EntryKind,
    PersonInvolved,
    PersonKind,
    Platform,
    Source,
)
from tracker.db import utcnow
from tracker.errors import DomainError, NotAllowed, ValidationFailed, one_of, required_text
from tracker.extensions import db
from tracker.insight.patterns import refresh_pattern
from tracker.orgs.models import School, Trust
from tracker.policy.models import Clause, Policy
from tracker.policy.services import version_in_force
from tracker.retention.models import CaseTombstone
from tracker.staff.models import StaffMember

# The message for "Somewhere else" chosen with nothing typed (the forms check it too).
PLATFORM_DETAIL_MISSING = "Enter where it happened"

YEAR_GROUPS = ["Nursery", "Reception", *[f"Year {n}" for n in range(1, 14)]]

# Initials (J.S., JS, J S) or a pseudonym (Pupil A, Child 2): never a pupil's full name.
_PUPIL_IDENTIFIER = re.compile(r"^(?:(?:[A-Z]\.? ?){1,4}|(?:Pupil|Child|Student) [A-Z0-9]{1,3})$")


class EditConflict(DomainError):
    """Someone else saved the case after this editor opened it. Once the caller has rolled
    back, `case` holds what they saved."""

    def __init__(self, case: Case) -> None:
        super().__init__(
            "Someone else saved changes to this case while you were editing it. Their "
            "version is shown below. Check it, change your answers if needed, then save again."
        )
        self.case = case


# --- references ------------------------------------------------------------------------


def allocate_reference(trust: Trust, year: int) -> str:
    """The next reference for a trust and year, e.g. HMAT-2026-0007.

    One atomic upsert on a counter row: concurrent creators queue on that row (a row
    lock on PostgreSQL, the write lock on SQLite), so numbers are never duplicated, and
    because it is part of the case's own transaction a rolled-back case gives its
    number back: no gaps.
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(CaseReferenceCounter)
        .values(trust_id=trust.id, year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=["trust_id", "year"],
            set_={"last_number": CaseReferenceCounter.last_number + 1},
        )
        .returning(CaseReferenceCounter.last_number)
    )
    number = db.session.execute(statement).scalar_one()
    return f"{trust.code}-{year}-{number:04d}"


def _unused_case_id() -> int | None:
    """On SQLite, an id no case has ever had; elsewhere None (the sequence gives one).

    SQLite gives a new row the largest id in the table plus one, so a new case would take
    the id of the newest case if that case had been disposed of, and the audit trail
    (which names cases by id) would mix the two. A disposed case's id stays in its
    tombstone; counting those too means no id is used twice. The reference counter's
    upsert just before holds SQLite's write lock, so no other writer can take it.
    PostgreSQL's sequence never hands out a number twice.
    """
    if db.session.get_bind().dialect.name != "sqlite":
        return None
    highest = db.session.scalar(
        select(
            func.max(
                func.coalesce(select(func.max(Case.id)).scalar_subquery(), 0),
                func.coalesce(select(func.max(CaseTombstone.case_id)).scalar_subquery(), 0),
            )
        )
    )
    return int(highest or 0) + 1


# --- the case record -------------------------------------------------------------------


@dataclass(frozen=True)
class CaseDetails:
    """What the report form (and the edit form) says about the concern."""

    source: str
    source_detail: str
    occurred_on: date
    reported_on: date
    platform: str
    platform_detail: str
    summary: str


# The case's fields the details set, and so the fields a revision records (in this order).
DETAIL_FIELDS: tuple[str, ...] = tuple(field.name for field in fields(CaseDetails))


@dataclass(frozen=True)
class CitedClause:
    clause_id: int
    rationale: str


def checked_details(details: CaseDetails, today: date) -> CaseDetails:
    one_of(Source, details.source, "Choose how the concern came to light", field="source")
    platform = one_of(Platform, details.platform, "Choose where it happened", field="platform")
    platform_detail = details.platform_detail.strip()
    if platform is Platform.OTHER and not platform_detail:
        raise ValidationFailed(PLATFORM_DETAIL_MISSING, field="platform_detail")
    if details.occurred_on > today:
        raise ValidationFailed(
            "The date of the conduct cannot be in the future", field="occurred_on"
        )
    if details.reported_on > today:
        raise ValidationFailed(
            "The date it was reported cannot be in the future", field="reported_on"
        )
    if details.reported_on < details.occurred_on:
        raise ValidationFailed(
            "The date it was reported cannot be before the conduct happened", field="reported_on"
        )
    summary = required_text(details.summary, "Describe what happened", field="summary")
    return CaseDetails(
        source=details.source,
        source_detail=details.source_detail.strip(),
        occurred_on=details.occurred_on,
        reported_on=details.reported_on,
        platform=platform.value,
        platform_detail=platform_detail if platform is Platform.OTHER else "",
        summary=summary,
    )


def policy_for(trust_id: int) -> Policy | None:
    """The policy cases are logged against (the trust's social media policy)."""
    return db.session.scalar(
        select(Policy).where(Policy.trust_id == trust_id).order_by(Policy.id).limit(1)
    )


def _checked_breaches(
    trust_id: int, occurred_on: date, cited: list[CitedClause]
) -> list[tuple[Clause, str]]:
    policy = policy_for(trust_id)
    version = version_in_force(policy, occurred_on) if policy else None
    if version is None:
        raise ValidationFailed(
            "No version of the policy was in force on the date of the conduct", field="clauses"
        )
    rules = {clause.id: clause for clause in version.clauses if clause.is_rule}
    if not cited:
        raise ValidationFailed(
            "Choose at least one clause the conduct may have broken", field="clauses"
        )
    checked = []
    for item in cited:
        clause = rules.get(item.clause_id)
        if clause is None:
            raise ValidationFailed(
                f"Choose clauses from version {version.version_label} of the policy, the "
                "version in force on the date of the conduct",
                field="clauses",
            )
        rationale = item.rationale.strip()
        if not rationale:
            raise ValidationFailed(
                f"Say why the conduct may have broken clause {clause.reference}",
                field=f"rationale_{clause.id}",
            )
        checked.append((clause, rationale))
    return checked


def create_case(
    *,
    school: School,
    subject: StaffMember,
    details: CaseDetails,
    cited: list[CitedClause],
    by: User,
    today: date,
) -> Case:
    """Log a concern about a member of staff.

    Guard: the user may report at the school; the subject works there; the details are
    complete and the dates possible; each cited clause is a rule of the version in force
    on the date of the conduct, with a rationale; the logger is not the subject.
    Side effects: a reference is allocated; the case starts as `reported`; the audit
    trail gets case.created (reference, subject and cited clause ids) and one
    clause_breach.added per cited clause; revision 1 holds every detail as logged.
    Flushes; the caller commits.
    """
    if not can_report_concern(by, school):
        raise NotAllowed("You cannot log concerns at this school")
    if subject.school_id != school.id:
        raise ValidationFailed(f"Choose a member of staff at {school.name}", field="subject")
    if subject.user_id is not None and subject.user_id == by.id:
        raise NotAllowed("You cannot log a concern about yourself; ask another safeguarding lead")
    details = checked_details(details, today)
    breaches = _checked_breaches(school.trust_id, details.occurred_on, cited)
    return open_case(
        school=school, subject=subject, details=details, breaches=breaches, by=by, today=today
    )


def open_case(
    *,
    school: School,
    subject: StaffMember,
    details: CaseDetails,
    breaches: list[tuple[Clause, str]],
    by: User,
    today: date,
) -> Case:
    """The case record of a concern, `reported`: for `create_case` (a safeguarding lead
    logs it) and tracker/concerns/ (any member of staff raises one, citing no clause).

    Guard: none of its own: each caller checks who may open the case and about whom;
    the details (checked with `checked_details`) and breaches are already checked.
    Side effects: a reference is allocated; the audit trail gets case.created (reference,
    subject and cited clause ids) and one clause_breach.added per cited clause; revision
    1 holds every detail as logged; the case is flagged when the trust's pattern rule now
    holds for the subject (tracker/insight/patterns.py). Flushes; the caller commits.
    """
    reference = allocate_reference(school.trust, today.year)
    case = Case(
        id=_unused_case_id(),
        trust_id=school.trust_id,
        school_id=school.id,
        reference=reference,
        subject_id=subject.id,
        reported_by_id=by.id,
        **details.__dict__,
    )
    db.session.add(case)
    db.session.flush()
    for clause, rationale in breaches:
        case.breaches.append(
            ClauseBreach(
                case_id=case.id, clause_id=clause.id, rationale=rationale, added_by_id=by.id
            )
        )
    db.session.flush()
    seq = audit.record_for_case(
        AuditAction.CASE_CREATED,
        case,
        actor=by,
        details={
            "reference": case.reference,
            "subject_id": subject.id,
            "clause_ids": [breach.clause_id for breach in case.breaches],
        },
    )
    for breach in case.breaches:
        audit.record_about(
            AuditAction.CLAUSE_BREACH_ADDED,
            breach,
            actor=by,
            details={"clause_id": breach.clause_id},
        )
    add_revision(
        case,
        {name: (None, getattr(details, name)) for name in DETAIL_FIELDS},
        by=by,
        audit_seq=seq,
        number=1,
    )
    db.session.flush()
    refresh_pattern(case, by=by)
    return case


def citable_rules(case: Case) -> list[Clause]:
    """The rules a case may cite and does not yet: those of the policy version in force on
    the date of the conduct, in the policy's order."""
    policy = policy_for(case.trust_id)
    version = version_in_force(policy, case.occurred_on) if policy else None
    if version is None:
        return []
    cited = {breach.clause_id for breach in case.breaches}
    return [clause for clause in version.clauses if clause.is_rule and clause.id not in cited]


def cite_clause(case: Case, *, clause_id: int | None, rationale: str, by: User) -> ClauseBreach:
    """Cite one more rule the conduct may have broken: how a concern raised by a member of
    staff (which cites none) gets its clauses, and how a lead adds one found later.

    Guard: the user may work on the case; the clause is a rule of the version in force on
    the date of the conduct, not cited already; a rationale is given. Side effects: the
    clause breach; clause_breach.added (the clause id). Flushes; the caller commits.
    """
    if not can_work_on_case(by, case):
        raise NotAllowed("You cannot change this case")
    rules = {clause.id: clause for clause in citable_rules(case)}
    clause = rules.get(clause_id) if clause_id is not None else None
    if clause is None:
        raise ValidationFailed(
            "Choose a rule of the policy in force on the date of the conduct, not one "
            "already cited",
            field="clause",
        )
    why = required_text(
        rationale,
        f"Say why the conduct may have broken clause {clause.reference}",
        field="rationale",
    )
    breach = ClauseBreach(case_id=case.id, clause_id=clause.id, rationale=why, added_by_id=by.id)
    case.breaches.append(breach)
    db.session.flush()
    audit.record_about(
        AuditAction.CLAUSE_BREACH_ADDED, breach, actor=by, details={"clause_id": clause.id}
    )
    refresh_pattern(case, by=by)
    return breach


def update_case_details(
    case: Case, details: CaseDetails, *, expected_version: int, by: User, today: date
) -> list[str]:
    """Change what the case says, if nobody else has saved it since the editor opened it.

    Guard: the user may work on the case; `expected_version` is the version the editor
    saw (else EditConflict, carrying the case as it is now); the details are valid.
    Side effects, when something changed: the case's version moves on; the audit trail
    gets case.updated naming the changed fields (never their values); the next revision
    holds each changed field's value before and after. A save that changes nothing
    writes nothing, not even an event: there is no change to record.
    Returns the names of the fields changed. Flushes; the caller commits.
    """
    if not can_work_on_case(by, case):
        raise NotAllowed("This case cannot be changed")
    if case.version != expected_version:
        raise EditConflict(case)
    details = checked_details(details, today)
    changes = {
        name: (getattr(case, name), getattr(details, name))
        for name in DETAIL_FIELDS
        if getattr(case, name) != getattr(details, name)
    }
    if not changes:
        return []
    for name, (_before, after) in changes.items():
        setattr(case, name, after)
    # The UPDATE (and its version check) goes first: a concurrent editor fails here,
    # before either of us takes the audit chain's lock or a revision number.
    try:
        db.session.flush()
    except StaleDataError:
        # Someone saved between the check above and this write: the same conflict, told
        # the same way (translated on purpose; the caller's rollback brings their version).
        raise EditConflict(case) from None
    seq = audit.record_for_case(
        AuditAction.CASE_UPDATED, case, actor=by, details={"fields": list(changes)}
    )
    add_revision(case, changes, by=by, audit_seq=seq)
    db.session.flush()
    return list(changes)


# --- revisions: the before and after values of the case's details ---------------------


def _stored(value: object) -> object:
    """A value as a revision keeps it: dates as ISO text, strings and None as they are."""
    if isinstance(value, date):
        return value.isoformat()
    return value


def add_revision(
    case: Case,
    changes: Mapping[str, tuple[object, object]],
    *,
    by: User,
    audit_seq: int,
    number: int | None = None,
) -> CaseRevision:
    """Write the next revision of the case: {field: [before, after]} for each change.

    For the case's details here, and for the narrative a workflow step writes or
    rewrites (tracker/workflow/services.py), so that no earlier text is lost. The
    revision names the audit event of the change (`audit_seq`). Adds; flushes nothing.
    """
    if number is None:
        # The case row is already updated (and so locked) in this transaction, so no
        # other editor can take the same number before we commit.
        last = db.session.scalar(
            select(func.max(CaseRevision.number)).where(CaseRevision.case_id == case.id)
        )
        number = (last or 0) + 1
    revision = CaseRevision(
        case=case,  # also lists it in case.revisions, if those are loaded already
        number=number,
        changed_by_id=by.id,
        audit_seq=audit_seq,
        changes={name: [_stored(old), _stored(new)] for name, (old, new) in changes.items()},
    )
    db.session.add(revision)
    return revision


# --- people involved -------------------------------------------------------------------


def add_person(
    case: Case, *, kind: str, identifier: str, year_group: str | None, role_in_case: str, by: User
) -> PersonInvolved:
    """Record someone else in the case, with the least data that identifies them.

    Guard: the user may work on the case; pupils are named by initials or a pseudonym
    and have a year group; everyone has a role in the case. Side effects: the audit trail
    gets person.added with the kind of person only (never their initials or role).
    Flushes; the caller commits.
    """
    if not can_work_on_case(by, case):
        raise NotAllowed("This case cannot be changed")
    person_kind = one_of(PersonKind, kind, "Choose who they are", field="kind")
    identifier = " ".join(identifier.split())
    if not identifier:
        raise ValidationFailed("Enter their initials or a pseudonym", field="identifier")
    if person_kind is PersonKind.PUPIL:
        if not _PUPIL_IDENTIFIER.match(identifier):
            raise ValidationFailed(
                "For a pupil, enter initials (like J.S.) or a pseudonym (like Pupil A), "
                "never their name",
                field="identifier",
            )
        if year_group not in YEAR_GROUPS:
            raise ValidationFailed("Choose the pupil's year group", field="year_group")
    else:
        year_group = None
    role_in_case = role_in_case.strip()
    if not role_in_case:
        raise ValidationFailed("Say what their part in the case is", field="role_in_case")
    person = PersonInvolved(
        case_id=case.id,
        kind=person_kind.value,
        identifier=identifier,
        year_group=year_group,
        role_in_case=role_in_case,
        added_by_id=by.id,
    )
    case.people.append(person)
    audit.record_added(AuditAction.PERSON_ADDED, person, actor=by, details={"kind": person.kind})
    return person


# --- chronology ------------------------------------------------------------------------


def add_chronology_entry(
    case: Case,
    *,
    kind: str,
    occurred_on: date,
    occurred_time: time | None,
    summary: str,
    by: User,
    today: date,
) -> ChronologyEntry:
    """Add a dated note or action; it may describe an earlier day (it is then marked).

    Guard: the user may work on the case; the date is not in the future nor before the
    conduct; there is a summary. Side effects: the audit trail gets chronology.added with
    the kind of entry and whether it is backdated (never its text). Flushes; the caller
    commits.
    """
    if not can_work_on_case(by, case):
        raise NotAllowed("This case cannot be changed")
    entry_kind = one_of(EntryKind, kind, "Choose what kind of entry this is", field="kind")
    if occurred_on > today:
        raise ValidationFailed("The date cannot be in the future", field="occurred_on")
    if occurred_on < case.occurred_on:
        raise ValidationFailed(
            "The date cannot be before the conduct the case is about", field="occurred_on"
        )
    summary = required_text(summary, "Describe what happened or was done", field="summary")
    entry = ChronologyEntry(
        case_id=case.id,
        kind=entry_kind.value,
        occurred_on=occurred_on,
        occurred_time=occurred_time,
        summary=summary,
        author_id=by.id,
        recorded_at=utcnow(),  # now, not at the flush: the event says whether it is backdated
    )
    case.chronology.append(entry)
    audit.record_added(
        AuditAction.CHRONOLOGY_ADDED,
        entry,
        actor=by,
        details={"kind": entry.kind, "backdated": entry.is_backdated},
    )
    return entry


# --- reads the audit trail records ----------------------------------------------------


def _check_can_view(case: Case, by: User) -> None:
    if not can_view_case(by, case):
        raise NotAllowed("You cannot see this case")


def record_case_viewed(case: Case, *, by: User, page: str | None = None) -> None:
    """Someone read the case page (or another page showing the whole case: `page`).

    Guard: the user may view the case (the view found it in their scope; this says so
    again). Side effects: the audit trail gets case.viewed (with {"page": page} when it
    was not the case page); two statements, the caller commits.
    """
    _check_can_view(case, by)
    details = {"page": page} if page else None
    audit.record_for_case(AuditAction.CASE_VIEWED, case, actor=by, details=details)


def record_case_history_viewed(case: Case, *, by: User, page: str = "case") -> None:
    """Someone read the case's history: its revisions ("case"), or everything recorded
    about it on the auditor's page ("audit").

    Guard: the user may view the case. Side effects: the audit trail gets
    case.history.viewed with the page it was read on; the caller commits.
    """
    _check_can_view(case, by)
    audit.record_for_case(AuditAction.CASE_HISTORY_VIEWED, case, actor=by, details={"page": page})


def record_case_list_viewed(filters: CaseFilters, page: CasePage, *, by: User) -> None:
    """Someone listed or searched cases.

    Guard: none beyond the view's (the list only ever holds cases the user may read).
    Side effects: the audit trail gets case.list.viewed with the names of the filters
    in use, the number of cases matching (with results_capped when there were more than
    the list counts) and the page number: never what was searched for, which may be a
    person's name. Two statements; the caller commits.
    """
    details: dict[str, Any] = {
        "filters": filters.names_in_use,
        "results": page.total,
        "page": page.page,
    }
    if page.is_count_capped:
        # The list counts up to a limit (tracker/cases/listing.py): "results" is that
        # limit plus one, meaning "more than the limit".
        details["results_capped"] = True
    audit.record(AuditAction.CASE_LIST_VIEWED, actor=by, details=details)


def record_case_list_exported(
    filters: CaseFilters, *, rows: int, truncated: bool, by: User
) -> None:
    """Someone downloaded the case list as CSV.

    Guard: none beyond the view's (the file only holds cases the user may read). Side
    effects: case.list.exported with the names of the filters in use (never what was
    searched for), the number of cases in the file and whether more matched than a file
    holds. Two statements; the caller commits before the file is sent.
    """
    audit.record(
        AuditAction.CASE_LIST_EXPORTED,
        actor=by,
        details={
            "filters": filters.names_in_use,
            "format": "csv",
            "rows": rows,
            "truncated": truncated,
        },
    )
