"""Evidence storage (tracker/storage/): a folder or an S3 bucket behind one interface,
every file sealed with AES-256-GCM under EVIDENCE_KEY, and `flask evidence migrate`.

The bucket is a real S3 endpoint on loopback (moto's standalone server, tests/objectstore.py).
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import environment_for, sign_in
from tests.processes import HttpClient, gunicorn
from tests.test_evidence import PNG, _upload
from tracker.audit.actions import AuditAction
from tracker.audit.models import AuditEvent
from tracker.auth.roles import Role
from tracker.cases.evidence import Provenance, add_evidence, remove_evidence
from tracker.cases.models import Evidence
from tracker.db import utcnow
from tracker.extensions import db as _db
from tracker.storage import key_ring
from tracker.storage.sealing import MAGIC, KeyRing, Unreadable, key_id
from tracker.storage.services import sweep_orphans
from tracker.storage.stores import (
    FolderStore,
    NameTaken,
    ObjectMissing,
    S3Store,
    StoreError,
    current_store,
    store_from_address,
)

# Text that would show if a file were stored as it was uploaded.
MARKER = b"plaintext-marker-a child's message"
UPLOAD = PNG + MARKER
NAME = "ab" * 32
PLAIN_HTTP = {"SESSION_COOKIE_SECURE": "false"}  # the hosts are served without TLS here
OTHER = "cd" * 32


def _add(case, by, content: bytes = UPLOAD) -> Evidence:
    return add_evidence(
        case, content=BytesIO(content), filename="a.png", provenance=Provenance(), by=by
    )


# --- sealing -------------------------------------------------------------------------------


def test_a_sealed_object_opens_to_what_was_sealed_and_shows_none_of_it():
    ring = KeyRing("the-current-evidence-key-123456")
    sealed = ring.seal(NAME, UPLOAD)
    assert sealed.startswith(MAGIC) and MARKER not in sealed and PNG[:8] not in sealed
    opened = ring.open(NAME, sealed)
    assert opened.content == UPLOAD and opened.key_id == ring.current_id
    assert ring.seal(NAME, UPLOAD) != sealed  # a new salt and nonce every time


def test_a_changed_moved_or_cut_object_does_not_open():
    ring = KeyRing("the-current-evidence-key-123456")
    sealed = ring.seal(NAME, UPLOAD)
    flipped = bytearray(sealed)
    flipped[-5] ^= 1
    for name, stored in [(NAME, bytes(flipped)), (OTHER, sealed), (NAME, sealed[:40])]:
        with pytest.raises(Unreadable) as refused:
            ring.open(name, stored)
        assert refused.value.problem == "changed"


def test_old_keys_open_what_they_sealed_and_an_unknown_key_is_named():
    old = KeyRing("the-old-evidence-key-abcdefghij")
    sealed = old.seal(NAME, UPLOAD)
    rotated = KeyRing("the-new-evidence-key-0123456789", ["the-old-evidence-key-abcdefghij"])
    assert rotated.open(NAME, sealed).content == UPLOAD
    assert rotated.open(NAME, sealed).key_id == key_id("the-old-evidence-key-abcdefghij").hex()
    assert rotated.open(NAME, rotated.seal(NAME, UPLOAD)).key_id == rotated.current_id
    with pytest.raises(Unreadable) as refused:
        KeyRing("the-new-evidence-key-0123456789").open(NAME, sealed)
    assert refused.value.problem == "unknown_key"
    assert key_id("the-old-evidence-key-abcdefghij").hex() in str(refused.value)


def test_a_file_stored_before_encryption_reads_as_it_is():
    opened = KeyRing("the-current-evidence-key-123456").open(NAME, UPLOAD)
    assert (opened.content, opened.key_id) == (UPLOAD, None)


# --- one interface, two stores ---------------------------------------------------------------


@pytest.fixture(params=["folder", "s3"])
def store(request, tmp_path):
    if request.param == "folder":
        return FolderStore(tmp_path / "store")
    bucket = request.getfixturevalue("bucket")
    return S3Store(bucket.name, bucket.prefix, endpoint_url=bucket.endpoint)


def test_a_store_adds_never_over_an_object_and_puts_whole(store):
    assert store.ready() and list(store.names()) == []
    store.add(NAME, b"first")
    with pytest.raises(NameTaken):
        store.add(NAME, b"second")
    assert store.get(NAME) == b"first"
    store.put(NAME, b"replaced")
    store.add(OTHER, b"other")
    assert store.get(NAME) == b"replaced" and sorted(store.names()) == [NAME, OTHER]
    store.delete(NAME)
    store.delete(NAME)  # gone already: nothing happens
    with pytest.raises(ObjectMissing):
        store.get(NAME)
    assert list(store.names()) == [OTHER]


def test_a_bucket_that_is_not_there_is_not_ready(s3_endpoint, bucket):
    missing = S3Store("tracker-no-such-bucket", "", endpoint_url=s3_endpoint)
    with pytest.raises(StoreError):
        missing.ready()
    with pytest.raises(StoreError):
        missing.add(NAME, b"x")


def test_a_store_is_named_on_the_command_line_as_folder_or_bucket(app, bucket):
    assert isinstance(store_from_address("folder:old-evidence", app), FolderStore)
    assert (
        str(store_from_address("folder:/srv/evidence", app)) == "the evidence folder /srv/evidence"
    )
    s3 = store_from_address(f"s3://{bucket.name}/evidence/", app)
    assert isinstance(s3, S3Store) and (s3.bucket, s3.prefix) == (bucket.name, "evidence/")
    for wrong in ["", "folder:", "s3://", "/srv/evidence", "ftp://host/x"]:
        with pytest.raises(ValueError, match="folder:PATH or s3://BUCKET/PREFIX"):
            store_from_address(wrong, app)


# --- the app on a bucket -----------------------------------------------------------------------


@pytest.fixture
def s3_app(app, make_app, bucket):
    """An app whose evidence store is the bucket; its context is pushed over the default
    app's (which `make` brings), so services called here use the bucket."""
    s3 = make_app(**bucket.settings())
    with s3.app_context():
        yield s3


