"""Evidence on a case: upload checked by content, storage, download, removal, access."""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from datetime import UTC, date, datetime, time
from io import BytesIO
from pathlib import Path

import pytest
from flask import render_template
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from config import PROJECT_ROOT
from tests.conftest import csrf_token_from, post_form, sign_in
from tracker.auth.roles import Role
from tracker.cases.evidence import (
    Provenance,
    add_evidence,
    display_filename,
    download_filename,
    remove_evidence,
    sniff_content_type,
)
from tracker.cases.models import Evidence
from tracker.extensions import db as _db
from tracker.storage import key_ring
from tracker.storage.sealing import MAGIC, key_id

MB = 1024 * 1024


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def tiny_png() -> bytes:
    """A valid 1 x 1 pixel PNG, built by hand (no imaging library needed)."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 8-bit RGB
    pixels = zlib.compress(b"\x00\xcc\x00\x00")  # filter byte, one red pixel
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


PNG = tiny_png()
GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
WEBP = (
    b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00"
    b"/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
)
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _png_of_size(size: int) -> bytes:
    """A file that starts as a PNG does, padded to exactly `size` bytes."""
    return PNG + b"\x00" * (size - len(PNG))


def _new_url(case) -> str:
    return f"/cases/{case.id}/evidence/new"


def _upload(client, case, content: bytes | None = PNG, filename: str = "screenshot.png", **fields):
    """Post the upload form as a browser does: its CSRF token, a file part, the fields."""
    page = client.get(_new_url(case))
    assert page.status_code == 200, page.status_code
    values = {
        "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        "post_visibility": "unknown",
        **fields,
    }
    if content is not None:
        values["file"] = FileStorage(BytesIO(content), filename, content_type="image/png")
    return _post_multipart(client, _new_url(case), values)


def _post_multipart(client, url: str, values: dict):
    # Encoded here, in memory: the test client spools a large body to a temporary file
    # that it never closes, which the suite's warnings-are-errors setting turns into a
    # failure.
    boundary, body = encode_multipart(values)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _evidence_dir(app) -> Path:
    return Path(app.instance_path) / "evidence"


def _stored_files(app) -> list[Path]:
    folder = _evidence_dir(app)
    return sorted(folder.iterdir()) if folder.exists() else []


def _only_evidence(db) -> Evidence:
    db.session.rollback()
    return db.session.scalars(select(Evidence)).one()


def _evidence_count(db) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Evidence.id)))


@pytest.fixture
def dsl_and_case(make):
    case = make.case()
    dsl = make.user(Role.DSL, case.school)
    return dsl, case


@pytest.fixture
def uploaded(app, login, db, dsl_and_case):
    """A PNG uploaded to a case by its school's DSL (who stays signed in)."""
    dsl, case = dsl_and_case
    client = login(dsl)
    assert _upload(client, case, description="The comment").status_code == 302
    return client, case, _only_evidence(db)


# --- uploading -------------------------------------------------------------------------


