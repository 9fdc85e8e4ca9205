"""A real S3 endpoint on loopback (moto's standalone server) for the evidence store's
tests: the app talks S3's own protocol over HTTP to it, through boto3, as it would to a
trust's object store. Nothing of ours is mocked."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

# Credentials the server accepts; boto3 reads them from the environment as it would a
# deployment's own.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "tracker-tests",
    "AWS_SECRET_ACCESS_KEY": "tracker-tests-secret",  # noqa: S105
    "AWS_DEFAULT_REGION": "eu-west-2",
}


@dataclass(frozen=True)
class Bucket:
    """One empty bucket of its own for a test, and the settings that point the app at it."""

    endpoint: str
    name: str
    prefix: str = "evidence/"

    def client(self) -> Any:
        return boto3.client("s3", endpoint_url=self.endpoint)

    def settings(self) -> dict[str, str]:
        return {
            "EVIDENCE_STORE": "s3",
            "EVIDENCE_S3_BUCKET": self.name,
            "EVIDENCE_S3_PREFIX": self.prefix,
            "EVIDENCE_S3_ENDPOINT_URL": self.endpoint,
        }

    def objects(self) -> dict[str, bytes]:
        """Every object under the prefix, by name, as stored."""
        client = self.client()
        listed = client.list_objects_v2(Bucket=self.name, Prefix=self.prefix).get("Contents", [])
        return {
            item["Key"][len(self.prefix) :]: client.get_object(Bucket=self.name, Key=item["Key"])[
                "Body"
            ].read()
            for item in listed
        }


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint, monkeypatch) -> Bucket:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    made = Bucket(s3_endpoint, f"tracker-{secrets.token_hex(6)}")
    made.client().create_bucket(
        Bucket=made.name,
        CreateBucketConfiguration={"LocationConstraint": CREDENTIALS["AWS_DEFAULT_REGION"]},
    )
    return made