def test_an_upload_goes_to_the_bucket_sealed_and_comes_back_checked(s3_app, make, bucket):
    case = make.case()
    dsl = make.user(Role.DSL, case.school)
    client = s3_app.test_client()
    sign_in(client, dsl.email)
    assert _upload(client, case, content=UPLOAD).status_code == 302
    evidence = _db.session.scalars(select(Evidence)).one()
    _db.session.commit()  # end the read: SQLite would hold its lock
    stored = bucket.objects()
    assert list(stored) == [evidence.stored_name]
    assert MARKER not in stored[evidence.stored_name]
    assert not (Path(s3_app.instance_path) / "evidence").exists()
    with client.get(f"/cases/{case.id}/evidence/{evidence.id}") as response:
        assert response.status_code == 200 and response.data == UPLOAD

    # Changed in the bucket (sealed again under the same key, so it opens): not served.
    bucket.client().put_object(
        Bucket=bucket.name,
        Key=bucket.prefix + evidence.stored_name,
        Body=key_ring().seal(evidence.stored_name, PNG + b"altered"),
    )
    with client.get(f"/cases/{case.id}/evidence/{evidence.id}") as response:
        assert response.status_code == 500 and b"altered" not in response.data
    _db.session.rollback()
    last = _db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert (last.action, last.outcome) == (AuditAction.EVIDENCE_DOWNLOADED.value, "error")
    assert last.details["problem"] == "changed"


def test_a_removed_item_leaves_the_bucket_once_committed(s3_app, make, bucket):
    case = make.case()
    dsl = make.user(Role.DSL, case.school)
    evidence = _add(case, dsl)
    _db.session.rollback()
    assert bucket.objects() == {}  # never committed: its object went with the rollback
    evidence = _add(case, dsl)
    _db.session.commit()
    remove_evidence(evidence, reason="Duplicate of another item", by=dsl)
    assert list(bucket.objects()) == [evidence.stored_name]
    _db.session.commit()
    assert bucket.objects() == {}


