"""Personal data through the API: the caller's export, consents and deletion request, the access log, and
access logging on the staff routes. Every answer is checked against the OpenAPI document (api_call)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from consultroom.buyers.models import BuyerInterest
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.privacy.consent import record_consent
from consultroom.privacy.models import ConsentRecord, ErasureRequest, PersonalDataAccess
from tests.factories import (
    SurveyQuestionFactory,
    make_booking,
    make_buyer,
    make_company,
    make_consultation,
    make_interpreter,
    make_round,
    make_sme_with_company,
    make_user,
    past_round,
    survey,
)
from tests.integration.test_api_fuzz import FUZZ, _check, bodies, content_types, json_values
from tests.integration.test_api_support import DOC, api_call, assert_error, bearer


def _rows() -> list[tuple]:
    return [
        (r.actor_id, r.subject_type, r.subject_id, r.action, r.what, r.via)
        for r in db.session.scalars(select(PersonalDataAccess).order_by(PersonalDataAccess.id))
    ]


def test_my_data_is_the_callers_own_export(client):
    owner, company = make_sme_with_company(contact_email="contact@hanbit.example.kr")
    _other, other_company = make_sme_with_company(contact_email="contact@other.example.kr")
    rnd = past_round()
    mine = make_consultation(rnd, 0, company=company)
    make_consultation(rnd, 1, company=other_company)

    response = api_call(client, "GET", "/api/v1/me/data", headers=bearer(owner))

    assert response.status_code == 200
    body = response.get_json()
    assert body["account"]["email"] == owner.email
    assert body["company"]["contact_email"] == "contact@hanbit.example.kr"
    assert [b["id"] for b in body["bookings"]] == [mine.id]
    assert "contact@other.example.kr" not in response.get_data(as_text=True)
    assert mine.buyer.email not in response.get_data(as_text=True)


def test_my_data_of_staff_is_their_account(client):
    staff = make_user("staff")

    body = api_call(client, "GET", "/api/v1/me/data", headers=bearer(staff)).get_json()

    assert body["account"]["id"] == staff.id
    assert body["company"] is None


def test_consents_list_and_marketing_change(client):
    owner, company = make_sme_with_company()
    record_consent(subject_type="user", subject_id=owner.id, user=owner, purpose="account", granted=True)
    record_consent(subject_type="company", subject_id=company.id, user=owner, purpose="company_profile", granted=True)
    headers = bearer(owner)

    before = api_call(client, "GET", "/api/v1/me/consents", headers=headers).get_json()
    granted = api_call(client, "PUT", "/api/v1/me/consents/marketing_email", headers=headers, json={"granted": True})
    again = api_call(client, "PUT", "/api/v1/me/consents/marketing_email", headers=headers, json={"granted": True})
    after = api_call(client, "GET", "/api/v1/me/consents", headers=headers).get_json()

    assert [(c["subject_type"], c["purpose"]) for c in before["items"]] == [
        ("user", "account"),
        ("company", "company_profile"),
    ]
    assert granted.status_code == 200 and again.status_code == 200
    assert (granted.get_json()["purpose"], granted.get_json()["granted"], granted.get_json()["via"]) == (
        "marketing_email",
        True,
        "api",
    )
    records = db.session.scalars(select(ConsentRecord).where(ConsentRecord.purpose == "marketing_email")).all()
    assert [(r.granted, r.via, r.user_id) for r in records] == [(True, "api", owner.id)]  # the repeat adds nothing
    assert ("user", "marketing_email") in {(c["subject_type"], c["purpose"]) for c in after["items"]}


def test_marketing_consent_needs_a_boolean(client):
    user = make_user("sme")

    response = api_call(
        client, "PUT", "/api/v1/me/consents/marketing_email", headers=bearer(user), json={"granted": "yes", "x": 1}
    )

    error = assert_error(response, 422, "invalid")
    assert set(error["fields"]) == {"granted", "x"}


def test_erasure_request_created_then_duplicate_refused(client):
    owner, _company = make_sme_with_company()
    headers = bearer(owner)

    created = api_call(client, "POST", "/api/v1/me/erasure-requests", headers=headers, json={"note": "Delete me"})
    duplicate = api_call(client, "POST", "/api/v1/me/erasure-requests", headers=headers, json={})

    assert created.status_code == 201
    body = created.get_json()
    assert (body["subject_type"], body["status"], body["note"]) == ("user", "open", "Delete me")
    assert_error(duplicate, 409, "conflict")
    request_ = db.session.scalar(select(ErasureRequest))
    assert (request_.subject_id, request_.requested_by_id) == (owner.id, owner.id)


def test_erasure_request_refused_for_staff_and_bad_notes(client):
    staff, sme = make_user("staff"), make_user("sme")

    refused = api_call(client, "POST", "/api/v1/me/erasure-requests", headers=bearer(staff), json={})
    too_long = api_call(client, "POST", "/api/v1/me/erasure-requests", headers=bearer(sme), json={"note": "x" * 2001})
    not_text = api_call(client, "POST", "/api/v1/me/erasure-requests", headers=bearer(sme), json={"note": 5})

    assert_error(refused, 403, "forbidden")
    assert set(assert_error(too_long, 422, "invalid")["fields"]) == {"note"}
    assert set(assert_error(not_text, 422, "invalid")["fields"]) == {"note"}
    assert db.session.scalar(select(ErasureRequest)) is None


def test_staff_api_reads_are_logged_with_via_api(client):
    staff = make_user("staff")
    _owner, company = make_sme_with_company()
    buyer, interpreter = make_buyer(), make_interpreter()
    headers = bearer(staff)

    api_call(client, "GET", "/api/v1/companies/{company_id}", headers=headers, company_id=company.id)
    api_call(client, "GET", "/api/v1/buyers/{buyer_id}", headers=headers, buyer_id=buyer.id)
    api_call(client, "GET", "/api/v1/interpreters/{interpreter_id}", headers=headers, interpreter_id=interpreter.id)
    api_call(client, "GET", "/api/v1/buyers", headers=headers)

    assert _rows() == [
        (staff.id, "company", company.id, "view", "api.get_company", "api"),
        (staff.id, "buyer", buyer.id, "view", "api.get_buyer", "api"),
        (staff.id, "interpreter", interpreter.id, "view", "api.get_interpreter", "api"),
        (staff.id, "buyer", buyer.id, "view", "api.list_buyers", "api"),
    ]


def test_consultation_read_by_staff_is_logged_for_company_and_buyer(client):
    staff = make_user("staff")
    owner, company = make_sme_with_company()
    booking = make_consultation(past_round(), company=company)

    api_call(client, "GET", "/api/v1/consultations/{booking_id}", headers=bearer(staff), booking_id=booking.id)
    api_call(client, "GET", "/api/v1/consultations/{booking_id}", headers=bearer(owner), booking_id=booking.id)

    assert _rows() == [
        (staff.id, "company", company.id, "view", "api.get_consultation", "api"),
        (staff.id, "buyer", booking.buyer_id, "view", "api.get_consultation", "api"),
    ]


def test_recommendations_log_the_interpreters_named(client):
    staff = make_user("staff")
    rnd = make_round(booths=1, slots_per_booth=1)
    booking = make_booking(rnd.slots[0])
    make_buyer(languages=("en",), interest_rows=[BuyerInterest(code="3304")])  # a product fit: a candidate
    interpreter = make_interpreter(languages=("en",))

    response = api_call(
        client, "GET", "/api/v1/bookings/{booking_id}/recommendations", headers=bearer(staff), booking_id=booking.id
    )

    named = {i["id"] for item in response.get_json()["items"] for i in item["interpreters"]}
    assert _rows() == [
        (staff.id, "interpreter", i, "view", "api.booking_recommendations", "api") for i in sorted(named)
    ]
    assert named == {interpreter.id}


def test_an_sme_reading_its_company_is_not_logged(client):
    owner, company = make_sme_with_company()

    api_call(client, "GET", "/api/v1/companies/{company_id}", headers=bearer(owner), company_id=company.id)
    api_call(client, "GET", "/api/v1/companies", headers=bearer(owner))

    assert _rows() == []


def test_company_list_query_count_stays_constant_with_logging(client, count_queries):
    staff = make_user("staff")
    headers = bearer(staff)
    make_company()
    db.session.commit()
    client.get("/api/v1/companies", headers=headers)
    with count_queries() as one:
        client.get("/api/v1/companies", headers=headers)
    for _ in range(15):
        make_company()
    db.session.commit()
    with count_queries() as many:
        client.get("/api/v1/companies", headers=headers)

    assert one.count == many.count


def test_access_log_api_for_admins_with_filters(client):
    admin, staff = make_user("admin"), make_user("staff", name="Park Staff")
    _owner, company = make_sme_with_company()
    buyer = make_buyer()
    api_call(client, "GET", "/api/v1/companies/{company_id}", headers=bearer(staff), company_id=company.id)
    api_call(client, "GET", "/api/v1/buyers/{buyer_id}", headers=bearer(staff), buyer_id=buyer.id)
    headers = bearer(admin)

    everything = api_call(client, "GET", "/api/v1/access-log", headers=headers).get_json()
    buyers_only = api_call(
        client, "GET", "/api/v1/access-log", headers=headers, query={"subject_type": "buyer", "per_page": 1}
    ).get_json()
    bad = api_call(
        client,
        "GET",
        "/api/v1/access-log",
        headers=headers,
        query={"subject_type": "robot", "from": "2026-02-30", "actor_id": "x"},
    )

    assert [(e["subject_type"], e["what"]) for e in everything["items"]] == [
        ("buyer", "api.get_buyer"),
        ("company", "api.get_company"),
    ]
    assert everything["items"][0]["actor"] == {"id": staff.id, "name": "Park Staff", "email": staff.email}
    assert (buyers_only["total"], buyers_only["per_page"], buyers_only["items"][0]["subject_id"]) == (1, 1, buyer.id)
    assert set(assert_error(bad, 422, "invalid")["fields"]) == {"subject_type", "from", "actor_id"}
    # reading the log is not logged
    assert len(db.session.scalars(select(PersonalDataAccess)).all()) == 2


def test_access_log_api_is_404_for_non_admins(client):
    for role in ("sme", "staff"):
        response = api_call(client, "GET", "/api/v1/access-log", headers=bearer(make_user(role)))
        assert_error(response, 404, "not_found")


def _walk(schema, path):
    """Every property under a schema, with its dotted path, through objects, arrays, anyOf and $ref."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        yield from _walk(DOC["components"]["schemas"][name], name)
        return
    for name, prop in schema.get("properties", {}).items():
        yield f"{path}.{name}", prop
        yield from _walk_inline(prop, f"{path}.{name}")
    if "items" in schema:
        yield from _walk_inline(schema["items"], path)
    for option in schema.get("anyOf", []):
        yield from _walk_inline(option, path)


