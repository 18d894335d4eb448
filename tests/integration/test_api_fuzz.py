"""No input gives a 500: random JSON, random bytes and random path ids at every API endpoint.

The testing app re-raises unexpected exceptions, so a crash fails the example with its traceback.
Every answer with a documented status must also match the document (api_call checks).
"""

import json
import os
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consultroom.api.tokens import issue_token
from consultroom.buyers.services import ALL_FIELDS as BUYER_FIELDS
from consultroom.companies.services import ALL_FIELDS
from consultroom.extensions import db
from consultroom.interpreters.services import ALL_FIELDS as INTERPRETER_FIELDS
from tests.factories import PASSWORD, make_company, make_round, make_user
from tests.integration.test_api_support import DOC, api_call, bearer

# CI draws the same examples every run (a build must not pass or fail by luck);
# CONSULTROOM_FUZZ_RANDOM=1 explores new ones, with more of them.
EXPLORE = os.environ.get("CONSULTROOM_FUZZ_RANDOM") == "1"
FUZZ = settings(
    max_examples=400 if EXPLORE else 60,
    derandomize=not EXPLORE,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
# Mostly text and lists of text, which get past the type checks to the validators and the database.
field_values = st.one_of(st.text(max_size=40), st.lists(st.text(max_size=8), max_size=4), json_values)
any_fields = st.dictionaries(st.sampled_from([*ALL_FIELDS, "id", "extra"]), field_values, max_size=8)
# Free-text fields alone: with no other field to fail validation, random text reaches the database.
free_text = st.dictionaries(
    st.sampled_from(["name_ko", "name_en", "representative", "address", "industry", "products", "contact_name"]),
    # Every code point, lone surrogates included (they are valid in JSON text, not in UTF-8).
    st.text(st.characters(exclude_categories=()), max_size=40),
    min_size=1,
    max_size=3,
)
company_like = any_fields | free_text
token_like = st.dictionaries(st.sampled_from(["email", "password", "name", "extra"]), field_values, max_size=4)


def bodies(objects):
    """JSON text of random values or of objects shaped like the endpoint's input, or random bytes."""
    as_json = (json_values | objects).map(json.dumps)
    return st.one_of(as_json, as_json, st.text(max_size=60), st.binary(max_size=60))


content_types = st.sampled_from(["application/json", "application/json", "text/plain", None])


def _check(response) -> None:
    assert response.status_code < 500
    if response.status_code >= 400:
        body = response.get_json()
        assert set(body["error"]) == {"code", "message", "fields"}


@pytest.fixture
def relaxed_limits(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_IP", "100000 per minute")
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "100000 per minute")


@FUZZ
@given(body=bodies(token_like), content_type=content_types)
def test_fuzz_post_tokens_never_500(client, relaxed_limits, body, content_type):
    response = api_call(client, "POST", "/api/v1/tokens", data=body, content_type=content_type)
    _check(response)


@pytest.fixture
def fuzz_account():
    return make_user("sme", email="fuzz@example.kr")


@FUZZ
@given(payload=token_like)
def test_fuzz_post_tokens_known_account_never_500(client, relaxed_limits, fuzz_account, payload):
    # A real address and password, so the random name and extra fields reach token issuing.
    payload = {"email": fuzz_account.email, "password": PASSWORD, **payload}
    if isinstance(payload.get("email"), str):
        payload["email"] = fuzz_account.email
    response = api_call(client, "POST", "/api/v1/tokens", json=payload)
    _check(response)


@pytest.fixture
def newcomer_headers():
    return bearer(make_user("sme"))


@FUZZ
@given(body=bodies(company_like), content_type=content_types)
def test_fuzz_post_companies_never_500(client, newcomer_headers, body, content_type):
    response = api_call(
        client, "POST", "/api/v1/companies", headers=newcomer_headers, data=body, content_type=content_type
    )
    _check(response)


@pytest.fixture
def owned_company():
    owner = make_user("sme")
    company = make_company(owner=owner)
    make_company(business_number="2208162517")
    return bearer(owner), company.id


@FUZZ
@given(body=bodies(company_like), content_type=content_types)
def test_fuzz_patch_company_never_500(client, owned_company, body, content_type):
    headers, company_id = owned_company
    response = api_call(
        client,
        "PATCH",
        "/api/v1/companies/{company_id}",
        headers=headers,
        data=body,
        content_type=content_type,
        company_id=company_id,
    )
    _check(response)


@FUZZ
@given(patch=company_like)
def test_fuzz_patch_company_json_objects_never_500(client, owned_company, patch):
    headers, company_id = owned_company
    response = api_call(
        client, "PATCH", "/api/v1/companies/{company_id}", headers=headers, json=patch, company_id=company_id
    )
    _check(response)


@FUZZ
@given(query=st.dictionaries(st.sampled_from(["q", "industry", "country", "hs", "page", "per_page"]), st.text()))
def test_fuzz_list_companies_query_never_500(client, owned_company, query):
    headers, _company_id = owned_company
    response = api_call(client, "GET", "/api/v1/companies", headers=headers, query=query)
    _check(response)


# Bookings: ids of every size and type, and requests shaped like the booking form's.
booking_ids = st.integers() | st.integers(min_value=1, max_value=8) | json_values
request_like = st.dictionaries(
    st.sampled_from(["products", "hs_codes", "target_countries", "buyer_profile", "languages", "notes", "extra"]),
    field_values | st.text(st.characters(exclude_categories=()), max_size=40),
    max_size=7,
)
booking_like = st.fixed_dictionaries(
    {},
    optional={
        "slot_id": booking_ids,
        "company_id": booking_ids,
        "request": request_like | json_values,
        "extra": json_values,
    },
)


@pytest.fixture
def booking_world():
    """An open round with six slots, an SME with a company and a staff user; returns their headers."""
    owner = make_user("sme")
    make_company(owner=owner)
    make_company()
    make_round(booths=2, slots_per_booth=3)
    return {"sme": bearer(owner), "staff": bearer(make_user("staff"))}


@FUZZ
@given(body=bodies(booking_like), content_type=content_types, who=st.sampled_from(["sme", "staff"]))
def test_fuzz_post_bookings_never_500(client, booking_world, body, content_type, who):
    response = api_call(
        client, "POST", "/api/v1/bookings", headers=booking_world[who], data=body, content_type=content_type
    )
    _check(response)


@FUZZ
@given(payload=booking_like, who=st.sampled_from(["sme", "staff"]))
def test_fuzz_post_bookings_json_objects_never_500(client, booking_world, payload, who):
    response = api_call(client, "POST", "/api/v1/bookings", headers=booking_world[who], json=payload)
    _check(response)


@FUZZ
@given(
    query=st.dictionaries(st.sampled_from(["round_id", "page", "per_page", "free", "reason"]), st.text()),
    who=st.sampled_from(["sme", "staff"]),
)
def test_fuzz_round_and_booking_queries_never_500(client, booking_world, query, who):
    headers = booking_world[who]
    for method, template, params in (
        ("GET", "/api/v1/rounds", {}),
        ("GET", "/api/v1/rounds/{round_id}/slots", {"round_id": 1}),
        ("GET", "/api/v1/bookings", {}),
        ("DELETE", "/api/v1/bookings/{booking_id}", {"booking_id": 1}),
    ):
        response = api_call(client, method, template, headers=headers, query=query, **params)
        _check(response)


path_ids = st.integers() | st.text(max_size=30) | st.sampled_from(["0", "-1", "1e3", "０１", "2147483647", "%", ".."])


@FUZZ
@given(raw_id=path_ids, method=st.sampled_from(["GET", "PATCH", "DELETE", "PUT", "POST"]))
def test_fuzz_path_ids_never_500(client, raw_id, method):
    staff = make_user("staff")
    _token, raw = issue_token(user=staff)
    db.session.commit()
    segment = quote(str(raw_id), safe="")
    urls = [
        prefix + segment for prefix in ("/api/v1/companies/", "/api/v1/tokens/", "/api/v1/rounds/", "/api/v1/bookings/")
    ]
    urls += [f"/api/v1/rounds/{segment}/slots", f"/api/v1/bookings/{segment}/ics"]
    for url in urls:
        response = client.open(url, method=method, headers={"Authorization": f"Bearer {raw}"}, json={})
        _check(response)


@FUZZ
@given(header=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=80))
def test_fuzz_authorization_header_never_500(client, header):
    for value in (header, "Bearer " + header):
        response = client.get("/api/v1/me", headers={"Authorization": value})
        _check(response)
        assert response.status_code == 401


