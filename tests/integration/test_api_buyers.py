"""The buyer registry through the API: staff only, the registry's own validation, imports all or nothing."""

from io import BytesIO

import pytest
from sqlalchemy import func, select

from consultroom.audit.models import AuditEntry
from consultroom.buyers.models import Buyer, BuyerImportBatch
from consultroom.extensions import db
from tests.factories import make_company, make_user
from tests.integration.test_api_support import api_call, assert_error, bearer

LIST = "/api/v1/buyers"
ONE = "/api/v1/buyers/{buyer_id}"
IMPORT = "/api/v1/buyers/imports"
CONFIRM = "/api/v1/buyers/imports/{batch_id}/confirm"
ACME = {
    "company_name": "Acme  Imports",
    "country": "us",
    "timezone": "America/New_York",
    "email": "Buyer@Acme.example.com",
    "contact_name": "Jane Doe",
    "phone": "+1 555 0100",
    "languages": ["en", "Spanish"],
    "interest_codes": "3304, 210390",
    "meet_days": "Mon-Thu",
}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def people():
    owner = make_user("sme", email="owner@example.kr")
    make_company(owner=owner)
    users = {
        "owner": owner,
        "staff": make_user("staff", email="staff@example.kr"),
        "admin": make_user("admin", email="admin@example.kr"),
    }
    headers = {role: bearer(user) for role, user in users.items()}
    headers["anon"] = {}
    return users, headers


def _upload(raw: bytes, name: str = "buyers.csv") -> dict:
    return {"data": {"file": (BytesIO(raw), name)}, "content_type": "multipart/form-data"}


def test_create_buyer_staff_gets_201_normalised(client, people):
    _users, h = people

    response = api_call(client, "POST", LIST, headers=h["staff"], json=ACME)

    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/buyers/{body['id']}")
    assert (body["company_name"], body["country"], body["email"]) == ("Acme Imports", "US", "buyer@acme.example.com")
    assert (body["timezone"], body["languages"], body["interest_codes"]) == (
        "America/New_York",
        ["en", "es"],
        ["3304", "210390"],
    )
    assert (body["meet_from"], body["meet_to"], body["meet_days"], body["active"]) == (
        "09:00",
        "18:00",
        [0, 1, 2, 3],
        True,
    )
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "buyer.create")) == 1


@pytest.mark.parametrize(("role", "status"), [("anon", 401), ("owner", 404), ("admin", 201)])
def test_create_buyer_by_role(client, people, role, status):
    _users, h = people

    response = api_call(client, "POST", LIST, headers=h[role], json=ACME)

    assert response.status_code == status
    assert _count(Buyer) == (1 if status == 201 else 0)


def test_create_buyer_invalid_names_every_field(client, people):
    _users, h = people

    response = api_call(
        client, "POST", LIST, headers=h["staff"], json={"country": "Atlantis", "email": "nope", "size": "huge", "x": 1}
    )

    error = assert_error(response, 422, "invalid")
    assert set(error["fields"]) == {"company_name", "country", "email", "size", "x"}
    assert _count(Buyer) == 0


def test_create_buyer_duplicate_email_409_names_email(client, people):
    _users, h = people
    api_call(client, "POST", LIST, headers=h["staff"], json=ACME)

    response = api_call(client, "POST", LIST, headers=h["staff"], json={**ACME, "company_name": "Other Co"})

    error = assert_error(response, 409, "conflict")
    assert list(error["fields"]) == ["email"]


def test_create_buyer_nul_character_422(client, people):
    _users, h = people

    response = api_call(client, "POST", LIST, headers=h["staff"], json={**ACME, "notes": "a\x00b"})

    assert list(assert_error(response, 422, "invalid")["fields"]) == ["notes"]


def test_list_buyers_filters_and_pages(client, people):
    _users, h = people
    api_call(client, "POST", LIST, headers=h["staff"], json=ACME)
    api_call(
        client,
        "POST",
        LIST,
        headers=h["staff"],
        json={"company_name": "Berlin Foods", "country": "DE", "email": "b@berlin.example.de", "languages": "de"},
    )

    by_country = api_call(client, "GET", LIST, headers=h["staff"], query={"country": "DE"}).get_json()
    by_language = api_call(client, "GET", LIST, headers=h["staff"], query={"language": "es"}).get_json()
    by_q = api_call(client, "GET", LIST, headers=h["staff"], query={"q": "jane"}).get_json()
    paged = api_call(client, "GET", LIST, headers=h["staff"], query={"per_page": 1, "page": 2}).get_json()

    assert [b["company_name"] for b in by_country["items"]] == ["Berlin Foods"]
    assert [b["company_name"] for b in by_language["items"]] == ["Acme Imports"]
    assert [b["company_name"] for b in by_q["items"]] == ["Acme Imports"]
    assert (paged["total"], paged["pages"], [b["company_name"] for b in paged["items"]]) == (2, 2, ["Berlin Foods"])


