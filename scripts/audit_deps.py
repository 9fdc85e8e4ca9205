"""`make audit-deps`: every locked package checked against the PyPA advisory database.

pip-audit reports a package it could not look up (no internet, a proxy in the way, an
index that is not PyPI) as skipped, then says "No known vulnerabilities found" having
checked nothing. This runs it, reads its JSON report and passes only when every package
was checked: exit 0 when none has a known vulnerability, 1 when some have, 2 when the
check could not be made, saying which packages and why.

    python scripts/audit_deps.py -r requirements/runtime.txt -r requirements/dev.txt
"""

from __future__ import annotations

import argparse
import json

# Runs pip-audit, a fixed program from our own environment, with our own arguments.
import subprocess  # nosec B404
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHECKED, VULNERABLE, NOT_CHECKED = 0, 1, 2
# How many skipped packages are named before "and N more".
_NAMED = 5


@dataclass(frozen=True)
class Outcome:
    status: int
    lines: list[str]


def summarise(report: Mapping[str, Any]) -> Outcome:
    """The verdict on one pip-audit JSON report, in words: what was found, then what
    could not be checked (which outweighs it: an unchecked package may be the bad one)."""
    dependencies = report.get("dependencies") or []
    if not dependencies:
        return Outcome(NOT_CHECKED, ["Could not check: pip-audit listed no packages."])
    lines: list[str] = []
    vulnerable = [dep for dep in dependencies if dep.get("vulns")]
    if vulnerable:
        lines.append(
            f"{len(vulnerable)} of {len(dependencies)} packages have known vulnerabilities:"
        )
        for dep in vulnerable:
            for vuln in dep["vulns"]:
                fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
                lines.append(f"  {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    skipped = [dep for dep in dependencies if dep.get("skip_reason")]
    if skipped:
        lines.append(
            f"Could not check {len(skipped)} of {len(dependencies)} packages against the "
            "advisory database, so their vulnerabilities are unknown:"
        )
        lines += [f"  {dep['name']}: {dep['skip_reason']}" for dep in skipped[:_NAMED]]
        if len(skipped) > _NAMED:
            lines.append(f"  and {len(skipped) - _NAMED} more")
        lines.append("Run it where https://pypi.org answers (README, 'make audit-deps').")
        return Outcome(NOT_CHECKED, lines)
    if vulnerable:
        return Outcome(VULNERABLE, lines)
    return Outcome(CHECKED, [f"Checked {len(dependencies)} packages: no known vulnerabilities."])


def run(lock_files: Sequence[str], pip_audit: str) -> Outcome:
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "report.json"
        command = [pip_audit, "--disable-pip", "--require-hashes", "--progress-spinner", "off"]
        command += ["--format", "json", "--output", str(output)]
        for lock_file in lock_files:
            command += ["--requirement", lock_file]
        # No shell; the program and its arguments are ours.
        finished = subprocess.run(  # noqa: S603 # nosec B603
            command, capture_output=True, text=True, check=False
        )
        if not output.exists() or not output.read_text(encoding="utf-8").strip():
            said = finished.stderr.strip().splitlines()
            why = said[-1] if said else f"pip-audit exited with {finished.returncode}"
            return Outcome(NOT_CHECKED, [f"Could not check any package: {why}"])
        report = json.loads(output.read_text(encoding="utf-8"))
    outcome = summarise(report)
    if outcome.status == CHECKED and finished.returncode != 0:
        # A report that clears everything, from a run that failed: trust neither.
        return Outcome(
            NOT_CHECKED, [f"Could not check: pip-audit exited with {finished.returncode}"]
        )
    return outcome


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-r", "--requirement", action="append", required=True, metavar="LOCK")
    lock_files = parser.parse_args(argv).requirement
    pip_audit = str(Path(sys.executable).parent / "pip-audit")
    outcome = run(lock_files, pip_audit)
    stream = sys.stdout if outcome.status == CHECKED else sys.stderr
    print("\n".join(outcome.lines), file=stream)
    return outcome.status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
