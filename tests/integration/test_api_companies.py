from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from consultroom.api.http import unit_of_work
from consultroom.audit.models import AuditEntry
from consultroom.companies.models import Company
from consultroom.errors import Conflict
from consultroom.extensions import db
from tests.factories import make_company, make_user
from tests.integration.test_api_support import api_call, assert_error, bearer

LIST = "/api/v1/companies"
ONE = "/api/v1/companies/{company_id}"

PAYLOAD = {
    "consent_company_profile": True,
    "name_ko": "한빛코스메틱",
    "name_en": "Hanbit Cosmetics",
    "business_number": "220-81-62517",
    "representative": "김영수",
    "address": "부산광역시 해운대구 센텀중앙로 48",
    "industry": "화장품",
    "products": "기초화장품, 마스크팩",
    "hs_codes": ["3304.99", "330410"],
    "export_markets": ["cn", "VN"],
    "target_countries": "US TH",
    "languages": ["ko", "EN"],
    "website": "https://hanbit.example.kr",
    "contact_name": "김영수",
    "contact_email": "export@hanbit.example.kr",
    "contact_phone": "051-123-4567",
}


@pytest.fixture
def world():
    owner = make_user("sme", email="owner@example.kr")
    company = make_company(owner=owner, name_ko="가나무역")
    other = make_user("sme", email="other@example.kr")
    other_company = make_company(owner=other, name_ko="다라상사")
    people = {
        "owner": owner,
        "other": other,
        "staff": make_user("staff", email="staff@example.kr"),
        "admin": make_user("admin", email="admin@example.kr"),
        "newcomer": make_user("sme", email="new@example.kr"),
    }
    headers = {role: bearer(user) for role, user in people.items()}
    headers["anon"] = {}
    return people, headers, company, other_company


@pytest.mark.parametrize(
    ("role", "expected"),
    [("anon", 401), ("owner", 200), ("other", 404), ("staff", 200), ("admin", 200), ("newcomer", 404)],
)
def test_company_get_permissions(client, world, role, expected):
    _people, headers, company, _other = world

    response = api_call(client, "GET", ONE, headers=headers[role], company_id=company.id)

    assert response.status_code == expected
    if expected == 200:
        assert response.get_json()["id"] == company.id


@pytest.mark.parametrize(
    ("role", "expected"),
    [("anon", 401), ("owner", 200), ("other", 404), ("staff", 200), ("admin", 200), ("newcomer", 404)],
)
def test_company_patch_permissions(client, world, role, expected):
    _people, headers, company, _other = world

    response = api_call(client, "PATCH", ONE, headers=headers[role], json={"industry": "식품"}, company_id=company.id)

    assert response.status_code == expected
    db.session.refresh(company)
    assert company.industry == ("식품" if expected == 200 else "화장품")


@pytest.mark.parametrize(
    ("role", "expected"),
    [("anon", 401), ("owner", 403), ("other", 403), ("staff", 404), ("admin", 404), ("newcomer", 201)],
)
def test_company_create_permissions(client, world, role, expected):
    _people, headers, _company, _other = world

    response = api_call(client, "POST", LIST, headers=headers[role], json=PAYLOAD)

    assert response.status_code == expected
    assert db.session.scalar(select(func.count()).select_from(Company)) == (3 if expected == 201 else 2)


@pytest.mark.parametrize(
    ("role", "expected"),
    [("anon", 401), ("owner", 200), ("other", 200), ("staff", 200), ("admin", 200), ("newcomer", 200)],
)
def test_company_list_permissions(client, world, role, expected):
    _people, headers, company, other_company = world

    response = api_call(client, "GET", LIST, headers=headers[role])

    assert response.status_code == expected
    if expected == 200:
        ids = {c["id"] for c in response.get_json()["items"]}
        visible = {
            "owner": {company.id},
            "other": {other_company.id},
            "staff": {company.id, other_company.id},
            "admin": {company.id, other_company.id},
            "newcomer": set(),
        }
        assert ids == visible[role]


def test_company_create_with_token_of_unconfirmed_sme_401(client):
    # POST /tokens refuses unconfirmed accounts; a token issued to one by other means is refused too.
    user = make_user("sme", confirmed=False)

    response = api_call(client, "POST", LIST, headers=bearer(user), json=PAYLOAD)

    assert_error(response, 401, "unauthorized")
    assert db.session.scalar(select(func.count()).select_from(Company)) == 0


