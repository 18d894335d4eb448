"""Import warnings by row and column (issue 17, item 7): merged cells, formulas without a saved
result and dates in text columns are named in the preview; dates are stored as ISO dates."""

from __future__ import annotations

import io
from datetime import datetime

from flask_babel import force_locale
from openpyxl import Workbook
from sqlalchemy import select

from consultroom.buyers.importing import parse_upload, preview_import
from consultroom.buyers.models import Buyer
from consultroom.extensions import db
from tests.factories import make_user
from tests.integration.test_api_support import bearer
from tests.integration.test_buyers import preview_digest, upload

HEADINGS = ["company", "country", "email", "notes", "phone", "source", "timezone"]


def _workbook() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADINGS)
    sheet.append(
        [
            "Acme Trading",
            "US",
            "buyer1@acme.example",
            "met at KOTRA fair",
            "+1 212 555 0100",
            "fair",
            "America/New_York",
        ]
    )
    sheet.append(["Bolt GmbH", "DE", "buyer2@bolt.example", None, None, "web"])
    sheet.append(["Cedar Ltd", "GB", "buyer3@cedar.example", datetime(2026, 3, 15), None, "referral"])
    sheet.merge_cells("D2:D3")  # the note of row 2 is meant for row 3 too
    sheet["E3"] = "=E2"  # openpyxl saves formulas without a result, as other programs do
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _warnings(raw: bytes) -> list[tuple[int, str, str, str]]:
    parsed = parse_upload("buyers.xlsx", raw)
    with force_locale("en"):
        preview = preview_import(parsed.rows, columns=parsed.columns)
        return [(w.row, w.heading, w.value, w.message) for w in preview.warnings]


def test_import_warnings_name_row_and_column_of_each_kind(app):
    assert _warnings(_workbook()) == [
        (
            3,
            "D (notes)",
            "",
            "This cell is part of a merged range whose value is only in D2; it is read as empty. "
            "Unmerge the cells and fill in every row.",
        ),
        (
            3,
            "E (phone)",
            "",
            "The formula in E3 has no saved result, so it is read as empty. Open the file in Excel, save it, "
            "and upload it again.",
        ),
        (4, "D (notes)", "2026-03-15", "A date in a text column; it is stored as 2026-03-15."),
    ]


def test_import_date_in_text_column_is_stored_as_iso_date(app):
    parsed = parse_upload("buyers.xlsx", _workbook())
    assert parsed.rows[2]["values"]["notes"] == "2026-03-15"


def test_import_csv_and_plain_xlsx_have_no_warnings(app):
    book = Workbook()
    book.active.append(HEADINGS)
    book.active.append(
        ["Acme Trading", "US", "buyer1@acme.example", "note", "+1 212 555 0100", "fair", "America/New_York"]
    )
    out = io.BytesIO()
    book.save(out)
    assert _warnings(out.getvalue()) == []
    csv = b"company,country,email,notes\nAcme,US,a@acme.example,2026-03-15\n"
    assert preview_import(parse_upload("b.csv", csv).rows).warnings == []


def test_import_preview_page_lists_warnings_and_import_still_works(client, login_as):
    login_as("staff")
    response = upload(client, _workbook(), "buyers.xlsx")
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="import-warnings"' in html
    assert "The formula in E3 has no saved result" in html
    confirm = client.submit(response.headers["Location"] + "/confirm", {"digest": preview_digest(html)})
    assert confirm.status_code == 302
    notes = db.session.scalar(select(Buyer.notes).where(Buyer.email == "buyer3@cedar.example"))
    assert notes == "2026-03-15"


def test_import_api_preview_lists_warnings(client):
    staff = make_user("staff", locale="en")
    db.session.commit()
    response = client.post(
        "/api/v1/buyers/imports",
        data={"file": (io.BytesIO(_workbook()), "buyers.xlsx")},
        headers={**bearer(staff), "Accept-Language": "en"},
    )
    assert response.status_code in (200, 201)
    assert response.get_json()["ok"] is True
    warnings = response.get_json()["warnings"]
    assert [(w["row"], w["column"], w["heading"]) for w in warnings] == [
        (3, "notes", "D (notes)"),
        (3, "phone", "E (phone)"),
        (4, "notes", "D (notes)"),
    ]
    assert warnings[2]["reason"] == "A date in a text column; it is stored as 2026-03-15."
