"""Importing the staff register from a CSV file: the template, the preview (nothing
written), the confirmation, and every kind of file a school's office can produce."""

from __future__ import annotations

import re
from datetime import date
from io import BytesIO

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from tests.conftest import csrf_token_from
from tests.test_evidence import _post_multipart
from tracker.audit.actions import AuditAction
from tracker.audit.models import AuditEvent
from tracker.auth.roles import Role
from tracker.csvfiles import looks_like_formula, parse_uk_date
from tracker.extensions import db as _db
from tracker.staff.imports import COLUMNS
from tracker.staff.models import StaffMember

HEADER = ",".join(COLUMNS.values())
_TOKEN = re.compile(r'name="upload_token"[^>]*value="([^"]+)"')
_DIGEST = re.compile(r'name="plan_digest"[^>]*value="([^"]+)"')


def csv_of(*lines: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *lines]) + "\r\n").encode()


def upload(client, content: bytes, filename: str = "register.csv"):
    """Post the upload page as a browser does; the answer is the preview (or the form)."""
    token = csrf_token_from(client.get("/staff/import").get_data(as_text=True))
    values = {"csrf_token": token, "csv_file": FileStorage(BytesIO(content), filename, "text/csv")}
    return _post_multipart(client, "/staff/import", values)


def confirm(client, preview_html: str, **overrides: str):
    data = {
        "csrf_token": csrf_token_from(preview_html),
        "upload_token": _TOKEN.search(preview_html).group(1),
        "plan_digest": _DIGEST.search(preview_html).group(1),
        **overrides,
    }
    return client.post("/staff/import/confirm", data=data)


def import_file(client, content: bytes):
    """Upload and confirm: the page after the confirmation's redirect."""
    preview = upload(client, content)
    assert preview.status_code == 200
    done = confirm(client, preview.get_data(as_text=True))
    assert done.status_code == 302, done.get_data(as_text=True)
    return client.get(done.headers["Location"]).get_data(as_text=True)


def _summary(html: str) -> list[str]:
    block = html[html.index('data-testid="import-summary"') :]
    block = block[: block.index("</ul>")]
    return [" ".join(re.sub(r"<[^>]+>", "", item).split()) for item in block.split("<li>")[1:]]


def _staff() -> dict[str, StaffMember]:
    _db.session.rollback()
    members = _db.session.scalars(select(StaffMember)).all()
    _db.session.commit()
    return {member.employee_number: member for member in members}


@pytest.fixture
def trust(make):
    oak = make.school(name="Oakfield Academy", code="OAK")
    elm = make.school(oak.trust, name="Elm Primary", code="ELM")
    return {"oak": oak, "elm": elm, "admin": make.user(Role.TRUST_ADMIN, trust=oak.trust)}


def test_the_template_has_the_columns_and_an_example(trust, login):
    client = login(trust["admin"])
    page = client.get("/staff/import").get_data(as_text=True)
    assert "Download the template (CSV)" in page
    template = client.get("/staff/import/template.csv")
    assert template.mimetype == "text/csv"
    assert "staff-register-template.csv" in template.headers["Content-Disposition"]
    lines = template.get_data(as_text=True).splitlines()
    assert lines[0] == HEADER
    assert lines[1].split(",")[2] == "E12345"


def test_a_preview_writes_nothing_and_the_confirmation_imports_it(trust, make, login):
    kept = make.staff(trust["oak"], name="Kim Kept")
    moved = make.staff(trust["oak"], name="Morgan Moving")
    absent = make.staff(trust["elm"], name="Avery Absent")
    client = login(trust["admin"])
    content = csv_of(
        "Sam Smith,Teacher,N001,OAK,s.smith@oak.example,01/09/2024,,31/08/2060",
        f"Kim Kept,Teacher,{kept.employee_number},oak,,,,",
        f"Morgan Moving,Head of Year 9,{moved.employee_number},ELM,,2 September 2019,,",
        'Lee Formula,=HYPERLINK("http://x"),N002,OAK,,,,',
        "Robin Nowhere,Cook,N003,XYZ,,,,",
    )
    preview = upload(client, content)
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert _summary(html) == [
        "1 person to add",
        "1 person to change",
        "1 person already as the file says",
        "2 rows refused: they are not imported",
        "1 person on the register but not in the file: nothing happens to them",
    ]
    assert "Job title: Head of Year 9" in html and "School: Elm Primary" in html
    assert "a spreadsheet would run as a formula" in html
    assert "No school in the trust has the code “XYZ”" in html
    assert absent.full_name in html
    assert "N001" not in _staff()  # nothing written by the preview

    page = confirm(client, html)
    assert page.status_code == 302
    after = client.get(page.headers["Location"]).get_data(as_text=True)
    assert "Staff register imported: 1 added, 1 changed, 1 unchanged, 2 rows refused." in after
    staff = _staff()
    added = staff["N001"]
    assert (added.full_name, added.school_id, added.work_email) == (
        "Sam Smith",
        trust["oak"].id,
        "s.smith@oak.example",
    )
    assert (added.started_on, added.normal_retirement_date) == (date(2024, 9, 1), date(2060, 8, 31))
    changed = staff[moved.employee_number]
    assert (changed.job_title, changed.school_id, changed.started_on) == (
        "Head of Year 9",
        trust["elm"].id,
        date(2019, 9, 2),
    )
    assert absent.employee_number in staff  # never removed
    event = _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.STAFF_IMPORTED.value)
    ).one()
    assert event.details == {"added": 1, "changed": 1, "unchanged": 1, "refused": 2, "missing": 1}
    _db.session.commit()


