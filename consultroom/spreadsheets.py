"""Spreadsheets in and out: the one reader of every import (CSV and XLSX) and the one writer of every
export (CSV and XLSX with the formula guard).

Reading is defensive because the files come from anyone's office software: the size, the zip's
declared sizes and ratio (an .xlsx is a zip, and a few kilobytes can unpack to gigabytes), the time
spent and the rows are bounded; CSV is decoded as Excel writes it (UTF-8 with or without BOM,
UTF-16, or CP949 on Korean Windows) with its delimiter chosen by the headings; an .xlsx's merged
cells and formulas without a saved result are noted, since the values alone read them as empty.
Every refusal is an Invalid on the field "file" whose message says what to do.

Writing guards text that a spreadsheet would run as a formula (=, +, -, @, tab, CR) by a leading
apostrophe, so a name typed as "=HYPERLINK(...)" stays text in the exported file.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from time import monotonic
from typing import IO, Any
from xml.etree import ElementTree

from flask_babel import gettext as _

from consultroom import xlsx
from consultroom.errors import Invalid

# An .xlsx is a zip: a few kilobytes can unpack to gigabytes of XML. The sizes the zip declares
# bound what is read (Python's zipfile stops each member at its declared size and checks its CRC),
# so checking them before parsing bounds the work. A real workbook of MAX_ROWS rows unpacks to a
# few tens of megabytes and compresses its sheets 5-30 times.
MAX_UNPACKED_BYTES = 60 * 1024 * 1024
MAX_RATIO = 200  # unpacked / packed, for members large enough to matter
RATIO_MIN_BYTES = 1024 * 1024
MAX_ZIP_MEMBERS = 500
# Seconds a file may take to be read; a crafted file slow to parse is refused, not waited for.
PARSE_SECONDS = 20.0
MAX_ROWS = 5000  # no table we import is longer; importers refuse past it
MAX_COLUMNS = 60
# A sheet may carry formatting far below its data; this many empty rows in a row end the reading.
EMPTY_ROWS_END = 1000

Table = Iterator[tuple[int, list[Any]]]  # (row number as the spreadsheet shows it, cell values)
Notes = dict[tuple[int, int], tuple[str, str]]  # (row, column index) -> (kind, detail)


def file_error(*messages: str) -> Invalid:
    return Invalid(messages[0], fields={"file": list(messages)})


def read_table(filename: str, raw: bytes, *, max_bytes: int) -> tuple[str, Table, Notes]:
    """A .csv or .xlsx upload as (its safe file name, its rows read lazily within the time budget,
    the notes filled while the rows are read). Invalid (field "file") for a file that cannot be read."""
    name = PurePath((filename or "").replace("\\", "/")).name[:255]
    if len(raw) > max_bytes:
        raise file_error(_("The file is larger than %(n)d MB.", n=max_bytes // (1024 * 1024)))
    if not raw:
        raise file_error(_("The file is empty."))
    suffix = PurePath(name).suffix.lower()
    notes: Notes = {}
    if suffix == ".csv":
        table = csv_rows(raw)
    elif suffix == ".xlsx":
        table = xlsx_rows(raw, notes)
    elif suffix == ".xls":
        raise file_error(_("Old Excel files (.xls) cannot be read. Save the file as .xlsx or CSV and upload it again."))
    else:
        raise file_error(_("Upload a .csv or .xlsx file."))
    return name, _within_budget(table, monotonic() + PARSE_SECONDS), notes


def _within_budget(table: Iterable[tuple[int, list[Any]]], deadline: float) -> Table:
    for item in table:
        if monotonic() > deadline:
            raise file_error(
                _("The file took too long to read. Save it again as a plain .xlsx or CSV file, or split it.")
            )
        yield item


def check_zip_bounds(raw: bytes) -> None:
    """Refuse a zip (an .xlsx) that would unpack to far more than it weighs, before any parsing."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise file_error(_("The Excel file cannot be read. Save it again in Excel as .xlsx.")) from exc
    too_big = _("The Excel file unpacks to too much data to be a table to import. Save it again in Excel as .xlsx.")
    if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise file_error(too_big)
    for member in members:
        if member.file_size >= RATIO_MIN_BYTES and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise file_error(too_big)