def _walk_inline(schema, path):
    if "$ref" in schema:
        return  # walked under its own name
    yield from _walk(schema, path)


# Fields that hold personal data: people's names, e-mails and phones, and free text written about people.
KNOWN_PERSONAL = {
    "Me.email",
    "Me.name",
    "TokenRequest.email",
    "Company.representative",
    "Company.contact_name",
    "Company.contact_email",
    "Company.contact_phone",
    "Buyer.contact_name",
    "Buyer.email",
    "Buyer.phone",
    "Buyer.notes",
    "BuyerInput.notes",
    "Interpreter.name",
    "Interpreter.email",
    "Interpreter.phone",
    "Interpreter.exceptions.note",
    "InterpreterInput.account_email",
    "BookingMatch.interpreter.name",
    "BookingRequest.notes",
    "BookingRequest.buyer_profile",
    "ProposalLine.interpreter.name",
    "Recommendations.items.interpreters.name",
    "ConsultationLog.notes",
    "Outcome.history.note",
    "StageInput.note",
    "SurveyResponse.answers.text",
    "MyData.account.name",
    "MyData.account.email",
    "MyData.account.phone",
    "MyData.company.representative",
    "MyData.company.contact_email",
    "MyData.bookings.notes",
    "MyData.bookings.interpreter_name",
    "MyData.consultation_logs.notes",
    "MyData.survey_answers.text",
    "MyData.erasure_requests.note",
    "ErasureRequest.note",
    "AccessLogEntry.actor.name",
    "AccessLogEntry.actor.email",
}