def test_readyz_says_not_ok_when_the_bucket_cannot_be_reached(make_app, bucket):
    app = make_app(**{**bucket.settings(), "EVIDENCE_S3_BUCKET": "tracker-no-such-bucket"})
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["checks"]["evidence_store"] == "not ok"
    assert make_app(**bucket.settings()).test_client().get("/readyz").status_code == 200


def test_two_hosts_with_their_own_folders_serve_the_same_evidence(s3_app, make, bucket, tmp_path):
    """Two gunicorn processes, each with an instance folder of its own, one bucket: what
    one host stores, the other serves."""
    case = make.case()
    dsl = make.user(Role.DSL, case.school)
    _db.session.commit()
    hosts = [tmp_path / "host-a", tmp_path / "host-b"]
    with (
        gunicorn(environment_for(s3_app, INSTANCE_PATH=str(hosts[0]), **PLAIN_HTTP)) as first,
        gunicorn(environment_for(s3_app, INSTANCE_PATH=str(hosts[1]), **PLAIN_HTTP)) as second,
    ):
        uploader = HttpClient(first.url)
        assert sign_in(uploader, dsl.email).status_code == 302
        assert _upload(uploader, case, content=UPLOAD).status_code == 302
        _db.session.rollback()
        evidence = _db.session.scalars(select(Evidence)).one()
        _db.session.commit()
        reader = HttpClient(second.url)
        assert sign_in(reader, dsl.email).status_code == 302
        download = reader.get(f"/cases/{case.id}/evidence/{evidence.id}")
        assert download.status_code == 200 and download.data == UPLOAD
        assert hashlib.sha256(download.data).hexdigest() == evidence.sha256
    assert [MARKER in stored for stored in bucket.objects().values()] == [False]
    for host in hosts:
        assert not (host / "evidence").exists()


# --- flask evidence migrate ------------------------------------------------------------------


def _plain_files(folder: Path, make, count: int = 3) -> list[Evidence]:
    """Items whose files were stored, unencrypted, before this version."""
    case = make.case()
    dsl = make.user(Role.DSL, case.school)
    items = []
    for number in range(count):
        evidence = _add(case, dsl, UPLOAD + bytes([number]))
        items.append(evidence)
    _db.session.commit()
    folder.mkdir(parents=True, exist_ok=True)
    store = current_store()
    for number, evidence in enumerate(items):
        (folder / evidence.stored_name).write_bytes(UPLOAD + bytes([number]))
        store.delete(evidence.stored_name)
    return items


def _migrate(app, *arguments: str):
    return app.test_cli_runner().invoke(args=["evidence", "migrate", *arguments])


def _events(action: AuditAction) -> list[AuditEvent]:
    _db.session.rollback()
    return list(_db.session.scalars(select(AuditEvent).where(AuditEvent.action == action.value)))


def test_migrate_moves_plain_files_from_a_folder_into_the_bucket_sealed(
    s3_app, make, bucket, tmp_path
):
    old = tmp_path / "old-evidence"
    items = _plain_files(old, make)
    done = _migrate(s3_app, "--from", f"folder:{old}", "--delete-source")
    assert done.exit_code == 0, done.output
    assert "3 files written and checked, 0 already in place" in done.output
    stored = bucket.objects()
    assert sorted(stored) == sorted(e.stored_name for e in items)
    assert all(MARKER not in sealed for sealed in stored.values())
    assert list(old.iterdir()) == []
    event = _events(AuditAction.SYSTEM_EVIDENCE_MIGRATED)[-1]
    assert event.details == {
        "moved": 3,
        "already": 0,
        "deleted_from_source": 3,
        "failed": 0,
    }
    client = s3_app.test_client()
    sign_in(client, make.user(Role.DPO).email)
    with client.get(f"/cases/{items[1].case_id}/evidence/{items[1].id}") as response:
        assert response.data == UPLOAD + bytes([1])

    again = _migrate(s3_app, "--from", f"folder:{old}")
    assert (
        again.exit_code == 0 and "0 files written and checked, 3 already in place" in again.output
    )


