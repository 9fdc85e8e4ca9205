"""`flask bench`: a synthetic trust at scale, and the benchmark that measures it.

`bench seed` builds the trust in a benchmark database of its own (never the app's);
`bench run` seeds and measures SQLite and, when BENCH_DATABASE_URL is set, PostgreSQL in
one process, prints a table against the budgets and writes bench/results/bench.json.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import click
from flask import current_app

from config import PROJECT_ROOT
from tracker.clock import today

# Figures belong to the machine that measured them: the folder is not committed.
RESULTS_FILE = PROJECT_ROOT / "bench" / "results" / "bench.json"


@click.group("bench")
def bench_cli() -> None:
    """Build a trust at scale and measure the app against its performance budgets."""


def _server_url() -> str | None:
    return os.environ.get("BENCH_DATABASE_URL") or None


def _backends(choice: str) -> list[str]:
    if choice == "both":
        return ["sqlite", *(["postgresql"] if _server_url() else [])]
    return [choice]


@bench_cli.command("seed")
@click.option("--cases", default=100_000, show_default=True)
@click.option("--audit-events", type=int, help="Default: 20 for each case.")
@click.option(
    "--database",
    "backend",
    type=click.Choice(["sqlite", "postgresql"]),
    default="sqlite",
    show_default=True,
    help="sqlite: instance/bench.db; postgresql: a database of its own on BENCH_DATABASE_URL.",
)
def seed_command(cases: int, audit_events: int | None, backend: str) -> None:
    """Make the benchmark database afresh and fill it with a synthetic trust.

    The bench accounts' passwords and authenticator keys go to
    instance/bench-sign-ins.json (for the load test).
    """
    from bench import databases
    from bench.seed import SIGN_INS_FILE, seed, write_sign_ins

    instance = current_app.instance_path
    url = databases.database_url(backend, instance_path=instance, server_url=_server_url())
    databases.recreate(backend, url, server_url=_server_url())
    started = time.perf_counter()
    with databases.bench_app(url):
        result = seed(
            cases=cases, audit_events=audit_events, today=today(), progress=_progress(backend)
        )
    write_sign_ins(result, Path(instance) / SIGN_INS_FILE)
    click.echo(
        f"{backend}: seeded {result.cases} cases and {result.audit_events} audit events "
        f"in {time.perf_counter() - started:.0f} s."
    )


@bench_cli.command("url")
@click.option(
    "--database", "backend", type=click.Choice(["sqlite", "postgresql"]), default="sqlite"
)
def url_command(backend: str) -> None:
    """Print the benchmark database's URL (for serving it under load)."""
    from bench import databases

    click.echo(
        databases.database_url(
            backend, instance_path=current_app.instance_path, server_url=_server_url()
        )
    )


@bench_cli.command("drop")
@click.option(
    "--database", "backend", type=click.Choice(["sqlite", "postgresql"]), default="sqlite"
)
def drop_command(backend: str) -> None:
    """Remove the benchmark database."""
    from bench import databases

    url = databases.database_url(
        backend, instance_path=current_app.instance_path, server_url=_server_url()
    )
    databases.drop(backend, server_url=_server_url(), url=url)


def _progress(backend: str):
    started = time.perf_counter()

    def say(message: str) -> None:
        click.echo(f"  [{backend} {time.perf_counter() - started:6.1f} s] {message}")

    return say


