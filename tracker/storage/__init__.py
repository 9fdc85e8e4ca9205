"""Evidence storage: the stores (a folder, an S3 bucket) behind one interface, the
sealing of each object at rest, and `flask evidence migrate` between them."""

from __future__ import annotations

from flask import current_app

from tracker.storage.sealing import KeyRing


def key_ring() -> KeyRing:
    """EVIDENCE_KEY seals; it and EVIDENCE_OLD_KEYS open."""
    return KeyRing(
        current_app.config["EVIDENCE_KEY"], current_app.config.get("EVIDENCE_OLD_KEYS") or []
    )
