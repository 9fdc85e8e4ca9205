"""Where evidence objects are kept: one interface, two kinds of store.

- FolderStore: a folder on this host (EVIDENCE_STORE=folder, the default; EVIDENCE_PATH).
- S3Store: a bucket of an S3-compatible object store (EVIDENCE_STORE=s3), which every
  host behind the load balancer shares.

A store holds opaque bytes under names the app chose (64 random hex digits): sealing
them (tracker/storage/sealing.py) and checking them against their records
(tracker/cases/evidence.py) happen above it. `add` never replaces an object; only
`put`, for a migration or a restore, does.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, current_app

STORED_NAME = re.compile(r"^[0-9a-f]{64}$")


class ObjectMissing(LookupError):
    """The store has no object of that name."""


class NameTaken(FileExistsError):
    """`add` found an object of that name already there: choose another."""


class StoreError(RuntimeError):
    """The store cannot be reached or refused a request: the message says which."""


def new_name() -> str:
    return secrets.token_hex(32)


class EvidenceStore(Protocol):
    def add(self, name: str, data: bytes) -> None:
        """Store a new object; NameTaken if the name is in use (nothing is replaced)."""

    def put(self, name: str, data: bytes) -> None:
        """Store an object whole, replacing any of that name (a reader sees the old or
        the new, never a mixture)."""

    def get(self, name: str) -> bytes:
        """The object's bytes; ObjectMissing if there is none."""

    def delete(self, name: str) -> None:
        """Remove the object; nothing happens if there is none."""

    def names(self) -> Iterator[str]:
        """The names of the objects held (files of other names are not ours)."""

    def listing(self) -> Iterator[tuple[str, datetime]]:
        """Each object's name and when it was last written (UTC)."""

    def ready(self) -> bool:
        """Whether objects can be read and written now."""


# --- a folder ----------------------------------------------------------------------------