def test_migrate_resumes_where_it_stopped_and_skips_removed_items(s3_app, make, bucket, tmp_path):
    old = tmp_path / "old-evidence"
    items = _plain_files(old, make, count=4)
    remove_evidence(items[3], reason="Wrong case", by=make.user(Role.DSL, items[3].case.school))
    _db.session.commit()
    # A run that stopped after the first file: it is in the bucket, and gone from the source.
    first = items[0].stored_name
    S3Store(bucket.name, bucket.prefix, endpoint_url=bucket.endpoint).put(
        first, key_ring().seal(first, UPLOAD + bytes([0]))
    )
    (old / first).unlink()
    done = _migrate(s3_app, "--from", f"folder:{old}")
    assert done.exit_code == 0, done.output
    assert "2 files written and checked, 1 already in place" in done.output
    assert sorted(bucket.objects()) == sorted(e.stored_name for e in items[:3])


def test_migrate_reports_a_damaged_file_and_copies_nothing_of_it(s3_app, make, bucket, tmp_path):
    old = tmp_path / "old-evidence"
    items = _plain_files(old, make)
    (old / items[1].stored_name).write_bytes(PNG + b"changed on disk")
    (old / items[2].stored_name).unlink()
    done = _migrate(s3_app, "--from", f"folder:{old}", "--delete-source")
    assert done.exit_code == 1
    assert f"evidence {items[1].id}: does not match its record's hash" in done.output
    assert f"evidence {items[2].id}: missing from the source and from the target" in done.output
    assert "2 files could not be brought across" in done.output
    assert list(bucket.objects()) == [items[0].stored_name]
    assert (old / items[1].stored_name).exists()  # kept, for someone to look at
    event = _events(AuditAction.SYSTEM_EVIDENCE_MIGRATED)[-1]
    assert event.outcome == "error" and event.details["failed"] == 2


def test_a_new_key_re_seals_everything_in_place(make_app, make):
    old_key, new_key = "the-old-evidence-key-abcdefghij", "the-new-evidence-key-0123456789"
    before = make_app(EVIDENCE_KEY=old_key)
    with before.app_context():
        case = make.case()
        dsl = make.user(Role.DSL, case.school)
        evidence = _add(case, dsl)
        _db.session.commit()
        name, folder = evidence.stored_name, current_store().folder
    after = make_app(EVIDENCE_KEY=new_key, EVIDENCE_OLD_KEYS=[old_key])
    with after.app_context():
        done = _migrate(after, "--delete-source")
        assert done.exit_code == 2 and "--delete-source needs a --from store" in done.output
        done = _migrate(after)
        assert done.exit_code == 0 and "1 files written and checked" in done.output
        assert KeyRing(new_key).open(name, (folder / name).read_bytes()).content == UPLOAD
    without_old = make_app(EVIDENCE_KEY=new_key)
    with without_old.app_context():
        assert _migrate(without_old).output.count("already in place") == 1


def test_migrate_names_a_store_it_cannot_read(app):
    done = _migrate(app, "--from", "ftp://host/evidence")
    assert done.exit_code == 2 and "folder:PATH or s3://BUCKET/PREFIX" in done.output


# --- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"EVIDENCE_STORE": "ftp"}, "EVIDENCE_STORE must be folder or s3, not 'ftp'"),
        ({"EVIDENCE_STORE": "s3"}, "EVIDENCE_STORE=s3 needs EVIDENCE_S3_BUCKET"),
    ],
)
def test_a_store_setting_that_cannot_work_is_refused_at_start(monkeypatch, settings, message):
    from config import Config

    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("EVIDENCE_S3_BUCKET", raising=False)
    with pytest.raises(RuntimeError, match=message):
        Config()