def test_the_files_a_spreadsheet_saves_are_all_read(trust, login):
    client = login(trust["admin"])
    line = "Siân Jones,Teacher,W001,OAK,,02-09-2024,,"
    bom = b"\xef\xbb\xbf" + csv_of(line)
    html = upload(client, bom).get_data(as_text=True)
    assert "1 person to add" in html and "not saved as UTF-8" not in html

    windows = csv_of(line).decode().encode("cp1252")
    html = upload(client, windows).get_data(as_text=True)
    assert "Siân Jones" in html
    assert "read as Windows-1252 (Western European)" in html

    unicode_text = csv_of(line).decode().encode("utf-16")
    assert "Siân Jones" in upload(client, unicode_text).get_data(as_text=True)

    workbook = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256))
    refused = upload(client, workbook, filename="register.xlsx").get_data(as_text=True)
    assert "Error: Import the staff register" in refused
    assert "Save it from your spreadsheet as “CSV UTF-8 (Comma delimited)”" in refused


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (csv_of(), "The file has no rows after the column names"),
        (
            csv_of("a,b,c", header="Name,Job,Number"),
            "This file has no “Full name”, “Job title”, “Employee number”, “School code”",
        ),
    ],
)
def test_a_file_that_cannot_be_imported_says_why_on_the_form(trust, login, content, message):
    client = login(trust["admin"])
    html = upload(client, content).get_data(as_text=True)
    assert "There is a problem" in html and message in html


def test_no_file_chosen(trust, login):
    client = login(trust["admin"])
    token = csrf_token_from(client.get("/staff/import").get_data(as_text=True))
    html = client.post("/staff/import", data={"csrf_token": token}).get_data(as_text=True)
    assert 'href="#csv_file">Select a CSV file</a>' in html


def test_each_bad_row_is_named_with_its_line_and_the_rest_import(trust, make, login):
    elsewhere = make.school(make.trust("Another Trust"), name="Another School", code="ANO")
    client = login(trust["admin"])
    html = upload(
        client,
        csv_of(
            "Ok Person,Teacher,D001,OAK,,,,",
            "Twice One,Teacher,D002,OAK,,,,",
            "Twice Two,Teacher,D002,ELM,,,,",
            ",Teacher,D003,OAK,,,,",
            "Bad Date,Teacher,D004,OAK,,31/02/2024,,",
            "Short Year,Teacher,D005,OAK,,02/09/24,,",
            "Bad Mail,Teacher,D006,OAK,not-an-address,,,",
            "Back To Front,Teacher,D007,OAK,,01/09/2024,31/08/2024,",
            "Old Retiree,Teacher,D008,OAK,,,,01/01/1900",
            f"Other Trust,Teacher,D009,{elsewhere.code},,,,",
            "At Sign,@SUM(A1),D010,OAK,,,,",
        ),
    ).get_data(as_text=True)
    refused = html[html.index('data-testid="refused"') :]
    for line, why in [
        (3, "Employee number D002 is also on line 4: each person must be on one line only"),
        (4, "Employee number D002 is also on line 3"),
        (5, "Enter the full name"),
        (6, "The start date “31/02/2024” is not a date like 02/09/2024"),
        (7, "The start date “02/09/24” is not a date like 02/09/2024"),
        (8, "“not-an-address” is not an e-mail address"),
        (9, "The leaving date must be the same as or after the start date"),
        (10, "The normal retirement date must be after 1950"),
        (11, "No school in the trust has the code “ANO”"),
        (12, "The job title starts with “@”"),
    ]:
        assert re.search(
            rf"<td class=\"govuk-table__cell\">{line}</td><td class=\"govuk-table__cell\">[^<]*"
            + re.escape(why),
            refused,
        ), (line, why)
    assert "1 person to add" in html


