"""Measure the app at trust scale: pages through the WSGI app, bare SQL, audit appends,
verification, memory; and compare each figure with its budget.

Timings are the server's: each request goes through the whole WSGI app (sign-in gate,
view, template, audit event, commit) with Flask's test client, so no network or browser
time is in them. Statements are counted with SQLAlchemy's `before_cursor_execute`
event, leaving out transaction control (BEGIN IMMEDIATE on SQLite), as the query-budget
tests do.
"""

from __future__ import annotations

import random
import re
import resource
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from bench.backup import BackupFigures
from bench.backup import budgets as backup_budgets
from bench.seed import BenchUser
from tracker.audit.actions import AuditAction
from tracker.audit.chain import key_bytes, verify_chain
from tracker.audit.services import record
from tracker.auth import mfa
from tracker.auth.models import User
from tracker.cases import listing
from tracker.cases.models import Case
from tracker.extensions import db

_TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_NEXT = re.compile(r'href="([^"]+)" rel="next"')

# The budgets of issue 9: (figure, limit, which way is good).
PAGE_P95_MS = {"sqlite": 15.0, "postgresql": 25.0}
LIST_OVER_SQL = 10.0
LIST_QUERIES = 3
CASE_QUERIES = 13
APPENDS_PER_SECOND = 1_500
VERIFY_SECONDS = 10.0
# A deep page counts as "as fast as the first" within this factor (noise on a shared box).
DEEP_OVER_FIRST = 1.5
# Issue 21: what our layers may cost beside the plain reference (bench/plain.py), p50.
OVER_PLAIN = {"list_first": 2.0, "case_page": 2.5}
# Issue 21: every page's p95 on the full trust over its p95 on the smaller one.
GROWTH = 1.5


@dataclass
class PageFigures:
    name: str
    requests: int
    p50_ms: float
    p95_ms: float
    queries_median: float
    queries_max: int
    # Of those, the audit trail's own (lock the chain head, insert the event).
    audit_queries_max: int = 0

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__


@dataclass
class Smaller:
    """The pages measured on a smaller trust first, to judge how they grow with size."""

    cases: int
    pages: dict[str, PageFigures]

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "pages": {name: page.as_dict() for name, page in self.pages.items()},
        }


@dataclass
class BackendResult:
    backend: str
    cases: int
    audit_events: int
    seed_seconds: dict[str, float] = field(default_factory=dict)
    pages: dict[str, PageFigures] = field(default_factory=dict)
    bare_sql_p50_ms: float = 0.0
    list_over_sql: float = 0.0
    appends_per_second: float = 0.0
    appenders: int = 8
    chain_intact_after_appends: bool = False
    verify_seconds: float = 0.0
    verify_sequential_seconds: float | None = None
    verify_workers: int = 0
    verified_events: int = 0
    backup: BackupFigures | None = None
    staff_import: Any = None  # bench.staff_import.ImportFigures
    governance: Any = None  # bench.governance.ReportFigures
    # The pages beside the plain reference, timed interleaved: {page: {product, plain}}.
    plain: dict[str, dict[str, PageFigures]] = field(default_factory=dict)
    smaller: Smaller | None = None
    budgets: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["pages"] = {name: page.as_dict() for name, page in self.pages.items()}
        data["backup"] = self.backup.as_dict() if self.backup else None
        data["staff_import"] = self.staff_import.as_dict() if self.staff_import else None
        data["governance"] = self.governance.as_dict() if self.governance else None
        data["smaller"] = self.smaller.as_dict() if self.smaller else None
        data["plain"] = {
            page: {side: figures.as_dict() for side, figures in pair.items()}
            for page, pair in self.plain.items()
        }
        return data


# --- signing in and counting -----------------------------------------------------------