def test_fuzz_covers_every_body_endpoint():
    with_body = {(p, m) for p, item in DOC["paths"].items() for m, op in item.items() if "requestBody" in op}

    assert with_body == {
        ("/api/v1/tokens", "post"),
        ("/api/v1/companies", "post"),
        ("/api/v1/companies/{company_id}", "patch"),
        ("/api/v1/bookings", "post"),
        ("/api/v1/buyers", "post"),
        ("/api/v1/buyers/{buyer_id}", "patch"),
        ("/api/v1/buyers/imports", "post"),
        ("/api/v1/buyers/imports/{batch_id}/confirm", "post"),
        ("/api/v1/interpreters", "post"),
        ("/api/v1/interpreters/{interpreter_id}", "patch"),
        ("/api/v1/bookings/{booking_id}/match", "put"),
        ("/api/v1/bookings/{booking_id}/meeting-url", "put"),
        ("/api/v1/matching/settings", "put"),
        ("/api/v1/proposals/{proposal_id}/lines/{line_id}", "patch"),
        ("/api/v1/consultations/{booking_id}/log", "put"),
        ("/api/v1/consultations/{booking_id}/stage", "post"),
        ("/api/v1/consultations/{booking_id}/contracts", "post"),
        ("/api/v1/rates/{currency}/{day}", "put"),
        # fuzzed in test_api_privacy.py
        ("/api/v1/me/consents/marketing_email", "put"),
        ("/api/v1/me/erasure-requests", "post"),
    }