def test_a_school_register_keeper_imports_only_their_own_schools(trust, make, login):
    dsl = make.user(Role.DSL, trust["oak"])
    theirs = make.staff(trust["elm"], name="Elm Person")
    client = login(dsl)
    html = upload(
        client,
        csv_of(
            "Oak Person,Teacher,S001,OAK,,,,",
            "Elm New,Teacher,S002,ELM,,,,",
            f"Elm Person,Head,{theirs.employee_number},OAK,,,,",
        ),
    ).get_data(as_text=True)
    assert "You do not keep the staff register for Elm Primary" in html
    assert "belongs to someone at a school whose staff register you do not keep" in html
    assert "1 person to add" in html


def test_a_register_changed_since_the_preview_is_not_imported_blind(trust, make, login):
    member = make.staff(trust["oak"], name="Pat Changing")
    client = login(trust["admin"])
    html = upload(client, csv_of(f"Pat Changing,Deputy head,{member.employee_number},OAK,,,,"))
    html = html.get_data(as_text=True)
    _db.session.rollback()
    _db.session.get(StaffMember, member.id).job_title = "Deputy head"
    _db.session.commit()
    answer = confirm(client, html)
    assert answer.status_code == 200
    again = answer.get_data(as_text=True)
    assert "The staff register or the file has changed since the preview" in again
    assert "register.csv" in again  # the preview shown again names the file it is about
    assert "There is nothing in this file to add or change" in again
    assert (
        _db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == AuditAction.STAFF_IMPORTED.value)
        )
        == 0
    )
    _db.session.commit()


def test_an_altered_or_borrowed_preview_is_refused(trust, make, login, app):
    client = login(trust["admin"])
    html = upload(client, csv_of("Sam Smith,Teacher,N001,OAK,,,,")).get_data(as_text=True)
    token = _TOKEN.search(html).group(1)
    altered = confirm(
        client, html, upload_token=token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    )
    assert altered.headers["Location"] == "/staff/import"
    assert "more than an hour old, or could not be read" in client.get("/staff/import").text

    other = app.test_client()
    login_other = make.user(Role.TRUST_ADMIN, trust=trust["oak"].trust)
    from tests.conftest import sign_in

    sign_in(other, login_other.email)
    borrowed = confirm(other, other.get("/staff/import").get_data(as_text=True) + html)
    assert borrowed.headers["Location"] == "/staff/import"
    assert "N001" not in _staff()


def test_five_thousand_rows_preview_and_import(trust, login):
    client = login(trust["admin"])
    lines = [
        f"Person {n},Teacher,B{n:05d},{'OAK' if n % 2 else 'ELM'},p{n}@trust.example,"
        "01/09/2020,,31/08/2055"
        for n in range(5000)
    ]
    preview = upload(client, csv_of(*lines))
    assert "5,000 people to add" in preview.get_data(as_text=True)
    page = confirm(client, preview.get_data(as_text=True))
    assert page.status_code == 302
    assert len(_staff()) == 5000
    again = upload(client, csv_of(*lines)).get_data(as_text=True)
    assert "5,000 people already as the file says" in again


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("02/09/2024", date(2024, 9, 2)),
        ("2/9/2024", date(2024, 9, 2)),
        ("02-09-2024", date(2024, 9, 2)),
        ("02.09.2024", date(2024, 9, 2)),
        ("2024-09-02", date(2024, 9, 2)),
        ("2 September 2024", date(2024, 9, 2)),
        ("2 Sep 2024", date(2024, 9, 2)),
        (" 2  sep 2024 ", date(2024, 9, 2)),
        ("09/02/24", None),
        ("31/02/2024", None),
        ("2024/09/02", None),
        ("yesterday", None),
    ],
)
def test_uk_dates(text, expected):
    assert parse_uk_date(text) == expected


@pytest.mark.parametrize(
    ("cell", "formula"),
    [("=1+1", True), ("+44 20", True), ("@SUM(A1)", True), ("-2+3", True), ("\tx", True),
     ("-5", False), ("-12.5", False), ("Smith-Jones", False), ("O'Neill", False)],
)  # fmt: skip
def test_cells_a_spreadsheet_would_run(cell, formula):
    assert looks_like_formula(cell) is formula


def test_what_a_file_says_is_shown_escaped_on_the_preview(trust, make, login):
    member = make.staff(trust["oak"], name="Kim Kept")
    client = login(trust["admin"])
    script = "<script>alert('x')</script>"
    html = upload(
        client,
        csv_of(
            f"{script},Teacher,X001,OAK,,,,",
            f"Kim Kept,{script},{member.employee_number},OAK,,,,",
            f"Someone,Teacher,X002,{script},,,,",
        ),
    ).get_data(as_text=True)
    assert script not in html
    escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
    assert html.count(escaped) == 3
