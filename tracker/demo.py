"""`flask demo`: load the demo trust (Horizon Multi Academy Trust) into an empty database."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from tracker.auth import mfa
from tracker.auth.models import User
from tracker.auth.roles import Role
from tracker.auth.services import create_user, grant_role
from tracker.cases.services import CaseDetails, CitedClause, create_case
from tracker.clock import today
from tracker.extensions import db
from tracker.orgs.models import Trust
from tracker.orgs.services import add_school, create_trust, set_lado_arrangements
from tracker.policy.importer import SEED_FILE, import_policy, read_policy_file
from tracker.staff.accounts import give_staff_role
from tracker.staff.models import StaffMember
from tracker.staff.services import add_staff_member
from tracker.workflow.services import HARM_QUESTIONS, start_investigation, triage

CREDENTIALS_FILE = "demo-sign-ins.txt"
EMAIL_DOMAIN = "horizon-trust.example"


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: Role
    school: str | None  # school code, or None for the whole trust
    staff_job_title: str | None = None  # also on the staff register, as this


DEMO_SCHOOLS = [("NFP", "Northfield Primary School"), ("RSA", "Riverside Academy")]

DEMO_USERS = [
    DemoUser("dsl.northfield", "Priya Shah", Role.DSL, "NFP"),
    DemoUser("deputy.northfield", "Tom Okafor", Role.DEPUTY_DSL, "NFP"),
    DemoUser("head.northfield", "Helen Marsh", Role.HEADTEACHER, "NFP", "Headteacher"),
    DemoUser("dsl.riverside", "Grace Lee", Role.DSL, "RSA"),
    DemoUser("head.riverside", "Daniel Reid", Role.HEADTEACHER, "RSA", "Headteacher"),
    DemoUser("ceo", "Martin Cole", Role.CEO, None),
    DemoUser("chair", "Ruth Ellison", Role.CHAIR, None),
    DemoUser("dpo", "Sam Patel", Role.DPO, None),
    DemoUser("auditor", "Alex Morgan", Role.AUDITOR, None),
    DemoUser("admin", "Jo Bennett", Role.TRUST_ADMIN, None),
    # A member of staff: raises concerns, reads the policy, asks consent for pictures.
    DemoUser("teacher.northfield", "Mark Davies", Role.STAFF, "NFP", "Year 5 class teacher"),
]

# (school code, name, job title, employee number)
DEMO_STAFF = [
    ("NFP", "Liam Hughes", "PE teacher", "HM1001"),
    ("NFP", "Emma Clarke", "Teaching assistant", "HM1002"),
    ("RSA", "Sophie Turner", "Science teacher", "HM2001"),
    ("RSA", "Owen Price", "Site manager", "HM2002"),
    ("RSA", "Nadia Hussain", "Head of Year 9", "HM2003"),
]

# Readable, unambiguous characters: no 0/O, 1/l/I.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def demo_password() -> str:
    groups = ["".join(secrets.choice(_ALPHABET) for _ in range(5)) for _ in range(4)]
    return "-".join(groups)


def load_demo_trust() -> list[tuple[DemoUser, str, str]]:
    """Create the demo trust, its schools, users, grants and staff; return the sign-ins
    (each user, their password and the secret of their authenticator app).

    Guard: the caller checks the database holds no trust. Flushes; the caller commits.
    """
    trust = create_trust(name="Horizon Multi Academy Trust", code="HMAT")
    schools = {code: add_school(trust, name=name, code=code) for code, name in DEMO_SCHOOLS}
    for school in schools.values():
        set_lado_arrangements(school, local_authority="Horizon County Council", lado_working_days=1)
    sign_ins: list[tuple[DemoUser, str, str]] = []
    for number, demo in enumerate(DEMO_USERS, start=1):
        password = demo_password()
        user = create_user(
            trust, email=f"{demo.email}@{EMAIL_DOMAIN}", display_name=demo.name, password=password
        )
        grant_role(user, demo.role, school=schools[demo.school] if demo.school else None)
        # Set up already, so that a person trying the demo adds the printed key to an
        # authenticator app; real accounts set theirs up at their first sign-in.
        totp_secret = mfa.new_secret()
        mfa.provision(user, totp_secret)
        if demo.staff_job_title and demo.school:
            member = add_staff_member(
                schools[demo.school],
                full_name=demo.name,
                job_title=demo.staff_job_title,
                employee_number=f"HM9{number:03d}",
                user=user,
            )
            give_staff_role(user, member)  # everyone on the register with an account
        sign_ins.append((demo, password, totp_secret))
    for school_code, name, job_title, employee_number in DEMO_STAFF:
        add_staff_member(
            schools[school_code],
            full_name=name,
            job_title=job_title,
            employee_number=employee_number,
        )
    version = import_policy(trust, read_policy_file(SEED_FILE))
    _demo_cases(trust, version)
    return sign_ins


def _demo_cases(trust: Trust, version) -> None:
    """Two cases at different stages, logged and moved on through the real services.

    Riverside's low-level concern is under investigation; nothing at Northfield is logged
    yet, so a safeguarding lead can report the first concern there themselves.
    """
    users = {u.email.split("@")[0]: u for u in db.session.scalars(select(User))}
    staff = {m.full_name: m for m in db.session.scalars(select(StaffMember))}
    riverside = next(s for s in trust.schools if s.code == "RSA")
    now = today()
    details = CaseDetails(
        source="staff_report",
        source_detail="A colleague saw the comments",
        occurred_on=now - timedelta(days=20),
        reported_on=now - timedelta(days=18),
        platform="facebook",
        platform_detail="",
        summary="Posted comments on a public Facebook page criticising a school trip and "
        "the colleagues who ran it.",
    )
    concern = create_case(
        school=riverside,
        subject=staff["Owen Price"],
        details=details,
        cited=[
            CitedClause(version.clause("3.5").id, "Negative comments about a school event."),
            CitedClause(version.clause("3.2(c)").id, "Derogatory about colleagues."),
        ],
        by=users["dsl.riverside"],
        today=now,
    )
    no_harm = dict.fromkeys(HARM_QUESTIONS, "no")
    triage(
        concern,
        track="low_level",
        answers=no_harm,
        rationale="Conduct and reputation only: no child harmed or at risk.",
        by=users["dsl.riverside"],
    )
    start_investigation(concern, investigator=users["dsl.riverside"], by=users["dsl.riverside"])


def format_sign_ins(sign_ins: list[tuple[DemoUser, str, str]]) -> str:
    width = max(len(demo.email) for demo, _, _ in sign_ins) + len(EMAIL_DOMAIN) + 1
    lines = [
        "Demo sign-ins (Horizon Multi Academy Trust)",
        "",
        "Each sign-in also asks for a code from an authenticator app. Add the user's key to",
        "the app (choose to enter a key, time-based), or print the current code with:",
        "  .venv/bin/python -c 'import pyotp; print(pyotp.TOTP(\"KEY\").now())'",
        "",
    ]
    for demo, password, totp_secret in sign_ins:
        email = f"{demo.email}@{EMAIL_DOMAIN}"
        where = demo.school or "trust"
        lines.append(f"  {email:<{width}}  {password}  {demo.role.label} ({where})")
        lines.append(f"  {'':<{width}}  key {totp_secret}")
    return "\n".join(lines) + "\n"


def _credentials_path() -> Path:
    return Path(current_app.instance_path) / CREDENTIALS_FILE


@click.command("demo")
@click.option(
    "--if-empty",
    is_flag=True,
    help="Load only into an empty database; otherwise show the saved demo sign-ins.",
)
@with_appcontext
def demo_command(if_empty: bool) -> None:
    """Load the demo trust and print its sign-ins (kept in the instance folder)."""
    path = _credentials_path()
    if db.session.scalar(select(Trust.id).limit(1)) is not None:
        if not if_empty:
            raise click.ClickException(
                "The database already holds a trust; the demo loads only into an empty one."
            )
        if path.exists():
            click.echo(path.read_text(), nl=False)
        else:
            click.echo("The database already holds a trust; no demo sign-ins were saved here.")
        return
    sign_ins = load_demo_trust()
    db.session.commit()
    text = format_sign_ins(sign_ins)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Readable by this user only: these are working passwords and second factors.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    click.echo(text, nl=False)
    click.echo(f"(Saved in {path} so that `make run` can show them again.)")
