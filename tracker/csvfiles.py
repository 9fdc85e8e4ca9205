"""Reading CSV files people upload: the text in whatever encoding a spreadsheet saved,
its rows, dates as the UK writes them, and cells a spreadsheet would run as formulas."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

# Numeric dates are day first (02/09/2024, 2-9-2024, 02.09.2024); ISO dates (2024-09-02)
# and written ones (2 September 2024, 2 Sep 2024) too. Two-digit years are refused: 02/09/24
# could be 1924 for a retirement date.
_NUMERIC = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_WRITTEN_FORMATS = ("%d %B %Y", "%d %b %Y")
DATE_EXAMPLE = "02/09/2024"

# A cell starting with one of these is run as a formula by Excel and its kind when the
# file is opened again (CSV injection): refused rather than stored.
_FORMULA_STARTS = ("=", "+", "@", "\t", "\r")
_SIGNED_NUMBER = re.compile(r"^-\d[\d.,]*$")


@dataclass(frozen=True)
class Decoded:
    text: str
    # None for UTF-8 (with or without a byte-order mark); otherwise the encoding it was
    # read as, for the person to check the names came through.
    guessed: str | None = None


def decode(content: bytes) -> Decoded:
    """The file's text. UTF-8 (Excel's "CSV UTF-8" adds a byte-order mark), UTF-16 with
    its byte-order mark (Excel's "Unicode text"), or else Windows-1252, the Western
    European encoding Excel's plain "CSV" uses on a UK computer. ValueError, in words,
    for anything else."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return Decoded(content.decode("utf-16"), "UTF-16")
        except UnicodeDecodeError:
            pass
    else:
        try:
            return Decoded(content.decode("utf-8-sig"))
        except UnicodeDecodeError:
            pass
        try:
            text = content.decode("cp1252")
        except UnicodeDecodeError:
            pass
        else:
            if "\x00" not in text:
                return Decoded(text, "Windows-1252 (Western European)")
    raise ValueError(
        "The file could not be read as text. Save it from your spreadsheet as "
        "“CSV UTF-8 (Comma delimited)” and upload it again"
    )


def rows(text: str, on_error: Callable[[int, str], None]) -> Iterator[tuple[int, list[str]]]:
    """Each row with its line number, read as needed. A line the csv module refuses (a
    value longer than its limit) ends them, reported through `on_error`."""
    reader = csv.reader(io.StringIO(text))
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error:
        on_error(reader.line_num, "This line is too long to read as CSV")


def parse_uk_date(value: str) -> date | None:
    """A date as a UK spreadsheet writes it, or None."""
    value = " ".join(value.split())
    numeric = _NUMERIC.match(value)
    iso = _ISO.match(value)
    try:
        if numeric:
            day, month, year = (int(part) for part in numeric.groups())
            return date(year, month, day)
        if iso:
            year, month, day = (int(part) for part in iso.groups())
            return date(year, month, day)
    except ValueError:
        return None
    for fmt in _WRITTEN_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a date only
        except ValueError:
            continue
    return None


def looks_like_formula(value: str) -> bool:
    """Whether a spreadsheet would take the cell for a formula (a negative number is
    only a number)."""
    if value.startswith(_FORMULA_STARTS):
        return True
    return value.startswith("-") and not _SIGNED_NUMBER.match(value)