def test_list_buyers_inactive_filter_and_bad_status(client, people):
    _users, h = people
    buyer_id = api_call(client, "POST", LIST, headers=h["staff"], json=ACME).get_json()["id"]
    api_call(client, "PATCH", ONE, headers=h["staff"], json={"active": False}, buyer_id=buyer_id)

    active = api_call(client, "GET", LIST, headers=h["staff"]).get_json()
    inactive = api_call(client, "GET", LIST, headers=h["staff"], query={"status": "inactive"}).get_json()
    bad = api_call(client, "GET", LIST, headers=h["staff"], query={"status": "gone", "per_page": "0"})

    assert (active["total"], inactive["total"]) == (0, 1)
    assert set(assert_error(bad, 422, "invalid")["fields"]) == {"status", "per_page"}


@pytest.mark.parametrize(("role", "status"), [("anon", 401), ("owner", 404), ("staff", 200), ("admin", 200)])
def test_list_and_get_buyer_by_role(client, people, role, status):
    _users, h = people
    buyer_id = api_call(client, "POST", LIST, headers=h["staff"], json=ACME).get_json()["id"]

    listed = api_call(client, "GET", LIST, headers=h[role])
    one = api_call(client, "GET", ONE, headers=h[role], buyer_id=buyer_id)

    assert (listed.status_code, one.status_code) == (status, status)
    if status == 200:
        assert one.get_json()["contact_name"] == "Jane Doe"


def test_patch_buyer_changes_given_fields_and_deactivates(client, people):
    _users, h = people
    buyer_id = api_call(client, "POST", LIST, headers=h["staff"], json=ACME).get_json()["id"]

    response = api_call(
        client, "PATCH", ONE, headers=h["staff"], json={"phone": "+1 555 0199", "active": False}, buyer_id=buyer_id
    )

    body = response.get_json()
    assert response.status_code == 200
    assert (body["phone"], body["email"], body["active"]) == ("+1 555 0199", "buyer@acme.example.com", False)
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("buyer.%")).order_by(AuditEntry.id)
    ).all()
    assert actions == ["buyer.create", "buyer.update", "buyer.deactivate"]


def test_patch_buyer_invalid_and_sme_404(client, people):
    _users, h = people
    buyer_id = api_call(client, "POST", LIST, headers=h["staff"], json=ACME).get_json()["id"]

    invalid = api_call(
        client, "PATCH", ONE, headers=h["staff"], json={"meet_from": "25:99", "active": "no"}, buyer_id=buyer_id
    )
    sme = api_call(client, "PATCH", ONE, headers=h["owner"], json={"phone": "1"}, buyer_id=buyer_id)
    missing = api_call(client, "PATCH", ONE, headers=h["staff"], json={}, buyer_id=buyer_id + 1)

    assert list(assert_error(invalid, 422, "invalid")["fields"]) == ["active"]
    assert sme.status_code == 404
    assert missing.status_code == 404
    assert db.session.get(Buyer, buyer_id).phone == "+1 555 0100"


# --- import --------------------------------------------------------------------------------------

GOOD_CSV = (
    "company,country,email,languages,timezone\n"
    "Zenith Trading,JP,info@zenith.example.jp,ja,\n"
    "Acme Imports,US,buyer@acme.example.com,en,America/Chicago\n"
)


def test_import_preview_then_confirm_writes_new_rows_skips_duplicates(client, people):
    _users, h = people
    api_call(client, "POST", LIST, headers=h["staff"], json=ACME)

    preview = api_call(client, "POST", IMPORT, headers=h["staff"], **_upload(GOOD_CSV.encode()))

    body = preview.get_json()
    assert preview.status_code == 201
    assert (body["ok"], body["row_count"], body["to_create"], body["duplicates"]) == (True, 2, 1, 1)
    assert [(r["row"], r["status"], r["duplicate_by"]) for r in body["rows"]] == [
        (2, "create", None),
        (3, "duplicate", "email"),
    ]
    assert _count(Buyer) == 1

    done = api_call(
        client, "POST", CONFIRM, headers=h["staff"], json={"digest": body["digest"]}, batch_id=body["batch_id"]
    )

    assert done.status_code == 200
    assert done.get_json() == {"batch_id": body["batch_id"], "created": 1, "skipped_duplicates": 1}
    assert _count(Buyer) == 2
    again = api_call(
        client, "POST", CONFIRM, headers=h["staff"], json={"digest": body["digest"]}, batch_id=body["batch_id"]
    )
    assert_error(again, 409, "conflict")


