"""A person's own data (PIPA rights): the JSON and XLSX export, the my-data page, the deletion request."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from consultroom.bookings.models import WaitlistEntry
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.outcomes.services import outcome_for, record_contract, record_log
from consultroom.privacy.consent import record_consent
from consultroom.privacy.export import SECTIONS, collect_user_data, to_json, to_xlsx
from consultroom.privacy.models import ErasureRequest
from consultroom.timeutil import SEOUL, seoul_date
from tests.factories import (
    SurveyQuestionFactory,
    make_company,
    make_consultation,
    make_rate,
    make_user,
    past_round,
    survey,
)


@pytest.fixture
def two_companies():
    """An SME with a held, logged, contracted and surveyed consultation; and another company with its own."""
    staff = make_user("staff", email="staff@example.kr")
    owner = make_user("sme", email="owner@example.kr", name="김민수")
    owner.phone = "010-1234-5678"
    company = make_company(
        owner=owner, contact_name="김민수", contact_email="contact@hanbit.example.kr", contact_phone="02-555-0101"
    )
    other = make_user("sme", email="other@example.kr", name="이영희")
    other_company = make_company(owner=other, contact_email="contact@other.example.kr")
    rnd = past_round(days_ago=3)
    mine = make_consultation(rnd, 0, company=company)
    mine.notes = "Please find a buyer in Texas"
    theirs = make_consultation(rnd, 1, company=other_company)
    theirs.products = "OTHER-COMPANY-PRODUCTS"
    db.session.add(WaitlistEntry(round_id=rnd.id, company_id=company.id, products="Waiting serum", status="left"))
    now = utcnow()
    record_log(booking=mine, data={"attendance": "held", "notes": "Samples in March"}, actor=staff, now=now)
    record_log(booking=theirs, data={"attendance": "held", "notes": "OTHER-COMPANY-NOTE"}, actor=staff, now=now)
    make_rate("USD", seoul_date(now), "1387.250000")
    record_contract(
        outcome=outcome_for(mine),
        currency="USD",
        amount="12345.67",
        signed_on=seoul_date(now),
        items="Serum 10,000 pcs",
        actor=staff,
        now=now,
    )
    question = SurveyQuestionFactory(text_ko="만족도", text_en="Satisfaction", required=True, actor=staff)
    survey(
        mine,
        "sme",
        {question: "5"},
        version=question.version,
        locale="en",
        user=owner,
        now=now,
        invited_at=now,
        expires_at=now + timedelta(days=21),
    )
    record_consent(subject_type="user", subject_id=owner.id, user=owner, purpose="account", granted=True)
    record_consent(subject_type="user", subject_id=other.id, user=other, purpose="account", granted=True)
    db.session.commit()
    return {"owner": owner, "company": company, "mine": mine, "theirs": theirs, "other": other, "staff": staff}


def test_collect_user_data_holds_the_users_company_and_its_consultations(two_companies):
    owner, mine = two_companies["owner"], two_companies["mine"]

    data = collect_user_data(user=owner)

    assert data["account"]["email"] == "owner@example.kr"
    assert data["account"]["phone"] == "010-1234-5678"
    assert data["company"]["contact_email"] == "contact@hanbit.example.kr"
    assert data["company"]["hs_codes"] == ["330499"]
    assert [b["id"] for b in data["bookings"]] == [mine.id]
    booking = data["bookings"][0]
    assert booking["notes"] == "Please find a buyer in Texas"
    assert booking["status"] == "held"
    assert booking["buyer_company"] == mine.buyer.company_name
    assert booking["buyer_country"] == "US"
    assert booking["interpreter_name"] == mine.interpreter.name
    assert booking["starts_at"].utcoffset() == timedelta(hours=9)
    assert [w["products"] for w in data["waitlist"]] == ["Waiting serum"]
    assert [log["notes"] for log in data["consultation_logs"]] == ["Samples in March"]
    assert [o["stage"] for o in data["outcomes"]] == ["contracted"]
    assert [(c["currency"], c["amount"], c["krw_value"]) for c in data["contracts"]] == [
        ("USD", Decimal("12345.67"), 17126531)
    ]
    assert [(r["submitted_by_you"], r["version"]) for r in data["survey_responses"]] == [(True, 1)]
    assert [(a["question"], a["score"]) for a in data["survey_answers"]] == [("Satisfaction", 5)]
    assert [(c["purpose"], c["granted"]) for c in data["consents"]] == [("account", True)]
    assert data["erasure_requests"] == []


def test_export_json_holds_nothing_of_another_company_nor_the_buyers_contact(two_companies):
    owner, mine = two_companies["owner"], two_companies["mine"]

    raw = to_json(collect_user_data(user=owner))
    text = raw.decode("utf-8")
    parsed = json.loads(raw)

    assert "김민수" in text  # UTF-8, not \\u escapes
    for foreign in (
        "OTHER-COMPANY-PRODUCTS",
        "OTHER-COMPANY-NOTE",
        "other@example.kr",
        "contact@other.example.kr",
        "이영희",
        mine.buyer.email,
        mine.buyer.contact_name,
        mine.buyer.phone,
        mine.interpreter.email,
        "password",
    ):
        assert foreign not in text, foreign
    assert parsed["contracts"][0]["amount"] == "12345.67"
    assert parsed["bookings"][0]["starts_at"].endswith("+09:00")


def test_export_xlsx_has_one_sheet_per_section_with_typed_cells(two_companies):
    wb = load_workbook(io.BytesIO(to_xlsx(collect_user_data(user=two_companies["owner"]))))

    assert wb.sheetnames == list(SECTIONS)
    assert all(len(name) <= 31 for name in wb.sheetnames)
    account = wb["account"]
    headers = [c.value for c in account[1]]
    assert headers[:3] == ["id", "name", "email"]
    assert account.cell(row=2, column=3).value == "owner@example.kr"
    contracts = wb["contracts"]
    header = [c.value for c in contracts[1]]
    row = {h: c.value for h, c in zip(header, contracts[2], strict=True)}
    assert isinstance(row["signed_on"], datetime)  # Excel stores dates as date-times
    assert row["amount"] == pytest.approx(12345.67)
    assert isinstance(row["krw_value"], int) and row["krw_value"] == 17126531
    bookings = wb["bookings"]
    header = [c.value for c in bookings[1]]
    starts = bookings.cell(row=2, column=header.index("starts_at") + 1).value
    assert isinstance(starts, datetime)
    assert starts == two_companies["mine"].starts_at.astimezone(SEOUL).replace(tzinfo=None)
    assert [c.value for c in wb["erasure_requests"][1]] == ["none"]


def test_staff_export_holds_their_own_account_only(two_companies):
    data = collect_user_data(user=two_companies["staff"])

    assert data["account"]["email"] == "staff@example.kr"
    assert data["company"] is None
    assert all(data[name] == [] for name in ("bookings", "consultation_logs", "contracts", "survey_answers"))


def test_mydata_page_summarises_and_offers_both_files(client, login_as, two_companies):
    login_as(two_companies["owner"])

    page = client.get("/my-data/")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("<h1") == 1
    assert "owner@example.kr" in html
    assert "contact@hanbit.example.kr" in html
    assert "/my-data/export.json" in html and "/my-data/export.xlsx" in html
    assert 'name="confirm"' in html


def test_download_files_are_dated_attachments(client, login_as, two_companies):
    login_as(two_companies["owner"])
    today = seoul_date(utcnow()).isoformat()

    as_json = client.get("/my-data/export.json")
    as_xlsx = client.get("/my-data/export.xlsx")

    assert as_json.status_code == 200
    assert as_json.headers["Content-Disposition"] == f'attachment; filename="consultroom-my-data-{today}.json"'
    assert json.loads(as_json.data)["account"]["email"] == "owner@example.kr"
    assert as_xlsx.status_code == 200
    assert as_xlsx.headers["Content-Disposition"] == f'attachment; filename="consultroom-my-data-{today}.xlsx"'
    assert load_workbook(io.BytesIO(as_xlsx.data)).sheetnames == list(SECTIONS)


def test_mydata_requires_login(client):
    response = client.get("/my-data/")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_deletion_request_is_created_and_shown(client, login_as, two_companies):
    owner = two_companies["owner"]
    login_as(owner)

    response = client.submit("/my-data/erasure", {"note": "  Please delete everything.  ", "confirm": "y"})

    assert response.status_code == 302
    request_ = db.session.scalar(select(ErasureRequest))
    assert (request_.subject_type, request_.subject_id, request_.status) == ("user", owner.id, "open")
    assert request_.note == "Please delete everything."
    assert request_.requested_by_id == owner.id
    page = client.get("/my-data/").get_data(as_text=True)
    assert "Your deletion request of" in page
    assert 'name="confirm"' not in page


def test_deletion_request_needs_the_confirmation(client, login_as, two_companies):
    login_as(two_companies["owner"])

    response = client.submit("/my-data/erasure", {"note": "delete"})

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Tick the box to confirm the request." in html
    assert 'aria-describedby="confirm-error"' in html
    assert db.session.scalar(select(ErasureRequest)) is None


def test_a_second_deletion_request_is_refused_while_one_is_open(client, login_as, two_companies):
    login_as(two_companies["owner"])
    client.submit("/my-data/erasure", {"confirm": "y"})

    response = client.submit("/my-data/erasure", {"confirm": "y", "note": "again"})

    assert response.status_code == 200
    assert "A deletion request for this person is already open." in response.get_data(as_text=True)
    assert len(db.session.scalars(select(ErasureRequest)).all()) == 1


def test_staff_cannot_ask_for_their_own_deletion_here(client, login_as, two_companies):
    login_as(two_companies["staff"])

    page = client.get("/my-data/")
    response = client.submit("/my-data/erasure", {"confirm": "y"})

    assert page.status_code == 200
    assert 'name="confirm"' not in page.get_data(as_text=True)
    assert response.status_code == 403
    assert db.session.scalar(select(ErasureRequest)) is None


def test_export_of_an_sme_without_company_holds_the_account(client, login_as):
    user = login_as("sme")

    data = json.loads(client.get("/my-data/export.json").data)

    assert data["account"]["id"] == user.id
    assert data["company"] is None
    assert data["bookings"] == []


def test_export_dates_are_json_strings():
    assert json.loads(to_json({"d": date(2026, 3, 6), "n": Decimal("1.50")})) == {"d": "2026-03-06", "n": "1.50"}
