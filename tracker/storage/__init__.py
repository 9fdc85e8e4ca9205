"""Evidence storage: the stores (a folder, an S3 bucket) behind one interface, the
sealing of each object at rest, and `flask evidence migrate` between them."""

from __future__ import annotations

from flask import current_app

from tracker.storage.sealing import KeyRing


class EvidenceKeyMissing(RuntimeError):
    """EVIDENCE_KEY is not set: no evidence can be stored or read."""


def key_ring() -> KeyRing:
    """EVIDENCE_KEY seals; it and EVIDENCE_OLD_KEYS open. EvidenceKeyMissing without it
    (the app starts without it; storing or reading evidence does not)."""
    key = current_app.config.get("EVIDENCE_KEY")
    if not key:
        raise EvidenceKeyMissing(
            "EVIDENCE_KEY is not set, so evidence can be neither stored nor read: set it "
            "(a random value of at least 24 characters, kept apart from the database and "
            "its backups) in the app's environment."
        )
    return KeyRing(key, current_app.config.get("EVIDENCE_OLD_KEYS") or [])