def test_upload_records_the_file_and_where_it_came_from(app, login, db, dsl_and_case):
    dsl, case = dsl_and_case
    client = login(dsl)
    response = _upload(
        client,
        case,
        description="Comment under the school's summer fair post",
        source_url="https://www.instagram.com/p/abc123/",
        captured_on=["1", "7", "2026"],
        captured_time="14:05",
        captured_by="Parent of a Year 8 pupil",
        post_visibility="public",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cases/{case.id}#evidence"

    evidence = _only_evidence(db)
    assert evidence.case_id == case.id
    assert evidence.sha256 == hashlib.sha256(PNG).hexdigest()
    assert evidence.size_bytes == len(PNG)
    assert evidence.content_type == "image/png"
    assert evidence.original_filename == "screenshot.png"
    assert evidence.uploaded_by_id == dsl.id
    assert evidence.description == "Comment under the school's summer fair post"
    assert evidence.source_url == "https://www.instagram.com/p/abc123/"
    # 14:05 on 1 July is British Summer Time: 13:05 UTC.
    assert evidence.captured_at == datetime(2026, 7, 1, 13, 5, tzinfo=UTC)
    assert evidence.captured_by == "Parent of a Year 8 pupil"
    assert evidence.post_visibility == "public"
    assert evidence.removed_at is None

    # Stored outside static/, under a random name, encrypted, with nothing left over; it
    # opens under EVIDENCE_KEY to the bytes uploaded.
    assert re.fullmatch(r"[0-9a-f]{64}", evidence.stored_name)
    assert _stored_files(app) == [_evidence_dir(app) / evidence.stored_name]
    stored = _stored_files(app)[0]
    sealed = stored.read_bytes()
    assert sealed.startswith(MAGIC) and PNG[:8] not in sealed and b"IHDR" not in sealed
    opened = key_ring().open(evidence.stored_name, sealed)
    assert opened.content == PNG and opened.key_id == key_id(app.config["EVIDENCE_KEY"]).hex()
    assert not stored.resolve().is_relative_to((PROJECT_ROOT / "static").resolve())


def test_the_case_page_lists_the_upload(uploaded):
    client, case, evidence = uploaded
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "screenshot.png added to the evidence" in html
    assert "The comment" in html and evidence.sha256[:12] in html


def test_a_date_without_a_time_is_kept_as_that_day(login, db, dsl_and_case):
    dsl, case = dsl_and_case
    response = _upload(login(dsl), case, captured_on=["2", "3", "2026"])
    assert response.status_code == 302
    # Midnight in the UK (GMT in March), shown as the date alone.
    assert _only_evidence(db).captured_at == datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def test_the_type_comes_from_the_content_not_the_name(login, db, dsl_and_case):
    dsl, case = dsl_and_case
    assert _upload(login(dsl), case, content=GIF, filename="photo.pdf").status_code == 302
    evidence = _only_evidence(db)
    assert evidence.content_type == "image/gif"
    assert download_filename(evidence) == "photo.gif"


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"<html><script>alert(1)</script></html>", "screenshot.png", "The file must be a PNG"),
        (b"Just some notes typed in a text editor\n", "notes.png", "The file must be a PNG"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "image.svg", "The file must be a PNG"),
        (b"", "screenshot.png", "The file is empty"),
    ],
    ids=["html-named-png", "text-named-png", "svg", "empty"],
)
def test_refused_files_say_why_and_keep_what_was_typed(
    app, login, db, dsl_and_case, content, filename, message
):
    dsl, case = dsl_and_case
    response = _upload(
        login(dsl),
        case,
        content=content,
        filename=filename,
        description="Screenshot of the reply",
        captured_by="Mrs A, parent",
        source_url="https://example.com/post/1",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert "Screenshot of the reply" in html
    assert "Mrs A, parent" in html and "https://example.com/post/1" in html
    assert _evidence_count(db) == 0
    assert _stored_files(app) == []


def test_the_allowed_types_are_named_when_a_file_is_refused(login, dsl_and_case):
    dsl, case = dsl_and_case
    html = _upload(login(dsl), case, content=b"MZ\x90\x00", filename="x.png").get_data(as_text=True)
    assert "The file must be a PNG, JPEG, GIF or WebP image, or a PDF" in html


@pytest.mark.parametrize("filename", [None, ""], ids=["no-file-part", "nothing-chosen"])
def test_no_file_chosen(login, db, dsl_and_case, filename):
    dsl, case = dsl_and_case
    client = login(dsl)
    if filename is None:
        response = _upload(client, case, content=None, description="Kept")
    else:
        response = _upload(client, case, content=b"", filename=filename, description="Kept")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Choose a file to upload" in html and "Kept" in html
    assert _evidence_count(db) == 0


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "ftp://example.com/post", "www.instagram.com/p/abc", "https://"],
)
def test_a_bad_source_address_is_refused(app, login, db, dsl_and_case, url):
    dsl, case = dsl_and_case
    response = _upload(login(dsl), case, source_url=url, captured_by="Mr B")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter the web address in full, starting with https:// or http://" in html
    # The browser drops the chosen file with the page, so the form asks for it again.
    assert "Choose the file again" in html and "Mr B" in html
    assert _evidence_count(db) == 0
    assert _stored_files(app) == []