def sign_in(app: Flask, user: BenchUser) -> FlaskClient:
    """A test client signed in through the real forms: password, then a TOTP code."""
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    response = client.post(
        "/sign-in",
        data={"csrf_token": _csrf(page), "email": user.email, "password": user.password},
    )
    if response.status_code != 302:
        raise RuntimeError(f"{user.email}: the password step answered {response.status_code}")
    page = client.get("/sign-in/code").get_data(as_text=True)
    code = mfa.code_for(user.secret, mfa.current_step())
    response = client.post("/sign-in/code", data={"csrf_token": _csrf(page), "code": code})
    if response.status_code != 302:
        raise RuntimeError(f"{user.email}: the code step answered {response.status_code}")
    return client


def signed_in(app: Flask, user: BenchUser) -> FlaskClient:
    """Signed in, waiting for the authenticator's next code if this one was used already
    (a code is good once: the bench may have signed the same person in moments before)."""
    try:
        return sign_in(app, user)
    except RuntimeError:
        time.sleep(mfa.STEP_SECONDS - time.time() % mfa.STEP_SECONDS + 0.5)
        return sign_in(app, user)


def _csrf(page: str) -> str:
    match = _CSRF.search(page)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


@contextmanager
def counting(engine: Any) -> Iterator[list[str]]:
    statements: list[str] = []

    def note(_conn, _cursor, statement, _params, _context, _many) -> None:
        if not _TRANSACTION_CONTROL.match(statement):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def time_pages(
    name: str, client: FlaskClient, urls: Callable[[int], str], requests: int
) -> PageFigures:
    """Request `requests` pages (after a few to warm up) and time each through WSGI."""
    for number in range(5):
        _get(client, urls(number))
    times, queries, audit = [], [], []
    for number in range(requests):
        url = urls(number)
        db.session.remove()  # as at the end of a real request
        with counting(db.engine) as statements:
            started = time.perf_counter()
            _get(client, url)
            times.append((time.perf_counter() - started) * 1000)
        queries.append(len(statements))
        audit.append(
            sum(1 for s in statements if "audit_chain_head" in s or "INTO audit_events" in s)
        )
    return PageFigures(
        name=name,
        requests=requests,
        p50_ms=round(statistics.median(times), 2),
        p95_ms=round(_percentile(times, 0.95), 2),
        queries_median=statistics.median(queries),
        queries_max=max(queries),
        audit_queries_max=max(audit),
    )


def time_side_by_side(
    name: str,
    product: FlaskClient,
    plain: FlaskClient,
    urls: Callable[[int], str],
    requests: int,
) -> dict[str, PageFigures]:
    """The product's page and the plain reference's, requested in turn (the same address
    each time), so both see the same load on the machine whatever it is."""
    for number in range(5):
        _get(product, urls(number))
        _get(plain, urls(number))
    times: dict[str, list[float]] = {"product": [], "plain": []}
    queries: dict[str, list[int]] = {"product": [], "plain": []}
    engines = {}
    for side, client in (("product", product), ("plain", plain)):
        with client.application.app_context():
            engines[side] = db.engine  # each app has its own
    for number in range(requests):
        url = urls(number)
        for side, client in (("product", product), ("plain", plain)):
            db.session.remove()
            with counting(engines[side]) as statements:
                started = time.perf_counter()
                _get(client, url)
                times[side].append((time.perf_counter() - started) * 1000)
            queries[side].append(len(statements))
    return {
        side: PageFigures(
            name=f"{name} ({side})",
            requests=requests,
            p50_ms=round(statistics.median(times[side]), 2),
            p95_ms=round(_percentile(times[side], 0.95), 2),
            queries_median=statistics.median(queries[side]),
            queries_max=max(queries[side]),
        )
        for side in ("product", "plain")
    }


def _get(client: FlaskClient, url: str) -> bytes:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return response.get_data()  # bytes: a PDF is timed too (bench/governance.py)


# --- the scenarios ---------------------------------------------------------------------


def deep_page_url(*, position: int) -> str:
    """The list's address for the page after the case at `position` (newest first), as
    following "Next" that far would reach it."""
    case = db.session.scalars(
        select(Case).order_by(Case.reported_on.desc(), Case.id.desc()).offset(position).limit(1)
    ).one()
    cursor = listing.encode_cursor(case, listing.Sort.NEWEST)
    return f"/cases/?page={position // listing.DEFAULT_PAGE_SIZE + 2}&after={cursor}"


