"""Consultation logs, outcomes, contracts, rates and survey responses through the JSON API (issue 5)."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from consultroom.bookings.models import Booking
from consultroom.db import utcnow
from consultroom.errors import Invalid
from consultroom.extensions import db
from consultroom.outcomes import rates, services
from consultroom.outcomes.models import Contract, ExchangeRate, Outcome
from consultroom.surveys.services import active_version
from consultroom.timeutil import seoul_date
from tests.factories import (
    SurveyQuestionFactory,
    make_company,
    make_consultation,
    make_interpreter,
    make_rate,
    make_user,
    past_round,
    survey,
)
from tests.integration.test_api_support import api_call, assert_error, bearer

ONE = "/api/v1/consultations/{booking_id}"
LOG = "/api/v1/consultations/{booking_id}/log"
STAGE = "/api/v1/consultations/{booking_id}/stage"
CONTRACTS = "/api/v1/consultations/{booking_id}/contracts"
RATES = "/api/v1/rates"
RATE = "/api/v1/rates/{currency}/{day}"
RESPONSES = "/api/v1/survey-responses"
HELD = {"attendance": "held", "buyer_interest": "high", "products_discussed": "Serum", "notes": "Good talk"}


@pytest.fixture
def world():
    """A consultation held three days ago with its interpreter's account; logged by staff."""
    staff = make_user("staff")
    owner = make_user("sme")
    company = make_company(owner=owner)
    other = make_user("sme")
    make_company(owner=other)
    linked = make_user("sme")  # what counts is the link on the interpreter, not the role
    booking = make_consultation(past_round(days_ago=3), company=company, interpreter=make_interpreter(user=linked))
    services.record_log(booking=booking, data=HELD, actor=staff, now=utcnow())
    db.session.commit()
    return {"booking": booking, "owner": owner, "other": other, "staff": staff, "interpreter": linked}


def _day(booking: Booking) -> str:
    return seoul_date(booking.starts_at).isoformat()


# --- reading ---------------------------------------------------------------------------------------


def test_owner_and_staff_see_log_outcome_and_history(client, world):
    booking = world["booking"]
    for who in ("owner", "staff"):
        body = api_call(client, "GET", ONE, headers=bearer(world[who]), booking_id=booking.id).get_json()
        assert body["booking_id"] == booking.id and body["status"] == "held"
        assert body["log"]["attendance"] == "held" and body["log"]["notes"] == "Good talk"
        assert body["outcome_visible"] is True
        outcome = body["outcome"]
        assert outcome["stage"] == "follow_up" and outcome["stage_on"] == _day(booking)
        assert outcome["history"] == [
            {
                "changed_on": _day(booking),
                "from_stage": None,
                "to_stage": "follow_up",
                "note": "",
                "at": outcome["history"][0]["at"],
            }
        ]
        assert outcome["allowed_next"] == ["sample_sent", "negotiating", "dropped"]
        assert outcome["contracts"] == [] and outcome["contracts_total_krw"] == 0


def test_interpreter_sees_the_log_only(client, world):
    body = api_call(client, "GET", ONE, headers=bearer(world["interpreter"]), booking_id=world["booking"].id).get_json()
    assert body["log"]["buyer_interest"] == "high"
    assert body["outcome"] is None and body["outcome_visible"] is False


def test_other_sme_and_unknown_are_not_found_anonymous_unauthorized(client, world):
    booking_id = world["booking"].id
    assert_error(api_call(client, "GET", ONE, headers=bearer(world["other"]), booking_id=booking_id), 404, "not_found")
    assert_error(api_call(client, "GET", ONE, headers=bearer(world["staff"]), booking_id=2**31 - 1), 404, "not_found")
    assert_error(api_call(client, "GET", ONE, booking_id=booking_id), 401, "unauthorized")


# --- the log ---------------------------------------------------------------------------------------


def test_interpreter_writes_the_log_through_record_log(client, world):
    booking = world["booking"]
    body = {**HELD, "samples_requested": True, "samples_text": "Catalogue", "next_action_on": _day(booking)}
    response = api_call(client, "PUT", LOG, headers=bearer(world["interpreter"]), json=body, booking_id=booking.id)
    assert response.status_code == 200
    log = response.get_json()["log"]
    assert log["samples_text"] == "Catalogue" and log["next_action_on"] == _day(booking)
    # The interpreter's answer still hides the outcome.
    assert response.get_json()["outcome"] is None