def test_a_capture_time_in_the_future_is_refused(login, db, dsl_and_case):
    dsl, case = dsl_and_case
    next_year = str(date.today().year + 1)
    html = _upload(login(dsl), case, captured_on=["1", "1", next_year]).get_data(as_text=True)
    assert "cannot be in the future" in html
    assert _evidence_count(db) == 0


def test_a_time_without_a_date_is_refused(login, db, dsl_and_case):
    dsl, case = dsl_and_case
    html = _upload(login(dsl), case, captured_time="09:30").get_data(as_text=True)
    assert "Enter the date it was captured, or leave the time blank" in html
    assert _evidence_count(db) == 0


class TestSizeLimit:
    @pytest.fixture
    def small(self, make_app, make):
        """An app that takes files of 1 MB at most, with a DSL signed in to a case."""
        app = make_app(EVIDENCE_MAX_MB=1)
        with app.app_context():
            case = make.case()
            dsl = make.user(Role.DSL, case.school)
            client = app.test_client()
            assert sign_in(client, dsl.email).status_code == 302
            yield app, client, case

    def test_a_file_at_the_limit_is_accepted(self, small):
        app, client, case = small
        assert _upload(client, case, content=_png_of_size(MB)).status_code == 302
        assert _evidence_count(_db) == 1

    def test_a_file_over_the_limit_is_refused_on_the_form(self, small):
        app, client, case = small
        response = _upload(client, case, content=_png_of_size(MB + 1), description="Too big")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "The file must be 1 MB or smaller" in html and "Too big" in html
        assert _evidence_count(_db) == 0
        assert _stored_files(app) == []

    def test_a_much_larger_request_gets_the_too_large_page(self, small):
        app, client, case = small
        response = _upload(client, case, content=_png_of_size(3 * MB))
        assert response.status_code == 413
        assert "The file is too large" in response.get_data(as_text=True)
        assert _evidence_count(_db) == 0

    def test_the_form_tells_the_browser_the_limit(self, small):
        app, client, case = small
        html = client.get(_new_url(case)).get_data(as_text=True)
        file_input = re.search(r'<input[^>]*type="file"[^>]*>', html).group(0)
        assert f'data-app-max-bytes="{MB}"' in file_input
        assert 'data-app-too-large="The selected file must be smaller than 1 MB"' in file_input

    @pytest.mark.parametrize(
        "referrer",
        [
            "http://localhost/cases/{id}/evidence/new",  # the form's page
            "https://elsewhere.example/cases/{id}/evidence/new",  # never another site
            "http://localhost.elsewhere.example/phish",
            "",
        ],
    )
    def test_the_too_large_page_leads_back_to_the_form(self, small, referrer):
        app, client, case = small
        page = client.get(_new_url(case)).get_data(as_text=True)
        boundary, body = encode_multipart(
            {
                "csrf_token": csrf_token_from(page),
                "description": "Typed before choosing the file",
                "file": FileStorage(BytesIO(_png_of_size(3 * MB)), "big.png", "image/png"),
            }
        )
        headers = {"Referer": referrer.format(id=case.id)} if referrer else {}
        response = client.post(
            _new_url(case),
            data=body,
            content_type=f"multipart/form-data; boundary={boundary}",
            headers=headers,
        )
        html = response.get_data(as_text=True)
        assert response.status_code == 413
        assert "The file you chose is larger than 1 MB" in html and "nothing was" in html
        link = re.search(r'<a class="govuk-link" href="([^"]*)"[^>]*>Go back to the form</a>', html)
        assert link is not None and link.group(1) == _new_url(case)
        assert "elsewhere" not in html
        assert _evidence_count(_db) == 0


