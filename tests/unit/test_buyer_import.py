"""Reading buyer files (CSV in UTF-8, UTF-8 with BOM, CP949; XLSX with typed cells) and the parsers behind it."""

from __future__ import annotations

import io
from datetime import time

import pytest
from flask_babel import force_locale
from openpyxl import Workbook

from consultroom import table_import
from consultroom.buyers import importing
from consultroom.buyers.importing import cell_text, excel_hs_text, parse_upload
from consultroom.buyers.validation import (
    company_key,
    infer_timezone,
    interest_code_ok,
    parse_country,
    parse_days,
    parse_language,
    parse_time,
    parse_timezone,
)
from consultroom.errors import Invalid
from consultroom.spreadsheets import decode_csv

HEADER_EN = "company,country,contact,email,phone,timezone,languages,hs_codes,keywords,size,source,meet_from,meet_to"
ROW_EN = (
    "Acme Beauty,US,Jane Roe,Jane@Acme.example.com,+1 212 555 0100,America/New_York,en,"
    '"3304, 330499",skin care,medium,KOTRA,09:00,17:00'
)


@pytest.fixture(autouse=True)
def _english():
    """The messages below are asserted in English; outside a request the app's default, Korean, applies."""
    with force_locale("en"):
        yield


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def file_errors(filename: str, raw: bytes) -> list[str]:
    with pytest.raises(Invalid) as caught:
        parse_upload(filename, raw)
    return caught.value.fields["file"]


def test_parse_upload_utf8_csv_maps_english_headings_to_fields():
    parsed = parse_upload("buyers.csv", f"{HEADER_EN}\n{ROW_EN}\n".encode())
    assert parsed.filename == "buyers.csv"
    assert parsed.columns["email"] == {"heading": "email", "letter": "D"}
    assert parsed.rows == [
        {
            "row": 2,
            "values": {
                "company_name": "Acme Beauty",
                "country": "US",
                "contact_name": "Jane Roe",
                "email": "Jane@Acme.example.com",
                "phone": "+1 212 555 0100",
                "timezone": "America/New_York",
                "languages": "en",
                "interest_codes": "3304, 330499",
                "keywords": "skin care",
                "size": "medium",
                "source": "KOTRA",
                "meet_from": "09:00",
                "meet_to": "17:00",
            },
        }
    ]


def test_parse_upload_cp949_csv_from_korean_excel_reads_korean_headings_and_text():
    text = "회사명,국가,담당자,이메일,전화,시간대,언어,관심 HS,키워드,규모,출처,미팅 시작,미팅 종료\r\n"
    text += "한빛무역,VN,Nguyen Van A,a@hanbit.example.vn,84-28-1234,,"
    text += "베트남어,3304,화장품 수입,중형,무역박람회,8:30,17:00\r\n"
    raw = text.encode("cp949")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the point of the test: these bytes are not UTF-8
    parsed = parse_upload("바이어.csv", raw)
    values = parsed.rows[0]["values"]
    assert parsed.columns["interest_codes"] == {"heading": "관심 HS", "letter": "H"}
    assert values["company_name"] == "한빛무역"
    assert values["keywords"] == "화장품 수입"
    assert values["languages"] == "베트남어"
    assert values["size"] == "중형"
    assert values["timezone"] == ""


def test_parse_upload_utf8_bom_csv_first_heading_is_clean():
    raw = b"\xef\xbb\xbf" + b"company,country,email\nAcme,US,a@acme.example.com\n"
    parsed = parse_upload("buyers.csv", raw)
    assert parsed.columns["company_name"] == {"heading": "company", "letter": "A"}
    assert parsed.rows[0]["values"]["company_name"] == "Acme"


def test_parse_upload_semicolon_csv_is_read():
    parsed = parse_upload("buyers.csv", b"company;country;email\nAcme, Inc.;US;a@acme.example.com\n")
    assert parsed.rows[0]["values"] == {"company_name": "Acme, Inc.", "country": "US", "email": "a@acme.example.com"}


