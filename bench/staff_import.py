"""The staff register import at trust scale: a 5,000-row file from the MIS, previewed and
then confirmed through the real pages as the trust administrator, beside a reference
measured in the same run: the same rows read by the csv module and inserted by one bare
executemany (rolled back)."""

from __future__ import annotations

import csv
import io
import re
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import insert, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from bench.run import sign_in
from bench.seed import BenchUser
from tracker.extensions import db
from tracker.orgs.models import School
from tracker.staff.imports import COLUMNS
from tracker.staff.models import StaffMember

ROWS = 5000
# Budgets of issue 17.
PREVIEW_SECONDS = 5.0
APPLY_SECONDS = 10.0
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_HIDDEN = re.compile(r'name="(upload_token|plan_digest)"[^>]*value="([^"]+)"')


@dataclass
class ImportFigures:
    rows: int = 0
    preview_seconds: float = 0.0
    apply_seconds: float = 0.0
    reference_seconds: float = 0.0
    added: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def register_file(codes: list[str], rows: int = ROWS) -> bytes:
    """A register export: new people spread over the trust's schools."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS.values())
    for number in range(rows):
        writer.writerow(
            [
                f"Imported Person {number}",
                "Teaching assistant",
                f"MIS{number:06d}",
                codes[number % len(codes)],
                f"person{number}@bench.example",
                "01/09/2021",
                "",
                "31/08/2058",
            ]  # fmt: skip
        )
    return out.getvalue().encode()


def _reference(content: bytes, trust_id: int, school_ids: dict[str, int]) -> float:
    started = time.perf_counter()
    rows = list(csv.reader(io.StringIO(content.decode())))[1:]
    db.session.execute(
        insert(StaffMember),
        [
            {
                "trust_id": trust_id,
                "school_id": school_ids[row[3]],
                "full_name": row[0],
                "job_title": row[1],
                "employee_number": row[2],
            }  # fmt: skip
            for row in rows
        ],
    )
    elapsed = time.perf_counter() - started
    db.session.rollback()
    return round(elapsed, 3)


def measure_import(app: Flask, admin: BenchUser) -> ImportFigures:
    schools = db.session.scalars(select(School)).all()
    codes = {school.code: school.id for school in schools}
    trust_id = schools[0].trust_id
    db.session.commit()
    content = register_file(sorted(codes))
    figures = ImportFigures(rows=ROWS)
    figures.reference_seconds = _reference(content, trust_id, codes)

    client = sign_in(app, admin)
    page = client.get("/staff/import").get_data(as_text=True)
    token = _CSRF.search(page)
    if token is None:
        raise RuntimeError("no CSRF token on the import page")
    body, boundary = _multipart(token.group(1), content)
    started = time.perf_counter()
    preview = client.post(
        "/staff/import", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    figures.preview_seconds = round(time.perf_counter() - started, 3)
    html = preview.get_data(as_text=True)
    hidden = dict(_HIDDEN.findall(html))
    csrf = _CSRF.search(html)
    if preview.status_code != 200 or len(hidden) != 2 or csrf is None:
        raise RuntimeError(f"the preview answered {preview.status_code} with no confirmation")
    started = time.perf_counter()
    done = client.post("/staff/import/confirm", data={"csrf_token": csrf.group(1), **hidden})
    figures.apply_seconds = round(time.perf_counter() - started, 3)
    if done.status_code != 302:
        raise RuntimeError(f"the confirmation answered {done.status_code}")
    figures.added = (
        db.session.scalar(
            select(db.func.count())
            .select_from(StaffMember)
            .where(StaffMember.employee_number.like("MIS%"))
        )
        or 0
    )
    db.session.commit()
    return figures


def _multipart(csrf: str, content: bytes) -> tuple[bytes, str]:
    boundary, body = encode_multipart(
        {"csrf_token": csrf, "csv_file": FileStorage(io.BytesIO(content), "register.csv")}
    )
    return body, boundary


def budgets(figures: ImportFigures) -> list[tuple[str, float, str, float]]:
    return [
        (f"staff import preview, {figures.rows:,} rows (s)", figures.preview_seconds, "<=",
         PREVIEW_SECONDS),
        (f"staff import apply, {figures.rows:,} rows (s)", figures.apply_seconds, "<=",
         APPLY_SECONDS),
        ("staff import, every row added", int(figures.added == figures.rows), ">=", 1),
    ]  # fmt: skip
