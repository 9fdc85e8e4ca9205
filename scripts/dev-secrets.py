"""Write random development keys to instance/secrets.env, adding any that are missing.

Run by `make` before anything needs the keys. Keys already in the file are kept: a new
AUDIT_KEY would make the existing audit trail unverifiable, a new TOTP_KEY would lock
everyone out of the second factor they have set up, and a new EVIDENCE_KEY would leave
every evidence file unreadable.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

KEYS = ("SECRET_KEY", "AUDIT_KEY", "TOTP_KEY", "EVIDENCE_KEY")


def main(path: str) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    present = set()
    if target.exists():
        for line in target.read_text().splitlines():
            name, _, value = line.partition("=")
            if value:
                present.add(name.strip())
    missing = [key for key in KEYS if key not in present]
    if not missing:
        return
    os.umask(0o077)
    with target.open("a") as out:
        for key in missing:
            out.write(f"{key}={secrets.token_hex(32)}\n")
    print(f"Wrote development {', '.join(missing)} to {target}")


if __name__ == "__main__":
    main(sys.argv[1])