@bench_cli.command("run")
@click.option("--cases", default=100_000, show_default=True)
@click.option("--audit-events", type=int, help="Default: 20 for each case.")
@click.option("--requests", default=200, show_default=True, help="Timed requests per page.")
@click.option(
    "--database",
    "backend",
    type=click.Choice(["both", "sqlite", "postgresql"]),
    default="both",
    show_default=True,
    help="both: SQLite, and PostgreSQL when BENCH_DATABASE_URL is set.",
)
@click.option("--sequential-verify/--no-sequential-verify", default=True, show_default=True)
@click.option(
    "--evidence-mb",
    default=1024,
    show_default=True,
    help="Evidence seeded for timing `flask backup` (0: no backup figures).",
)
@click.option(
    "--growth-from",
    default=10_000,
    show_default=True,
    help="First measure the pages on a trust of this many cases, to judge their growth (0: not).",
)
@click.option("--out", type=click.Path(path_type=Path), default=RESULTS_FILE, show_default=True)
def run_command(
    cases: int,
    audit_events: int | None,
    requests: int,
    backend: str,
    sequential_verify: bool,
    evidence_mb: int,
    growth_from: int,
    out: Path,
) -> None:
    """Seed each database afresh, measure it, print the table and write the results."""
    from bench import databases
    from bench.report import table
    from bench.run import BackendResult, peak_memory_mb

    instance = current_app.instance_path
    results: list[BackendResult] = []
    started = time.perf_counter()
    for name in _backends(backend):
        url = databases.database_url(name, instance_path=instance, server_url=_server_url())
        smaller = None
        if 0 < growth_from < cases:
            databases.recreate(name, url, server_url=_server_url())
            try:
                smaller = _measure_pages_only(name, url, growth_from, requests)
            finally:
                databases.drop(name, server_url=_server_url(), url=url)
        databases.recreate(name, url, server_url=_server_url())
        try:
            result = _measure(
                name, url, cases, audit_events, requests, sequential_verify, evidence_mb, smaller
            )
            results.append(result)
        finally:
            databases.drop(name, server_url=_server_url(), url=url)
    summary = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cases": cases,
        "requests_per_page": requests,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "peak_memory_mb": peak_memory_mb(),
        "seconds": round(time.perf_counter() - started, 1),
        "backends": [result.as_dict() for result in results],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    click.echo(table(summary))
    click.echo(f"Written to {out}.")


def _measure_pages_only(backend, url, cases, requests):
    """The pages alone on a smaller trust (the same seed's shape), for their growth."""
    from bench import run
    from bench.databases import bench_app
    from bench.seed import seed

    say = _progress(backend)
    with bench_app(url) as app:
        seeded = seed(cases=cases, audit_events=None, today=today(), progress=say)
        pages = run.measure_pages(app, seeded.users, requests)
        say(f"pages measured at {seeded.cases} cases, for their growth")
    return run.Smaller(cases=seeded.cases, pages=pages)


def _measure(
    backend, url, cases, audit_events, requests, sequential_verify, evidence_mb, smaller=None
):
    from bench import run
    from bench.backup import measure_backup
    from bench.databases import bench_app
    from bench.governance import measure_report
    from bench.seed import seed
    from bench.staff_import import measure_import

    say = _progress(backend)
    with bench_app(url) as app:
        seeded = seed(cases=cases, audit_events=audit_events, today=today(), progress=say)
        result = run.BackendResult(
            backend=backend,
            cases=seeded.cases,
            audit_events=seeded.audit_events,
            seed_seconds={key: round(value, 1) for key, value in seeded.seconds.items()},
            smaller=smaller,
        )
        result.pages = run.measure_pages(app, seeded.users, requests)
        say("pages measured")
        result.plain = run.measure_beside_plain(app, seeded.users, requests)
        say("pages measured beside the plain reference")
        result.bare_sql_p50_ms = run.bare_sql_p50(seeded.user("ceo").email, requests)
        result.list_over_sql = round(
            result.pages["list_first"].p50_ms / max(result.bare_sql_p50_ms, 0.001), 1
        )
        result.appends_per_second = run.appends_per_second(app, writers=result.appenders)
        say(f"{result.appends_per_second} audit appends per second")
        workers = max(os.cpu_count() or 1, 2)
        result.verify_workers = workers
        result.verify_seconds, result.verified_events, intact = run.time_verify(
            app, workers=workers
        )
        result.chain_intact_after_appends = intact
        say(f"verified {result.verified_events} events in {result.verify_seconds} s")
        if sequential_verify:
            result.verify_sequential_seconds, _, _ = run.time_verify(app, workers=1)
            say(f"sequentially in {result.verify_sequential_seconds} s")
        result.staff_import = measure_import(app, seeded.user("trust_admin"))
        say(
            f"staff import of {result.staff_import.rows} rows: preview "
            f"{result.staff_import.preview_seconds} s, apply {result.staff_import.apply_seconds} s"
        )
        result.governance = measure_report(app, seeded.users, requests, today=today())
        report_year = result.governance.pages["report_year"]
        say(
            f"governance report, a year of {result.governance.cases_year} cases and the one "
            f"before: p50 {report_year.p50_ms} ms, p95 {report_year.p95_ms} ms"
        )
        if evidence_mb > 0:
            result.backup = measure_backup(app, url, evidence_mb=evidence_mb, progress=say)
        result.budgets = run.judge(result)
    return result