def test_parse_upload_row_numbers_are_excel_rows_with_empty_rows_skipped():
    raw = b"company,country,email\nA,US,a@a.example.com\n,,\nB,US,b@b.example.com\n"
    parsed = parse_upload("buyers.csv", raw)
    assert [r["row"] for r in parsed.rows] == [2, 4]


def test_parse_upload_xlsx_numeric_hs_codes_and_phones_become_text():
    raw = xlsx_bytes(
        [
            ["Company", "Country", "E-mail", "Phone", "HS codes", "Meet from", "Meet to"],
            ["Acme", "US", "a@acme.example.com", 12125550100, 330499, time(8, 30), 0.75],
            ["Beta", "JP", "b@beta.example.jp", 81312345678.0, 3304.0, "9:00", "18:00"],
            ["Gamma", "CL", "c@gamma.example.cl", None, 10121, None, None],
            ["Delta", "DE", "d@delta.example.de", None, 3304.1, None, None],
        ]
    )
    parsed = parse_upload("buyers.xlsx", raw)
    rows = [r["values"] for r in parsed.rows]
    assert [r["interest_codes"] for r in rows] == ["330499", "3304", "010121", "330410"]
    assert [r["phone"] for r in rows] == ["12125550100", "81312345678", "", ""]
    assert rows[0]["meet_from"] == "08:30"
    assert rows[0]["meet_to"] == "18:00"
    assert [r["row"] for r in parsed.rows] == [2, 3, 4, 5]


def test_parse_upload_unknown_and_missing_columns_are_named():
    errors = file_errors("buyers.csv", b"company,nation,email,fax\nAcme,US,a@acme.example.com,1\n")
    assert errors[0] == 'Column B "nation" is not a known column.'
    assert errors[1] == 'Column D "fax" is not a known column.'
    assert errors[2] == 'The column "country" is missing.'
    assert errors[3].startswith("Known columns: company, country, contact")


def test_parse_upload_two_columns_for_one_field_is_an_error():
    errors = file_errors("buyers.csv", "company,회사명,country,email\nA,B,US,a@a.example.com\n".encode())
    assert errors[0] == 'Columns A and B both mean "company".'


def test_parse_upload_values_without_heading_are_an_error():
    errors = file_errors("buyers.csv", b"company,country,email\nA,US,a@a.example.com,stray\n")
    assert errors == ["Column D has values (from row 2) but no heading."]


@pytest.mark.parametrize(
    ("filename", "raw", "message"),
    [
        ("buyers.txt", b"company,country,email\n", "Upload a .csv or .xlsx file."),
        ("buyers.pdf", b"%PDF-1.4", "Upload a .csv or .xlsx file."),
        ("buyers", b"company", "Upload a .csv or .xlsx file."),
        ("buyers.xls", b"\xd0\xcf\x11\xe0", "Old Excel files (.xls) cannot be read."),
        ("buyers.xlsx", b"company,country,email\n", "This is not an Excel (.xlsx) file."),
        ("buyers.xlsx", b"PK\x03\x04broken", "The Excel file cannot be read."),
        ("buyers.csv", b"", "The file is empty."),
        ("buyers.csv", b"\n\n", "The first row must hold the column headings"),
        ("buyers.csv", b"company,country,email\n", "The file has headings but no rows."),
        ("buyers.csv", b"\x80\xff\xfe\x81 not text", "The file is neither UTF-8 nor Korean (CP949) text."),
    ],
)
def test_parse_upload_refuses_files_it_cannot_read(filename, raw, message):
    assert file_errors(filename, raw)[0].startswith(message)


def test_parse_upload_xlsx_saved_as_csv_is_named():
    raw = xlsx_bytes([["company", "country", "email"]])
    assert file_errors("buyers.csv", raw) == [
        "This is an Excel workbook, not a CSV file. Upload it with the .xlsx extension."
    ]


def test_parse_upload_too_large_file_is_refused():
    raw = b"company,country,email\n" + b"x" * importing.MAX_BYTES
    assert file_errors("buyers.csv", raw) == ["The file is larger than 5 MB."]


