"""A synthetic trust at scale for the benchmark: schools, staff, cases, chronology, audit.

The trust, its schools, accounts and policy go through the real services (a few dozen
rows, each with its audit event). Everything numerous (staff, cases, clause breaches,
transitions, decisions, suspensions, chronology and the bulk of the audit trail) is
written with bulk inserts, in batches, so that 100,000 cases and 2 million audit events
take minutes.

The audit events continue the chain the services started: each one's HMAC is computed
with tracker.audit.chain exactly as tracker.audit.services.record computes it, so
`flask audit verify` accepts the result. The AFTER INSERT trigger moves the chain head
as rows go in; the head is checked (and set) at the end all the same.

Nothing here is real: names are made up from short lists, summaries say they are
synthetic, and the data never leaves the benchmark's own database.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from psycopg import sql
from sqlalchemy import func, insert, select, text, update

from tracker.audit.chain import CHAINED_FIELDS, FORMAT_VERSION, canonical_details, event_hash
from tracker.audit.chain import key_bytes as audit_key_bytes
from tracker.audit.models import AuditChainHead, AuditEvent
from tracker.auth import mfa
from tracker.auth.roles import Role
from tracker.auth.services import create_user, grant_role
from tracker.cases.models import (
    Case,
    CaseReferenceCounter,
    CaseStatus,
    ChronologyEntry,
    ClauseBreach,
    EntryKind,
    Platform,
    Source,
    Track,
)
from tracker.extensions import db
from tracker.orgs.models import School
from tracker.orgs.services import add_school, create_trust
from tracker.policy.importer import SEED_FILE, import_policy, read_policy_file
from tracker.policy.models import Clause, ClauseKind
from tracker.staff.models import StaffMember
from tracker.workflow.models import (
    AllegationOutcome,
    CaseTransition,
    Decision,
    LowLevelOutcome,
    Suspension,
)

TRUST_CODE = "BENCH"
EMAIL_DOMAIN = "bench.example"
SCHOOLS = 20
STAFF = 3_000
AUDIT_EVENTS_PER_CASE = 20
YEARS = 10
BATCH = 5_000
SIGN_INS_FILE = "bench-sign-ins.json"

_FIRST = [
    "Amelia",
    "Oliver",
    "Isla",
    "George",
    "Ava",
    "Noah",
    "Mia",
    "Arthur",
    "Ivy",
    "Leo",
    "Freya",
    "Oscar",
    "Grace",
    "Harry",
    "Lily",
    "Jack",
    "Rosie",
    "Charlie",
    "Evie",
    "Thomas",
    "Sophia",
    "Jacob",
    "Ella",
    "Alfie",
    "Poppy",
    "Henry",
    "Willow",
    "Theo",
    "Isabella",
    "Archie",
    "Daisy",
    "Joshua",
    "Alice",
    "William",
    "Florence",
    "James",
    "Sienna",
    "Samuel",
    "Phoebe",
    "Edward",
    "Matilda",
]
_LAST = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Wright",
    "Robinson",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Khan",
    "Lewis",
    "Harris",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Morris",
    "Moore",
    "Clark",
    "Lee",
    "King",
    "Baker",
    "Harrison",
    "Morgan",
    "Allen",
    "James",
    "Scott",
    "Phillips",
]
_JOBS = ("Teacher", "Teaching assistant", "Head of year", "Office manager", "Site manager")

# Where cases end up: (status, share). Older cases are mostly closed; see _status_for.
_OPEN_MIX = (
    (CaseStatus.REPORTED, 0.15),
    (CaseStatus.TRIAGE, 0.15),
    (CaseStatus.INVESTIGATION, 0.3),
    (CaseStatus.AWAITING_DECISION, 0.15),
    (CaseStatus.DECIDED, 0.1),
    (CaseStatus.APPEAL, 0.05),
    (CaseStatus.WITHDRAWN, 0.1),
)
# The path each status is reached by (the workflow's actions, in order).
_PATH = {
    CaseStatus.REPORTED: [],
    CaseStatus.TRIAGE: [("start_triage", "reported", "triage")],
    CaseStatus.INVESTIGATION: [
        ("start_triage", "reported", "triage"),
        ("start_investigation", "triage", "investigation"),
    ],
    CaseStatus.AWAITING_DECISION: [
        ("start_triage", "reported", "triage"),
        ("start_investigation", "triage", "investigation"),
        ("submit_for_decision", "investigation", "awaiting_decision"),
    ],
    CaseStatus.DECIDED: [
        ("start_triage", "reported", "triage"),
        ("start_investigation", "triage", "investigation"),
        ("submit_for_decision", "investigation", "awaiting_decision"),
        ("decide", "awaiting_decision", "decided"),
    ],
    CaseStatus.APPEAL: [
        ("start_triage", "reported", "triage"),
        ("start_investigation", "triage", "investigation"),
        ("submit_for_decision", "investigation", "awaiting_decision"),
        ("decide", "awaiting_decision", "decided"),
        ("lodge_appeal", "decided", "appeal"),
    ],
    CaseStatus.CLOSED: [
        ("start_triage", "reported", "triage"),
        ("start_investigation", "triage", "investigation"),
        ("submit_for_decision", "investigation", "awaiting_decision"),
        ("decide", "awaiting_decision", "decided"),
        ("close", "decided", "closed"),
    ],
    CaseStatus.WITHDRAWN: [("withdraw", "reported", "withdrawn")],
}


@dataclass
class BenchUser:
    """An account the benchmark signs in as: its password and authenticator secret."""

    email: str
    role: str
    school_id: int | None
    password: str
    secret: str
    id: int = 0


@dataclass
class SeedResult:
    trust_id: int
    schools: int
    staff: int
    cases: int
    audit_events: int
    users: list[BenchUser] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def user(self, role: str) -> BenchUser:
        return next(user for user in self.users if user.role == role)


def seed(
    *,
    cases: int,
    audit_events: int | None = None,
    schools: int = SCHOOLS,
    staff: int = STAFF,
    today: date,
    random_seed: int = 9,
    progress: Any = None,
) -> SeedResult:
    """Build the benchmark trust in the current app's (empty, migrated) database.

    Commits as it goes (batches), so that a 2-million-event trail never sits in one
    transaction. Returns who can sign in (passwords and authenticator secrets), which
    `write_sign_ins` keeps for the load test.
    """
    import time as clock

    say = progress or (lambda message: None)
    # Synthetic data, not secrets: a seeded generator makes every run the same trust.
    rng = random.Random(random_seed)  # noqa: S311 # nosec B311
    timings: dict[str, float] = {}
    started = clock.perf_counter()
    audit_events = AUDIT_EVENTS_PER_CASE * cases if audit_events is None else audit_events

    trust, school_rows, users, policy_clauses = _organisation(rng, schools)
    db.session.commit()
    timings["organisation"] = clock.perf_counter() - started
    say(f"trust, {len(school_rows)} schools, {len(users)} accounts and the policy")

    mark = clock.perf_counter()
    staff_ids = _staff(rng, trust.id, school_rows, staff)
    timings["staff"] = clock.perf_counter() - mark
    say(f"{sum(len(ids) for ids in staff_ids)} staff")

    mark = clock.perf_counter()
    case_rows = _cases(rng, trust, school_rows, staff_ids, users, policy_clauses, cases, today)
    timings["cases"] = clock.perf_counter() - mark
    say(f"{cases} cases with clause breaches, transitions, decisions and chronology")

    _advance_sequences()
    mark = clock.perf_counter()
    written = _audit_trail(rng, trust.id, case_rows, users, audit_events, today)
    timings["audit"] = clock.perf_counter() - mark
    say(f"{written} audit events, chained")
    mark = clock.perf_counter()
    _analyse()
    timings["statistics"] = clock.perf_counter() - mark
    say("planner statistics gathered")
    timings["total"] = clock.perf_counter() - started
    return SeedResult(
        trust_id=trust.id,
        schools=len(school_rows),
        staff=sum(len(ids) for ids in staff_ids),
        cases=cases,
        audit_events=written,
        users=users,
        seconds=timings,
    )


def _analyse() -> None:
    """Gather the query planner's statistics, as a database in use has them.

    PostgreSQL's autovacuum would do it some time after a bulk load; SQLite only when
    asked (`PRAGMA optimize` does it where it is out of date). Without them, the
    planners choose from guesses and some pages would be measured on a plan that no
    live database uses.
    """
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def write_sign_ins(result: SeedResult, path: Path) -> None:
    """Keep the bench accounts' passwords and secrets, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    users = [user.__dict__ for user in result.users]
    path.write_text(json.dumps({"trust_id": result.trust_id, "users": users}, indent=1))