# --- flask evidence sweep --------------------------------------------------------------------


def test_the_sweep_deletes_old_objects_no_record_names_and_nothing_else(app, make):
    case = make.case()
    dsl = make.user(Role.DSL, case.school)
    kept = _add(case, dsl)
    removed = _add(case, dsl)
    _db.session.commit()
    store = current_store()
    # An upload whose process died before its row was saved; one still committing (new);
    # and the object of a removed item whose delete after the commit failed.
    store.add(NAME, key_ring().seal(NAME, UPLOAD))
    store.add(OTHER, key_ring().seal(OTHER, UPLOAD))
    remove_evidence(removed, reason="Wrong case", by=dsl)
    _db.session.commit()
    store.put(removed.stored_name, b"left behind")
    day_old = time.time() - 25 * 3600
    for name in (kept.stored_name, NAME, removed.stored_name):
        os.utime(store.folder / name, (day_old, day_old))

    swept = app.test_cli_runner().invoke(args=["evidence", "sweep"])
    assert swept.exit_code == 0, swept.output
    assert (
        "Deleted 2 objects that no evidence record names (written over 24 hours ago)"
        in swept.output
    )
    assert sorted(store.names()) == sorted([kept.stored_name, OTHER])
    assert _events(AuditAction.SYSTEM_EVIDENCE_SWEPT)[-1].details == {"deleted": 2}
    again = app.test_cli_runner().invoke(args=["evidence", "sweep", "--older-than-hours", "1"])
    assert "Deleted 0 objects" in again.output
    assert len(_events(AuditAction.SYSTEM_EVIDENCE_SWEPT)) == 1  # nothing deleted, no event


def test_the_sweep_reads_a_buckets_own_times(s3_app, make, bucket):
    case = make.case()
    dsl = make.user(Role.DSL, case.school)
    kept = _add(case, dsl)
    _db.session.commit()
    store = current_store()
    store.add(NAME, b"an orphan")
    assert sweep_orphans(store, older_than=timedelta(hours=24)) == 0  # too new to be sure
    later = utcnow() + timedelta(hours=25)
    assert sweep_orphans(store, older_than=timedelta(hours=24), now=later) == 1
    assert list(bucket.objects()) == [kept.stored_name]


# --- without EVIDENCE_KEY ---------------------------------------------------------------------


def test_without_evidence_key_the_app_starts_and_evidence_work_refuses(make_app, make):
    """A migration or a report needs no EVIDENCE_KEY; storing or reading evidence does,
    and says so: the upload form keeps what was typed, /readyz is not ok, a download is
    an error on the trail, the commands say what to set."""
    keyed = make_app()
    with keyed.app_context():
        case = make.case()
        dsl = make.user(Role.DSL, case.school)
        evidence = _add(case, dsl)
        _db.session.commit()
        case_id, evidence_id = case.id, evidence.id
    app = make_app(EVIDENCE_KEY="")
    with app.app_context():
        client = app.test_client()
        sign_in(client, dsl.email)
        refused = _upload(client, case, content=UPLOAD, description="The comment under the post")
        html = refused.get_data(as_text=True)
        assert refused.status_code == 200
        assert "the service&#39;s encryption key has not been set up" in html
        assert "The comment under the post" in html
        assert app.test_client().get("/readyz").get_json()["checks"]["evidence_store"] == "not ok"
        with client.get(f"/cases/{case_id}/evidence/{evidence_id}") as download:
            assert download.status_code == 500 and UPLOAD not in download.data
        assert _events(AuditAction.EVIDENCE_DOWNLOADED)[-1].details == {"problem": "no_key"}
        migrate = _migrate(app)
        assert migrate.exit_code == 1 and "EVIDENCE_KEY is not set" in migrate.output
        assert _db.session.scalar(select(func.count()).select_from(Evidence)) == 1
        _db.session.commit()
