"""The benchmark's results as a plain-text table (Markdown, so docs can quote it)."""

from __future__ import annotations

from typing import Any

_PAGES = {
    "list_first": "case list, first page",
    "list_filtered": "case list, filtered",
    "list_deep": "case list, deep page",
    "case_page": "case page (with its audit event)",
    "search": "case list, search by name",
    "home_dsl": "home page, safeguarding lead",
    "home_ceo": "home page, chief executive",
}


def table(summary: dict[str, Any]) -> str:
    backends = summary["backends"]
    if not backends:
        return "No results."
    names = [backend["backend"] for backend in backends]
    lines = [
        f"{summary['cases']} cases, {summary['requests_per_page']} requests per page, "
        f"{summary['cpus']} CPUs, Python {summary['python']}, peak memory "
        f"{summary['peak_memory_mb']} MB, {summary['seconds']} s in all.",
        "",
        "| page | " + " | ".join(f"{n} p50 ms | {n} p95 ms | {n} queries" for n in names) + " |",
        "|---|" + "---:|---:|---:|" * len(names),
    ]
    for key, label in _PAGES.items():
        cells = []
        for backend in backends:
            page = backend["pages"][key]
            queries = f"{page['queries_median']:g}"
            if page["queries_max"] != page["queries_median"]:
                queries += f" (max {page['queries_max']})"
            cells += [f"{page['p50_ms']:.2f}", f"{page['p95_ms']:.2f}", queries]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "| figure | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    figures = [
        ("audit events at the start", lambda b: f"{b['audit_events']:,}"),
        ("seeding (s)", lambda b: f"{b['seed_seconds'].get('total', 0):.0f}"),
        ("list page's bare SQL p50 (ms)", lambda b: f"{b['bare_sql_p50_ms']:.3f}"),
        ("list page p50 / bare SQL p50", lambda b: f"{b['list_over_sql']:g}"),
        ("audit appends per second (8 writers)", lambda b: f"{b['appends_per_second']:,.0f}"),
        (
            "verify, parallel (s)",
            lambda b: (
                f"{b['verify_seconds']:.1f} ({b['verified_events']:,} events, "
                f"{b['verify_workers']} processes)"
            ),
        ),
        (
            "verify, one process (s)",
            lambda b: (
                "-"
                if b["verify_sequential_seconds"] is None
                else f"{b['verify_sequential_seconds']:.1f}"
            ),
        ),
    ]
    if all(backend.get("backup") for backend in backends):
        figures += [
            (
                "evidence for the backup",
                lambda b: (
                    f"{b['backup']['evidence_files']} files, {b['backup']['evidence_mb']:,.0f} MB"
                ),
            ),
            ("backup file (MB)", lambda b: f"{b['backup']['archive_mb']:,.0f}"),
            (
                "reference: the database's own copy + one read of the files (s)",
                lambda b: f"{b['backup']['reference_seconds']:.1f}",
            ),
            (
                "backup create (s, peak MB)",
                lambda b: (
                    f"{b['backup']['create_seconds']:.1f} ({b['backup']['create_peak_mb']:.0f})"
                ),
            ),
            (
                "backup verify (s, peak MB)",
                lambda b: (
                    f"{b['backup']['verify_seconds']:.1f} ({b['backup']['verify_peak_mb']:.0f})"
                ),
            ),
        ]
    if all(backend.get("staff_import") for backend in backends):
        figures += [
            (
                "reference: csv module + one bare insert of the import's rows (s)",
                lambda b: f"{b['staff_import']['reference_seconds']:.2f}",
            ),
            (
                "staff import of 5,000 rows: preview, apply (s)",
                lambda b: (
                    f"{b['staff_import']['preview_seconds']:.2f}, "
                    f"{b['staff_import']['apply_seconds']:.2f}"
                ),
            ),
        ]
    for label, cell in figures:
        lines.append(f"| {label} | " + " | ".join(cell(b) for b in backends) + " |")
    if all(backend.get("smaller") for backend in backends):
        lines += _growth(backends, names)
    if all(backend.get("plain") for backend in backends):
        lines += _beside_plain(backends, names)
    if all(backend.get("governance") for backend in backends):
        lines += _governance(backends, names)
    for backend in backends:
        lines += ["", f"Budgets on {backend['backend']}:", ""]
        lines += ["| budget | measured | limit | |", "|---|---:|---|---|"]
        for row in backend["budgets"]:
            verdict = "pass" if row["pass"] else "**miss**"
            lines.append(f"| {row['budget']} | {row['value']:g} | {row['limit']} | {verdict} |")
    return "\n".join(lines)


def _growth(backends: list[dict[str, Any]], names: list[str]) -> list[str]:
    """Each page's p95 on the smaller trust and on the full one."""
    sizes = " and ".join(
        f"{b['smaller']['cases']:,} -> {b['cases']:,} cases ({b['backend']})" for b in backends
    )
    lines = [
        "",
        f"Growth with size, p95 ms, {sizes}:",
        "",
        "| page | " + " | ".join(f"{n} smaller | {n} full | {n} growth" for n in names) + " |",
        "|---|" + "---:|---:|---:|" * len(names),
    ]
    for key, label in _PAGES.items():
        cells = []
        for backend in backends:
            before = backend["smaller"]["pages"][key]["p95_ms"]
            after = backend["pages"][key]["p95_ms"]
            cells += [f"{before:.2f}", f"{after:.2f}", f"{after / max(before, 0.001):.2f}"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def _beside_plain(backends: list[dict[str, Any]], names: list[str]) -> list[str]:
    """The product's pages beside bench/plain.py's, timed in turn in the same process."""
    lines = [
        "",
        "| beside the plain reference (p50 ms, statements) | "
        + " | ".join(f"{n} product | {n} plain | {n} product / plain" for n in names)
        + " |",
        "|---|" + "---:|---:|---:|" * len(names),
    ]
    for key, label in (("list_first", "case list, first page"), ("case_page", "case page")):
        cells = []
        for backend in backends:
            pair = backend["plain"][key]
            product, plain = pair["product"], pair["plain"]
            ratio = product["p50_ms"] / max(plain["p50_ms"], 0.001)
            cells += [
                f"{product['p50_ms']:.2f} ({product['queries_max']})",
                f"{plain['p50_ms']:.2f} ({plain['queries_max']})",
                f"{ratio:.2f}",
            ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def _governance(backends: list[dict[str, Any]], names: list[str]) -> list[str]:
    """The governance report's pages, and the reference from the same run."""
    from bench.governance import PAGES

    lines = [
        "",
        "| governance report | " + " | ".join(f"{n} p50 ms | {n} p95 ms" for n in names) + " |",
        "|---|" + "---:|---:|" * len(names),
    ]
    for key, label in {**PAGES, "report_pdf": "PDF of the last academic year"}.items():
        cells = []
        for backend in backends:
            report = backend["governance"]
            page = report["pdf"] if key == "report_pdf" else report["pages"][key]
            cells += [f"{page['p50_ms']:.1f}", f"{page['p95_ms']:.1f}"] if page else ["-", "-"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    cells = []
    for backend in backends:
        report = backend["governance"]
        cells += [f"{report['reference_p50_ms']:.1f}", f"{report['reference_p95_ms']:.1f}"]
    lines.append("| reference: the year's three statements alone | " + " | ".join(cells) + " |")
    counted = ", ".join(
        f"{b['backend']}: {b['governance']['cases_year']:,} (year and year before), "
        f"{b['governance']['cases_history']:,} (history)"
        for b in backends
    )
    lines += ["", f"Cases the reports count: {counted}."]
    return lines
