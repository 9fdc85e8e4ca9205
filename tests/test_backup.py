"""`flask backup`: a restore drill on each database, and every way an archive can be bad.

The drill: activity across the product, a backup, a new empty database and evidence
folder, a restore, then the same case pages, the same audit trail up to the backup's
checkpoint and every evidence file downloadable. Then a damaged, a cut-short and a
wrongly keyed archive, and a target that is not empty: each refused, saying why, with
nothing changed.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import inspect

from config import TestConfig
from tests.audit_helpers import events
from tests.conftest import sign_in
from tests.test_evidence import GIF, PNG
from tracker import create_app
from tracker.audit.actions import AuditAction
from tracker.auth.roles import Role
from tracker.backup.archive import DecryptingReader, EncryptingWriter
from tracker.cases.evidence import Provenance, add_evidence, remove_evidence
from tracker.extensions import db as _db
from tracker.storage.sealing import KeyRing

KEY = "test-backup-key-not-for-production-use"  # TestConfig's


@dataclass
class Activity:
    email: str
    case_ids: list[int]
    files: dict[str, bytes]  # download address -> the bytes, for items not removed
    removed_id: int


@pytest.fixture
def activity(app, make, client) -> Activity:
    school = make.school()
    dsl = make.user(Role.DSL, school)
    cases = [
        make.case(school, by=dsl),
        make.case(school, by=dsl, clauses=("3.2(e)",), summary="Posted a pupil's photo."),
    ]
    kept = add_evidence(
        cases[0], content=io.BytesIO(PNG), filename="post.png", provenance=Provenance(), by=dsl
    )
    other = add_evidence(
        cases[1], content=io.BytesIO(GIF), filename="reply.gif", provenance=Provenance(), by=dsl
    )
    gone = add_evidence(
        cases[1], content=io.BytesIO(PNG), filename="dup.png", provenance=Provenance(), by=dsl
    )
    _db.session.commit()
    remove_evidence(gone, reason="Uploaded twice by mistake", by=dsl)
    _db.session.commit()
    assert sign_in(client, dsl.email).status_code == 302
    for case in cases:
        assert client.get(f"/cases/{case.id}").status_code == 200
    with client.get(f"/cases/{cases[0].id}/evidence/{kept.id}") as download:
        assert download.status_code == 200
    return Activity(
        email=dsl.email,
        case_ids=[case.id for case in cases],
        files={
            f"/cases/{cases[0].id}/evidence/{kept.id}": PNG,
            f"/cases/{cases[1].id}/evidence/{other.id}": GIF,
        },
        removed_id=gone.id,
    )


@pytest.fixture
def empty_target(app, fresh_database_url, tmp_path) -> Iterator[Callable[..., Flask]]:
    """An app on a new, empty database of the same kind, with an empty evidence folder."""
    built: list[Flask] = []

    def build(**overrides: object) -> Flask:
        url = fresh_database_url(_db.engine.dialect.name)
        folder = tmp_path / f"target{len(built)}"
        target = create_app(
            TestConfig(url, INSTANCE_PATH=str(folder), EVIDENCE_PATH=str(folder / "evidence"))
        )
        for key, value in overrides.items():
            target.config[key] = value
        built.append(target)
        return target

    yield build
    for target in built:
        with target.app_context():
            _db.session.remove()
            _db.engine.dispose()


def _invoke(target: Flask, *args: str):
    with target.app_context():
        result = target.test_cli_runner().invoke(args=list(args))
        _db.session.remove()
    return result


def _is_empty(target: Flask) -> bool:
    with target.app_context():
        tables = inspect(_db.engine).get_table_names()
        _db.engine.dispose()
    folder = Path(target.config["EVIDENCE_PATH"])
    return not tables and not (folder.exists() and any(folder.iterdir()))


_VOLATILE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+|(nonce=")[^"]+')


def _main(html: str) -> str:
    """A page's main content, without what differs on every request."""
    main = html[html.index("<main") : html.index("</main>")]
    return _VOLATILE.sub(r"\1\2", main)


def _case_pages(target: Flask, activity: Activity) -> dict[str, str]:
    client = target.test_client()
    with target.app_context():
        assert sign_in(client, activity.email).status_code == 302
        pages = {}
        for case_id in activity.case_ids:
            for suffix in ("", "/history"):
                response = client.get(f"/cases/{case_id}{suffix}")
                assert response.status_code == 200
                pages[f"{case_id}{suffix}"] = _main(response.get_data(as_text=True))
        _db.session.remove()
    return pages