def test_import_with_a_bad_row_lists_errors_and_writes_nothing(client, people):
    _users, h = people
    raw = b"company,country,email\nGood Co,JP,good@good.example.jp\n,Atlantis,not-an-email\n"

    preview = api_call(client, "POST", IMPORT, headers=h["staff"], **_upload(raw)).get_json()
    confirm = api_call(
        client, "POST", CONFIRM, headers=h["staff"], json={"digest": preview["digest"]}, batch_id=preview["batch_id"]
    )

    assert preview["ok"] is False
    assert {(e["row"], e["column"]) for e in preview["errors"]} == {(3, "company_name"), (3, "country"), (3, "email")}
    assert all(e["reason"] and e["heading"] for e in preview["errors"])
    assert [r["status"] for r in preview["rows"]] == ["create", "error"]
    assert list(assert_error(confirm, 422, "invalid")["fields"]) == ["file"]
    assert _count(Buyer) == 0
    assert db.session.get(BuyerImportBatch, preview["batch_id"]).status == "pending"


def test_import_cp949_csv_parses_korean_headings(client, people):
    _users, h = people
    raw = "회사명,국가,이메일,담당자\n서울무역,KR,seoul@trade.example.kr,김철수\n".encode("cp949")

    response = api_call(client, "POST", IMPORT, headers=h["staff"], **_upload(raw, "바이어.csv"))

    body = response.get_json()
    assert response.status_code == 201
    assert (body["ok"], body["to_create"], body["filename"]) == (True, 1, "바이어.csv")
    assert body["columns"]["company_name"] == {"heading": "회사명", "letter": "A"}


def test_import_xlsx_is_read(client, people):
    from openpyxl import Workbook

    _users, h = people
    book = Workbook()
    sheet = book.active
    sheet.append(["company", "country", "email"])
    sheet.append(["Lisbon Foods", "PT", "hello@lisbon.example.pt"])
    out = BytesIO()
    book.save(out)

    response = api_call(client, "POST", IMPORT, headers=h["staff"], **_upload(out.getvalue(), "buyers.xlsx"))

    assert (response.status_code, response.get_json()["to_create"]) == (201, 1)


def test_import_without_file_or_wrong_type_422_names_file(client, people):
    _users, h = people

    none = api_call(client, "POST", IMPORT, headers=h["staff"], json={})
    wrong = api_call(client, "POST", IMPORT, headers=h["staff"], **_upload(b"x", "buyers.pdf"))

    assert list(assert_error(none, 422, "invalid")["fields"]) == ["file"]
    assert list(assert_error(wrong, 422, "invalid")["fields"]) == ["file"]
    assert _count(BuyerImportBatch) == 0


def test_import_by_role_and_confirm_only_by_uploader(client, people):
    _users, h = people

    anon = api_call(client, "POST", IMPORT, headers=h["anon"], **_upload(GOOD_CSV.encode()))
    sme = api_call(client, "POST", IMPORT, headers=h["owner"], **_upload(GOOD_CSV.encode()))
    body = api_call(client, "POST", IMPORT, headers=h["staff"], **_upload(GOOD_CSV.encode())).get_json()
    by_admin = api_call(
        client, "POST", CONFIRM, headers=h["admin"], json={"digest": body["digest"]}, batch_id=body["batch_id"]
    )
    by_sme = api_call(
        client, "POST", CONFIRM, headers=h["owner"], json={"digest": body["digest"]}, batch_id=body["batch_id"]
    )
    no_digest = api_call(client, "POST", CONFIRM, headers=h["staff"], json={"x": 1}, batch_id=body["batch_id"])
    stale = api_call(client, "POST", CONFIRM, headers=h["staff"], json={"digest": "0" * 64}, batch_id=body["batch_id"])
    korean = api_call(client, "POST", CONFIRM, headers=h["staff"], json={"digest": "요약값"}, batch_id=body["batch_id"])

    assert (anon.status_code, sme.status_code, by_admin.status_code, by_sme.status_code) == (401, 404, 404, 404)
    assert set(assert_error(no_digest, 422, "invalid")["fields"]) == {"digest", "x"}
    assert_error(stale, 409, "conflict")
    assert_error(korean, 409, "conflict")  # a non-ASCII digest is just a wrong one, not a 500
    assert _count(Buyer) == 0
