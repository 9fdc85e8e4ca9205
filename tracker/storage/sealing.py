"""Evidence encrypted at rest: each stored object sealed with AES-256-GCM.

An object is a header (magic, format version, the id of the key that sealed it, a
random salt and nonce) followed by the ciphertext of the whole file with its tag. The
key for one object is derived with HKDF from EVIDENCE_KEY and the object's salt, so no
two objects share a key and nonce; the header and the object's stored name are the
associated data, so an object renamed, moved onto another item or altered in any byte
does not open.

Keys rotate: a new EVIDENCE_KEY seals from then on, the old ones in EVIDENCE_OLD_KEYS
still open what they sealed (each object names its key by id), and `flask evidence
migrate` re-seals everything under the new key.

Files stored before encryption (no header) are read as they are; the SHA-256 recorded at
upload still proves them unchanged, and `flask evidence migrate` seals them.
"""

from __future__ import annotations

import hmac
import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"TRACKER-EVIDENCE\n"
VERSION = 1
_KEY_ID, _SALT, _NONCE = 8, 16, 12
_HEADER = struct.Struct(f">{len(MAGIC)}sB{_KEY_ID}s{_SALT}s{_NONCE}s")


class Unreadable(Exception):
    """A stored object does not open. `problem` is a short code for the audit trail:
    unknown_key (sealed under a key that is not configured) or changed."""

    def __init__(self, message: str, *, problem: str) -> None:
        super().__init__(message)
        self.problem = problem


def key_id(secret: str) -> bytes:
    """The id an object records of the key that sealed it: it names the key, and says
    nothing of it."""
    return hmac.digest(secret.encode(), b"tracker evidence key id v1", "sha256")[:_KEY_ID]


def _object_key(secret: str, salt: bytes) -> AESGCM:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt, info=b"tracker evidence v1"
    ).derive(secret.encode())
    return AESGCM(derived)


@dataclass(frozen=True)
class Opened:
    content: bytes
    key_id: str | None  # None: stored before encryption, as plain bytes


class KeyRing:
    """EVIDENCE_KEY, which seals, and EVIDENCE_OLD_KEYS, which only open."""

    def __init__(self, current: str, old: list[str] | tuple[str, ...] = ()) -> None:
        self._current = current
        self.current_id = key_id(current).hex()
        self._keys = {key_id(secret): secret for secret in (*old, current)}

    def seal(self, name: str, content: bytes) -> bytes:
        salt, nonce = os.urandom(_SALT), os.urandom(_NONCE)
        header = _HEADER.pack(MAGIC, VERSION, key_id(self._current), salt, nonce)
        return header + _object_key(self._current, salt).encrypt(
            nonce, content, header + name.encode()
        )

    def open(self, name: str, stored: bytes) -> Opened:
        if not stored.startswith(MAGIC):
            return Opened(stored, None)
        if len(stored) < _HEADER.size:
            raise Unreadable(f"the object {name} is cut short", problem="changed")
        header = stored[: _HEADER.size]
        _magic, version, sealed_by, salt, nonce = _HEADER.unpack(header)
        if version != VERSION:
            raise Unreadable(
                f"the object {name} is in format {version}, which this version cannot read",
                problem="changed",
            )
        secret = self._keys.get(sealed_by)
        if secret is None:
            raise Unreadable(
                f"the object {name} was sealed under key {sealed_by.hex()}, which is "
                "neither EVIDENCE_KEY nor one of EVIDENCE_OLD_KEYS",
                problem="unknown_key",
            )
        try:
            content = _object_key(secret, salt).decrypt(
                nonce, stored[_HEADER.size :], header + name.encode()
            )
        except InvalidTag:
            raise Unreadable(
                f"the object {name} does not open: it has been changed", problem="changed"
            ) from None
        return Opened(content, sealed_by.hex())