def read_sign_ins(path: Path) -> list[BenchUser]:
    return [BenchUser(**user) for user in json.loads(path.read_text())["users"]]


# --- the organisation, through the services --------------------------------------------


def _organisation(rng: random.Random, schools: int):
    trust = create_trust(name="Benchmark Multi Academy Trust", code=TRUST_CODE)
    version = import_policy(trust, read_policy_file(SEED_FILE))
    school_rows = [
        add_school(trust, name=f"Bench School {number:02d}", code=f"B{number:02d}")
        for number in range(1, schools + 1)
    ]
    plan: list[tuple[str, Role, School | None]] = [
        ("ceo", Role.CEO, None),
        ("chair", Role.CHAIR, None),
        ("dpo", Role.DPO, None),
        ("auditor", Role.AUDITOR, None),
        ("admin", Role.TRUST_ADMIN, None),
    ]
    for school in school_rows:
        code = school.code.lower()
        plan += [
            (f"dsl.{code}", Role.DSL, school),
            (f"deputy.{code}", Role.DEPUTY_DSL, school),
            (f"head.{code}", Role.HEADTEACHER, school),
        ]
    password = secrets.token_urlsafe(18)
    users: list[BenchUser] = []
    for name, role, school in plan:
        account = create_user(
            trust,
            email=f"{name}@{EMAIL_DOMAIN}",
            display_name=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
            password=password,
        )
        grant_role(account, role, school=school)
        secret = mfa.new_secret()
        mfa.provision(account, secret)
        users.append(
            BenchUser(
                email=account.email,
                role=role.value,
                school_id=school.id if school else None,
                password=password,
                secret=secret,
                id=account.id,
            )
        )
    clauses = db.session.execute(
        select(Clause.id, Clause.reference).where(
            Clause.version_id == version.id, Clause.kind == ClauseKind.RULE.value
        )
    ).all()
    return trust, school_rows, users, [(row.id, row.reference) for row in clauses]