def test_evidence_path_setting_moves_the_files(make_app, make, tmp_path):
    folder = tmp_path / "evidence-store"
    app = make_app(EVIDENCE_PATH=str(folder))
    with app.app_context():
        case = make.case()
        dsl = make.user(Role.DSL, case.school)
        client = app.test_client()
        sign_in(client, dsl.email)
        assert _upload(client, case).status_code == 302
        evidence = _only_evidence(_db)
        sealed = (folder / evidence.stored_name).read_bytes()
        assert key_ring().open(evidence.stored_name, sealed).content == PNG


# --- downloading -----------------------------------------------------------------------


def test_download_is_an_attachment_that_is_never_sniffed_or_cached(uploaded):
    client, case, evidence = uploaded
    with client.get(f"/cases/{case.id}/evidence/{evidence.id}") as response:
        assert response.status_code == 200
        assert response.data == PNG
        assert response.headers["Content-Type"] == "image/png"
        assert response.headers["Content-Disposition"] == "attachment; filename=screenshot.png"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"


def test_anyone_who_can_see_the_case_may_download(uploaded, make, app):
    _, case, evidence = uploaded
    head = make.user(Role.HEADTEACHER, case.school)
    client = app.test_client()
    sign_in(client, head.email)
    with client.get(f"/cases/{case.id}/evidence/{evidence.id}") as response:
        assert response.status_code == 200
        assert response.data == PNG


def test_download_is_404_outside_the_users_scope(uploaded, make, app):
    _, case, evidence = uploaded
    other_dsl = make.user(Role.DSL)  # at another school of the trust
    client = app.test_client()
    sign_in(client, other_dsl.email)
    with client.get(f"/cases/{case.id}/evidence/{evidence.id}") as response:
        assert response.status_code == 404
    assert client.get(_new_url(case)).status_code == 404


def test_download_of_an_unknown_id_is_404(uploaded):
    client, case, evidence = uploaded
    with client.get(f"/cases/{case.id}/evidence/{evidence.id + 1000}") as response:
        assert response.status_code == 404


def test_evidence_is_only_found_under_its_own_case(uploaded, make):
    client, case, evidence = uploaded
    other_case = make.case(case.school)  # the same DSL may see both cases
    assert client.get(f"/cases/{other_case.id}").status_code == 200
    with client.get(f"/cases/{other_case.id}/evidence/{evidence.id}") as response:
        assert response.status_code == 404
    assert client.get(f"/cases/{other_case.id}/evidence/{evidence.id}/remove").status_code == 404


def test_a_changed_file_is_not_served(uploaded, app):
    client, case, evidence = uploaded
    (_evidence_dir(app) / evidence.stored_name).write_bytes(PNG + b"tampered")
    with client.get(f"/cases/{case.id}/evidence/{evidence.id}") as response:
        assert response.status_code == 500
        assert PNG not in response.data


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.DPO])
def test_readers_may_download_but_not_upload_or_remove(uploaded, make, app, db, role):
    _, case, evidence = uploaded
    reader = make.user(role)
    client = app.test_client()
    sign_in(client, reader.email)
    with client.get(f"/cases/{case.id}/evidence/{evidence.id}") as response:
        assert response.status_code == 200
    assert client.get(_new_url(case)).status_code == 403
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    refused = _post_multipart(
        client,
        _new_url(case),
        {
            "csrf_token": token,
            "file": FileStorage(BytesIO(PNG), "x.png"),
            "post_visibility": "unknown",
        },
    )
    assert refused.status_code == 403
    remove_url = f"/cases/{case.id}/evidence/{evidence.id}/remove"
    assert client.get(remove_url).status_code == 403
    assert client.post(remove_url, data={"csrf_token": token, "reason": "x"}).status_code == 403
    assert _evidence_count(db) == 1
    assert _only_evidence(db).removed_at is None


