"""The benchmark's correctness: the seed's chain verifies, the list's capped count, and
verify in parallel names the same broken event as verify in one process. No timings.
And `flask bench` exists only where the development extra is installed."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from sqlalchemy import func, select, text

from bench.run import sign_in
from bench.seed import seed
from tests.audit_helpers import append_only_guard_lifted
from tests.conftest import csrf_token_from
from tracker.audit.chain import verify_chain
from tracker.audit.models import AuditChainHead, AuditEvent
from tracker.cases.listing import COUNT_LIMIT
from tracker.cases.models import OPEN_STATUSES, Case, CaseStatus
from tracker.clock import today

KEY = b"test-audit-key-not-for-production-use"


def _verify(db, **kwargs):
    result = verify_chain(db.session, KEY, **kwargs)
    db.session.rollback()
    return result


def test_the_seed_builds_a_trust_whose_chain_verifies(app, db):
    result = seed(cases=40, audit_events=300, schools=2, staff=12, today=today())
    assert db.session.scalar(select(func.count()).select_from(Case)) == 40
    statuses = set(db.session.scalars(select(Case.status).distinct()))
    assert CaseStatus.CLOSED.value in statuses and len(statuses) > 2
    stored = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert stored > 300  # the services' own events, then the bulk ones
    verified = _verify(db)
    assert verified.intact, verified.problem
    assert verified.events == stored
    head = db.session.execute(select(AuditChainHead.seq, AuditChainHead.hash)).one()
    assert (head.seq, head.hash) == (verified.head_seq, verified.head_hash)
    # The seeded accounts sign in through the real forms, and the seeded cases open.
    client = sign_in(app, result.user("ceo"))
    case_ids = db.session.scalars(select(Case.id).limit(5)).all()
    open_case = db.session.scalar(
        select(Case.id).where(Case.status.in_([s.value for s in OPEN_STATUSES])).limit(1)
    )
    db.session.rollback()
    assert client.get("/cases/").status_code == 200
    for case_id in case_ids:
        assert client.get(f"/cases/{case_id}").status_code == 200
    # Writing after the bulk load: ids do not collide (PostgreSQL's sequences moved on).
    page = client.get(f"/cases/{open_case}/chronology/new").get_data(as_text=True)
    day = today()
    response = client.post(
        f"/cases/{open_case}/chronology/new",
        data={
            "csrf_token": csrf_token_from(page),
            "kind": "note",
            "occurred_on": [str(day.day), str(day.month), str(day.year)],
            "summary": "After the seed.",
        },
    )
    assert response.status_code == 302
    # Reading and writing recorded events through record(): the chain still holds.
    assert _verify(db).intact


def test_the_list_counts_up_to_its_limit_and_says_more_than(app, db):
    result = seed(cases=COUNT_LIMIT + 2, audit_events=0, schools=2, staff=12, today=today())
    client = sign_in(app, result.user("ceo"))
    page = client.get("/cases/").get_data(as_text=True)
    assert "More than 1,000 cases</h2>" in page
    assert "Showing 1 to 25 of more than 1,000." in page
    listed = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "case.list.viewed")
    ).one()
    assert listed.details == {
        "filters": [],
        "results": COUNT_LIMIT + 1,
        "results_capped": True,
        "page": 1,
    }
    # Filtered below the limit, the count is exact.
    closed = db.session.scalar(
        select(func.count()).select_from(Case).where(Case.status == CaseStatus.CLOSED.value)
    )
    db.session.rollback()
    assert closed < COUNT_LIMIT
    page = client.get("/cases/?status=closed").get_data(as_text=True)
    assert f"{closed} cases match these filters" in page


@pytest.mark.parametrize(
    ("tampering", "seq", "words"),
    [
        (None, None, None),
        ("UPDATE audit_events SET object_id = 99 WHERE seq = 61", 61, "changed"),
        # The first event of a range (ranges of 20: 41 starts the third).
        ("UPDATE audit_events SET action = 'case.created' WHERE seq = 41", 41, "changed"),
        ("DELETE FROM audit_events WHERE seq = 40", 40, "missing"),  # a range's last
        ("DELETE FROM audit_events WHERE seq > 35 AND seq <= 60", 36, "missing"),  # a whole range
        ("UPDATE audit_events SET prev_hash = hash WHERE seq = 81", 81, "does not follow"),
        ("DELETE FROM audit_events WHERE seq > 90", 91, "removed"),  # the tail
    ],
)
def test_verify_in_parallel_finds_what_verify_in_one_process_finds(db, tampering, seq, words):
    seed(cases=10, audit_events=100, schools=1, staff=4, today=today())
    if tampering:
        with append_only_guard_lifted(db.session):
            db.session.execute(text(tampering))
        db.session.commit()
    alone = _verify(db)
    together = _verify(db, workers=2, range_size=20)
    assert together == alone
    if tampering is None:
        assert together.intact and together.events > 100
    else:
        assert together.problem.seq == seq
        assert words in together.problem.message


ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION = "safeguarding-tracker"


def _flask_commands(python: Path, tmp_path: Path) -> set[str]:
    """The commands `flask --app app --help` lists, run as a deployment runs it: from the
    checkout, with the keys in the environment."""
    environment = {
        **os.environ,
        **{
            name: secrets.token_hex(32)
            for name in ("SECRET_KEY", "AUDIT_KEY", "TOTP_KEY", "EVIDENCE_KEY")
        },
        "DATABASE_URL": f"sqlite:///{tmp_path / 'help.db'}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
    }
    result = subprocess.run(  # noqa: S603 - a Python of ours running our own app
        [str(python), "-m", "flask", "--app", "app", "--help"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    listed = result.stdout.partition("Commands:")[2].splitlines()
    commands = {line.split()[0] for line in listed if line.strip()}
    # The app loaded (a broken app would list Flask's own commands alone).
    assert {"audit", "reminders", "retention"} <= commands, result.stdout + result.stderr
    return commands


def _runtime_only_environment(venv: Path) -> Path:
    """A virtualenv holding what a production install holds: this project, installed
    editable without extras, and its runtime dependencies. Each distribution is linked
    from this (development) environment, so nothing is downloaded or built. Returns its
    Python."""
    subprocess.run(  # noqa: S603 - this interpreter's own venv module
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60
    )
    installed = Path(sysconfig.get_paths()["purelib"])
    (site,) = (venv / "lib").glob("python3*/site-packages")
    wanted: list[tuple[str, frozenset[str]]] = [(DISTRIBUTION, frozenset())]
    seen: set[tuple[str, frozenset[str]]] = set()
    while wanted:
        name, extras = wanted.pop()
        if (canonicalize_name(name), extras) in seen:
            continue
        seen.add((canonicalize_name(name), extras))
        # Installed distributions only: the checkout is on this process's path too.
        (dist,) = metadata.distributions(name=name, path=[str(installed)])
        for top in {file.parts[0] for file in dist.files or [] if file.parts[0] != ".."}:
            if not (site / top).exists():
                (site / top).symlink_to(installed / top)
        for requirement in map(Requirement, dist.requires or []):
            if requirement.marker is None or any(
                requirement.marker.evaluate({"extra": extra}) for extra in extras or {""}
            ):
                wanted.append((requirement.name, frozenset(requirement.extras)))
    return venv / "bin" / "python"


def test_flask_bench_is_listed_where_the_development_extra_is_installed(tmp_path):
    assert "bench" in _flask_commands(Path(sys.executable), tmp_path)


# Run in the runtime-only environment, from the checkout: the project is installed and
# names its dev extra, none of the extra is, and bench/ imports all the same.
_PRODUCTION_PROBE = f"""
from importlib import metadata
import bench.cli
dev = [r for r in metadata.requires({DISTRIBUTION!r}) if r.endswith('extra == "dev"')]
installed = {{d.name.lower() for d in metadata.distributions()}}
print(len(dev), "pytest" in installed, "flask" in installed)
"""


def test_flask_bench_is_not_listed_without_the_development_extra(tmp_path):
    python = _runtime_only_environment(tmp_path / "venv")
    probe = subprocess.run(  # noqa: S603 - a Python of ours
        [str(python), "-c", _PRODUCTION_PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    dev_requirements, has_pytest, has_flask = probe.stdout.split()
    assert int(dev_requirements) > 0 and (has_pytest, has_flask) == ("False", "True")
    assert "bench" not in _flask_commands(python, tmp_path)


def test_the_backup_figures_come_from_a_real_backup_that_verifies(app, db):
    from bench.backup import measure_backup

    seed(cases=10, audit_events=50, schools=1, staff=5, today=today())
    figures = measure_backup(app, app.config["SQLALCHEMY_DATABASE_URI"], evidence_mb=3)
    assert (figures.evidence_files, figures.evidence_mb) == (1, 3.0)
    assert figures.verified
    # Random evidence does not compress, and encryption adds to it.
    assert figures.archive_mb > 3.0
    assert figures.create_peak_mb > 0 and figures.verify_peak_mb > 0
    assert figures.create_seconds > 0 and figures.reference_seconds > 0


def test_the_import_figures_come_from_a_real_import_through_the_pages(app, db):
    from bench.staff_import import budgets, measure_import

    seeded = seed(cases=10, audit_events=50, schools=2, staff=5, today=today())
    figures = measure_import(app, seeded.user("trust_admin"))
    assert figures.added == figures.rows == 5000
    assert figures.preview_seconds > 0 and figures.apply_seconds > 0
    assert figures.reference_seconds > 0
    assert ("staff import, every row added", 1, ">=", 1) in budgets(figures)


def _next_link(page: str) -> str:
    return page.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")


def test_the_plain_reference_serves_the_same_rows_and_is_timed_beside_the_product(app, db):
    from bench.plain import make_plain_app
    from bench.run import BackendResult, close_plain, judge, measure_beside_plain

    result = seed(cases=60, audit_events=0, schools=2, staff=12, today=today())
    ceo = result.user("ceo")
    trust_id = db.session.scalar(select(Case.trust_id).limit(1))
    db.session.rollback()
    plain = make_plain_app(app.config["SQLALCHEMY_DATABASE_URI"], trust_id).test_client()
    product_page = sign_in(app, ceo).get("/cases/").get_data(as_text=True)
    try:
        plain_page = plain.get("/cases/").get_data(as_text=True)
        next_page = plain.get(_next_link(plain_page)).get_data(as_text=True)
    finally:
        close_plain(plain.application)
    newest = db.session.scalars(
        select(Case.reference).order_by(Case.reported_on.desc(), Case.id.desc()).limit(26)
    ).all()
    db.session.rollback()
    # The same first page, in the same order, on both; the 26th case on neither.
    for page in (product_page, plain_page):
        positions = [page.index(reference) for reference in newest[:25]]
        assert positions == sorted(positions)
        assert newest[25] not in page
    # Its "Next" link reaches the 26th case, as keyset paging should.
    assert newest[25] in next_page

    figures = measure_beside_plain(app, result.users, requests=3)
    assert set(figures) == {"list_first", "case_page"}
    for pair in figures.values():
        assert pair["product"].p50_ms > 0 and pair["plain"].p50_ms > 0
        # The reference has none of our layers: fewer statements than the product.
        assert pair["plain"].queries_max < pair["product"].queries_max
    outcome = BackendResult(backend="sqlite", cases=60, audit_events=0, plain=figures)
    outcome.pages = dict.fromkeys(
        ("list_first", "list_filtered", "list_deep", "case_page"), figures["list_first"]["product"]
    )
    budgets = {row["budget"]: row for row in judge(outcome)}
    assert "list page / plain reference (p50)" in budgets
    assert budgets["case page / plain reference (p50)"]["limit"] == "<= 2.5"


def test_growth_with_size_is_judged_page_by_page():
    from bench.run import BackendResult, PageFigures, Smaller, judge

    def page(name: str, p95: float) -> PageFigures:
        return PageFigures(name, 10, p95 / 2, p95, 5, 5)

    names = ("list_first", "list_filtered", "list_deep", "case_page")
    smaller = Smaller(cases=10_000, pages={name: page(name, 10.0) for name in names})
    result = BackendResult(backend="sqlite", cases=100_000, audit_events=0, smaller=smaller)
    result.pages = {name: page(name, 12.0) for name in names}
    result.pages["list_deep"] = page("list_deep", 16.0)
    rows = {row["budget"]: row for row in judge(result)}
    flat = rows["list_first p95 growth, 10,000 to 100,000 cases"]
    grown = rows["list_deep p95 growth, 10,000 to 100,000 cases"]
    assert (flat["value"], flat["pass"]) == (1.2, True)
    assert (grown["value"], grown["pass"]) == (1.6, False)
    assert result.as_dict()["smaller"]["cases"] == 10_000