# --- bulk rows -------------------------------------------------------------------------


def _insert(table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows: COPY on PostgreSQL (several times faster than multi-row
    INSERTs), executemany on SQLite. Keys are the table's column keys."""
    if not rows:
        return
    if db.session.get_bind().dialect.name != "postgresql":
        for start in range(0, len(rows), BATCH):
            db.session.execute(insert(table), rows[start : start + BATCH])
        return
    keys = list(rows[0])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name),
        sql.SQL(", ").join(sql.Identifier(table.c[key].name) for key in keys),
    )
    # The session's own connection and transaction: the caller's commit ends the COPY's.
    connection = db.session.connection().connection.driver_connection
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[key] for key in keys])


def _advance_sequences() -> None:
    """PostgreSQL: move each id sequence past the ids the bulk inserts chose, so that the
    app's own inserts (a new chronology entry, say) do not collide with them."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in (
        StaffMember,
        Case,
        ClauseBreach,
        CaseTransition,
        Decision,
        ChronologyEntry,
        Suspension,
    ):
        last = _next_id(model) - 1
        # A table the seed left empty keeps its sequence at its start (setval refuses 0).
        db.session.execute(
            text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :value, :called)"),
            {"table": model.__tablename__, "value": max(last, 1), "called": last > 0},
        )
    db.session.commit()


def _next_id(model: Any) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def _staff(rng: random.Random, trust_id: int, schools: list[School], count: int) -> list[list[int]]:
    """Staff on the register, spread evenly over the schools; their ids per school."""
    now = datetime.now(UTC)
    first_id = _next_id(StaffMember)
    rows = []
    by_school: list[list[int]] = [[] for _ in schools]
    for number in range(count):
        position = number % len(schools)
        member_id = first_id + number
        rows.append(
            {
                "id": member_id,
                "trust_id": trust_id,
                "school_id": schools[position].id,
                "full_name": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
                "job_title": rng.choice(_JOBS),
                "employee_number": f"BE{number:06d}",
                "user_id": None,
                "normal_retirement_date": date(2030 + number % 30, 8, 31),
                "created_at": now,
            }
        )
        by_school[position].append(member_id)
    _insert(StaffMember.__table__, rows)
    db.session.commit()
    return by_school


@dataclass(frozen=True)
class _CaseFacts:
    """What the audit trail needs to know about a seeded case."""

    id: int
    school_id: int
    reported_on: date
    status: str


def _status_for(rng: random.Random, reported_on: date, today: date) -> CaseStatus:
    age = (today - reported_on).days
    # Almost everything more than a year old is closed; recent cases are in every state.
    if age > 365 and rng.random() < 0.97:
        return CaseStatus.CLOSED if rng.random() < 0.92 else CaseStatus.WITHDRAWN
    if age > 120 and rng.random() < 0.6:
        return CaseStatus.CLOSED
    pick, total = rng.random(), 0.0
    for status, share in _OPEN_MIX:
        total += share
        if pick < total:
            return status
    return CaseStatus.INVESTIGATION


def _cases(rng, trust, schools, staff_ids, users, clauses, count, today) -> list[_CaseFacts]:
    """Cases over the last YEARS years, with everything the case page shows about them."""
    by_role = {(user.role, user.school_id): user.id for user in users}
    school_index = {school.id: position for position, school in enumerate(schools)}
    start = today - timedelta(days=365 * YEARS)
    span = (today - start).days
    platforms = [platform.value for platform in Platform if platform is not Platform.OTHER]
    sources = [source.value for source in Source]
    outcomes_allegation = [outcome.value for outcome in AllegationOutcome]
    outcomes_low = [outcome.value for outcome in LowLevelOutcome]
    # Reported dates in order, so that case ids and references follow time as they do.
    reported = sorted(start + timedelta(days=rng.randrange(span)) for _ in range(count))

    case_id = _next_id(Case)
    breach_id = _next_id(ClauseBreach)
    transition_id = _next_id(CaseTransition)
    decision_id = _next_id(Decision)
    entry_id = _next_id(ChronologyEntry)
    suspension_id = _next_id(Suspension)
    # Suspensions (for the governance report) from a generator of their own, so that the
    # rest of the trust is the same as before they were seeded.
    suspending = random.Random(count)  # noqa: S311 # nosec B311
    counters: dict[int, int] = {}
    facts: list[_CaseFacts] = []
    batch: dict[str, list[dict[str, Any]]] = {
        "cases": [],
        "breaches": [],
        "transitions": [],
        "decisions": [],
        "entries": [],
        "suspensions": [],
    }

    def flush() -> None:
        _insert(Case.__table__, batch["cases"])
        _insert(ClauseBreach.__table__, batch["breaches"])
        _insert(CaseTransition.__table__, batch["transitions"])
        _insert(Decision.__table__, batch["decisions"])
        _insert(ChronologyEntry.__table__, batch["entries"])
        _insert(Suspension.__table__, batch["suspensions"])
        db.session.commit()
        for rows in batch.values():
            rows.clear()

    for reported_on in reported:
        school = schools[rng.randrange(len(schools))]
        dsl = by_role[(Role.DSL.value, school.id)]
        head = by_role[(Role.HEADTEACHER.value, school.id)]
        occurred_on = reported_on - timedelta(days=rng.randrange(0, 10))
        status = _status_for(rng, reported_on, today)
        triaged = status not in (CaseStatus.REPORTED, CaseStatus.WITHDRAWN)
        track = (
            (Track.ALLEGATION if rng.random() < 0.25 else Track.LOW_LEVEL).value
            if triaged
            else None
        )
        counters[reported_on.year] = counters.get(reported_on.year, 0) + 1
        at = datetime.combine(reported_on, time(9, 0), UTC) + timedelta(minutes=rng.randrange(480))
        steps = list(_PATH[status])
        decided = any(step[0] == "decide" for step in steps)
        allegation = track == Track.ALLEGATION.value
        subject = rng.choice(staff_ids[school_index[school.id]])
        batch["cases"].append(
            {
                "id": case_id,
                "trust_id": trust.id,
                "school_id": school.id,
                "reference": f"{trust.code}-{reported_on.year}-{counters[reported_on.year]:05d}",
                "subject_id": subject,
                "reported_by_id": dsl,
                "source": rng.choice(sources),
                "source_detail": "",
                "occurred_on": occurred_on,
                "reported_on": reported_on,
                "platform": rng.choice(platforms),
                "platform_detail": "",
                "summary": f"Synthetic benchmark case {case_id}: no real person or event.",
                "status": status.value,
                "track": track,
                "triage_rationale": "Synthetic triage note." if triaged else "",
                "harm_child": ("yes" if allegation else "no") if triaged else None,
                "harm_offence": "no" if triaged else None,
                "harm_risk": "no" if triaged else None,
                "harm_unsuitable": "no" if triaged else None,
                "triaged_at": at + timedelta(days=1) if triaged else None,
                "lado_due_at": at + timedelta(days=2) if allegation else None,
                "lado_referred_at": at + timedelta(days=1, hours=2) if allegation else None,
                "lado_method": "phone" if allegation else None,
                "lado_reference": "",
                "lado_advice": "Synthetic LADO advice." if allegation else "",
                "lado_advice_on": reported_on + timedelta(days=2) if allegation else None,
                "investigator_id": dsl if len(steps) >= 2 else None,
                "investigation_summary": "Synthetic investigation summary."
                if len(steps) >= 3
                else "",
                "decision_maker_id": head if len(steps) >= 3 else None,
                "closed_on": reported_on + timedelta(days=40)
                if status is CaseStatus.CLOSED
                else (reported_on + timedelta(days=3) if status is CaseStatus.WITHDRAWN else None),
                "closure_reason": "Synthetic withdrawal." if status is CaseStatus.WITHDRAWN else "",
                "created_at": at,
                "updated_at": at + timedelta(days=len(steps) * 7),
                "version": 1 + len(steps),
            }
        )
        for clause_id, _reference in rng.sample(clauses, rng.randint(1, 3)):
            batch["breaches"].append(
                {
                    "id": breach_id,
                    "case_id": case_id,
                    "clause_id": clause_id,
                    "rationale": "Synthetic reason for citing this clause.",
                    "added_by_id": dsl,
                    "added_at": at,
                }
            )
            breach_id += 1
        for number, (action, from_status, to_status) in enumerate(steps, start=1):
            batch["transitions"].append(
                {
                    "id": transition_id,
                    "case_id": case_id,
                    "action": action,
                    "from_status": from_status,
                    "to_status": to_status,
                    "reason": "",
                    "actor_id": head if action == "decide" else dsl,
                    "at": at + timedelta(days=number * 7),
                }
            )
            transition_id += 1
        if decided:
            outcome = rng.choice(outcomes_allegation if allegation else outcomes_low)
            batch["decisions"].append(
                {
                    "id": decision_id,
                    "case_id": case_id,
                    "outcome": outcome,
                    "sanction": "none",
                    "warning_expires_on": None,
                    "rationale": "Synthetic rationale for the decision.",
                    "may_mention_in_references": False,
                    "refer_dbs": False,
                    "refer_dbs_reason": "",
                    "refer_tra": False,
                    "refer_tra_reason": "",
                    "refer_police": False,
                    "refer_police_reason": "",
                    "decided_by_id": head,
                    "decided_on": reported_on + timedelta(days=28),
                    "decided_at": at + timedelta(days=28),
                }
            )
            decision_id += 1
        if allegation and len(steps) >= 2 and suspending.random() < 0.3:
            starts_on = reported_on + timedelta(days=suspending.randrange(1, 10))
            ended = status in (CaseStatus.CLOSED, CaseStatus.DECIDED, CaseStatus.APPEAL)
            batch["suspensions"].append(
                {
                    "id": suspension_id,
                    "case_id": case_id,
                    "starts_on": starts_on,
                    "ends_on": starts_on + timedelta(days=suspending.randrange(5, 120))
                    if ended
                    else None,
                    "reason": "Synthetic suspension.",
                    "reviewed_on": None,
                    "recorded_by_id": dsl,
                    "recorded_at": at + timedelta(days=1),
                }
            )
            suspension_id += 1
        for number in range(rng.randint(0, 4)):
            batch["entries"].append(
                {
                    "id": entry_id,
                    "case_id": case_id,
                    "kind": rng.choice(list(EntryKind)).value,
                    "occurred_on": reported_on + timedelta(days=number),
                    "occurred_time": time(10 + number, 0),
                    "summary": "Synthetic chronology entry.",
                    "author_id": dsl,
                    "recorded_at": at + timedelta(days=number),
                }
            )
            entry_id += 1
        facts.append(_CaseFacts(case_id, school.id, reported_on, status.value))
        case_id += 1
        if len(batch["cases"]) >= BATCH:
            flush()
    flush()
    for year, last in counters.items():
        db.session.execute(
            insert(CaseReferenceCounter).values(trust_id=trust.id, year=year, last_number=last)
        )
    db.session.commit()
    return facts


# --- the audit trail -------------------------------------------------------------------

# (action, share) of the events that are not a case's own creation: reading dominates.
_EVENT_MIX = (
    ("case.viewed", 0.55),
    ("case.list.viewed", 0.2),
    ("auth.login.succeeded", 0.07),
    ("chronology.added", 0.06),
    ("case.transitioned", 0.05),
    ("case.history.viewed", 0.03),
    ("clause_breach.added", 0.02),
    ("evidence.downloaded", 0.02),
)


def _events(
    rng: random.Random,
    trust_id: int,
    cases: list[_CaseFacts],
    users: list[BenchUser],
    count: int,
    first_seq: int,
    today: date,
) -> Iterator[dict[str, Any]]:
    """`count` events in time order over the same years as the cases (without hashes).

    Event k falls at the same point in time as case k * cases / count was reported; each
    case's creation is recorded when its turn comes, the other events read or change a
    case reported shortly before.
    """
    school_staff = {}
    for user in users:
        if user.school_id is not None:
            school_staff.setdefault(user.school_id, []).append(user)
    trust_wide = [user for user in users if user.school_id is None and user.role != "trust_admin"]
    start = datetime.combine(today - timedelta(days=365 * YEARS), time(8, 0), UTC)
    step = timedelta(days=365 * YEARS) / max(count, 1)
    created = 0
    actions, weights = zip(*_EVENT_MIX, strict=True)
    for number in range(count):
        at = start + step * number
        due = (number + 1) * len(cases) // count if cases else 0
        if created < due:
            case = cases[created]
            created += 1
            action, actor = "case.created", school_staff[case.school_id][0]
            details: dict[str, Any] = {"reference_year": case.reported_on.year}
        else:
            action = rng.choices(actions, weights)[0]
            case = cases[max(0, created - 1 - rng.randrange(200))] if cases else None
            if case is None:
                action = "auth.login.succeeded"
            actor = (
                rng.choice(school_staff[case.school_id])
                if case is not None and rng.random() < 0.8
                else rng.choice(trust_wide)
            )
            details = _details_for(rng, action)
        about_case = case is not None and action not in ("auth.login.succeeded", "case.list.viewed")
        yield {
            "seq": first_seq + number,
            "format_version": FORMAT_VERSION,
            "occurred_at": at,
            "trust_id": trust_id,
            "actor_id": actor.id,
            "actor_role": actor.role,
            "action": action,
            "object_type": "case"
            if about_case
            else ("user" if action.startswith("auth") else None),
            "object_id": case.id
            if about_case
            else (actor.id if action.startswith("auth") else None),
            "school_id": case.school_id if about_case else None,
            "case_id": case.id if about_case else None,
            "outcome": "allowed",
            "request_id": secrets.token_hex(8),
            "client_address": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(254)}",
            "details": canonical_details(details),
        }


def _details_for(rng: random.Random, action: str) -> dict[str, Any]:
    if action == "case.list.viewed":
        return {
            "filters": rng.choice([[], ["status"], ["school_id", "status"]]),
            "page": 1,
            "results": rng.randrange(1, 5000),
        }
    if action == "case.transitioned":
        return {"from": "triage", "to": "investigation"}
    if action == "chronology.added":
        return {"kind": "note", "backdated": False}
    if action == "auth.login.succeeded":
        return {"second_factor": "totp"}
    if action == "case.history.viewed":
        return {"page": "case"}
    return {}


def _audit_trail(rng, trust_id, cases, users, count, today) -> int:
    """Append `count` chained events after the head the services left.

    On PostgreSQL the trigger that moves the chain head is switched off for the load and
    the head set once at the end: row by row, each insert would update the one head row
    again inside the same transaction, and every update walks the versions before it.
    The benchmark owns its database; the app's own role never could do this.
    """
    key = audit_key_bytes(current_app.config["AUDIT_KEY"])
    head = db.session.execute(select(AuditChainHead.seq, AuditChainHead.hash)).one()
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    if postgresql:
        db.session.execute(
            text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_advance_head")
        )
    db.session.commit()
    previous = head.hash
    last_seq = head.seq
    rows: list[dict[str, Any]] = []
    table = AuditEvent.__table__
    for fields in _events(rng, trust_id, cases, users, count, head.seq + 1, today):
        fields["prev_hash"] = previous
        fields["hash"] = previous = event_hash(key, [fields[name] for name in CHAINED_FIELDS])
        rows.append(fields)
        last_seq = fields["seq"]
        if len(rows) >= BATCH * 4:
            _insert(table, rows)
            db.session.commit()
            rows.clear()
    _insert(table, rows)
    if postgresql:
        db.session.execute(
            text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_advance_head")
        )
    db.session.execute(
        update(AuditChainHead).where(AuditChainHead.id == 1).values(seq=last_seq, hash=previous)
    )
    db.session.commit()
    return count