def test_company_create_valid_201_owner_linked(client):
    user = make_user("sme")

    response = api_call(client, "POST", LIST, headers=bearer(user), json=PAYLOAD)

    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/companies/{body['id']}")
    assert body["business_number"] == "2208162517"
    # Normalised, and listed in code order as stored.
    assert body["hs_codes"] == ["330410", "330499"]
    assert body["export_markets"] == ["CN", "VN"]
    assert body["target_countries"] == ["TH", "US"]
    assert body["languages"] == ["en", "ko"]
    db.session.refresh(user)
    assert user.company_id == body["id"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "company.create"))
    assert (entry.actor_id, entry.object_id) == (user.id, body["id"])


def test_company_create_missing_fields_422(client):
    user = make_user("sme")

    response = api_call(client, "POST", LIST, headers=bearer(user), json={"name_en": "Only English"})

    error = assert_error(response, 422, "invalid")
    assert set(error["fields"]) == {"business_number", "name_ko", "representative", "consent_company_profile"}


def test_company_create_duplicate_business_number_409(client):
    make_company(business_number="2208162517")
    user = make_user("sme")

    response = api_call(client, "POST", LIST, headers=bearer(user), json=PAYLOAD)

    error = assert_error(response, 409, "conflict")
    assert list(error["fields"]) == ["business_number"]
    db.session.refresh(user)
    assert user.company_id is None


def test_company_json_has_every_field_and_utc_dates(client, world):
    _people, headers, company, _other = world

    body = api_call(client, "GET", ONE, headers=headers["owner"], company_id=company.id).get_json()

    assert set(body) == {
        "id",
        "name_ko",
        "name_en",
        "business_number",
        "representative",
        "address",
        "address_en",
        "products_en",
        "summary_en",
        "missing_english",
        "industry",
        "products",
        "website",
        "contact_name",
        "contact_email",
        "contact_phone",
        "hs_codes",
        "export_markets",
        "target_countries",
        "languages",
        "created_at",
        "updated_at",
    }
    assert body["created_at"].endswith("Z")
    created = datetime.fromisoformat(body["created_at"])
    assert created.tzinfo is not None and created.utcoffset() == UTC.utcoffset(None)
    assert body["hs_codes"] == ["330499"] and body["languages"] == ["en", "ko"]


def test_company_patch_partial_changes_only_given_fields(client, world):
    people, headers, company, _other = world
    before = api_call(client, "GET", ONE, headers=headers["owner"], company_id=company.id).get_json()

    response = api_call(
        client, "PATCH", ONE, headers=headers["staff"], json={"products": "김", "hs_codes": []}, company_id=company.id
    )

    after = response.get_json()
    assert response.status_code == 200
    changed = {k for k in after if after[k] != before[k]}
    assert changed <= {"products", "hs_codes", "updated_at"}
    assert (after["products"], after["hs_codes"]) == ("김", [])
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "company.update"))
    assert entry.actor_id == people["staff"].id
    assert entry.after == {"hs_codes": [], "products": "김"}


def test_company_patch_empty_object_changes_nothing(client, world):
    _people, headers, company, _other = world

    response = api_call(client, "PATCH", ONE, headers=headers["owner"], json={}, company_id=company.id)

    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "company.update")) == 0


@pytest.mark.parametrize(
    ("patch", "field", "message"),
    [
        ({"business_number": "220-81-62518"}, "business_number", "Not a valid business registration number"),
        ({"business_number": 2208162517}, "business_number", "This field is required."),
        ({"hs_codes": ["330499", "7712.34"]}, "hs_codes", "Not a valid 6-digit HS code: 771234"),
        ({"hs_codes": [330499]}, "hs_codes", "Must be a list of codes."),
        ({"export_markets": ["CN", "XX"]}, "export_markets", "Not an ISO 3166 country code: XX"),
        ({"target_countries": "KOR"}, "target_countries", "Not an ISO 3166 country code: KOR"),
        ({"languages": ["xx"]}, "languages", "Not an ISO 639-1 language code: xx"),
        ({"name_ko": ""}, "name_ko", "This field is required."),
        ({"name_ko": 12}, "name_ko", "Must be text."),
        ({"name_en": "x" * 201}, "name_en", "Use at most 200 characters."),
        ({"contact_email": "not-an-address"}, "contact_email", "Not a valid e-mail address."),
        ({"website": "ftp://hanbit.example.kr"}, "website", "Start the address with http:// or https://."),
        ({"website": "javascript:alert(1)"}, "website", "Start the address with http:// or https://."),
        ({"website": "hanbit example.kr"}, "website", "A web address has no spaces."),
        ({"products": "a\x00b"}, "products", "Contains characters that are not allowed."),
        ({"languages": ["ko", "\ud800"]}, "languages", "Contains characters that are not allowed."),
        ({"products": "a\udfff"}, "products", "Contains characters that are not allowed."),
        ({"founded": 1999}, "founded", "Unknown field."),
    ],
)
def test_company_patch_invalid_field_422_names_it(client, world, patch, field, message):
    _people, headers, company, _other = world

    response = api_call(client, "PATCH", ONE, headers=headers["owner"], json=patch, company_id=company.id)

    error = assert_error(response, 422, "invalid")
    assert list(error["fields"]) == [field]
    assert error["fields"][field][0].startswith(message)