# --- buyers, interpreters and matching (staff only) ----------------------------------------------

buyer_like = st.dictionaries(st.sampled_from([*BUYER_FIELDS, "active", "extra"]), field_values, max_size=8)
interpreter_like = st.dictionaries(
    st.sampled_from([*INTERPRETER_FIELDS, "active", "weekly_hours", "extra"]),
    field_values
    | st.lists(
        st.fixed_dictionaries(
            {},
            optional={"weekday": json_values | st.integers(), "start": st.text(max_size=6), "end": st.text(max_size=6)},
        ),
        max_size=3,
    ),
    max_size=8,
)
ids_like = st.dictionaries(
    st.sampled_from(["buyer_id", "interpreter_id", "url", "digest", "extra"]), json_values | booking_ids, max_size=3
)


@pytest.fixture
def registry_world():
    """A staff token, a buyer, an interpreter, a booking, a draft proposal and an import batch; their ids."""
    from consultroom.buyers.importing import parse_upload, save_batch
    from consultroom.matching.proposals import create_proposal
    from tests.factories.matching import book, interpreter_for, make_buyer

    staff = make_user("staff")
    rnd = make_round(booths=1, slots_per_booth=2, status="open")
    booking = book(make_company(languages=("ko", "en")), rnd.slots[0])
    rnd.status = "closed"
    buyer = make_buyer("Fuzz Buyer", timezone="Asia/Seoul")
    interpreter = interpreter_for(rnd, ("en",))
    proposal = create_proposal(rnd=rnd, actor=staff)
    batch = save_batch(parsed=parse_upload("b.csv", b"company,country,email\nA,JP,a@a.example.jp\n"), actor=staff)
    db.session.commit()
    return {
        "h": bearer(staff),
        "buyer_id": buyer.id,
        "interpreter_id": interpreter.id,
        "booking_id": booking.id,
        "proposal_id": proposal.id,
        "line_id": proposal.lines[0].id,
        "batch_id": batch.id,
    }


@FUZZ
@given(body=bodies(buyer_like), content_type=content_types, payload=buyer_like)
def test_fuzz_buyer_bodies_never_500(client, registry_world, body, content_type, payload):
    w = registry_world
    for method, template in (("POST", "/api/v1/buyers"), ("PATCH", "/api/v1/buyers/{buyer_id}")):
        _check(
            api_call(
                client, method, template, headers=w["h"], data=body, content_type=content_type, buyer_id=w["buyer_id"]
            )
        )
        _check(api_call(client, method, template, headers=w["h"], json=payload, buyer_id=w["buyer_id"]))


@FUZZ
@given(body=bodies(interpreter_like), content_type=content_types, payload=interpreter_like)
def test_fuzz_interpreter_bodies_never_500(client, registry_world, body, content_type, payload):
    w = registry_world
    for method, template in (("POST", "/api/v1/interpreters"), ("PATCH", "/api/v1/interpreters/{interpreter_id}")):
        kwargs = {"interpreter_id": w["interpreter_id"]}
        _check(api_call(client, method, template, headers=w["h"], data=body, content_type=content_type, **kwargs))
        _check(api_call(client, method, template, headers=w["h"], json=payload, **kwargs))


@FUZZ
@given(body=bodies(ids_like), content_type=content_types, payload=ids_like)
def test_fuzz_matching_bodies_never_500(client, registry_world, body, content_type, payload):
    w = registry_world
    for method, template in (
        ("PUT", "/api/v1/bookings/{booking_id}/match"),
        ("PUT", "/api/v1/bookings/{booking_id}/meeting-url"),
        ("PATCH", "/api/v1/proposals/{proposal_id}/lines/{line_id}"),
        ("POST", "/api/v1/buyers/imports/{batch_id}/confirm"),
    ):
        ids = {k: w[k] for k in ("booking_id", "proposal_id", "line_id", "batch_id")}
        _check(api_call(client, method, template, headers=w["h"], data=body, content_type=content_type, **ids))
        _check(api_call(client, method, template, headers=w["h"], json=payload, **ids))


