import re
from datetime import timedelta

from openapi_spec_validator import validate
from sqlalchemy import select

from consultroom.accounts.models import ApiToken
from consultroom.bookings.models import Booking
from consultroom.db import utcnow
from consultroom.extensions import db
from tests.conftest import recent
from tests.factories import PASSWORD, make_company, make_round, make_sme_with_company, make_user
from tests.integration.test_api_support import DOC, api_call, bearer, documented_response

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
PERSONAL = {"contact_name", "contact_email", "contact_phone", "representative", "email", "name"}
# Buyers' and interpreters' telephone numbers, and the e-mail of the account an interpreter is linked to.
PERSONAL |= {"phone", "account_email"}
# Free text written about people (staff notes on a buyer, a request's notes, log notes, deletion requests).
PERSONAL |= {"notes", "note", "buyer_profile", "response"}


def _operations(doc):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def _api_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_openapi_served_without_auth_and_valid(app, client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    validate(document)
    # Checked against the app's routes, an independent source, not against the function that serves it.
    assert (document["openapi"], document["info"]["title"]) == ("3.1.0", "Consultroom API")
    assert {(path, method) for path, method, _op in _operations(document)} == _api_routes(app)


def test_openapi_paths_equal_api_routes(app):
    documented = {(path, method) for path, method, _op in _operations(DOC)}

    assert documented == _api_routes(app)


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
    for schema_name in ("Buyer", "BuyerInput", "BuyerPatch"):
        assert {(schema_name, p) for p in ("contact_name", "email", "phone")} <= marked
        assert (schema_name, "company_name") not in marked
    for schema_name in ("Interpreter", "InterpreterInput", "InterpreterPatch"):
        assert {(schema_name, p) for p in ("name", "email", "phone")} <= marked


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
        "consent_company_profile": True,
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
    _registry_and_matching_tour(client, call, owner_h, staff_h)
    _outcomes_and_reports_tour(call, staff_h)
    _privacy_tour(call, owner_h, staff_h)
    token_id = created.get_json()["id"]
    call("DELETE", "/api/v1/tokens/{token_id}", 404, headers=owner_h, token_id=token_id)
    call("DELETE", "/api/v1/tokens/{token_id}", 204, headers=staff_h, token_id=token_id)
    call("DELETE", "/api/v1/tokens/current", 204, headers=owner_h)
    call("DELETE", "/api/v1/tokens/current", 401, headers=owner_h)

    assert seen == {(path, method) for path, method, _op in _operations(DOC)}
    assert recent(db.session.get(ApiToken, token_id).revoked_at)
    assert recent(db.session.scalar(select(ApiToken).where(ApiToken.user_id == owner.id)).revoked_at)


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
    call("DELETE", "/api/v1/bookings/{booking_id}", 422, headers=owner_h, booking_id=booking_id)
    call("DELETE", "/api/v1/bookings/{booking_id}", 204, headers=owner_h, booking_id=booking_id, query={"reason": "x"})
    call("DELETE", "/api/v1/bookings/{booking_id}", 409, headers=owner_h, booking_id=booking_id)
    call("DELETE", "/api/v1/bookings/{booking_id}", 401, booking_id=booking_id)


def _registry_and_matching_tour(client, call, owner_h, staff_h):
    """Buyers, imports, interpreters, recommendations, match changes and proposals (staff only)."""
    from io import BytesIO

    from tests.factories.matching import book, interpreter_for, slots_at, use_policy

    use_policy("needed")  # the tour confirms a match without an interpreter; the policy has its own tests
    buyer_body = {
        "company_name": "Acme Imports",
        "country": "US",
        "email": "b@acme.example.com",
        "timezone": "Asia/Seoul",
    }
    buyer = call(
        "POST",
        "/api/v1/buyers",
        201,
        headers=staff_h,
        json={**buyer_body, "interest_codes": ["330499"], "languages": ["en"]},
    )
    call("POST", "/api/v1/buyers", 409, headers=staff_h, json=buyer_body)
    call("POST", "/api/v1/buyers", 422, headers=staff_h, json={})
    call("POST", "/api/v1/buyers", 404, headers=owner_h, json=buyer_body)
    call("POST", "/api/v1/buyers", 401, json=buyer_body)
    call("POST", "/api/v1/buyers", 400, headers=staff_h, data=b"[]", content_type="application/json")
    call("POST", "/api/v1/buyers", 415, headers=staff_h, data=b"{}", content_type="text/plain")
    buyer_id = buyer.get_json()["id"]
    call("GET", "/api/v1/buyers", 200, headers=staff_h, query={"q": "acme"})
    call("GET", "/api/v1/buyers", 422, headers=staff_h, query={"status": "x"})
    call("GET", "/api/v1/buyers", 404, headers=owner_h)
    call("GET", "/api/v1/buyers", 401)
    call("GET", "/api/v1/buyers/{buyer_id}", 200, headers=staff_h, buyer_id=buyer_id)
    call("GET", "/api/v1/buyers/{buyer_id}", 404, headers=owner_h, buyer_id=buyer_id)
    call("GET", "/api/v1/buyers/{buyer_id}", 401, buyer_id=buyer_id)
    call("PATCH", "/api/v1/buyers/{buyer_id}", 200, headers=staff_h, json={"phone": "+1 555"}, buyer_id=buyer_id)
    call("PATCH", "/api/v1/buyers/{buyer_id}", 422, headers=staff_h, json={"size": "x"}, buyer_id=buyer_id)
    call("PATCH", "/api/v1/buyers/{buyer_id}", 404, headers=owner_h, json={}, buyer_id=buyer_id)
    call("PATCH", "/api/v1/buyers/{buyer_id}", 401, json={}, buyer_id=buyer_id)
    call(
        "PATCH",
        "/api/v1/buyers/{buyer_id}",
        400,
        headers=staff_h,
        data=b"1",
        content_type="application/json",
        buyer_id=buyer_id,
    )
    call(
        "PATCH",
        "/api/v1/buyers/{buyer_id}",
        415,
        headers=staff_h,
        data=b"{}",
        content_type="text/plain",
        buyer_id=buyer_id,
    )
    call(
        "POST",
        "/api/v1/buyers",
        201,
        headers=staff_h,
        json={**buyer_body, "company_name": "Other", "email": "o@other.example.com"},
    )
    call(
        "PATCH",
        "/api/v1/buyers/{buyer_id}",
        409,
        headers=staff_h,
        json={"email": "o@other.example.com"},
        buyer_id=buyer_id,
    )

    def upload(raw: bytes, name: str = "buyers.csv"):
        return {"data": {"file": (BytesIO(raw), name)}, "content_type": "multipart/form-data"}

    csv = b"company,country,email\nZenith Trading,JP,info@zenith.example.jp\n"
    preview = call("POST", "/api/v1/buyers/imports", 201, headers=staff_h, **upload(csv)).get_json()
    call("POST", "/api/v1/buyers/imports", 422, headers=staff_h, **upload(b"", "buyers.csv"))
    call("POST", "/api/v1/buyers/imports", 404, headers=owner_h, **upload(csv))
    call("POST", "/api/v1/buyers/imports", 401, **upload(csv))
    confirm = "/api/v1/buyers/imports/{batch_id}/confirm"
    batch_id = preview["batch_id"]
    call("POST", confirm, 422, headers=staff_h, json={}, batch_id=batch_id)
    call("POST", confirm, 400, headers=staff_h, data=b"[]", content_type="application/json", batch_id=batch_id)
    call("POST", confirm, 415, headers=staff_h, data=b"{}", content_type="text/plain", batch_id=batch_id)
    call("POST", confirm, 404, headers=owner_h, json={"digest": preview["digest"]}, batch_id=batch_id)
    call("POST", confirm, 401, json={"digest": preview["digest"]}, batch_id=batch_id)
    call("POST", confirm, 200, headers=staff_h, json={"digest": preview["digest"]}, batch_id=batch_id)
    call("POST", confirm, 409, headers=staff_h, json={"digest": preview["digest"]}, batch_id=batch_id)

    interp_body = {
        "name": "Kim",
        "email": "kim@interp.example.com",
        "languages": ["vi"],
        "locale": "en",
        "max_sessions_per_day": 4,
    }
    interp = call("POST", "/api/v1/interpreters", 201, headers=staff_h, json=interp_body)
    call("POST", "/api/v1/interpreters", 409, headers=staff_h, json=interp_body)
    call("POST", "/api/v1/interpreters", 422, headers=staff_h, json={})
    call("POST", "/api/v1/interpreters", 404, headers=owner_h, json=interp_body)
    call("POST", "/api/v1/interpreters", 401, json=interp_body)
    call("POST", "/api/v1/interpreters", 400, headers=staff_h, data=b"[]", content_type="application/json")
    call("POST", "/api/v1/interpreters", 415, headers=staff_h, data=b"{}", content_type="text/plain")
    one = "/api/v1/interpreters/{interpreter_id}"
    interpreter_id = interp.get_json()["id"]
    call("GET", "/api/v1/interpreters", 200, headers=staff_h, query={"language": "vi"})
    call("GET", "/api/v1/interpreters", 422, headers=staff_h, query={"page": "0"})
    call("GET", "/api/v1/interpreters", 404, headers=owner_h)
    call("GET", "/api/v1/interpreters", 401)
    call("GET", one, 200, headers=staff_h, interpreter_id=interpreter_id)
    call("GET", one, 404, headers=owner_h, interpreter_id=interpreter_id)
    call("GET", one, 401, interpreter_id=interpreter_id)
    hours = [{"weekday": 0, "start": "09:00", "end": "18:00"}]
    call("PATCH", one, 200, headers=staff_h, json={"weekly_hours": hours}, interpreter_id=interpreter_id)
    call("PATCH", one, 422, headers=staff_h, json={"weekly_hours": "x"}, interpreter_id=interpreter_id)
    call("PATCH", one, 404, headers=owner_h, json={}, interpreter_id=interpreter_id)
    call("PATCH", one, 401, json={}, interpreter_id=interpreter_id)
    call("PATCH", one, 400, headers=staff_h, data=b"1", content_type="application/json", interpreter_id=interpreter_id)
    call("PATCH", one, 415, headers=staff_h, data=b"{}", content_type="text/plain", interpreter_id=interpreter_id)
    call("POST", "/api/v1/interpreters", 201, headers=staff_h, json={**interp_body, "email": "lee@interp.example.com"})
    call("PATCH", one, 409, headers=staff_h, json={"email": "lee@interp.example.com"}, interpreter_id=interpreter_id)

    rnd = make_round(booths=2, slots_per_booth=1, status="closed", day=(utcnow() + timedelta(days=100)).date())
    _user_a, company_a = make_sme_with_company(hs_codes=("330499",), languages=("ko", "en"))
    _user_b, company_b = make_sme_with_company(hs_codes=("330499",), languages=("ko", "en"))
    rnd.status = "open"
    first, second = (book(c, s) for c, s in zip((company_a, company_b), slots_at(rnd, 0), strict=True))
    rnd.status = "closed"
    interpreter_for(rnd, ("vi",))
    db.session.commit()
    b1, b2 = first.id, second.id
    recs = "/api/v1/bookings/{booking_id}/recommendations"
    call("GET", recs, 200, headers=staff_h, booking_id=b1)
    call("GET", recs, 422, headers=staff_h, booking_id=b1, query={"limit": "x"})
    call("GET", recs, 404, headers=owner_h, booking_id=b1)
    call("GET", recs, 401, booking_id=b1)
    settings = "/api/v1/matching/settings"
    admin_h = bearer(make_user("admin"))
    call("GET", settings, 200, headers=staff_h)
    call("GET", settings, 404, headers=owner_h)
    call("GET", settings, 401)
    windows = [{"label": "Europe", "start": "17:00", "end": "21:00"}]
    call("PUT", settings, 200, headers=admin_h, json={"interpreter_policy": "needed", "region_windows": windows})
    call("PUT", settings, 403, headers=staff_h, json={})
    call("PUT", settings, 404, headers=owner_h, json={})
    call("PUT", settings, 401, json={})
    call("PUT", settings, 422, headers=admin_h, json={"interpreter_policy": "sometimes"})
    call("PUT", settings, 400, headers=admin_h, data=b"[]", content_type="application/json")
    call("PUT", settings, 415, headers=admin_h, data=b"{}", content_type="text/plain")
    proposals = "/api/v1/rounds/{round_id}/proposals"
    proposal = call("POST", proposals, 201, headers=staff_h, round_id=rnd.id).get_json()
    call("POST", proposals, 404, headers=owner_h, round_id=rnd.id)
    call("POST", proposals, 401, round_id=rnd.id)
    one_p, line, confirm_p = (
        "/api/v1/proposals/{proposal_id}",
        "/api/v1/proposals/{proposal_id}/lines/{line_id}",
        "/api/v1/proposals/{proposal_id}/confirm",
    )
    pid = proposal["id"]
    lines = {ln["booking"]["id"]: ln["id"] for ln in proposal["lines"]}
    call("GET", one_p, 200, headers=staff_h, proposal_id=pid)
    call("GET", one_p, 404, headers=owner_h, proposal_id=pid)
    call("GET", one_p, 401, proposal_id=pid)
    # The one fitting buyer on both lines at the same time: a violation, so confirming is refused.
    call("PATCH", line, 200, headers=staff_h, json={"buyer_id": buyer_id}, proposal_id=pid, line_id=lines[b1])
    call("PATCH", line, 200, headers=staff_h, json={"buyer_id": buyer_id}, proposal_id=pid, line_id=lines[b2])
    call("PATCH", line, 422, headers=staff_h, json={"buyer_id": "x"}, proposal_id=pid, line_id=lines[b2])
    call(
        "PATCH",
        line,
        400,
        headers=staff_h,
        data=b"[]",
        content_type="application/json",
        proposal_id=pid,
        line_id=lines[b2],
    )
    call("PATCH", line, 415, headers=staff_h, data=b"{}", content_type="text/plain", proposal_id=pid, line_id=lines[b2])
    call("PATCH", line, 404, headers=owner_h, json={}, proposal_id=pid, line_id=lines[b2])
    call("PATCH", line, 401, json={}, proposal_id=pid, line_id=lines[b2])
    call("POST", confirm_p, 422, headers=staff_h, proposal_id=pid)
    call("POST", confirm_p, 404, headers=owner_h, proposal_id=pid)
    call("POST", confirm_p, 401, proposal_id=pid)
    call("PATCH", line, 200, headers=staff_h, json={"buyer_id": None}, proposal_id=pid, line_id=lines[b2])
    call("POST", confirm_p, 200, headers=staff_h, proposal_id=pid)
    call("POST", confirm_p, 409, headers=staff_h, proposal_id=pid)
    call("PATCH", line, 409, headers=staff_h, json={}, proposal_id=pid, line_id=lines[b2])
    call("DELETE", one_p, 409, headers=staff_h, proposal_id=pid)
    call("DELETE", one_p, 404, headers=owner_h, proposal_id=pid)
    call("DELETE", one_p, 401, proposal_id=pid)
    # The line left without a buyer keeps its booking waiting: a new draft, which is discarded.
    draft = call("POST", proposals, 201, headers=staff_h, round_id=rnd.id).get_json()
    call("DELETE", one_p, 204, headers=staff_h, proposal_id=draft["id"])
    empty = make_round(booths=1, slots_per_booth=1, status="closed", day=(utcnow() + timedelta(days=130)).date())
    call("POST", proposals, 409, headers=staff_h, round_id=empty.id)

    match, meeting = "/api/v1/bookings/{booking_id}/match", "/api/v1/bookings/{booking_id}/meeting-url"
    call("DELETE", match, 204, headers=staff_h, booking_id=b1)
    call("DELETE", match, 409, headers=staff_h, booking_id=b1)
    call("DELETE", match, 422, headers=staff_h, booking_id=b1, query={"reason": "\x00"})
    call("DELETE", match, 404, headers=owner_h, booking_id=b1)
    call("DELETE", match, 401, booking_id=b1)
    call("PUT", match, 200, headers=staff_h, json={"buyer_id": buyer_id}, booking_id=b1)
    call("PUT", match, 409, headers=staff_h, json={"buyer_id": buyer_id}, booking_id=b2)
    call("PUT", match, 422, headers=staff_h, json={}, booking_id=b1)
    call("PUT", match, 400, headers=staff_h, data=b"[]", content_type="application/json", booking_id=b1)
    call("PUT", match, 415, headers=staff_h, data=b"{}", content_type="text/plain", booking_id=b1)
    call("PUT", match, 404, headers=owner_h, json={"buyer_id": buyer_id}, booking_id=b1)
    call("PUT", match, 401, json={"buyer_id": buyer_id}, booking_id=b1)
    call("PUT", meeting, 200, headers=staff_h, json={"url": "https://zoom.us/j/1"}, booking_id=b1)
    call("PUT", meeting, 422, headers=staff_h, json={"url": "nope"}, booking_id=b1)
    call("PUT", meeting, 400, headers=staff_h, data=b"[]", content_type="application/json", booking_id=b1)
    call("PUT", meeting, 415, headers=staff_h, data=b"{}", content_type="text/plain", booking_id=b1)
    call("PUT", meeting, 404, headers=owner_h, json={"url": "https://zoom.us/j/1"}, booking_id=b1)
    call("PUT", meeting, 401, json={"url": "https://zoom.us/j/1"}, booking_id=b1)
    db.session.get(Booking, b1).status = "cancelled"
    db.session.commit()
    call("PUT", meeting, 409, headers=staff_h, json={"url": "https://zoom.us/j/2"}, booking_id=b1)


def _outcomes_and_reports_tour(call, staff_h):
    """Consultation logs, stages, contracts, rates, survey responses and the program report (issue 5)."""
    from consultroom.outcomes.services import record_log
    from consultroom.timeutil import seoul_date
    from tests.factories import make_consultation, make_interpreter, past_round

    sme, company = make_sme_with_company()
    linked = make_user("sme")
    rnd = past_round(days_ago=3)
    held = make_consultation(rnd, 0, company=company, interpreter=make_interpreter(user=linked))
    unlogged = make_consultation(rnd, 1)
    record_log(booking=held, data={"attendance": "held"}, actor=make_user("staff"), now=utcnow())
    admin = make_user("admin")
    db.session.commit()
    sme_h, linked_h, admin_h, stranger_h = bearer(sme), bearer(linked), bearer(admin), bearer(make_user("sme"))
    day = seoul_date(held.starts_at).isoformat()
    one, log, stage, contracts = (
        "/api/v1/consultations/{booking_id}",
        "/api/v1/consultations/{booking_id}/log",
        "/api/v1/consultations/{booking_id}/stage",
        "/api/v1/consultations/{booking_id}/contracts",
    )
    call("GET", one, 200, headers=sme_h, booking_id=held.id)
    call("GET", one, 200, headers=linked_h, booking_id=held.id)
    call("GET", one, 404, headers=stranger_h, booking_id=held.id)
    call("GET", one, 401, booking_id=held.id)
    call("PUT", log, 200, headers=linked_h, json={"attendance": "held", "notes": "ok"}, booking_id=held.id)
    call("PUT", log, 403, headers=sme_h, json={"attendance": "held"}, booking_id=held.id)
    call("PUT", log, 404, headers=stranger_h, json={"attendance": "held"}, booking_id=held.id)
    call("PUT", log, 422, headers=staff_h, json={}, booking_id=held.id)
    call("PUT", log, 400, headers=staff_h, data=b"[]", content_type="application/json", booking_id=held.id)
    call("PUT", log, 415, headers=staff_h, data=b"{}", content_type="text/plain", booking_id=held.id)
    call("PUT", log, 401, json={"attendance": "held"}, booking_id=held.id)
    move = {"to": "negotiating", "on": day}
    call("POST", stage, 200, headers=sme_h, json=move, booking_id=held.id)
    call("POST", stage, 422, headers=sme_h, json={"to": "follow_up", "on": day}, booking_id=held.id)
    call("POST", stage, 403, headers=linked_h, json=move, booking_id=held.id)
    call("POST", stage, 404, headers=stranger_h, json=move, booking_id=held.id)
    call("POST", stage, 409, headers=staff_h, json=move, booking_id=unlogged.id)
    call("POST", stage, 400, headers=sme_h, data=b"[]", content_type="application/json", booking_id=held.id)
    call("POST", stage, 415, headers=sme_h, data=b"{}", content_type="text/plain", booking_id=held.id)
    call("POST", stage, 401, json=move, booking_id=held.id)
    deal = {"amount": "1000.00", "currency": "USD", "signed_on": day}
    call("POST", contracts, 422, headers=sme_h, json=deal, booking_id=held.id)  # no USD rate yet
    call(
        "PUT",
        "/api/v1/rates/{currency}/{day}",
        201,
        headers=admin_h,
        json={"krw_per_unit": "1400"},
        currency="USD",
        day=day,
    )
    call(
        "PUT",
        "/api/v1/rates/{currency}/{day}",
        200,
        headers=admin_h,
        json={"krw_per_unit": "1387.25"},
        currency="USD",
        day=day,
    )
    call("PUT", "/api/v1/rates/{currency}/{day}", 422, headers=admin_h, json={}, currency="USD", day=day)
    call(
        "PUT",
        "/api/v1/rates/{currency}/{day}",
        400,
        headers=admin_h,
        data=b"[]",
        content_type="application/json",
        currency="USD",
        day=day,
    )
    call(
        "PUT",
        "/api/v1/rates/{currency}/{day}",
        415,
        headers=admin_h,
        data=b"{}",
        content_type="text/plain",
        currency="USD",
        day=day,
    )
    call(
        "PUT",
        "/api/v1/rates/{currency}/{day}",
        404,
        headers=staff_h,
        json={"krw_per_unit": "1"},
        currency="USD",
        day=day,
    )
    call("PUT", "/api/v1/rates/{currency}/{day}", 401, json={"krw_per_unit": "1"}, currency="USD", day=day)
    call("GET", "/api/v1/rates", 200, headers=admin_h, query={"currency": "USD", "from": day})
    call("GET", "/api/v1/rates", 422, headers=admin_h, query={"to": "x"})
    call("GET", "/api/v1/rates", 404, headers=staff_h)
    call("GET", "/api/v1/rates", 401)
    created = call("POST", contracts, 201, headers=sme_h, json=deal, booking_id=held.id).get_json()
    assert created["krw_value"] == 1_387_250
    call("POST", contracts, 403, headers=linked_h, json=deal, booking_id=held.id)
    call("POST", contracts, 404, headers=stranger_h, json=deal, booking_id=held.id)
    call("POST", contracts, 409, headers=staff_h, json=deal, booking_id=unlogged.id)
    call("POST", contracts, 400, headers=sme_h, data=b"[]", content_type="application/json", booking_id=held.id)
    call("POST", contracts, 415, headers=sme_h, data=b"{}", content_type="text/plain", booking_id=held.id)
    call("POST", contracts, 401, json=deal, booking_id=held.id)
    call("GET", one, 200, headers=staff_h, booking_id=held.id)
    call("GET", "/api/v1/survey-responses", 200, headers=sme_h, query={"round_id": rnd.id})
    call("GET", "/api/v1/survey-responses", 200, headers=staff_h)
    call("GET", "/api/v1/survey-responses", 422, headers=staff_h, query={"per_page": "0"})
    call("GET", "/api/v1/survey-responses", 401)
    call("GET", "/api/v1/reports/program", 200, headers=staff_h, query={"year": rnd.day.year})
    call("GET", "/api/v1/reports/program", 200, headers=staff_h, query={"round_id": rnd.id})
    call("GET", "/api/v1/reports/program", 422, headers=staff_h, query={"year": "1999"})
    call("GET", "/api/v1/reports/program", 404, headers=sme_h)
    call("GET", "/api/v1/reports/program", 401)


def _privacy_tour(call, owner_h, staff_h):
    admin_h = bearer(make_user("admin"))
    call("GET", "/api/v1/me/data", 200, headers=owner_h)
    call("GET", "/api/v1/me/data", 401)
    call("GET", "/api/v1/me/consents", 200, headers=owner_h)
    call("GET", "/api/v1/me/consents", 401)
    consent = "/api/v1/me/consents/marketing_email"
    call("PUT", consent, 200, headers=owner_h, json={"granted": False})
    call("PUT", consent, 422, headers=owner_h, json={"granted": None})
    call("PUT", consent, 400, headers=owner_h, data=b"[]", content_type="application/json")
    call("PUT", consent, 415, headers=owner_h, data=b"{}", content_type="text/plain")
    call("PUT", consent, 401, json={"granted": True})
    erasure = "/api/v1/me/erasure-requests"
    call("POST", erasure, 403, headers=staff_h, json={})
    call("POST", erasure, 422, headers=owner_h, json={"note": 1})
    call("POST", erasure, 400, headers=owner_h, data=b"[]", content_type="application/json")
    call("POST", erasure, 415, headers=owner_h, data=b"{}", content_type="text/plain")
    call("POST", erasure, 201, headers=owner_h, json={"note": "Please delete my data."})
    call("POST", erasure, 409, headers=owner_h, json={})
    call("POST", erasure, 401, json={})
    call("GET", "/api/v1/access-log", 200, headers=admin_h)
    call("GET", "/api/v1/access-log", 422, headers=admin_h, query={"action": "read"})
    call("GET", "/api/v1/access-log", 404, headers=staff_h)
    call("GET", "/api/v1/access-log", 401)