def test_company_patch_invalid_fields_named_together(client, world):
    _people, headers, company, _other = world

    response = api_call(
        client,
        "PATCH",
        ONE,
        headers=headers["owner"],
        json={"business_number": "1234567890", "hs_codes": "99", "export_markets": ["ZZ"]},
        company_id=company.id,
    )

    assert set(assert_error(response, 422, "invalid")["fields"]) == {"business_number", "hs_codes", "export_markets"}


def test_company_patch_duplicate_business_number_409(client, world):
    _people, headers, company, other_company = world

    response = api_call(
        client,
        "PATCH",
        ONE,
        headers=headers["owner"],
        json={"business_number": other_company.business_number},
        company_id=company.id,
    )

    assert list(assert_error(response, 409, "conflict")["fields"]) == ["business_number"]


def test_company_patch_own_business_number_is_not_a_conflict(client, world):
    _people, headers, company, _other = world
    number = company.business_number

    response = api_call(
        client,
        "PATCH",
        ONE,
        headers=headers["owner"],
        json={"business_number": f"{number[:3]}-{number[3:5]}-{number[5:]}"},
        company_id=company.id,
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (b"{", "application/json", 400, "bad_request"),
        (b"[]", "application/json", 400, "bad_request"),
        (b"null", "application/json", 400, "bad_request"),
        (b'{"industry": "x"}', "text/plain", 415, "unsupported_media_type"),
        (b"", None, 415, "unsupported_media_type"),
    ],
)
def test_company_patch_bad_body(client, world, data, content_type, status, code):
    _people, headers, company, _other = world

    response = api_call(
        client, "PATCH", ONE, headers=headers["owner"], data=data, content_type=content_type, company_id=company.id
    )

    assert_error(response, status, code)


def test_company_unknown_id_404(client, world):
    _people, headers, _company, _other = world

    response = api_call(client, "GET", ONE, headers=headers["staff"], company_id=987_654)

    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("segment", ["abc", "-1", "1.5", "1e3", "%00", "0x1"])
def test_company_non_integer_path_id_404(client, world, segment):
    _people, headers, _company, _other = world

    for method in ("GET", "PATCH"):
        response = client.open(f"/api/v1/companies/{segment}", method=method, headers=headers["staff"], json={})
        assert_error(response, 404, "not_found")


@pytest.mark.parametrize("segment", ["2147483648", "99999999999999999999"])
def test_company_out_of_range_path_id_404(client, world, segment):
    # Only GET: for PATCH, werkzeug answers 405 here, because the GET rule's path matched before the
    # bounded int converter refused the number (routing, before any API code runs; still never a 500).
    _people, headers, _company, _other = world

    response = client.get(f"/api/v1/companies/{segment}", headers=headers["staff"])

    assert_error(response, 404, "not_found")


def test_company_wrong_method_405_json(client, world):
    _people, headers, company, _other = world

    response = client.put(f"/api/v1/companies/{company.id}", headers=headers["owner"], json={})

    assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "PATCH"}