def test_nothing_can_be_added_to_a_closed_case(uploaded, db):
    client, case, evidence = uploaded
    case.status = "closed"
    db.session.commit()
    assert client.get(_new_url(case)).status_code == 403
    assert client.get(f"/cases/{case.id}/evidence/{evidence.id}/remove").status_code == 403
    with client.get(f"/cases/{case.id}/evidence/{evidence.id}") as response:
        assert response.status_code == 200


# --- removing --------------------------------------------------------------------------


def test_removal_needs_a_reason(uploaded, app, db):
    client, case, evidence = uploaded
    url = f"/cases/{case.id}/evidence/{evidence.id}/remove"
    page = client.get(url).get_data(as_text=True)
    assert "Remove screenshot.png?" in page and "cannot be recovered" in page
    response = post_form(client, url, {"reason": "   "})
    assert response.status_code == 200
    assert "Say why the evidence is being removed" in response.get_data(as_text=True)
    assert _only_evidence(db).removed_at is None
    assert (_evidence_dir(app) / evidence.stored_name).exists()


def test_removal_deletes_the_bytes_and_keeps_the_record(uploaded, app, db):
    client, case, evidence = uploaded
    url = f"/cases/{case.id}/evidence/{evidence.id}/remove"
    response = post_form(client, url, {"reason": "Uploaded to the wrong case"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cases/{case.id}#evidence"

    removed = _only_evidence(db)
    assert removed.removed_at is not None
    assert removed.removed_by_id == evidence.uploaded_by_id
    assert removed.removal_reason == "Uploaded to the wrong case"
    assert removed.sha256 == hashlib.sha256(PNG).hexdigest()
    assert removed.size_bytes == len(PNG)
    assert _stored_files(app) == []

    with client.get(f"/cases/{case.id}/evidence/{evidence.id}") as download:
        assert download.status_code == 404
    again = client.get(url)
    assert again.status_code == 302
    assert "already removed" in client.get(again.headers["Location"]).get_data(as_text=True)


# --- the list on the case page ---------------------------------------------------------


def _render_list(app, case, can_work: bool) -> str:
    # `edits`: the steps on the case's content its reader may take (the case page's panel).
    edits = frozenset({"add_evidence", "remove_evidence"}) if can_work else frozenset()
    _db.session.expire_all()
    with app.test_request_context():
        return render_template("cases/_evidence_list.html", case=case, edits=edits)


def test_the_list_shows_each_item_with_its_hash_and_provenance(uploaded, app):
    _, case, evidence = uploaded
    html = _render_list(app, case, can_work=True)
    assert "The comment" in html and "screenshot.png" in html
    assert "PNG image" in html and f"{len(PNG)} bytes" in html
    assert evidence.sha256 in html.replace("<wbr>", "")
    assert "Not known whether the post was public" in html
    assert f"/cases/{case.id}/evidence/{evidence.id}" in html
    assert f"/cases/{case.id}/evidence/{evidence.id}/remove" in html
    assert "Add evidence" in html

    read_only = _render_list(app, case, can_work=False)
    assert f'/cases/{case.id}/evidence/{evidence.id}"' in read_only
    assert "/remove" not in read_only and "Add evidence" not in read_only


def test_the_list_shows_a_removed_item_without_a_download(uploaded, app, db):
    client, case, evidence = uploaded
    post_form(
        client, f"/cases/{case.id}/evidence/{evidence.id}/remove", {"reason": "Duplicate of #2"}
    )
    html = _render_list(app, case, can_work=True)
    assert "Removed" in html and "Duplicate of #2" in html
    assert evidence.sha256 in html.replace("<wbr>", "")
    assert f'/cases/{case.id}/evidence/{evidence.id}"' not in html


def test_the_list_says_when_there_is_no_evidence(app, make):
    case = make.case()
    assert "No evidence has been added yet" in _render_list(app, case, can_work=True)


# --- files follow the database transaction ---------------------------------------------


def test_a_rolled_back_upload_leaves_no_file(app, db, dsl_and_case):
    dsl, case = dsl_and_case
    add_evidence(case, content=BytesIO(PNG), filename="a.png", provenance=Provenance(), by=dsl)
    assert len(_stored_files(app)) == 1
    db.session.rollback()
    assert _stored_files(app) == []


def test_a_rolled_back_removal_keeps_the_file(app, db, dsl_and_case):
    dsl, case = dsl_and_case
    evidence = add_evidence(
        case, content=BytesIO(PNG), filename="a.png", provenance=Provenance(), by=dsl
    )
    db.session.commit()
    remove_evidence(evidence, reason="Testing", by=dsl)
    db.session.rollback()
    assert (_evidence_dir(app) / evidence.stored_name).exists()
    remove_evidence(_db.session.get(Evidence, evidence.id), reason="Testing", by=dsl)
    db.session.commit()
    assert _stored_files(app) == []


# --- the pieces ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (b"GIF87a\x01\x00", "image/gif"),
        (WEBP, "image/webp"),
        (PDF, "application/pdf"),
        (b"", None),
        (b"\x89PNG\r\n\x1a\n", None),  # a PNG signature with no header chunk
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),  # a RIFF file, but sound
        (b"<!DOCTYPE html><p>%PDF-1.7", None),  # a PDF marker, but not at the start
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"PK\x03\x04", None),  # a zip (or an Office document)
    ],
)
def test_sniffing(content, expected):
    assert sniff_content_type(content[:16]) == expected


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("screenshot.png", "screenshot.png"),
        ("C:\\Users\\dsl\\Desktop\\post.png", "post.png"),
        ("../../etc/passwd", "passwd"),
        ("evil\u202egnp.exe", "evilgnp.exe"),
        ("two\x00lines\n.png", "twolines.png"),
        ("  spaced   out .png ", "spaced out .png"),
        ("", "unnamed file"),
    ],
)
def test_original_names_are_made_safe_to_show(raw, shown):
    assert display_filename(raw) == shown