def test_openapi_marks_every_known_personal_field():
    marked = {
        path
        for name in DOC["components"]["schemas"]
        for path, prop in _walk({"$ref": f"#/components/schemas/{name}"}, name)
        if prop.get("x-personal-data") is True
    }

    assert KNOWN_PERSONAL - marked == set()
    # and nothing that is not about a person: a company's name, a buyer's company, a token's label
    assert not {"Company.name_ko", "Buyer.company_name", "Token.name", "ProposalLine.booking.company_name"} & marked


def test_staff_reading_bookings_logs_the_companies_whose_requests_are_shown(client):
    staff = make_user("staff")
    owner, company = make_sme_with_company()
    rnd = make_round(booths=1, slots_per_booth=2)
    booking = make_booking(rnd.slots[0], company=company)
    other = make_booking(rnd.slots[1])

    api_call(client, "GET", "/api/v1/bookings", headers=bearer(staff))
    api_call(client, "GET", "/api/v1/bookings/{booking_id}", headers=bearer(staff), booking_id=booking.id)
    api_call(client, "GET", "/api/v1/bookings/{booking_id}", headers=bearer(owner), booking_id=booking.id)

    first, second = sorted([company.id, other.company_id])
    assert _rows() == [
        (staff.id, "company", first, "view", "api.list_bookings", "api"),
        (staff.id, "company", second, "view", "api.list_bookings", "api"),
        (staff.id, "company", company.id, "view", "api.get_booking", "api"),
    ]