def test_company_list_filters_and_pagination(client, world):
    _people, headers, company, _other_company = world
    make_company(name_ko="수산물가공", industry="식품", hs_codes=("030389",), export_markets=("JP",))
    make_company(name_ko="김가공", industry="식품", hs_codes=("200899",), export_markets=("VN",), target_countries=())
    staff = headers["staff"]

    def names(**query):
        response = api_call(client, "GET", LIST, headers=staff, query=query)
        return [c["name_ko"] for c in response.get_json()["items"]]

    assert names(industry="식품") == ["김가공", "수산물가공"]
    assert names(country="jp") == ["수산물가공"]
    assert names(hs="03") == ["수산물가공"]
    assert names(q="가공") == ["김가공", "수산물가공"]
    assert names(q=company.business_number[:6]) == ["가나무역"]
    page = api_call(client, "GET", LIST, headers=staff, query={"per_page": 3, "page": 2}).get_json()
    assert (page["total"], page["pages"], page["page"], page["per_page"]) == (4, 2, 2, 3)
    assert [c["name_ko"] for c in page["items"]] == ["수산물가공"]
    beyond = api_call(client, "GET", LIST, headers=staff, query={"page": 50}).get_json()
    assert beyond["items"] == [] and beyond["total"] == 4


def test_company_list_sme_filter_never_widens(client, world):
    _people, headers, company, _other = world

    mine = api_call(client, "GET", LIST, headers=headers["owner"], query={"q": "가나"}).get_json()
    theirs = api_call(client, "GET", LIST, headers=headers["owner"], query={"q": "다라"}).get_json()

    assert [c["id"] for c in mine["items"]] == [company.id]
    assert (theirs["items"], theirs["total"]) == ([], 0)


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"page": "0"}, {"page"}),
        ({"page": "abc"}, {"page"}),
        ({"page": "99999999999"}, {"page"}),
        ({"per_page": "101"}, {"per_page"}),
        ({"per_page": "-5", "page": "٣"}, {"per_page", "page"}),
        ({"q": "a\x00b", "hs": "\x00"}, {"q", "hs"}),
    ],
)
def test_company_list_bad_query_422(client, world, query, fields):
    _people, headers, _company, _other = world

    response = api_call(client, "GET", LIST, headers=headers["staff"], query=query)

    assert set(assert_error(response, 422, "invalid")["fields"]) == fields


def test_company_list_query_count_does_not_grow_with_rows(client, world, count_queries):
    _people, headers, _company, _other = world
    staff = headers["staff"]
    api_call(client, "GET", LIST, headers=staff)  # last_used_at is written once; not part of the count
    with count_queries() as few:
        api_call(client, "GET", LIST, headers=staff)
    for _ in range(10):
        make_company()
    db.session.commit()
    with count_queries() as many:
        api_call(client, "GET", LIST, headers=staff)

    assert many.count == few.count


def test_unit_of_work_unique_violation_from_concurrent_write_409():
    # What a concurrent registration of the same number looks like once the service check has passed.
    make_company(business_number="2208162517")
    db.session.commit()

    with pytest.raises(Conflict) as caught, unit_of_work():
        db.session.add(Company(name_ko="경쟁", business_number="2208162517", representative="이"))

    assert list(caught.value.fields) == ["business_number"]
    assert db.session.scalar(select(func.count()).select_from(Company)) == 1


def test_company_create_without_consent_422_names_field_saves_nothing(client):
    from consultroom.privacy.models import ConsentRecord

    user = make_user("sme")
    body = {k: v for k, v in PAYLOAD.items() if k != "consent_company_profile"}

    missing = api_call(client, "POST", LIST, headers=bearer(user), json=body)
    refused = api_call(client, "POST", LIST, headers=bearer(user), json={**body, "consent_company_profile": False})
    both = api_call(client, "POST", LIST, headers=bearer(user), json={"name_en": "Only English"})

    for response in (missing, refused):
        assert response.status_code == 422
        assert list(response.get_json()["error"]["fields"]) == ["consent_company_profile"]
    assert both.status_code == 422
    assert set(both.get_json()["error"]["fields"]) == {
        "consent_company_profile",
        "name_ko",
        "business_number",
        "representative",
    }
    assert db.session.scalar(select(func.count()).select_from(Company)) == 0
    assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 0


def test_company_create_records_consent_via_api(client):
    from consultroom.privacy.models import ConsentRecord
    from consultroom.privacy.notices import NOTICES

    user = make_user("sme")

    response = api_call(client, "POST", LIST, headers=bearer(user), json=PAYLOAD)

    assert response.status_code == 201
    record = db.session.scalars(select(ConsentRecord)).one()
    assert (record.subject_type, record.subject_id, record.user_id) == ("company", response.get_json()["id"], user.id)
    assert (record.purpose, record.granted, record.via) == ("company_profile", True, "api")
    assert record.notice_version == NOTICES["company_profile"].version