def test_parse_upload_too_many_rows_is_refused(monkeypatch):
    monkeypatch.setattr(table_import, "MAX_ROWS", 3)  # the limit of every staff import
    raw = b"company,country,email\n" + b"".join(b"C%d,US,c%d@c.example.com\n" % (i, i) for i in range(4))
    assert file_errors("buyers.csv", raw) == ["The file has more than 3 rows. Split it and import the parts."]
    ok = b"company,country,email\n" + b"".join(b"C%d,US,c%d@c.example.com\n" % (i, i) for i in range(3))
    assert len(parse_upload("buyers.csv", ok).rows) == 3


def test_decode_csv_tries_utf8_then_cp949():
    assert decode_csv("회사명".encode()) == "회사명"
    assert decode_csv("회사명".encode("cp949")) == "회사명"
    assert decode_csv(b"\xef\xbb\xbfcompany") == "company"
    assert decode_csv("회사명".encode("utf-16")) == "회사명"


@pytest.mark.parametrize(
    ("value", "name", "expected"),
    [
        (330499, "interest_codes", "330499"),
        (3304.0, "interest_codes", "3304"),
        (3304.99, "interest_codes", "330499"),
        (3304.1, "interest_codes", "330410"),
        (10121, "interest_codes", "010121"),
        (3, "interest_codes", "03"),
        ("3304.99, 10121", "interest_codes", "330499, 010121"),
        ("33.04", "interest_codes", "3304"),
        (821012345678, "phone", "821012345678"),
        (8.21012345678e11, "phone", "821012345678"),
        (0.375, "meet_from", "09:00"),
        (time(17, 30), "meet_to", "17:30"),
        (None, "keywords", ""),
        ("  skin care ", "keywords", "skin care"),
    ],
)
def test_cell_text_turns_excel_values_into_typed_text(value, name, expected):
    assert cell_text(value, name) == expected


def test_excel_hs_text_leaves_other_text_for_the_validator():
    assert excel_hs_text("abc, 12345678") == "abc, 12345678"


@pytest.mark.parametrize("code", ["33", "3304", "330499", "01", "0101", "97"])
def test_interest_code_ok_accepts_chapters_headings_subheadings(code):
    assert interest_code_ok(code) is True


@pytest.mark.parametrize("code", ["77", "7701", "98", "00", "3300", "330", "33049", "3304999", "ab", ""])
def test_interest_code_ok_refuses_others(code):
    assert interest_code_ok(code) is False


@pytest.mark.parametrize(
    ("value", "code"),
    [("us", "US"), ("USA", "US"), ("United States", "US"), ("미국", "US"), ("DEU", "DE"), ("독일", "DE"), ("XX", None)],
)
def test_parse_country_codes_and_names(value, code):
    assert parse_country(value) == code


@pytest.mark.parametrize(
    ("value", "code"), [("EN", "en"), ("English", "en"), ("영어", "en"), ("spa", "es"), ("xx", None)]
)
def test_parse_language_codes_and_names(value, code):
    assert parse_language(value) == code


def test_parse_timezone_is_case_insensitive_and_strict():
    assert parse_timezone("america/new york") == "America/New_York"
    assert parse_timezone("Mars/Olympus") is None
    assert parse_timezone("KST") is None


def test_infer_timezone_only_when_the_country_has_one_main_zone():
    assert infer_timezone("VN") == "Asia/Ho_Chi_Minh"
    assert infer_timezone("CN") == "Asia/Shanghai"
    assert infer_timezone("US") is None
    assert infer_timezone("BR") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9", time(9)),
        ("09:30", time(9, 30)),
        ("0900", time(9)),
        ("6pm", time(18)),
        ("오후 6시", time(18)),
        ("25:00", None),
    ],
)
def test_parse_time(value, expected):
    assert parse_time(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Mon-Fri", [0, 1, 2, 3, 4]), ("월~금", [0, 1, 2, 3, 4]), ("0,2", [0, 2]), ("Fri-Mon", [0, 4, 5, 6]), ("x", None)],
)
def test_parse_days(value, expected):
    assert parse_days(value) == expected


def test_company_key_folds_case_width_and_spaces():
    assert company_key("  ACME   Trading  Ｃｏ. ") == company_key("acme trading co.") == "acme trading co."
