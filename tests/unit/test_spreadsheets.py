"""The one spreadsheet reader and writer (consultroom/spreadsheets.py): every export guards formula-
looking text, keeps numbers and dates typed, and reads back what it wrote."""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from consultroom import spreadsheets
from consultroom.errors import Invalid


def test_guard_makes_formula_looking_text_text_and_leaves_the_rest():
    assert [spreadsheets.guard(v) for v in ("=HYPERLINK(1)", "+1", "-2", "@x", "\tx", "\rx", "Japan", "")] == [
        "'=HYPERLINK(1)",
        "'+1",
        "'-2",
        "'@x",
        "'\tx",
        "'\rx",
        "Japan",
        "",
    ]
    assert spreadsheets.guard(-2) == -2
    assert spreadsheets.guard(None) is None


def test_csv_bytes_has_a_bom_guards_every_cell_and_reads_back():
    body = spreadsheets.csv_bytes(["회사", "=note"], [["=cmd|' /C calc'!A0", 3], ["한국", None]])
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [["회사", "'=note"], ["'=cmd|' /C calc'!A0", "3"], ["한국", ""]]


def test_write_csv_writes_the_bytes_csv_bytes_wrote_into_a_file_it_leaves_open():
    """The export job's file (write_csv into a temporary file) is the page's file byte for byte: the
    same bytes as the former csv_bytes (StringIO, then encoded), with line breaks inside cells, quotes,
    Korean text past the wrapper's buffer and guarded formulas."""
    header = ["회사", "=note"]
    rows = [["=cmd|' /C calc'!A0", 3], ["한국", None], ['say "hi"\nand\r\nbye', 1.5]] + [
        ["가" * 50, n] for n in range(500)
    ]

    def former(header, rows) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([spreadsheets.guard(h) for h in header])
        writer.writerows([[spreadsheets.guard(v) for v in row] for row in rows])
        return ("\ufeff" + out.getvalue()).encode("utf-8")

    with tempfile.TemporaryFile() as out:
        spreadsheets.write_csv(out, header, iter(rows))
        assert not out.closed
        out.seek(0)
        written = out.read()

    assert written == former(header, rows) == spreadsheets.csv_bytes(header, rows)


def test_xlsx_bytes_keeps_types_and_guards_text_in_every_sheet():
    body = spreadsheets.xlsx_bytes(
        [
            ("a very long sheet title that Excel would refuse", ["day", "n", "text"], [[date(2026, 3, 2), 7, "+82"]]),
            ("second", ["at"], [[datetime(2026, 3, 2, 14, 30)]]),
        ]
    )
    book = load_workbook(io.BytesIO(body))
    first, second = book.worksheets
    assert first.title == "a very long sheet title that Ex"
    assert [c.value for c in first[2]] == [datetime(2026, 3, 2), 7, "'+82"]
    assert second["A2"].value == datetime(2026, 3, 2, 14, 30)


def test_what_the_writer_wrote_the_reader_reads():
    body = spreadsheets.xlsx_bytes([("s", ["company", "country"], [["Acme", "JP"], ["한빛", "KR"]])])
    name, table, _notes = spreadsheets.read_table("buyers.xlsx", body, max_bytes=1_000_000)
    assert name == "buyers.xlsx"
    # Rows come padded to the columns read (a write-only sheet declares no size); the cells are the ones written.
    assert [[c for c in cells if c is not None] for _n, cells in table] == [
        ["company", "country"],
        ["Acme", "JP"],
        ["한빛", "KR"],
    ]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_text_rows_choose_the_delimiter_by_the_headings(delimiter):
    text = "\ufeff" + delimiter.join(["date", "currency", "krw_per_unit"]) + "\n2026-01-02" + delimiter + "USD\n"
    assert list(spreadsheets.text_rows(text)) == [(1, ["date", "currency", "krw_per_unit"]), (2, ["2026-01-02", "USD"])]


def test_read_table_names_the_file_field_for_every_refusal():
    for filename, raw in [("a.csv", b""), ("a.xls", b"x"), ("a.pdf", b"x"), ("a.csv", b"x" * 11)]:
        with pytest.raises(Invalid) as exc:
            _name, table, _notes = spreadsheets.read_table(filename, raw, max_bytes=10)
            list(table)
        assert list(exc.value.fields) == ["file"]


def test_xlsx_file_streams_sheets_with_per_column_formats_and_no_heading_when_none():
    sheets = [
        spreadsheets.Sheet("summary", None, [["Invited", 3], [], ["=1+1", None]]),
        spreadsheets.Sheet(
            "answers", ["day", "at"], [[date(2026, 3, 2), datetime(2026, 3, 2, 14, 30)]], formats={0: "yyyy-mm-dd"}
        ),
    ]
    with spreadsheets.xlsx_file(sheets) as out:
        book = load_workbook(out)
    summary, answers = book.worksheets
    assert [[c.value for c in row] for row in summary.iter_rows()] == [["Invited", 3], [None, None], ["'=1+1", None]]
    assert answers["A2"].number_format == "yyyy-mm-dd"
    assert answers["A2"].value == datetime(2026, 3, 2)


def test_xlsx_keeps_every_value_type_and_cuts_text_to_excels_cell_limit():
    from datetime import time
    from decimal import Decimal

    long_text = "가" * 40_000
    body = spreadsheets.xlsx_bytes(
        [("s", None, [[True, Decimal("3.50"), 2.25, -7, time(9, 30), datetime(1900, 1, 15, 12), long_text, "a & <b>"]])]
    )
    sheet = load_workbook(io.BytesIO(body)).active
    cells = sheet[1]
    assert [c.value for c in cells[:6]] == [True, 3.5, 2.25, -7, time(9, 30), datetime(1900, 1, 15, 12)]
    assert cells[4].number_format == "h:mm:ss" and cells[5].number_format == "yyyy-mm-dd h:mm:ss"
    assert cells[6].value == "가" * 32_767 and cells[7].value == "a & <b>"


def test_xlsx_writes_control_characters_as_excel_escapes_instead_of_failing():
    # openpyxl refused the whole workbook (IllegalCharacterError) for one such character in a typed answer.
    body = spreadsheets.xlsx_bytes([("s", ["text"], [["bell\x07 and tab\tinside"], ["\x0bstart"]])])
    values = [row[0] for row in load_workbook(io.BytesIO(body)).active.iter_rows(min_row=2, values_only=True)]
    assert values == ["bell_x0007_ and tab\tinside", "_x000B_start"]


def test_xlsx_refuses_what_excel_cannot_hold():
    with pytest.raises(TypeError):
        spreadsheets.xlsx_bytes([("s", None, [[datetime(2026, 3, 2, tzinfo=UTC)]])])
    with pytest.raises(ValueError, match="Cannot convert"):
        spreadsheets.xlsx_bytes([("s", None, [[object()]])])


def test_xlsx_keeps_text_that_reads_like_an_error_code_as_text():
    # openpyxl wrote "#N/A" as an error cell, which a sum over the column then propagates
    body = spreadsheets.xlsx_bytes([("s", None, [["#N/A", "#DIV/0!"]])])
    cells = load_workbook(io.BytesIO(body)).active[1]
    assert [(c.value, c.data_type) for c in cells] == [("#N/A", "s"), ("#DIV/0!", "s")]