def _sync_directory(directory: Path) -> None:
    """Make a rename in the folder survive a power cut (POSIX only)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class FolderStore:
    """Objects as files in one folder, made readable by the app's user only.

    Each is written in full to a temporary name, flushed to disk and renamed into place,
    so no half-written object ever has a real name.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __str__(self) -> str:
        return f"the evidence folder {self.folder}"

    def _write(self, data: bytes) -> Path:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.folder / f".upload-{secrets.token_hex(16)}.part"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return temporary

    def add(self, name: str, data: bytes) -> None:
        temporary = self._write(data)
        try:
            # Reserve the name by creating it empty (fails if taken), then move the
            # written file onto it: an existing object is never replaced.
            try:
                os.close(os.open(self.folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                raise NameTaken(name) from None
            os.replace(temporary, self.folder / name)
            _sync_directory(self.folder)
        finally:
            temporary.unlink(missing_ok=True)

    def put(self, name: str, data: bytes) -> None:
        temporary = self._write(data)
        try:
            os.replace(temporary, self.folder / name)
            _sync_directory(self.folder)
        finally:
            temporary.unlink(missing_ok=True)

    def get(self, name: str) -> bytes:
        try:
            return (self.folder / name).read_bytes()
        except FileNotFoundError:
            raise ObjectMissing(name) from None

    def delete(self, name: str) -> None:
        (self.folder / name).unlink(missing_ok=True)

    def names(self) -> Iterator[str]:
        for name, _written in self.listing():
            yield name

    def listing(self) -> Iterator[tuple[str, datetime]]:
        if not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            if STORED_NAME.match(path.name):
                with contextlib.suppress(FileNotFoundError):  # deleted as we looked
                    yield path.name, datetime.fromtimestamp(path.stat().st_mtime, UTC)

    def ready(self) -> bool:
        """The folder can be read and written (or, before the first upload, made)."""
        folder = self.folder
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        return folder.is_dir() and os.access(folder, os.R_OK | os.W_OK | os.X_OK)


# --- an S3 bucket ------------------------------------------------------------------------


class S3Store:
    """Objects in a bucket, under a prefix. boto3 finds the credentials itself (the
    AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY environment variables, a profile, or the
    host's role), so no secret of the store passes through our configuration."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        import boto3
        from botocore.config import Config as BotoConfig

        self.bucket, self.prefix = bucket, prefix
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            config=BotoConfig(
                retries={"mode": "standard", "max_attempts": 3},
                connect_timeout=5,
                read_timeout=30,
            ),
        )

    def __str__(self) -> str:
        return f"the bucket s3://{self.bucket}/{self.prefix}"

    def _call(self, operation: str, **arguments: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._client, operation)(Bucket=self.bucket, **arguments)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404") and "Key" in arguments:
                raise ObjectMissing(arguments.get("Key", "")) from None
            if code in ("PreconditionFailed", "412"):
                raise NameTaken(arguments.get("Key", "")) from None
            raise StoreError(f"{self} refused {operation} ({code})") from error
        except BotoCoreError as error:
            raise StoreError(f"{self} cannot be reached ({type(error).__name__})") from error

    def add(self, name: str, data: bytes) -> None:
        # Written only if no object has the name: S3's conditional write.
        self._call("put_object", Key=self.prefix + name, Body=data, IfNoneMatch="*")

    def put(self, name: str, data: bytes) -> None:
        self._call("put_object", Key=self.prefix + name, Body=data)

    def get(self, name: str) -> bytes:
        body = self._call("get_object", Key=self.prefix + name)["Body"]
        with body:
            return bytes(body.read())

    def delete(self, name: str) -> None:
        self._call("delete_object", Key=self.prefix + name)

    def names(self) -> Iterator[str]:
        for name, _written in self.listing():
            yield name

    def listing(self) -> Iterator[tuple[str, datetime]]:
        token: dict[str, str] = {}
        while True:
            page = self._call("list_objects_v2", Prefix=self.prefix, **token)
            for item in page.get("Contents", []):
                name = item["Key"][len(self.prefix) :]
                if STORED_NAME.match(name):
                    yield name, item["LastModified"]
            if not page.get("IsTruncated"):
                return
            token = {"ContinuationToken": page["NextContinuationToken"]}

    def ready(self) -> bool:
        self._call("head_bucket")
        return True


# --- choosing one ------------------------------------------------------------------------


def store_from_config(config: Mapping[str, Any], instance_path: str) -> EvidenceStore:
    """The store EVIDENCE_STORE names (an app's config). A relative EVIDENCE_PATH is taken
    from the instance folder; none means `evidence` there."""
    if config.get("EVIDENCE_STORE", "folder") == "s3":
        return S3Store(
            str(config.get("EVIDENCE_S3_BUCKET") or ""),
            str(config.get("EVIDENCE_S3_PREFIX") or ""),
            endpoint_url=config.get("EVIDENCE_S3_ENDPOINT_URL"),
            region=config.get("EVIDENCE_S3_REGION"),
        )
    return FolderStore(Path(instance_path) / (config.get("EVIDENCE_PATH") or "evidence"))


def store_from_address(address: str, app: Flask) -> EvidenceStore:
    """A store named on the command line: `folder:PATH` or `s3://BUCKET/PREFIX` (on the
    endpoint and region configured for EVIDENCE_STORE=s3)."""
    if address.startswith("folder:") and address[len("folder:") :].strip():
        return FolderStore(Path(app.instance_path) / address[len("folder:") :].strip())
    if address.startswith("s3://"):
        bucket, _, prefix = address[len("s3://") :].partition("/")
        if bucket:
            return S3Store(
                bucket,
                prefix,
                endpoint_url=app.config.get("EVIDENCE_S3_ENDPOINT_URL"),
                region=app.config.get("EVIDENCE_S3_REGION"),
            )
    raise ValueError(f"{address!r} is not a store: give folder:PATH or s3://BUCKET/PREFIX")


def current_store() -> EvidenceStore:
    """The app's evidence store, made once per app (a boto3 client is thread-safe)."""
    store = current_app.extensions.get("evidence_store")
    if store is None:
        store = store_from_config(current_app.config, current_app.instance_path)
        current_app.extensions["evidence_store"] = store
    return store