settings_like = st.dictionaries(
    st.sampled_from(["interpreter_policy", "region_windows", "extra"]),
    st.one_of(
        field_values,
        st.sampled_from(["always", "needed"]),
        st.lists(
            st.dictionaries(st.sampled_from(["label", "start", "end", "x"]), field_values, max_size=4), max_size=5
        ),
    ),
    max_size=3,
)


@pytest.fixture
def admin_headers():
    return bearer(make_user("admin"))


@FUZZ
@given(body=bodies(settings_like), content_type=content_types, payload=settings_like)
def test_fuzz_matching_settings_bodies_never_500(client, admin_headers, body, content_type, payload):
    url = "/api/v1/matching/settings"
    _check(api_call(client, "PUT", url, headers=admin_headers, data=body, content_type=content_type))
    _check(api_call(client, "PUT", url, headers=admin_headers, json=payload))


@FUZZ
@given(
    raw=st.binary(max_size=200),
    # Lone surrogates cannot be encoded into a multipart body at all (the test client fails before
    # sending), so file names are any other text.
    name=st.text(st.characters(exclude_categories=("Cs",)), max_size=20),
    suffix=st.sampled_from([".csv", ".xlsx", ".xls", ""]),
)
def test_fuzz_buyer_import_upload_never_500(client, registry_world, raw, name, suffix):
    from io import BytesIO

    data = {"file": (BytesIO(raw), name + suffix)}
    response = api_call(
        client,
        "POST",
        "/api/v1/buyers/imports",
        headers=registry_world["h"],
        data=data,
        content_type="multipart/form-data",
    )
    _check(response)


# --- consultations, rates, survey responses and the report (issue 5) ------------------------------

outcome_like = st.dictionaries(
    st.sampled_from(
        [
            "attendance",
            "absent_party",
            "buyer_interest",
            "notes",
            "samples_requested",
            "next_action_on",
            "to",
            "on",
            "note",
            "amount",
            "currency",
            "signed_on",
            "items",
            "krw_per_unit",
            "extra",
        ]
    ),
    field_values | st.sampled_from(["held", "no_show", "buyer", "negotiating", "dropped", "USD", "KRW", "2026-03-06"]),
    max_size=6,
)


@pytest.fixture
def outcome_world():
    from consultroom.db import utcnow
    from consultroom.outcomes.services import record_log
    from tests.factories import make_consultation, make_rate, past_round

    staff, admin = make_user("staff"), make_user("admin")
    booking = make_consultation(past_round(days_ago=3))
    record_log(booking=booking, data={"attendance": "held"}, actor=staff, now=utcnow())
    make_rate("USD", booking.round.day, "1387.25")
    db.session.commit()
    return {"booking_id": booking.id, "h": bearer(staff), "admin_h": bearer(admin)}


@FUZZ
@given(body=bodies(outcome_like), content_type=content_types, payload=outcome_like)
def test_fuzz_outcome_bodies_never_500(client, outcome_world, body, content_type, payload):
    w = outcome_world
    for method, template in (
        ("PUT", "/api/v1/consultations/{booking_id}/log"),
        ("POST", "/api/v1/consultations/{booking_id}/stage"),
        ("POST", "/api/v1/consultations/{booking_id}/contracts"),
    ):
        _check(api_call(client, method, template, headers=w["h"], data=body, content_type=content_type, **w))
        _check(api_call(client, method, template, headers=w["h"], json=payload, **w))


@FUZZ
@given(
    payload=outcome_like,
    currency=st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=8),
    day=st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12) | st.just("2026-03-06"),
)
def test_fuzz_rate_path_and_body_never_500(client, outcome_world, payload, currency, day):
    response = client.put(
        f"/api/v1/rates/{quote(currency, safe='')}/{quote(day, safe='')}",
        json=payload,
        headers=outcome_world["admin_h"],
    )
    _check(response)


@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(["year", "start", "end", "round_id", "currency", "from", "to", "page", "per_page"]),
        # Lone surrogates cannot be put in a URL at all (the test client refuses them).
        st.text(st.characters(exclude_categories=("Cs",)), max_size=12),
    )
)
def test_fuzz_outcome_and_report_queries_never_500(client, outcome_world, query):
    for template in ("/api/v1/rates", "/api/v1/survey-responses", "/api/v1/reports/program"):
        _check(api_call(client, "GET", template, headers=outcome_world["admin_h"], query=query))