def test_download_names_are_plain_and_end_as_the_type_does():
    def named(original: str, content_type: str = "image/jpeg") -> str:
        return download_filename(Evidence(original_filename=original, content_type=content_type))

    assert named("photo.JPEG") == "photo.jpeg"
    assert named("post.png") == "post.jpg"
    assert named('a"b;c.jpg') == "a_b_c.jpg"
    assert named("école.jpg") == "école.jpg"
    assert named("../../x.jpg") == "x.jpg"
    assert named(".htaccess") == "evidence.jpg"


def test_configuration_reads_the_evidence_settings(monkeypatch):
    from config import Config

    monkeypatch.setenv("EVIDENCE_MAX_MB", "25")
    monkeypatch.setenv("EVIDENCE_PATH", "/srv/evidence")
    config = Config().as_dict()
    assert config["EVIDENCE_MAX_MB"] == 25
    assert config["EVIDENCE_PATH"] == "/srv/evidence"
    assert config["MAX_CONTENT_LENGTH"] == 26 * MB


def test_time_zone_of_a_winter_capture(app, db, dsl_and_case):
    dsl, case = dsl_and_case
    evidence = add_evidence(
        case,
        content=BytesIO(PNG),
        filename="a.png",
        provenance=Provenance(captured_on=date(2026, 1, 10), captured_time=time(9, 30)),
        by=dsl,
    )
    assert evidence.captured_at == datetime(2026, 1, 10, 9, 30, tzinfo=UTC)
    db.session.rollback()