# --- reading -------------------------------------------------------------------------------------


def decode_csv(raw: bytes) -> str:
    """UTF-8 (with or without a BOM), UTF-16 with a BOM, or CP949.

    Excel on Korean Windows saves "CSV" in CP949 and "CSV UTF-8" with a BOM. Strict UTF-8 is tried
    first: CP949 text with Korean in it is practically never valid UTF-8, while ASCII is both.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        encodings: Sequence[str] = ("utf-8-sig",)
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "cp949")
    for encoding in encodings:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise file_error(
        _('The file is neither UTF-8 nor Korean (CP949) text. In Excel, save it as "CSV UTF-8" and upload it again.')
    )


def csv_rows(raw: bytes) -> Table:
    return text_rows(csv_text(raw))


def csv_text(raw: bytes) -> str:
    if raw.startswith(b"PK\x03\x04"):
        raise file_error(_("This is an Excel workbook, not a CSV file. Upload it with the .xlsx extension."))
    text = decode_csv(raw)
    if "\x00" in text:
        raise file_error(_("This is not a text (CSV) file."))
    return text


def text_rows(text: str) -> Table:
    """CSV text (an upload decoded, or text pasted into a form) as numbered rows."""
    text = text.lstrip("\ufeff")
    first_line = text.split("\n", 1)[0]
    # Excel writes ";" where the decimal comma is used, and tabs for "Unicode text"; choose by the headings.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise file_error(_("The CSV file cannot be read: %(reason)s", reason=str(exc))) from exc


def xlsx_rows(raw: bytes, notes: Notes) -> Table:
    """The first sheet's rows; fills `notes` with what the values alone do not show (merged cells,
    formulas without a stored result), keyed by (row number, column index)."""
    from openpyxl import load_workbook

    if not raw.startswith(b"PK\x03\x04"):
        raise file_error(_("This is not an Excel (.xlsx) file."))
    check_zip_bounds(raw)
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl fails in many ways on a damaged file; each means "cannot read"
        raise file_error(_("The Excel file cannot be read. Save it again in Excel as .xlsx.")) from exc
    try:
        if not book.worksheets:
            raise file_error(_("The file is empty."))
        sheet = book.worksheets[0]
        notes.update(sheet_notes(raw, getattr(sheet, "_worksheet_path", "")))
        for number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            yield number, list(values)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, ElementTree.ParseError) as exc:
        raise file_error(_("The Excel file cannot be read. Save it again in Excel as .xlsx.")) from exc
    finally:
        book.close()


_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")


def cell_index(ref: str) -> tuple[int, int]:
    """ "C7" -> (7, 2): the row number and the 0-based column index."""
    match = _CELL_REF.fullmatch(ref)
    if match is None:
        raise ValueError(f"not a cell reference: {ref}")
    letters, row = match.groups()
    col = 0
    for ch in letters:
        col = col * 26 + (ord(ch) - 64)
    return int(row), col - 1


def sheet_notes(raw: bytes, path: str) -> Notes:
    """Read the sheet's XML once more, streaming (its size is bounded by check_zip_bounds), for what
    openpyxl's read-only values hide: a merged range's value sits in its first cell only, so the
    other rows read empty; a formula saved without its result (by a program other than Excel)
    reads empty too. Returns (row, column index) -> (kind, detail)."""
    notes: Notes = {}
    if not path:
        return notes
    with zipfile.ZipFile(io.BytesIO(raw)) as archive, archive.open(path.lstrip("/")) as xml:
        # ElementTree resolves no external entities, and expat >= 2.4 (bundled with Python 3.11)
        # limits entity amplification; the same parser openpyxl itself uses without defusedxml.
        for _event, elem in ElementTree.iterparse(xml):  # noqa: S314
            tag = elem.tag.rsplit("}", 1)[-1]
            if tag == "c":
                has_formula = any(child.tag.endswith("}f") or child.tag == "f" for child in elem)
                value = next((child for child in elem if child.tag.endswith("}v") or child.tag == "v"), None)
                if has_formula and (value is None or not (value.text or "").strip()) and elem.get("r"):
                    notes[cell_index(elem.get("r", ""))] = ("formula", elem.get("r", ""))
                elem.clear()  # keep memory flat on large sheets
            elif tag == "mergeCell":
                first, _sep, last = (elem.get("ref") or "").partition(":")
                if not last:
                    continue
                (top, left), (bottom, right) = cell_index(first), cell_index(last)
                for row in range(top, min(bottom, top + MAX_ROWS + EMPTY_ROWS_END) + 1):
                    for col in range(left, min(right, MAX_COLUMNS - 1) + 1):
                        if (row, col) != (top, left):
                            notes[(row, col)] = ("merged", first)
            elif tag == "row":
                elem.clear()
    return notes


# --- writing -------------------------------------------------------------------------------------

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def guard(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, made text; anything else unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(out: IO[bytes], header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> None:
    """UTF-8 with a BOM, so Excel on Korean Windows opens it as UTF-8; every text cell guarded.

    Each row goes to `out` as it comes (through the wrapper's small buffer), so a file of a year's
    rows takes the memory of a row, not of its text."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")  # newline="": the csv module's \r\n as is
    try:
        text.write("\ufeff")
        writer = csv.writer(text)
        writer.writerow([guard(h) for h in header])
        writer.writerows(_guarded(rows))  # the csv module writes None as an empty field
        text.flush()
    finally:
        text.detach()  # `out` stays open: it is the caller's