def test_the_restore_drill(app, activity, empty_target, tmp_path):
    archive = tmp_path / "trust.backup"
    created = _invoke(app, "backup", "create", str(archive))
    assert created.exit_code == 0, created.output + created.stderr
    assert "2 cases" in created.output and "2 evidence files" in created.output
    trail = [(e.seq, e.hash) for e in events(_db.session)]
    backed_up = events(_db.session, action=AuditAction.SYSTEM_BACKUP_CREATED.value)
    assert len(backed_up) == 1 and backed_up[0].details == {
        "events": len(trail) - 1,
        "cases": 2,
        "evidence_files": 2,
        "head_seq": len(trail) - 1,
    }
    _db.session.rollback()  # SQLite: a reading transaction holds the write lock
    before = _case_pages(app, activity)

    verified = _invoke(app, "backup", "verify", str(archive))
    assert verified.exit_code == 0, verified.output + verified.stderr
    for check in ("key", "database", "sums", "audit trail", "evidence", "counts"):
        assert f"\n{check}: ok" in "\n" + verified.output

    target = empty_target()
    restored = _invoke(target, "backup", "restore", str(archive))
    assert restored.exit_code == 0, restored.output + restored.stderr
    assert "restored audit trail: ok" in restored.output

    with target.app_context():
        restored_trail = events(_db.session)
        # Everything up to the backup's checkpoint, then the restore's own event.
        assert [(e.seq, e.hash) for e in restored_trail[:-1]] == trail[:-1]
        last = restored_trail[-1]
        assert last.action == AuditAction.SYSTEM_RESTORED.value
        assert last.prev_hash == trail[-2][1]
        assert last.details == {"events": len(trail) - 1, "cases": 2, "evidence_files": 2}
        _db.session.remove()
    assert _invoke(target, "audit", "verify").exit_code == 0

    after = _case_pages(target, activity)
    assert after.keys() == before.keys()
    for page, html in before.items():
        # The history page lists views; the drill's own sign-ins add to it.
        if not page.endswith("/history"):
            assert after[page] == html, page

    client = target.test_client()
    with target.app_context():
        assert sign_in(client, activity.email).status_code == 302
        for address, content in activity.files.items():
            with client.get(address) as response:
                assert response.status_code == 200
                assert response.get_data() == content
        _db.session.remove()
    stored = sorted(p.name for p in Path(target.config["EVIDENCE_PATH"]).iterdir())
    assert len(stored) == 2


def test_a_backup_restores_into_a_bucket_under_another_evidence_key(
    app, activity, empty_target, tmp_path, bucket
):
    """A new installation with its own EVIDENCE_KEY, on an object store: the archive holds
    the files as uploaded, so they go in sealed under the new key."""
    archive = tmp_path / "trust.backup"
    assert _invoke(app, "backup", "create", str(archive)).exit_code == 0
    new_key = "a-new-installations-evidence-key-0001"
    target = empty_target(**bucket.settings(), EVIDENCE_KEY=new_key)
    restored = _invoke(target, "backup", "restore", str(archive))
    assert restored.exit_code == 0, restored.output + restored.stderr
    stored = bucket.objects()
    assert len(stored) == 2
    for name, sealed in stored.items():
        assert KeyRing(new_key).open(name, sealed).key_id == KeyRing(new_key).current_id
        assert all(content not in sealed for content in activity.files.values())
    client = target.test_client()
    with target.app_context():
        assert sign_in(client, activity.email).status_code == 302
        for address, content in activity.files.items():
            with client.get(address) as response:
                assert response.get_data() == content
        _db.session.remove()

    again = empty_target(**bucket.settings())
    refused = _invoke(again, "backup", "restore", str(archive))
    assert refused.exit_code == 1
    assert f"The bucket s3://{bucket.name}/evidence/ is not empty" in refused.stderr


@pytest.fixture
def archive(app, activity, tmp_path) -> Path:
    path = tmp_path / "trust.backup"
    result = _invoke(app, "backup", "create", str(path))
    assert result.exit_code == 0, result.output + result.stderr
    return path


def _damaged(archive: Path) -> Path:
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    archive.write_bytes(bytes(data))
    return archive


def _cut_short(archive: Path) -> Path:
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) - 100])
    return archive


@pytest.mark.parametrize(
    ("spoil", "said"),
    [
        (_damaged, "The backup is damaged at byte"),
        (_cut_short, "The backup ends early"),
    ],
    ids=["damaged", "cut-short"],
)
def test_a_spoilt_archive_fails_verification_and_restores_nothing(
    app, archive, empty_target, spoil, said
):
    spoil(archive)
    verified = _invoke(app, "backup", "verify", str(archive))
    assert verified.exit_code == 1
    assert f"archive: FAILED - {said}" in verified.stderr

    target = empty_target()
    restored = _invoke(target, "backup", "restore", str(archive))
    assert restored.exit_code == 1
    assert said in restored.stderr
    assert "Nothing was restored." in restored.output
    assert _is_empty(target)


