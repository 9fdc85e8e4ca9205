"""The staff register from a CSV file exported by the MIS or the single central record.

Two steps, nothing written by the first: `plan_import` reads the file and says what it
would do (people to add, people whose entry would change and how, rows refused with their
line and why, and people on the register of the file's schools whom the file does not
list, for someone to review: never removed); `apply_import` makes the plan again and
carries it out, refusing if the register or the file changed since the preview.

Matched by employee number within the trust. A blank cell leaves what the register holds
(an export of current staff has no leaving dates; that is not news that they have none).
A leaving or retirement date that changes works out the retention of the person's closed
cases again, as an edit by hand does.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.auth.models import User
from tracker.auth.permissions import SchoolScope
from tracker.auth.services import looks_like_email
from tracker.csvfiles import DATE_EXAMPLE, decode, looks_like_formula, parse_uk_date, rows
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.orgs.models import School
from tracker.retention.services import recompute_for_subject
from tracker.staff.models import StaffMember
from tracker.staff.services import check_left_on, check_retirement_date

# The template's columns, in its order, and what each is called in messages.
COLUMNS: dict[str, str] = {
    "full_name": "Full name",
    "job_title": "Job title",
    "employee_number": "Employee number",
    "school_code": "School code",
    "work_email": "Work email",
    "started_on": "Start date",
    "left_on": "Leaving date",
    "normal_retirement_date": "Normal retirement date",
}
REQUIRED = ("full_name", "job_title", "employee_number", "school_code")
DATES = ("started_on", "left_on", "normal_retirement_date")
LONGEST = {"full_name": 200, "job_title": 200, "employee_number": 40, "work_email": 254}
# A whole trust's register with room to spare; a file beyond it is refused, not read.
MAX_ROWS = 20_000
# The register's own fields an import may set, in the order a change lists them.
FIELDS = ("full_name", "job_title", "school", "work_email", "started_on", "left_on",
          "normal_retirement_date")  # fmt: skip


def _header_key(cell: str) -> str:
    return " ".join(cell.replace("-", " ").replace("_", " ").split()).lower()


_HEADERS = (
    {_header_key(words): key for key, words in COLUMNS.items()}
    | {_header_key(key): key for key in COLUMNS}
    | {
        "work e mail": "work_email",
        "email": "work_email",
        "retirement date": "normal_retirement_date",
    }
)


@dataclass(frozen=True)
class Entry:
    """One good row: the register entry it asks for (blank optional cells are None)."""

    line: int
    employee_number: str
    full_name: str
    job_title: str
    school: School
    work_email: str | None
    started_on: date | None
    left_on: date | None
    normal_retirement_date: date | None

    def value(self, name: str) -> Any:
        return getattr(self, name)


@dataclass(frozen=True)
class Change:
    entry: Entry
    member: StaffMember
    fields: tuple[str, ...]  # of FIELDS


@dataclass
class Plan:
    guessed_encoding: str | None = None
    rows: int = 0
    to_add: list[Entry] = field(default_factory=list)
    to_change: list[Change] = field(default_factory=list)
    unchanged: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    missing: list[StaffMember] = field(default_factory=list)  # not in the file: to review
    problem: str | None = None  # the whole file is refused: why

    @property
    def has_work(self) -> bool:
        return bool(self.to_add or self.to_change)

    def digest(self) -> str:
        """What applying would write: a preview and its confirmation must agree."""
        work = [
            ["add", e.employee_number, *(_plain(e.value(n)) for n in FIELDS)] for e in self.to_add
        ] + [
            ["change", c.member.id, *(f"{n}={_plain(c.entry.value(n))}" for n in c.fields)]
            for c in self.to_change
        ]
        return hashlib.sha256(json.dumps(work).encode()).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, School):
        return value.id
    if isinstance(value, date):
        return value.isoformat()
    return value


def _columns(header: list[str]) -> dict[str, int] | str:
    """Where each column is, or why the header will not do."""
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = _HEADERS.get(_header_key(cell))
        if key is not None and key not in found:
            found[key] = index
    missing = [COLUMNS[key] for key in COLUMNS if key not in found]
    if missing:
        return (
            "The first line must name the columns, as the template does. This file has no "
            + ", ".join(f"“{name}”" for name in missing)
            + " column"
            + ("s" if len(missing) > 1 else "")
        )
    return found


def _entry(
    line: int, cells: dict[str, str], schools: dict[str, School], scope: SchoolScope
) -> Entry | str:
    """The row as an entry, or what is wrong with it, in words."""
    for key, value in cells.items():
        if looks_like_formula(value):
            return (
                f"The {COLUMNS[key].lower()} starts with “{value[0]}”, which a spreadsheet "
                "would run as a formula: remove it and upload the file again"
            )
    for key in REQUIRED:
        if not cells[key]:
            return f"Enter the {COLUMNS[key].lower()}"
    for key, longest in LONGEST.items():
        if len(cells[key]) > longest:
            return f"The {COLUMNS[key].lower()} must be {longest} characters or fewer"
    school = schools.get(cells["school_code"].upper())
    if school is None:
        return f"No school in the trust has the code “{cells['school_code']}”"
    if not scope.includes(school.id):
        return f"You do not keep the staff register for {school.name}"
    email = cells["work_email"] or None
    if email is not None and not looks_like_email(email):
        return f"“{email}” is not an e-mail address"
    dates: dict[str, date | None] = {}
    for key in DATES:
        dates[key] = parse_uk_date(cells[key]) if cells[key] else None
        if cells[key] and dates[key] is None:
            return f"The {COLUMNS[key].lower()} “{cells[key]}” is not a date like {DATE_EXAMPLE}"
    try:
        check_retirement_date(dates["normal_retirement_date"])
        check_left_on(dates["left_on"])
    except ValidationFailed as refused:
        return str(refused)
    if dates["started_on"] and dates["left_on"] and dates["left_on"] < dates["started_on"]:
        return "The leaving date must be the same as or after the start date"
    return Entry(
        line=line,
        employee_number=cells["employee_number"],
        full_name=" ".join(cells["full_name"].split()),
        job_title=" ".join(cells["job_title"].split()),
        school=school,
        work_email=email.lower() if email else None,
        started_on=dates["started_on"],
        left_on=dates["left_on"],
        normal_retirement_date=dates["normal_retirement_date"],
    )


def plan_import(content: bytes, *, scope: SchoolScope) -> Plan:
    """What importing the file would do; writes nothing."""
    plan = Plan()
    try:
        decoded = decode(content)
    except ValueError as error:
        plan.problem = str(error)
        return plan
    plan.guessed_encoding = decoded.guessed

    def too_long(line: int, why: str) -> None:
        plan.problem = f"Line {line}: {why}"

    reader = rows(decoded.text, too_long)
    first = next(reader, None)
    if first is None:
        plan.problem = plan.problem or "The file is empty"
        return plan
    columns = _columns(first[1])
    if isinstance(columns, str):
        plan.problem = columns
        return plan

    schools = {
        school.code.upper(): school
        for school in db.session.scalars(select(School).where(School.trust_id == scope.trust_id))
    }
    entries: list[Entry] = []
    lines_of: dict[str, list[int]] = defaultdict(list)
    for line, row in reader:
        if not any(cell.strip() for cell in row):
            continue
        plan.rows += 1
        if plan.rows > MAX_ROWS:
            plan.problem = (
                f"The file has more than {MAX_ROWS:,} rows: split it and import each part"
            )
            return plan
        cells = {
            key: (row[index].strip() if index < len(row) else "") for key, index in columns.items()
        }
        entry = _entry(line, cells, schools, scope)
        if isinstance(entry, str):
            plan.refused.append((line, entry))
        else:
            entries.append(entry)
        if cells["employee_number"]:
            lines_of[cells["employee_number"]].append(line)
    if plan.problem:
        return plan
    if plan.rows == 0:
        plan.problem = "The file has no rows after the column names"
        return plan

    repeated = {number: lines for number, lines in lines_of.items() if len(lines) > 1}
    for entry in entries:
        others = [other for other in repeated.get(entry.employee_number, []) if other != entry.line]
        if others:
            listed = ", ".join(str(other) for other in others)
            plan.refused.append(
                (
                    entry.line,
                    f"Employee number {entry.employee_number} is also on line "
                    f"{listed}: each person must be on one line only",
                )
            )
    plan.refused.sort()
    entries = [entry for entry in entries if entry.employee_number not in repeated]

    register = {
        member.employee_number: member
        for member in db.session.scalars(
            select(StaffMember).where(StaffMember.trust_id == scope.trust_id)
        )
    }
    for entry in entries:
        member = register.get(entry.employee_number)
        if member is None:
            plan.to_add.append(entry)
        elif not scope.includes(member.school_id):
            plan.refused.append(
                (
                    entry.line,
                    f"Employee number {entry.employee_number} belongs to someone at a school "
                    "whose staff register you do not keep",
                )
            )
        elif changed := _changes(entry, member):
            plan.to_change.append(Change(entry, member, changed))
        else:
            plan.unchanged += 1
    plan.refused.sort()
    in_file = set(lines_of)
    school_ids = {entry.school.id for entry in entries}
    plan.missing = sorted(
        (
            member
            for member in register.values()
            if member.school_id in school_ids
            and member.employee_number not in in_file
            and member.left_on is None
        ),
        key=lambda member: (member.full_name.lower(), member.employee_number),
    )
    return plan


def _changes(entry: Entry, member: StaffMember) -> tuple[str, ...]:
    changed = []
    for name in FIELDS:
        wanted = entry.value(name)
        if name == "school":
            if member.school_id != entry.school.id:
                changed.append(name)
        elif wanted is not None and getattr(member, name) != wanted:
            changed.append(name)
    return tuple(changed)


@dataclass(frozen=True)
class Applied:
    added: int
    changed: int
    unchanged: int
    refused: int
    missing: int


def apply_import(
    content: bytes,
    *,
    scope: SchoolScope,
    expected: str,
    by: User,
    progress: Callable[[int], None] | None = None,
) -> Applied:
    """Carry out the plan the person saw (`expected` is its digest).

    Guard: the plan made now is the one previewed (else ValidationFailed: the register or
    the file changed meanwhile) and has something to do. Side effects: adds and changes
    the entries (a changed leaving or retirement date works out the retention of the
    person's closed cases again: case.retention.set for each that changes); records one
    staff.imported event with counts only (added, changed, unchanged, refused, missing),
    never a name or number. Flushes; the caller commits.
    """
    plan = plan_import(content, scope=scope)
    if plan.problem or plan.digest() != expected:
        raise ValidationFailed(
            "The staff register or the file has changed since the preview. Check the new "
            "preview below, then confirm again"
        )
    if not plan.has_work:
        raise ValidationFailed("There is nothing in the file to add or change")
    members = []
    for entry in plan.to_add:
        members.append(
            StaffMember(
                trust_id=scope.trust_id,
                school_id=entry.school.id,
                **{name: entry.value(name) for name in FIELDS if name != "school"},
                employee_number=entry.employee_number,
            )
        )
    db.session.add_all(members)
    dates_changed = []
    for change in plan.to_change:
        for name in change.fields:
            if name == "school":
                change.member.school = change.entry.school
            else:
                setattr(change.member, name, change.entry.value(name))
        if {"left_on", "normal_retirement_date"} & set(change.fields):
            dates_changed.append(change.member)
    db.session.flush()
    for member in dates_changed:
        recompute_for_subject(member, by=by)
    audit.record(
        AuditAction.STAFF_IMPORTED,
        actor=by,
        trust_id=scope.trust_id,
        details={
            "added": len(plan.to_add),
            "changed": len(plan.to_change),
            "unchanged": plan.unchanged,
            "refused": len(plan.refused),
            "missing": len(plan.missing),
        },
    )
    return Applied(
        len(plan.to_add), len(plan.to_change), plan.unchanged, len(plan.refused), len(plan.missing)
    )


def template_csv() -> str:
    """The template: the column names, and one example row to be replaced."""
    example = ["Alex Example", "Teaching assistant", "E12345", "SCHOOLCODE",
               "a.example@school.example", "01/09/2024", "", "31/08/2058"]  # fmt: skip
    return ",".join(COLUMNS.values()) + "\r\n" + ",".join(example) + "\r\n"