def test_log_permissions_and_validation(client, world):
    booking_id = world["booking"].id
    owner_h, staff_h = bearer(world["owner"]), bearer(world["staff"])
    assert_error(api_call(client, "PUT", LOG, headers=owner_h, json=HELD, booking_id=booking_id), 403, "forbidden")
    other = api_call(client, "PUT", LOG, headers=bearer(world["other"]), json=HELD, booking_id=booking_id)
    assert_error(other, 404, "not_found")
    bad = api_call(client, "PUT", LOG, headers=staff_h, json={"attendance": "maybe", "x": 1}, booking_id=booking_id)
    fields = assert_error(bad, 422, "invalid")["fields"]
    assert set(fields) == {"x"}
    bad = api_call(client, "PUT", LOG, headers=staff_h, json={"attendance": "maybe"}, booking_id=booking_id)
    assert "attendance" in assert_error(bad, 422, "invalid")["fields"]
    bad = api_call(
        client, "PUT", LOG, headers=staff_h, json={**HELD, "next_action_on": "tomorrow"}, booking_id=booking_id
    )
    assert set(assert_error(bad, 422, "invalid")["fields"]) == {"next_action_on"}
    nul = api_call(client, "PUT", LOG, headers=staff_h, json={**HELD, "notes": "a\x00b"}, booking_id=booking_id)
    assert set(assert_error(nul, 422, "invalid")["fields"]) == {"notes"}


def test_log_of_a_future_consultation_is_a_conflict(client, world):
    future = make_consultation(world["booking"].round, 1)
    future.starts_at = utcnow() + timedelta(days=2)
    future.ends_at = future.starts_at + timedelta(minutes=50)
    db.session.commit()
    response = api_call(client, "PUT", LOG, headers=bearer(world["staff"]), json=HELD, booking_id=future.id)
    assert_error(response, 409, "conflict")


# --- stages ----------------------------------------------------------------------------------------


def test_owner_moves_the_stage_and_the_service_refuses_going_back(client, world):
    booking = world["booking"]
    owner_h = bearer(world["owner"])
    day = _day(booking)
    moved = api_call(
        client,
        "POST",
        STAGE,
        headers=owner_h,
        json={"to": "negotiating", "on": day, "note": "Price"},
        booking_id=booking.id,
    )
    assert moved.status_code == 200
    outcome = moved.get_json()["outcome"]
    assert outcome["stage"] == "negotiating"
    assert outcome["history"][-1]["from_stage"] == "follow_up" and outcome["history"][-1]["note"] == "Price"
    back = api_call(
        client, "POST", STAGE, headers=owner_h, json={"to": "sample_sent", "on": day}, booking_id=booking.id
    )
    assert set(assert_error(back, 422, "invalid")["fields"]) == {"to"}
    future = (seoul_date(utcnow()) + timedelta(days=1)).isoformat()
    late = api_call(client, "POST", STAGE, headers=owner_h, json={"to": "dropped", "on": future}, booking_id=booking.id)
    assert set(assert_error(late, 422, "invalid")["fields"]) == {"on"}
    dropped = api_call(client, "POST", STAGE, headers=owner_h, json={"to": "dropped", "on": day}, booking_id=booking.id)
    assert dropped.get_json()["outcome"]["stage"] == "dropped"
    closed = api_call(
        client, "POST", STAGE, headers=owner_h, json={"to": "negotiating", "on": day}, booking_id=booking.id
    )
    assert_error(closed, 409, "conflict")
    assert db.session.scalar(select(Outcome.stage).where(Outcome.booking_id == booking.id)) == "dropped"


def test_stage_permissions(client, world):
    booking = world["booking"]
    body = {"to": "negotiating", "on": _day(booking)}
    as_interpreter = api_call(
        client, "POST", STAGE, headers=bearer(world["interpreter"]), json=body, booking_id=booking.id
    )
    assert_error(as_interpreter, 403, "forbidden")
    as_other = api_call(client, "POST", STAGE, headers=bearer(world["other"]), json=body, booking_id=booking.id)
    assert_error(as_other, 404, "not_found")
    assert_error(api_call(client, "POST", STAGE, json=body, booking_id=booking.id), 401, "unauthorized")
    missing = api_call(client, "POST", STAGE, headers=bearer(world["staff"]), json={}, booking_id=booking.id)
    assert set(assert_error(missing, 422, "invalid")["fields"]) == {"to", "on"}


def test_stage_before_a_log_is_a_conflict(client, world):
    unlogged = make_consultation(world["booking"].round, 1)
    db.session.commit()
    body = {"to": "negotiating", "on": _day(unlogged)}
    response = api_call(client, "POST", STAGE, headers=bearer(world["staff"]), json=body, booking_id=unlogged.id)
    assert_error(response, 409, "conflict")


