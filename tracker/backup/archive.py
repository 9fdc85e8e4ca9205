"""The backup file: a tar stream, encrypted in segments with AES-256-GCM as it is written.

Layout: a header (magic, format version, a random salt and nonce prefix, and a value
that proves the key), then segments of at most SEGMENT bytes of plaintext, each sealed
with its own nonce (the prefix and the segment's number) and with its number and a
"last" flag as associated data. So a changed byte fails its segment, segments cannot be
reordered or dropped unseen, and an archive cut short lacks its last segment and is
refused. The key is derived from BACKUP_KEY with HKDF and the salt: the same BACKUP_KEY
never encrypts two archives under one key and nonce.

Reading and writing are streams: memory stays at a segment or two, whatever the size.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import struct
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"TRACKER-BACKUP\n"
VERSION = 1
SEGMENT = 1024 * 1024
_SALT, _PREFIX, _CHECK = 16, 8, 32
_HEADER = struct.Struct(f">{len(MAGIC)}sB{_SALT}s{_PREFIX}s{_CHECK}s")
_LENGTH = struct.Struct(">I")
_TAG = 16


class ArchiveError(Exception):
    """The archive cannot be read: the message says why, in words for the operator."""


def _keys(secret: str, salt: bytes) -> tuple[bytes, bytes]:
    material = HKDF(
        algorithm=hashes.SHA256(), length=64, salt=salt, info=b"tracker backup v1"
    ).derive(secret.encode())
    return material[:32], material[32:]


def _associated(number: int, last: bool) -> bytes:
    return struct.pack(">QB", number, 1 if last else 0)


def _nonce(prefix: bytes, number: int) -> bytes:
    return prefix + struct.pack(">I", number)


class EncryptingWriter(io.RawIOBase):
    """A write-only file: what is written goes to `target` encrypted, segment by segment.

    `close()` seals the last segment; until then the archive is incomplete (and a reader
    says so).
    """

    def __init__(self, target: IO[bytes], secret: str) -> None:
        super().__init__()
        salt, self._prefix = os.urandom(_SALT), os.urandom(_PREFIX)
        key, check_key = _keys(secret, salt)
        self._aead = AESGCM(key)
        check = hmac.digest(check_key, MAGIC + salt + self._prefix, "sha256")
        self._target = target
        self._target.write(_HEADER.pack(MAGIC, VERSION, salt, self._prefix, check))
        self._buffer = bytearray()
        self._number = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._buffer += data
        while len(self._buffer) > SEGMENT:
            self._seal(bytes(self._buffer[:SEGMENT]), last=False)
            del self._buffer[:SEGMENT]
        return len(data)

    def _seal(self, plaintext: bytes, *, last: bool) -> None:
        if self._number >= 2**32:
            raise ArchiveError("the archive is too large for one backup file")
        sealed = self._aead.encrypt(
            _nonce(self._prefix, self._number), plaintext, _associated(self._number, last)
        )
        self._target.write(_LENGTH.pack(len(sealed)))
        self._target.write(sealed)
        self._number += 1

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._target.flush()
        super().close()


class DecryptingReader(io.RawIOBase):
    """A read-only file of the plaintext of an archive, checked segment by segment.

    Raises ArchiveError naming the problem: not a backup, the wrong key, a damaged
    segment, or an archive that ends early or goes on after its last segment.
    """

    def __init__(self, source: IO[bytes], secret: str) -> None:
        super().__init__()
        header = source.read(_HEADER.size)
        if len(header) < _HEADER.size or not header.startswith(MAGIC):
            raise ArchiveError("This is not a backup made by `flask backup create`.")
        _magic, version, salt, self._prefix, check = _HEADER.unpack(header)
        if version != VERSION:
            raise ArchiveError(
                f"This backup is in format {version}, which this version cannot read."
            )
        key, check_key = _keys(secret, salt)
        if not hmac.compare_digest(
            check, hmac.digest(check_key, MAGIC + salt + self._prefix, "sha256")
        ):
            raise ArchiveError(
                "This backup was made with another BACKUP_KEY: it cannot be opened with this one."
            )
        self._aead = AESGCM(key)
        self._source = source
        self._number = 0
        self._offset = _HEADER.size
        self._plain = memoryview(b"")
        self._done = False

    def readable(self) -> bool:
        return True

    def _next_segment(self) -> None:
        length_bytes = self._source.read(_LENGTH.size)
        if len(length_bytes) < _LENGTH.size:
            raise ArchiveError(
                f"The backup ends early (after {self._offset:,} bytes): it was cut short "
                "in copying or writing, and cannot be used."
            )
        (length,) = _LENGTH.unpack(length_bytes)
        if not _TAG <= length <= SEGMENT + _TAG:
            raise ArchiveError(f"The backup is damaged at byte {self._offset:,}.")
        sealed = self._source.read(length)
        if len(sealed) < length:
            raise ArchiveError(
                f"The backup ends early (after {self._offset:,} bytes): it was cut short "
                "in copying or writing, and cannot be used."
            )
        nonce = _nonce(self._prefix, self._number)
        for last in (False, True):
            try:
                plain = self._aead.decrypt(nonce, sealed, _associated(self._number, last))
            except InvalidTag:
                continue
            self._plain, self._done = memoryview(plain), last
            break
        else:
            raise ArchiveError(
                f"The backup is damaged at byte {self._offset:,} (segment {self._number}): "
                "its contents there do not match what was written."
            )
        self._offset += _LENGTH.size + length
        self._number += 1
        if self._done and self._source.read(1):
            raise ArchiveError("The backup has data after its end: it is not as written.")

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._plain and not self._done:
            self._next_segment()
        count = min(len(buffer), len(self._plain))
        buffer[:count] = self._plain[:count]
        self._plain = self._plain[count:]  # a view: nothing is copied
        return count


def sha256_of(stream: IO[bytes], *, into: IO[bytes] | None = None, chunk: int = SEGMENT) -> str:
    """The SHA-256 of what is left in `stream`, copying it to `into` on the way."""
    digest = hashlib.sha256()
    while block := stream.read(chunk):
        digest.update(block)
        if into is not None:
            into.write(block)
    return digest.hexdigest()