def measure_pages(app: Flask, users: list[BenchUser], requests: int) -> dict[str, PageFigures]:
    ceo = next(user for user in users if user.role == "ceo")
    dsl = next(user for user in users if user.role == "dsl")
    ceo_client, dsl_client = sign_in(app, ceo), sign_in(app, dsl)
    total = db.session.scalar(select(func.count()).select_from(Case)) or 0
    # Which cases to open, not a secret.
    rng = random.Random(1)  # noqa: S311 # nosec B311
    case_ids = db.session.scalars(select(Case.id)).all()
    chosen = [rng.choice(case_ids) for _ in range(requests + 5)]
    surnames = ["smith", "patel", "wood", "khan", "lee", "ward"]
    deep = deep_page_url(position=total // 2)
    db.session.remove()
    scenarios: list[tuple[str, FlaskClient, Callable[[int], str]]] = [
        ("list_first", ceo_client, lambda n: "/cases/"),
        ("list_filtered", ceo_client, lambda n: "/cases/?status=investigation&platform=instagram"),
        ("list_deep", ceo_client, lambda n: deep),
        ("case_page", ceo_client, lambda n: f"/cases/{chosen[n]}"),
        ("search", ceo_client, lambda n: f"/cases/?q={surnames[n % len(surnames)]}"),
        ("home_dsl", dsl_client, lambda n: "/"),
        ("home_ceo", ceo_client, lambda n: "/"),
    ]
    return {name: time_pages(name, client, urls, requests) for name, client, urls in scenarios}


def measure_beside_plain(
    app: Flask, users: list[BenchUser], requests: int
) -> dict[str, dict[str, PageFigures]]:
    """The list's first page and case pages, the product's beside bench/plain.py's."""
    from bench.plain import make_plain_app

    ceo = next(user for user in users if user.role == "ceo")
    product = signed_in(app, ceo)
    trust_id = db.session.scalar(select(User.trust_id).where(User.email == ceo.email))
    plain = make_plain_app(app.config["SQLALCHEMY_DATABASE_URI"], trust_id).test_client()
    rng = random.Random(2)  # noqa: S311 # nosec B311  (which cases to open, not a secret)
    case_ids = db.session.scalars(select(Case.id)).all()
    chosen = [rng.choice(case_ids) for _ in range(requests + 5)]
    db.session.remove()
    try:
        return {
            "list_first": time_side_by_side(
                "case list, first page", product, plain, lambda n: "/cases/", requests
            ),
            "case_page": time_side_by_side(
                "case page", product, plain, lambda n: f"/cases/{chosen[n]}", requests
            ),
        }
    finally:
        close_plain(plain.application)


def close_plain(plain_app: Flask) -> None:
    """Close the reference's own connections (its engine is not the product's)."""
    with plain_app.app_context():
        db.session.remove()
        db.engine.dispose()


def bare_sql_p50(ceo_email: str, requests: int) -> float:
    """The list page's own statement, compiled to SQL and run on the raw DBAPI connection."""
    user = db.session.scalar(select(User).where(User.email == ceo_email))
    statement, values = listing.case_list_query(user, listing.CaseFilters())
    compiled = statement.params(**values).compile(
        dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = compiled.params
    if compiled.positiontup is not None:  # SQLite's qmark style
        params = tuple(params[name] for name in compiled.positiontup)
    sql = str(compiled)
    db.session.remove()
    times = []
    with db.engine.connect() as connection:
        for number in range(requests + 5):
            started = time.perf_counter()
            connection.exec_driver_sql(sql, params).fetchall()
            elapsed = (time.perf_counter() - started) * 1000
            connection.rollback()
            if number >= 5:
                times.append(elapsed)
    return round(statistics.median(times), 3)


def appends_per_second(app: Flask, *, writers: int = 8, seconds: float = 5.0) -> float:
    """Audit events appended per second by `writers` threads, each committing each one."""
    counts = [0] * writers
    errors: list[BaseException] = []
    start = threading.Barrier(writers + 1)
    stop_at: list[float] = []

    def write(slot: int) -> None:
        try:
            with app.app_context():
                start.wait()
                while time.perf_counter() < stop_at[0]:
                    record(
                        AuditAction.CASE_VIEWED,
                        actor=None,
                        object_type="case",
                        object_id=slot + 1,
                        case_id=slot + 1,
                    )
                    db.session.commit()
                    counts[slot] += 1
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below, never swallowed
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(slot,)) for slot in range(writers)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at.append(began + seconds)
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"an audit writer failed: {errors[0]!r}") from errors[0]
    return round(sum(counts) / elapsed, 1)