def csv_bytes(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> bytes:
    """As write_csv, in memory (a page's small file, sent at once)."""
    out = io.BytesIO()
    write_csv(out, header, rows)
    return out.getvalue()


@dataclass
class Sheet:
    """A worksheet to write: its title, heading row (None for none), rows, and number formats by column
    index (a write-only sheet keeps no cells to format afterwards, so each cell carries its own)."""

    title: str
    header: Sequence[Any] | None
    rows: Iterable[Sequence[Any]]
    formats: dict[int, str] = field(default_factory=dict)


def _guarded(rows: Iterable[Sequence[Any]]) -> Iterator[list[Any]]:
    starts = _FORMULA_STARTS
    for row in rows:
        # guard() inlined: it runs for every cell of a year's export
        yield [("'" + v if v.startswith(starts) else v) if isinstance(v, str) else v for v in row]


def write_xlsx(sheets: Iterable[Sheet | tuple], out: IO[bytes]) -> None:
    """One worksheet per Sheet (or (title, header, rows)) written to `out`, streamed by consultroom.xlsx
    (memory stays flat however many rows), every text cell guarded; numbers, dates and times stay typed."""
    specs = [spec if isinstance(spec, Sheet) else Sheet(*spec) for spec in sheets]
    # The writer guards each distinct text once (prepare_text), not every cell of every row.
    xlsx.write([(spec.title[:31], spec.header, spec.rows, spec.formats) for spec in specs], out, prepare_text=guard)


def xlsx_bytes(sheets: Iterable[Sheet | tuple]) -> bytes:
    """As write_xlsx, in memory."""
    out = io.BytesIO()
    write_xlsx(sheets, out)
    return out.getvalue()


def xlsx_file(sheets: Iterable[Sheet | tuple]) -> IO[bytes]:
    """As xlsx_bytes, into a temporary file rewound for sending (deleted when closed): for a year of
    rows, whose workbook would not fit comfortably in memory."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - the response sends it, then closes (and so deletes) it
    write_xlsx(sheets, out)
    out.seek(0)
    return out
