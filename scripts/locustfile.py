"""The load test's workload (`make loadtest`): staff signing in and working cases.

Each simulated user signs in once through the real forms (password, then a TOTP code
from the bench account's key in instance/bench-sign-ins.json, written by `flask bench
seed`), then lists, filters, opens and searches cases and adds chronology entries, with
a short pause between requests. At the end the figures for the workload (sign-in left
out: it is one request per user and deliberately slow, Argon2id) are printed, compared
with the budget (p95 under 100 ms, no errors), and written to bench/results/loadtest.json.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from pathlib import Path

import pyotp
from locust import HttpUser, between, events, task

ROOT = Path(__file__).resolve().parent.parent
SIGN_INS = ROOT / "instance" / "bench-sign-ins.json"
# The plain reference's run (`PlainReader`, bench/plain.py) writes its own figures.
RESULTS = ROOT / "bench" / "results" / os.environ.get("LOADTEST_RESULTS", "loadtest.json")
P95_BUDGET_MS = 100

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_CASE_LINK = re.compile(r'href="/cases/(\d+)"')
_SURNAMES = ["smith", "patel", "wood", "khan", "lee", "ward", "jones", "hall"]
# School staff work their own school's cases; a few trust-wide readers too.
_ROLES = ("dsl", "deputy_dsl", "headteacher", "ceo")
_accounts = itertools.cycle(
    [user for user in json.loads(SIGN_INS.read_text())["users"] if user["role"] in _ROLES]
)


def _csrf(html: str) -> str:
    match = _CSRF.search(html)
    return match.group(1) if match else ""


class CaseWorker(HttpUser):
    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        account = next(_accounts)
        page = self.client.get("/sign-in", name="sign-in").text
        self.client.post(
            "/sign-in",
            data={
                "csrf_token": _csrf(page),
                "email": account["email"],
                "password": account["password"],
            },
            name="sign-in",
        )
        page = self.client.get("/sign-in/code", name="sign-in").text
        totp = pyotp.TOTP(account["secret"])
        self.client.post(
            "/sign-in/code", data={"csrf_token": _csrf(page), "code": totp.now()}, name="sign-in"
        )
        listing = self.client.get("/cases/?status=investigation", name="sign-in").text
        # A small trust may give this account no case under investigation: it then only
        # lists, filters and searches (asking for case 0 would count as an error).
        self.open_cases = [int(i) for i in _CASE_LINK.findall(listing)]
        self.seen = list(self.open_cases)

    @task(4)
    def list_cases(self) -> None:
        page = self.client.get("/cases/", name="list").text
        self.seen = [int(i) for i in _CASE_LINK.findall(page)] or self.seen

    @task(2)
    def filter_cases(self) -> None:
        status = random.choice(["investigation", "triage", "closed", "awaiting_decision"])  # noqa: S311
        self.client.get(f"/cases/?status={status}", name="list, filtered")

    @task(6)
    def view_case(self) -> None:
        if not self.seen:
            return
        case_id = random.choice(self.seen)  # noqa: S311
        self.client.get(f"/cases/{case_id}", name="case page")

    @task(2)
    def search(self) -> None:
        term = random.choice(_SURNAMES)  # noqa: S311
        self.client.get(f"/cases/?q={term}", name="search")

    @task(1)
    def add_chronology_entry(self) -> None:
        if not self.open_cases:
            return
        case_id = random.choice(self.open_cases)  # noqa: S311
        url = f"/cases/{case_id}/chronology/new"
        page = self.client.get(url, name="chronology form").text
        today = time.localtime()
        with self.client.post(
            url,
            data={
                "csrf_token": _csrf(page),
                "kind": "note",
                "occurred_on": [str(today.tm_mday), str(today.tm_mon), str(today.tm_year)],
                "summary": "Load test note.",
            },
            name="add chronology entry",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"expected a redirect, got {response.status_code}")


class PlainReader(HttpUser):
    """The same mix where the plain reference has the page (the list and case pages),
    with the same pauses: run alone against bench/plain.py, for throughput side by side."""

    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        self.seen = [int(i) for i in _CASE_LINK.findall(self.client.get("/cases/").text)]

    @task(6)
    def list_cases(self) -> None:  # the product's list and filtered list together
        page = self.client.get("/cases/", name="list").text
        self.seen = [int(i) for i in _CASE_LINK.findall(page)] or self.seen

    @task(6)
    def view_case(self) -> None:
        if self.seen:
            case_id = random.choice(self.seen)  # noqa: S311
            self.client.get(f"/cases/{case_id}", name="case page")


@events.quitting.add_listener
def report(environment, **_kwargs) -> None:
    """The workload's figures (sign-in left out), against the budget."""
    stats = environment.stats
    entries = [entry for (name, _method), entry in stats.entries.items() if name != "sign-in"]
    requests = sum(entry.num_requests for entry in entries)
    failures = sum(entry.num_failures for entry in entries)
    merged = None
    for entry in entries:
        if merged is None:
            merged = type(entry)(stats, "workload", "")
        merged.extend(entry)
    seconds = max(stats.total.last_request_timestamp - stats.total.start_time, 1e-9)
    figures = {
        "requests": requests,
        "errors": failures
        + sum(e.num_failures for (n, _m), e in stats.entries.items() if n == "sign-in"),
        "requests_per_second": round(requests / seconds, 1),
        "p50_ms": merged.get_response_time_percentile(0.5) if merged else None,
        "p95_ms": merged.get_response_time_percentile(0.95) if merged else None,
        "p99_ms": merged.get_response_time_percentile(0.99) if merged else None,
        "by_request": {
            name: {
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "p50_ms": entry.get_response_time_percentile(0.5),
                "p95_ms": entry.get_response_time_percentile(0.95),
            }
            for (name, _method), entry in stats.entries.items()
        },
    }
    figures["budget_p95_under_100_ms_and_no_errors"] = bool(
        figures["p95_ms"] is not None
        and figures["p95_ms"] < P95_BUDGET_MS
        and figures["errors"] == 0
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    # The load test's report, on the terminal that ran it.
    print(
        f"\nLoad test: {figures['requests']} requests, "
        f"{figures['requests_per_second']} per second, "
        f"p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, p99 {figures['p99_ms']} ms, "
        f"{figures['errors']} errors: budget "
        f"{'met' if figures['budget_p95_under_100_ms_and_no_errors'] else 'MISSED'}. "
        f"Written to {RESULTS.relative_to(ROOT)}."
    )