def time_verify(app: Flask, *, workers: int) -> tuple[float, int, bool]:
    key = key_bytes(app.config["AUDIT_KEY"])
    started = time.perf_counter()
    result = verify_chain(db.session, key, workers=workers)
    elapsed = time.perf_counter() - started
    db.session.rollback()
    return round(elapsed, 2), result.events, result.intact


def peak_memory_mb() -> float:
    # Linux reports kilobytes.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --- budgets ---------------------------------------------------------------------------


def judge(result: BackendResult) -> list[dict[str, Any]]:
    """Each budget with the measured figure and pass or miss."""
    limit = PAGE_P95_MS[result.backend]
    pages = result.pages
    rows: list[tuple[str, float, str, float | int]] = [
        (
            f"list page p95 (ms), first page, at most {limit:g}",
            pages["list_first"].p95_ms,
            "<=",
            limit,
        ),
        ("list page p95 (ms), filtered", pages["list_filtered"].p95_ms, "<=", limit),
        ("list page p95 (ms), deep page", pages["list_deep"].p95_ms, "<=", limit),
        (f"case page p95 (ms), at most {limit:g}", pages["case_page"].p95_ms, "<=", limit),
        ("list page / bare SQL (p50)", result.list_over_sql, "<=", LIST_OVER_SQL),
        (
            "queries per list page (max, besides the audit event's 2)",
            max(
                p.queries_max - p.audit_queries_max
                for k, p in pages.items()
                if k.startswith("list")
            ),
            "<=",
            LIST_QUERIES,
        ),
        (
            "queries per case page (max, with its audit event)",
            pages["case_page"].queries_max,
            "<=",
            CASE_QUERIES,
        ),
        (
            "deep page p50 / first page p50",
            round(pages["list_deep"].p50_ms / max(pages["list_first"].p50_ms, 0.001), 2),
            "<=",
            DEEP_OVER_FIRST,
        ),
        (
            "audit appends per second, 8 writers",
            result.appends_per_second,
            ">=",
            APPENDS_PER_SECOND,
        ),
        ("chain intact after concurrent appends", int(result.chain_intact_after_appends), ">=", 1),
        (
            f"verify {result.verified_events} events (s)",
            result.verify_seconds,
            "<=",
            VERIFY_SECONDS,
        ),
    ]
    if result.smaller is not None:
        for page, figures in result.pages.items():
            before = result.smaller.pages.get(page)
            if before is not None:
                rows.append(
                    (
                        f"{page} p95 growth, {result.smaller.cases:,} to {result.cases:,} cases",
                        round(figures.p95_ms / max(before.p95_ms, 0.001), 2),
                        "<=",
                        GROWTH,
                    )
                )
    for page, limit in OVER_PLAIN.items():
        if page in result.plain:
            pair = result.plain[page]
            ratio = round(pair["product"].p50_ms / max(pair["plain"].p50_ms, 0.001), 2)
            label = "list page" if page == "list_first" else "case page"
            rows.append((f"{label} / plain reference (p50)", ratio, "<=", limit))
    if result.backup is not None:
        rows += backup_budgets(result.backup)
    if result.staff_import is not None:
        from bench.staff_import import budgets as import_budgets

        rows += import_budgets(result.staff_import)
    if result.governance is not None:
        from bench.governance import budgets as report_budgets

        rows += report_budgets(result.governance)
    judged = []
    for name, value, way, bound in rows:
        ok = value <= bound if way == "<=" else value >= bound
        judged.append({"budget": name, "value": value, "limit": f"{way} {bound:g}", "pass": ok})
    return judged