# --- contracts -------------------------------------------------------------------------------------


def test_contract_has_the_exact_krw_value_at_the_signing_rate(client, world):
    booking = world["booking"]
    day = seoul_date(booking.starts_at)
    make_rate("USD", day - timedelta(days=1), "1387.25")
    db.session.commit()
    body = {"amount": "12,345.67", "currency": "usd", "signed_on": day.isoformat(), "items": "Serum x 1000"}
    response = api_call(client, "POST", CONTRACTS, headers=bearer(world["owner"]), json=body, booking_id=booking.id)
    assert response.status_code == 201
    contract = response.get_json()
    expected = int((Decimal("12345.67") * Decimal("1387.25")).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert expected == 17_126_531  # 12,345.67 x 1,387.25 = 17,126,530.7075
    assert contract["krw_value"] == expected
    assert contract["amount"] == "12345.67" and contract["currency"] == "USD"
    assert contract["rate"] == "1387.250000" and contract["rate_day"] == (day - timedelta(days=1)).isoformat()
    assert db.session.scalar(select(Contract.krw_value)) == expected
    seen = api_call(client, "GET", ONE, headers=bearer(world["staff"]), booking_id=booking.id).get_json()["outcome"]
    assert seen["stage"] == "contracted" and seen["contracts_total_krw"] == expected
    assert seen["contracts"] == [contract]


def test_contract_without_a_rate_names_signed_on_with_the_services_message(client, world):
    booking = world["booking"]
    day = seoul_date(booking.starts_at)
    body = {"amount": "100.00", "currency": "EUR", "signed_on": day.isoformat()}
    response = api_call(client, "POST", CONTRACTS, headers=bearer(world["staff"]), json=body, booking_id=booking.id)
    error = assert_error(response, 422, "invalid")
    with force_locale("en"), pytest.raises(Invalid) as raised:
        rates.rate_for(currency="EUR", day=day)
    assert error["message"] == raised.value.message
    assert error["fields"] == {"signed_on": [raised.value.message]}
    assert db.session.scalar(select(Contract.id)) is None


def test_contract_validation_and_permissions(client, world):
    booking = world["booking"]
    day = _day(booking)
    staff_h = bearer(world["staff"])
    missing = api_call(client, "POST", CONTRACTS, headers=staff_h, json={}, booking_id=booking.id)
    assert set(assert_error(missing, 422, "invalid")["fields"]) == {"amount", "currency", "signed_on"}
    number = api_call(
        client,
        "POST",
        CONTRACTS,
        headers=staff_h,
        json={"amount": 100, "currency": "KRW", "signed_on": day},
        booking_id=booking.id,
    )
    assert set(assert_error(number, 422, "invalid")["fields"]) == {"amount"}
    decimals = api_call(
        client,
        "POST",
        CONTRACTS,
        headers=staff_h,
        json={"amount": "1.5", "currency": "KRW", "signed_on": day},
        booking_id=booking.id,
    )
    assert set(assert_error(decimals, 422, "invalid")["fields"]) == {"amount"}
    body = {"amount": "5000000", "currency": "KRW", "signed_on": day}
    as_other = api_call(client, "POST", CONTRACTS, headers=bearer(world["other"]), json=body, booking_id=booking.id)
    assert_error(as_other, 404, "not_found")
    as_interpreter = api_call(
        client, "POST", CONTRACTS, headers=bearer(world["interpreter"]), json=body, booking_id=booking.id
    )
    assert_error(as_interpreter, 403, "forbidden")
    krw = api_call(client, "POST", CONTRACTS, headers=staff_h, json=body, booking_id=booking.id)
    assert krw.status_code == 201 and krw.get_json()["krw_value"] == 5_000_000 and krw.get_json()["rate"] == "1.000000"


# --- rates -----------------------------------------------------------------------------------------


def test_admin_lists_and_saves_rates(client, world):
    admin_h = bearer(make_user("admin"))
    created = api_call(
        client, "PUT", RATE, headers=admin_h, json={"krw_per_unit": "1387.25"}, currency="usd", day="2026-03-06"
    )
    assert created.status_code == 201
    assert created.get_json()["currency"] == "USD" and created.get_json()["krw_per_unit"] == "1387.250000"
    changed = api_call(
        client, "PUT", RATE, headers=admin_h, json={"krw_per_unit": "1390"}, currency="USD", day="2026-03-06"
    )
    assert changed.status_code == 200 and changed.get_json()["id"] == created.get_json()["id"]
    api_call(client, "PUT", RATE, headers=admin_h, json={"krw_per_unit": "9.4567"}, currency="JPY", day="2026-03-09")
    assert db.session.scalar(select(ExchangeRate.krw_per_unit).where(ExchangeRate.currency == "USD")) == Decimal(1390)
    listed = api_call(client, "GET", RATES, headers=admin_h).get_json()
    assert [r["currency"] for r in listed["items"]] == ["JPY", "USD"] and listed["total"] == 2
    usd = api_call(client, "GET", RATES, headers=admin_h, query={"currency": "usd"}).get_json()
    assert [r["krw_per_unit"] for r in usd["items"]] == ["1390.000000"]
    window = api_call(client, "GET", RATES, headers=admin_h, query={"from": "2026-03-07", "to": "2026-03-31"})
    assert [r["currency"] for r in window.get_json()["items"]] == ["JPY"]
    bad = api_call(client, "GET", RATES, headers=admin_h, query={"from": "March"})
    assert set(assert_error(bad, 422, "invalid")["fields"]) == {"from"}


def test_rate_validation_and_access(client, world):
    admin_h = bearer(make_user("admin"))
    bad = api_call(client, "PUT", RATE, headers=admin_h, json={"krw_per_unit": "-1"}, currency="USD", day="2026-03-06")
    assert set(assert_error(bad, 422, "invalid")["fields"]) == {"krw_per_unit"}
    base = api_call(client, "PUT", RATE, headers=admin_h, json={"krw_per_unit": "1"}, currency="KRW", day="2026-03-06")
    assert set(assert_error(base, 422, "invalid")["fields"]) == {"currency"}
    day = api_call(client, "PUT", RATE, headers=admin_h, json={"krw_per_unit": "1"}, currency="USD", day="2026-13-01")
    assert set(assert_error(day, 422, "invalid")["fields"]) == {"day"}
    for who in ("staff", "owner"):
        assert_error(api_call(client, "GET", RATES, headers=bearer(world[who])), 404, "not_found")
        denied = api_call(
            client,
            "PUT",
            RATE,
            headers=bearer(world[who]),
            json={"krw_per_unit": "1"},
            currency="USD",
            day="2026-03-06",
        )
        assert_error(denied, 404, "not_found")
    assert db.session.scalar(select(ExchangeRate.id)) is None


# --- survey responses ------------------------------------------------------------------------------


def _respond(booking: Booking, respondent: str, score: int) -> None:
    now = utcnow()
    question = active_version(respondent).questions[0]
    survey(booking, respondent, {question: score}, now=now, invited_at=now, expires_at=now + timedelta(days=14))


def test_survey_responses_are_the_companys_own_and_staff_see_all(client, world):
    admin = make_user("admin")
    for audience in ("sme", "buyer"):
        SurveyQuestionFactory(audience=audience, text_ko="만족도", text_en="Satisfaction", required=True, actor=admin)
    booking = world["booking"]
    others = make_consultation(past_round(days_ago=40), company=world["other"].company)
    _respond(booking, "sme", 5)
    _respond(booking, "buyer", 2)
    _respond(others, "sme", 3)
    db.session.commit()
    own = api_call(client, "GET", RESPONSES, headers=bearer(world["owner"])).get_json()
    assert [(r["booking_id"], r["respondent"]) for r in own["items"]] == [(booking.id, "sme")]
    assert own["items"][0]["answers"][0]["score"] == 5 and own["items"][0]["answers"][0]["text_en"] == "Satisfaction"
    theirs = api_call(client, "GET", RESPONSES, headers=bearer(world["other"])).get_json()
    assert [r["booking_id"] for r in theirs["items"]] == [others.id]
    everything = api_call(client, "GET", RESPONSES, headers=bearer(world["staff"])).get_json()
    assert everything["total"] == 3
    one_round = api_call(
        client, "GET", RESPONSES, headers=bearer(world["staff"]), query={"round_id": others.round_id}
    ).get_json()
    assert [r["booking_id"] for r in one_round["items"]] == [others.id]
    nobody = api_call(client, "GET", RESPONSES, headers=bearer(world["interpreter"]))
    assert nobody.get_json()["items"] == []  # an SME account without a company has no own responses
    bad = api_call(client, "GET", RESPONSES, headers=bearer(world["staff"]), query={"round_id": "x"})
    assert set(assert_error(bad, 422, "invalid")["fields"]) == {"round_id"}
    assert_error(api_call(client, "GET", RESPONSES), 401, "unauthorized")
