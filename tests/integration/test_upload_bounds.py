"""Bounded uploads (issue 17, item 5): a request size limit answered with a clear 413 page or API
error before the body is read; .xlsx (zip) files checked for unpacked size and compression ratio
before parsing; reading with a time budget."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from flask_babel import force_locale
from openpyxl import Workbook

from consultroom import spreadsheets
from consultroom.buyers.importing import parse_upload
from consultroom.buyers.models import BuyerImportBatch
from consultroom.errors import Invalid
from consultroom.extensions import db
from tests.factories import make_user
from tests.integration.test_api_support import bearer

TOO_BIG = "The Excel file unpacks to too much data to be a table to import. Save it again in Excel as .xlsx."


def _workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _bomb(unpacked_bytes: int) -> bytes:
    """A real workbook whose first sheet is padded with whitespace: tiny packed, huge unpacked."""
    good = zipfile.ZipFile(io.BytesIO(_workbook([["company", "country", "email"], ["A", "US", "a@a.example"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for info in good.infolist():
            data = good.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * unpacked_bytes, 1)
            bomb.writestr(info.filename, data)
    return out.getvalue()


def _errors(filename: str, raw: bytes) -> list[str]:
    with force_locale("en"), pytest.raises(Invalid) as caught:
        parse_upload(filename, raw)
    return caught.value.fields["file"]


def test_request_over_the_limit_answers_413_page_before_reading(client, app, login_as):
    login_as("staff")
    raw = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    with force_locale("en"):
        response = client.submit("/staff/buyers/import", {"file": (io.BytesIO(raw), "buyers.csv")})
    assert response.status_code == 413
    assert "The request is larger than 8 MB, the most this site accepts. Send a smaller file." in response.get_data(
        as_text=True
    )
    assert db.session.query(BuyerImportBatch).count() == 0


def test_request_over_the_limit_answers_413_json_in_the_api(client, app):
    staff = make_user("staff")
    db.session.commit()
    headers = {**bearer(staff), "Accept-Language": "en"}
    raw = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/api/v1/buyers/imports", data={"file": (io.BytesIO(raw), "buyers.csv")}, headers=headers)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert response.get_json()["error"]["fields"] == {}


def test_xlsx_with_high_compression_ratio_is_refused_before_parsing(app):
    raw = _bomb(50 * 1024 * 1024)
    assert len(raw) < 200 * 1024
    started = time.perf_counter()
    assert _errors("buyers.xlsx", raw) == [TOO_BIG]
    # Refused from the zip directory alone; parsing 50 MB of sheet XML would take many seconds.
    assert time.perf_counter() - started < 1.0


def test_xlsx_unpacking_past_the_total_limit_is_refused(app, monkeypatch):
    raw = _workbook([["company", "country", "email"], ["A", "US", "a@a.example"]])
    unpacked = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(raw)).infolist())
    monkeypatch.setattr(spreadsheets, "MAX_UNPACKED_BYTES", unpacked - 1)
    assert _errors("buyers.xlsx", raw) == [TOO_BIG]
    monkeypatch.setattr(spreadsheets, "MAX_UNPACKED_BYTES", unpacked)
    assert len(parse_upload("buyers.xlsx", raw).rows) == 1


def test_xlsx_of_ordinary_size_and_ratio_is_read(app):
    rows = [["company", "country", "email"]] + [[f"Company {i}", "US", f"c{i}@c.example"] for i in range(2000)]
    assert len(parse_upload("buyers.xlsx", _workbook(rows)).rows) == 2000


def test_parsing_past_its_time_budget_is_refused(app, monkeypatch):
    monkeypatch.setattr(spreadsheets, "PARSE_SECONDS", -1.0)
    assert _errors("buyers.csv", b"company,country,email\nA,US,a@a.example\n") == [
        "The file took too long to read. Save it again as a plain .xlsx or CSV file, or split it."
    ]