def test_staff_reading_survey_responses_logs_the_company_and_the_buyer_who_answered(client):
    staff = make_user("staff")
    _owner, company = make_sme_with_company()
    booking = make_consultation(past_round(), company=company, status="held")
    now = utcnow()
    for audience in ("sme", "buyer"):
        question = SurveyQuestionFactory(
            audience=audience, kind="text", text_ko="의견", text_en="Comments", required=True, actor=staff
        )
        survey(
            booking,
            audience,
            {question: "Good"},
            version=question.version,
            locale="en",
            now=now,
            invited_at=now,
            expires_at=now + timedelta(days=21),
        )
    db.session.commit()

    response = api_call(client, "GET", "/api/v1/survey-responses", headers=bearer(staff))

    assert response.get_json()["total"] == 2
    assert sorted(_rows()) == sorted(
        [
            (staff.id, "company", company.id, "view", "api.list_survey_responses", "api"),
            (staff.id, "buyer", booking.buyer_id, "view", "api.list_survey_responses", "api"),
        ]
    )


# --- no input gives a 500 (as tests/integration/test_api_fuzz.py does for the other routes) -------------

consent_like = st.dictionaries(st.sampled_from(["granted", "extra"]), json_values, max_size=2)
erasure_like = st.dictionaries(
    st.sampled_from(["note", "extra"]), st.text(st.characters(exclude_categories=()), max_size=40) | json_values
)


@pytest.fixture
def sme_headers():
    return bearer(make_sme_with_company()[0])


@FUZZ
@given(body=bodies(consent_like), content_type=content_types)
def test_fuzz_put_marketing_consent_never_500(client, sme_headers, body, content_type):
    response = api_call(
        client,
        "PUT",
        "/api/v1/me/consents/marketing_email",
        headers=sme_headers,
        data=body,
        content_type=content_type,
    )
    _check(response)


@FUZZ
@given(body=bodies(erasure_like), content_type=content_types)
def test_fuzz_post_erasure_request_never_500(client, sme_headers, body, content_type):
    response = api_call(
        client, "POST", "/api/v1/me/erasure-requests", headers=sme_headers, data=body, content_type=content_type
    )
    _check(response)


@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(["actor_id", "subject_type", "subject_id", "action", "from", "to", "page", "per_page"]),
        st.text(),
    )
)
def test_fuzz_access_log_query_never_500(client, query):
    admin = make_user("admin")
    response = api_call(client, "GET", "/api/v1/access-log", headers=bearer(admin), query=query)
    _check(response)
