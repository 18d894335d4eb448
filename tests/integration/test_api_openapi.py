import re
from datetime import timedelta

from openapi_spec_validator import validate
from sqlalchemy import select

from consultroom.accounts.models import ApiToken
from consultroom.db import utcnow
from consultroom.extensions import db
from tests.factories import PASSWORD, make_company, make_round, make_sme_with_company, make_user
from tests.integration.test_api_support import DOC, api_call, bearer, documented_response

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
PERSONAL = {"contact_name", "contact_email", "contact_phone", "representative", "email", "name"}


def _operations(doc):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def test_openapi_served_without_auth_and_valid(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    validate(document)
    assert document == DOC


def test_openapi_paths_equal_api_routes(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}

    documented = {(path, method) for path, method, _op in _operations(DOC)}

    assert documented == routes


def test_openapi_path_parameters_declared():
    for path, item in DOC["paths"].items():
        declared = {p["name"] for p in item.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{([^}]+)}", path)), path


def test_openapi_every_operation_has_id_and_json_errors():
    ids = []
    for path, method, operation in _operations(DOC):
        ids.append(operation["operationId"])
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert response["$ref"].startswith("#/components/responses/"), (path, method, status)
        if operation.get("security", DOC["security"]):
            assert "401" in operation["responses"], f"{method} {path} needs a token but does not list 401"
    assert len(ids) == len(set(ids))
    for response in DOC["components"]["responses"].values():
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_openapi_marks_personal_data():
    schemas = DOC["components"]["schemas"]
    marked = {
        (schema_name, prop)
        for schema_name, schema in schemas.items()
        for prop, spec in schema.get("properties", {}).items()
        if spec.get("x-personal-data") is True
    }

    for schema_name in ("Company", "CompanyInput", "CompanyPatch"):
        for prop in ("contact_name", "contact_email", "contact_phone", "representative"):
            assert (schema_name, prop) in marked
    assert {("Me", "email"), ("Me", "name"), ("TokenRequest", "email")} <= marked
    assert {prop for _schema, prop in marked} <= PERSONAL
    assert ("Token", "name") not in marked  # a token's label is not about a person


def test_openapi_responses_match_documented_schemas(client):
    """One tour through every operation; api_call validates each answer against the document."""
    owner = make_user("sme", email="owner@example.kr")
    company = make_company(owner=owner)
    newcomer = make_user("sme", email="new@example.kr")
    staff = make_user("staff", email="staff@example.kr")
    owner_h, new_h, staff_h = bearer(owner), bearer(newcomer), bearer(staff)
    company_body = {
        "business_number": "220-81-62517",
        "name_ko": "한빛코스메틱",
        "representative": "김영수",
        "languages": ["ko"],
    }
    seen = set()

    def call(method, template, expected, **kwargs):
        response = api_call(client, method, template, **kwargs)
        assert response.status_code == expected, response.get_data(as_text=True)[:300]
        seen.add((template, method.lower()))
        return response

    call("GET", "/api/v1/openapi.json", 200)
    created = call("POST", "/api/v1/tokens", 201, json={"email": "staff@example.kr", "password": PASSWORD})
    call("POST", "/api/v1/tokens", 401, json={"email": "staff@example.kr", "password": "nope nope nope"})
    call("POST", "/api/v1/tokens", 422, json={"email": None})
    call("POST", "/api/v1/tokens", 400, data=b"[1]", content_type="application/json")
    call("POST", "/api/v1/tokens", 415, data=b"{}", content_type="text/plain")
    call("GET", "/api/v1/tokens", 200, headers=staff_h)
    call("GET", "/api/v1/tokens", 401)
    call("GET", "/api/v1/me", 200, headers=owner_h)
    call("GET", "/api/v1/me", 200, headers=new_h)
    call("GET", "/api/v1/companies", 200, headers=staff_h, query={"per_page": 1})
    call("GET", "/api/v1/companies", 200, headers=new_h)
    call("GET", "/api/v1/companies", 422, headers=staff_h, query={"per_page": 0})
    call("POST", "/api/v1/companies", 404, headers=staff_h, json=company_body)
    call("POST", "/api/v1/companies", 403, headers=owner_h, json=company_body)
    call("POST", "/api/v1/companies", 422, headers=new_h, json={})
    call("POST", "/api/v1/companies", 201, headers=new_h, json=company_body)
    call("GET", "/api/v1/companies/{company_id}", 200, headers=owner_h, company_id=company.id)
    call("GET", "/api/v1/companies/{company_id}", 404, headers=new_h, company_id=company.id)
    call("PATCH", "/api/v1/companies/{company_id}", 200, headers=owner_h, json={"name_en": "X"}, company_id=company.id)
    call(
        "PATCH",
        "/api/v1/companies/{company_id}",
        409,
        headers=owner_h,
        json={"business_number": "2208162517"},
        company_id=company.id,
    )
    _rounds_and_bookings_tour(client, call, owner_h, staff_h)
    token_id = created.get_json()["id"]
    call("DELETE", "/api/v1/tokens/{token_id}", 404, headers=owner_h, token_id=token_id)
    call("DELETE", "/api/v1/tokens/{token_id}", 204, headers=staff_h, token_id=token_id)
    call("DELETE", "/api/v1/tokens/current", 204, headers=owner_h)
    call("DELETE", "/api/v1/tokens/current", 401, headers=owner_h)

    assert seen == {(path, method) for path, method, _op in _operations(DOC)}
    assert db.session.get(ApiToken, token_id).revoked_at is not None
    assert db.session.scalar(select(ApiToken).where(ApiToken.user_id == owner.id)).revoked_at is not None


def _rounds_and_bookings_tour(client, call, owner_h, staff_h):
    rnd = make_round(booths=1, slots_per_booth=3)
    draft = make_round(status="draft", day=(utcnow() + timedelta(days=75)).date())
    other_user, _other_company = make_sme_with_company()
    other_h, lonely_h = bearer(other_user), bearer(make_user("sme"))
    slot_id = rnd.slots[0].id
    book = {"slot_id": slot_id, "request": {"products": "기초화장품", "hs_codes": ["330499"]}}

    call("GET", "/api/v1/rounds", 200, headers=owner_h)
    call("GET", "/api/v1/rounds", 422, headers=owner_h, query={"page": "x"})
    call("GET", "/api/v1/rounds", 401)
    call("GET", "/api/v1/rounds/{round_id}", 200, headers=owner_h, round_id=rnd.id)
    call("GET", "/api/v1/rounds/{round_id}", 404, headers=owner_h, round_id=draft.id)
    call("GET", "/api/v1/rounds/{round_id}", 401, round_id=rnd.id)
    call("GET", "/api/v1/rounds/{round_id}/slots", 200, headers=owner_h, round_id=rnd.id, query={"free": "true"})
    call("GET", "/api/v1/rounds/{round_id}/slots", 422, headers=owner_h, round_id=rnd.id, query={"free": "1"})
    call("GET", "/api/v1/rounds/{round_id}/slots", 404, headers=owner_h, round_id=draft.id)
    call("GET", "/api/v1/rounds/{round_id}/slots", 401, round_id=rnd.id)
    created = call("POST", "/api/v1/bookings", 201, headers=owner_h, json=book)
    call("POST", "/api/v1/bookings", 409, headers=other_h, json=book)
    call("POST", "/api/v1/bookings", 422, headers=owner_h, json={})
    call("POST", "/api/v1/bookings", 403, headers=lonely_h, json=book)
    call("POST", "/api/v1/bookings", 400, headers=owner_h, data=b"[]", content_type="application/json")
    call("POST", "/api/v1/bookings", 415, headers=owner_h, data=b"{}", content_type="text/plain")
    call("POST", "/api/v1/bookings", 401, json=book)
    booking_id = created.get_json()["id"]
    call("GET", "/api/v1/bookings", 200, headers=owner_h)
    call("GET", "/api/v1/bookings", 200, headers=staff_h, query={"round_id": rnd.id})
    call("GET", "/api/v1/bookings", 422, headers=staff_h, query={"round_id": "0"})
    call("GET", "/api/v1/bookings", 401)
    call("GET", "/api/v1/bookings/{booking_id}", 200, headers=owner_h, booking_id=booking_id)
    call("GET", "/api/v1/bookings/{booking_id}", 404, headers=other_h, booking_id=booking_id)
    call("GET", "/api/v1/bookings/{booking_id}", 401, booking_id=booking_id)
    ics = client.get(f"/api/v1/bookings/{booking_id}/ics", headers=owner_h)
    assert ics.status_code == 200
    assert ics.mimetype in documented_response("/api/v1/bookings/{booking_id}/ics", "get", 200)["content"]
    call("GET", "/api/v1/bookings/{booking_id}/ics", 404, headers=other_h, booking_id=booking_id)
    call("GET", "/api/v1/bookings/{booking_id}/ics", 401, booking_id=booking_id)
    call("DELETE", "/api/v1/bookings/{booking_id}", 404, headers=other_h, booking_id=booking_id)
    call(
        "DELETE", "/api/v1/bookings/{booking_id}", 422, headers=owner_h, booking_id=booking_id, query={"reason": "\x00"}
    )
    call("DELETE", "/api/v1/bookings/{booking_id}", 204, headers=owner_h, booking_id=booking_id)
    call("DELETE", "/api/v1/bookings/{booking_id}", 409, headers=owner_h, booking_id=booking_id)
    call("DELETE", "/api/v1/bookings/{booking_id}", 401, booking_id=booking_id)
