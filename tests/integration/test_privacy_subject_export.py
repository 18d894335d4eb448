"""Staff answer a buyer's or an interpreter's access request: the person's data as JSON and XLSX,
with nothing of other people, and the download in the access log."""

from __future__ import annotations

import io
import json

import openpyxl
from sqlalchemy import select

from consultroom.buyers.schemas import dump_buyer
from consultroom.extensions import db
from consultroom.privacy.consent import record_consent
from consultroom.privacy.models import PersonalDataAccess
from tests.factories import make_booking, make_buyer, make_interpreter, make_round, make_user


def _url(kind: str, ident: int, fmt: str) -> str:
    return f"/staff/privacy/subjects/{kind}/{ident}/export.{fmt}"


def test_buyer_export_holds_its_data_and_consultations_not_others(client, login_as):
    buyer = make_buyer(company_name="Acme Imports", email="jane@acme.example.com", contact_name="Jane Roe")
    other = make_buyer(company_name="Other Co", email="someone@other.example.com")
    booking = make_booking(make_round().slots[0])
    booking.buyer_id, booking.buyer_response = buyer.id, "accepted"
    record_consent(
        subject_type="buyer", subject_id=buyer.id, user=None, purpose="consultation_sharing", granted=True, via="link"
    )
    staff = make_user("staff")
    db.session.commit()
    login_as(staff)

    response = client.get(_url("buyer", buyer.id, "json"))

    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="consultroom-buyer-{buyer.id}-')
    data = json.loads(response.data)
    assert (data["buyer"]["contact_name"], data["buyer"]["email"]) == ("Jane Roe", "jane@acme.example.com")
    # Every field the buyer schema writes, under the API's names (issue 14: one declaration).
    assert set(data["buyer"]) == set(dump_buyer(buyer)) - {"updated_at"}
    assert data["buyer"]["meet_from"] == buyer.meet_from.strftime("%H:%M")
    assert [(c["id"], c["your_response"]) for c in data["consultations"]] == [(booking.id, "accepted")]
    assert [(c["purpose"], c["granted"]) for c in data["consents"]] == [("consultation_sharing", True)]
    assert "someone@other.example.com" not in response.get_data(as_text=True)
    assert other.id != buyer.id
    logged = db.session.scalars(select(PersonalDataAccess)).all()
    assert [(r.actor_id, r.subject_type, r.subject_id, r.action, r.what) for r in logged] == [
        (staff.id, "buyer", buyer.id, "export", "privacy.export_subject")
    ]


def test_interpreter_export_xlsx_has_one_sheet_per_section(client, login_as):
    interpreter = make_interpreter()
    interpreter.name = "Mina Park"
    db.session.commit()
    login_as(make_user("staff"))

    response = client.get(_url("interpreter", interpreter.id, "xlsx"))

    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == [
        "interpreter",
        "weekly_hours",
        "exceptions",
        "consultations",
        "consents",
        "erasure_requests",
    ]
    sheet = book["interpreter"]
    header = [c.value for c in sheet[1]]
    assert sheet.cell(row=2, column=header.index("name") + 1).value == "Mina Park"


def test_subject_export_refuses_unknown_kinds_and_smes(client, make_client, login_as):
    buyer = make_buyer()
    sme = make_user("sme")
    login_as(make_user("staff"))
    assert client.get(_url("company", 1, "json")).status_code == 404
    assert client.get(_url("buyer", buyer.id, "csv")).status_code == 404
    assert client.get(_url("buyer", 2**31 - 1, "json")).status_code == 404

    sme_client = make_client()
    login_as(sme, on=sme_client)
    assert sme_client.get(_url("buyer", buyer.id, "json")).status_code == 404
    assert db.session.scalars(select(PersonalDataAccess)).all() == []