def test_the_wrong_key_is_named_and_restores_nothing(app, archive, empty_target):
    other_key = "another-backup-key-of-24-characters-or-more"
    target = empty_target(BACKUP_KEY=other_key)
    restored = _invoke(target, "backup", "restore", str(archive))
    assert restored.exit_code == 1
    assert "This backup was made with another BACKUP_KEY" in restored.stderr
    assert _is_empty(target)


def test_a_database_that_is_not_empty_is_refused_and_unchanged(app, archive):
    head = [(e.seq, e.hash) for e in events(_db.session)]
    _db.session.rollback()
    restored = _invoke(app, "backup", "restore", str(archive))
    assert restored.exit_code == 1
    assert "is not empty: it has" in restored.stderr
    assert "Nothing has been changed." in restored.stderr
    assert [(e.seq, e.hash) for e in events(_db.session)] == head


def test_an_evidence_folder_that_is_not_empty_is_refused(archive, empty_target):
    target = empty_target()
    folder = Path(target.config["EVIDENCE_PATH"])
    folder.mkdir(parents=True)
    (folder / ("ab" * 32)).write_bytes(b"an object from an earlier restore")
    restored = _invoke(target, "backup", "restore", str(archive))
    assert restored.exit_code == 1
    assert "is not empty" in restored.stderr and "EVIDENCE_PATH" in restored.stderr
    with target.app_context():
        assert inspect(_db.engine).get_table_names() == []
        _db.engine.dispose()


def _repack(archive: Path, change: Callable[[str, bytes], bytes]) -> None:
    """Re-encrypt the archive with one member changed: what someone holding the key
    could do, and what the sums and records must then catch."""
    with archive.open("rb") as raw:
        members = []
        with tarfile.open(fileobj=DecryptingReader(raw, KEY), mode="r|") as tar:
            for member in tar:
                source = tar.extractfile(member)
                assert source is not None
                members.append((member.name, change(member.name, source.read())))
    with (
        archive.open("wb") as out,
        EncryptingWriter(out, KEY) as writer,
        tarfile.open(fileobj=writer, mode="w|") as tar,
    ):
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_a_changed_evidence_file_inside_the_archive_is_named(app, archive):
    def change(name: str, data: bytes) -> bytes:
        return data + b"tampered" if name.startswith("evidence/") else data

    _repack(archive, change)
    verified = _invoke(app, "backup", "verify", str(archive))
    assert verified.exit_code == 1
    assert "sums: FAILED - 2 file(s) do not match the manifest: evidence/" in verified.stderr
    assert "evidence: FAILED - 0 missing, 2 not matching their records" in verified.stderr
    assert "audit trail: ok" in verified.output


def test_a_manifest_that_lies_about_the_counts_is_caught(app, archive):
    def change(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["counts"]["cases"] = 3
        return json.dumps(manifest).encode()

    _repack(archive, change)
    verified = _invoke(app, "backup", "verify", str(archive))
    assert verified.exit_code == 1
    assert "counts: FAILED" in verified.stderr


def test_create_refuses_an_existing_file_and_an_evidence_file_changed_on_disk(
    app, activity, tmp_path
):
    existing = tmp_path / "there.backup"
    existing.write_bytes(b"keep me")
    result = _invoke(app, "backup", "create", str(existing))
    assert result.exit_code == 1
    assert "already exists" in result.stderr
    assert existing.read_bytes() == b"keep me"

    folder = Path(app.instance_path) / (app.config.get("EVIDENCE_PATH") or "evidence")
    victim = next(folder.iterdir())
    victim.write_bytes(victim.read_bytes() + b"!")
    target = tmp_path / "new.backup"
    result = _invoke(app, "backup", "create", str(target))
    assert result.exit_code == 1
    assert "does not match the hash recorded when it was uploaded" in result.stderr
    assert not target.exists()
    assert list(tmp_path.glob("*.partial")) == []


def test_no_backup_key_is_a_clear_error(app, activity, tmp_path):
    app.config["BACKUP_KEY"] = ""
    result = _invoke(app, "backup", "create", str(tmp_path / "x.backup"))
    assert result.exit_code == 1
    assert "BACKUP_KEY is not set" in result.stderr


def test_a_restore_without_evidence_key_changes_nothing(archive, empty_target):
    target = empty_target(EVIDENCE_KEY="")
    restored = _invoke(target, "backup", "restore", str(archive))
    assert restored.exit_code == 1
    assert "EVIDENCE_KEY is not set" in restored.stderr
    assert "Nothing has been changed." in restored.stderr
    assert _is_empty(target)
