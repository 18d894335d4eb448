import json
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from consultroom.audit.models import AuditEntry
from consultroom.bookings.models import Booking, WaitlistEntry
from consultroom.bookings.schemas import clean_request
from consultroom.bookings.services import book_slot, join_waitlist
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.notifications.models import OutboxMail
from tests.factories import BookingRowFactory, SlotFactory, make_company, make_round, make_sme_with_company, make_user
from tests.integration.test_api_support import api_call, assert_error, bearer, documented_response

LIST = "/api/v1/bookings"
ONE = "/api/v1/bookings/{booking_id}"
ICS = "/api/v1/bookings/{booking_id}/ics"
SLOTS = "/api/v1/rounds/{round_id}/slots"
WHY = {"reason": "일정 변경"}  # a cancellation needs a reason (issue 13)
REQ = {
    "products": "기초화장품, 마스크팩",
    "hs_codes": ["330499"],
    "target_countries": ["US"],
    "buyer_profile": "skin care importer",
    "languages": ["en"],
    "notes": "",
}


def _in_days(n: int):
    return (utcnow() + timedelta(days=n)).date()


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def world():
    owner = make_user("sme", email="owner@example.kr")
    company = make_company(owner=owner)
    other = make_user("sme", email="other@example.kr")
    other_company = make_company(owner=other)
    people = {
        "owner": owner,
        "other": other,
        "staff": make_user("staff", email="staff@example.kr"),
        "admin": make_user("admin", email="admin@example.kr"),
        "newcomer": make_user("sme", email="new@example.kr"),
    }
    rnd = make_round(booths=2, slots_per_booth=3)
    headers = {role: bearer(user) for role, user in people.items()}
    headers["anon"] = {}
    return people, headers, {"owner": company, "other": other_company}, rnd


def _post(client, headers, body):
    return api_call(client, "POST", LIST, headers=headers, json=body)


def _booked(world, role="owner", slot_index=0):
    people, _headers, companies, rnd = world
    booking = book_slot(company=companies[role], slot=rnd.slots[slot_index], request=REQ, actor=people[role])
    db.session.commit()
    return booking


# --- POST /bookings ------------------------------------------------------------------------------


def test_create_booking_201_with_location_body_and_mail(client, world):
    people, headers, companies, rnd = world
    slot = rnd.slots[0]

    response = _post(client, headers["owner"], {"slot_id": slot.id, "request": REQ})

    assert response.status_code == 201
    body = response.get_json()
    booking = db.session.get(Booking, body["id"])
    assert response.headers["Location"] == f"/api/v1/bookings/{booking.id}"
    assert body == {
        "id": booking.id,
        "round_id": rnd.id,
        "slot_id": slot.id,
        "company_id": companies["owner"].id,
        "status": "requested",
        "booth": 1,
        "starts_at": _z(slot.starts_at),
        "ends_at": _z(slot.ends_at),
        "request": REQ,
        "from_waitlist": False,
        "created_at": _z(booking.created_at),
        "cancelled_at": None,
        "cancel_deadline": _z(slot.starts_at - timedelta(hours=48)),
        "cancellable": True,
        "match": {"buyer": None, "confirmed_at": None, "meeting_url": None},
    }
    assert booking.created_by_id == people["owner"].id
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.template == "booking_received"))
    assert mail.to_addr == "owner@example.kr"
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "booking.create"))


def test_create_booking_location_answers_the_same_booking(client, world):
    _people, headers, _companies, rnd = world

    created = _post(client, headers["owner"], {"slot_id": rnd.slots[0].id, "request": REQ})
    fetched = client.get(created.headers["Location"], headers=headers["owner"])

    assert fetched.status_code == 200
    assert fetched.get_json() == created.get_json()


@pytest.mark.parametrize(
    ("role", "extra", "expected"),
    [
        ("anon", {}, 401),
        ("newcomer", {}, 403),  # an SME without a company: the UI's can_book says no
        ("owner", {}, 201),
        ("other", {}, 201),
        ("owner", {"company_id": "own"}, 201),
        ("owner", {"company_id": "other"}, 403),
        ("newcomer", {"company_id": "other"}, 403),
        ("staff", {}, 422),  # staff book for a company they name
        ("staff", {"company_id": "other"}, 201),
        ("admin", {"company_id": "own"}, 201),
    ],
)
def test_create_booking_permissions(client, world, role, extra, expected):
    people, headers, companies, rnd = world
    body = {"slot_id": rnd.slots[0].id, "request": REQ}
    if "company_id" in extra:
        body["company_id"] = companies["owner" if extra["company_id"] == "own" else "other"].id

    response = _post(client, headers[role], body)

    assert response.status_code == expected, response.get_data(as_text=True)
    assert _count(Booking) == (1 if expected == 201 else 0)
    if expected == 403:
        assert response.get_json()["error"]["code"] == "forbidden"
    if expected == 422:
        assert list(response.get_json()["error"]["fields"]) == ["company_id"]
    if expected == 201:
        booking = db.session.scalar(select(Booking))
        assert booking.created_by_id == people[role].id


def test_staff_books_for_a_company_its_users_are_told(client, world):
    _people, headers, companies, rnd = world

    response = _post(
        client, headers["staff"], {"slot_id": rnd.slots[0].id, "company_id": companies["other"].id, "request": REQ}
    )

    assert response.status_code == 201
    assert response.get_json()["company_id"] == companies["other"].id
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.template == "booking_received"))
    assert mail.to_addr == "other@example.kr"


def test_staff_unknown_company_422(client, world):
    _people, headers, _companies, rnd = world

    response = _post(client, headers["staff"], {"slot_id": rnd.slots[0].id, "company_id": 999999, "request": REQ})

    error = assert_error(response, 422, "invalid")
    assert error["fields"] == {"company_id": ["No such company."]}


def test_create_booking_taken_slot_409_says_so(client, world):
    _people, headers, _companies, rnd = world
    _booked(world, "other")

    response = _post(client, headers["owner"], {"slot_id": rnd.slots[0].id, "request": REQ})

    error = assert_error(response, 409, "conflict")
    assert error["message"] == "Someone else has just booked this slot. Please choose another one."
    assert _count(Booking) == 1


def test_create_booking_overlap_409_says_so(client, world):
    _people, headers, _companies, rnd = world
    _booked(world, "owner", slot_index=0)  # booth 1 at 10:00

    response = _post(client, headers["owner"], {"slot_id": rnd.slots[1].id, "request": REQ})  # booth 2 at 10:00

    error = assert_error(response, 409, "conflict")
    assert error["message"] == "Your company already has a booking at this time."


def test_create_booking_over_cap_409_says_so(client, world):
    people, headers, companies, _rnd = world
    rnd = make_round(day=_in_days(70), booths=1, slots_per_booth=3, cap=2)
    for slot in rnd.slots[:2]:
        book_slot(company=companies["owner"], slot=slot, request=REQ, actor=people["owner"])
    db.session.commit()

    response = _post(client, headers["owner"], {"slot_id": rnd.slots[2].id, "request": REQ})

    error = assert_error(response, 409, "conflict")
    assert error["message"] == "Your company already holds 2 bookings in this round, the most allowed."


def test_create_booking_outside_the_window_409_for_sme_staff_may(client, world):
    _people, headers, companies, _rnd = world
    later = make_round(day=_in_days(70), opens_at=utcnow() + timedelta(days=3), closes_at=utcnow() + timedelta(days=9))
    db.session.commit()

    sme = _post(client, headers["owner"], {"slot_id": later.slots[0].id, "request": REQ})
    staff = _post(
        client, headers["staff"], {"slot_id": later.slots[0].id, "company_id": companies["owner"].id, "request": REQ}
    )

    assert assert_error(sme, 409, "conflict")["message"] == "Booking for this round is not open."
    assert staff.status_code == 201


def test_create_booking_closed_round_409_for_sme_staff_may(client, world):
    _people, headers, companies, _rnd = world
    closed = make_round(day=_in_days(70), status="closed")
    db.session.commit()

    sme = _post(client, headers["owner"], {"slot_id": closed.slots[0].id, "request": REQ})
    staff = _post(
        client, headers["staff"], {"slot_id": closed.slots[0].id, "company_id": companies["owner"].id, "request": REQ}
    )

    assert assert_error(sme, 409, "conflict")["message"] == "Booking for this round is not open."
    assert staff.status_code == 201


def test_create_booking_closed_and_past_slots_409(client, world):
    _people, headers, companies, rnd = world
    rnd.slots[0].closed = True
    past = make_round(day=_in_days(-40))
    db.session.commit()

    closed = _post(client, headers["owner"], {"slot_id": rnd.slots[0].id, "request": REQ})
    begun = _post(
        client, headers["staff"], {"slot_id": past.slots[0].id, "company_id": companies["owner"].id, "request": REQ}
    )

    assert assert_error(closed, 409, "conflict")["message"] == "This slot is closed."
    assert assert_error(begun, 409, "conflict")["message"] == "This slot has already begun."


@pytest.mark.parametrize("role", ["owner", "newcomer"])
def test_create_booking_draft_round_slot_is_unknown_to_smes(client, world, role):
    _people, headers, companies, _rnd = world
    draft = make_round(day=_in_days(70), status="draft")
    db.session.commit()
    body = {"slot_id": draft.slots[0].id, "request": REQ}

    response = _post(client, headers[role], body)
    unknown = _post(client, headers[role], {**body, "slot_id": 999999})

    if role == "newcomer":
        assert_error(response, 403, "forbidden")
        assert_error(unknown, 403, "forbidden")
    else:
        assert assert_error(response, 422, "invalid") == assert_error(unknown, 422, "invalid")
        assert response.get_json()["error"]["fields"] == {"slot_id": ["No such slot."]}
    staff = _post(client, headers["staff"], {**body, "company_id": companies["owner"].id})
    assert assert_error(staff, 409, "conflict")["message"] == "This round is not taking bookings."


def test_create_booking_invalid_fields_each_named_nothing_booked(client, world):
    _people, headers, _companies, rnd = world
    bad = {
        "products": "   ",
        "hs_codes": ["12", "330499"],
        "target_countries": "US, XX",
        "languages": ["zz"],
        "buyer_profile": "b" * 2001,
        "notes": "n" * 4001,
        "budget": 1000,
    }

    response = _post(client, headers["owner"], {"slot_id": rnd.slots[0].id, "request": bad, "priority": 1})

    error = assert_error(response, 422, "invalid")
    assert error["fields"] == {
        "priority": ["Unknown field."],
        "request.budget": ["Unknown field."],
        "request.products": ["Tell us which products you want to present."],
        "request.hs_codes": ["Not a valid 6-digit HS code: 12"],
        "request.target_countries": ["Not an ISO 3166 country code: XX"],
        "request.languages": ["Not an ISO 639-1 language code: zz"],
        "request.buyer_profile": ["Use at most 2000 characters."],
        "request.notes": ["Use at most 4000 characters."],
    }
    assert _count(Booking) == 0
    assert _count(OutboxMail) == 0


def test_create_booking_request_cleaned_exactly_as_the_booking_form(client, world):
    _people, headers, _companies, rnd = world
    sent = {
        "products": "  김  ",
        "hs_codes": "3304.99, 330410 330499",
        "target_countries": ["us", "vn"],
        "languages": "EN",
    }

    response = _post(client, headers["owner"], {"slot_id": rnd.slots[0].id, "request": sent})

    assert response.status_code == 201
    assert response.get_json()["request"] == clean_request(sent).as_dict()
    assert response.get_json()["request"]["hs_codes"] == ["330499", "330410"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["request", "slot_id"]),
        ({"slot_id": None, "request": None}, ["request", "slot_id"]),
        ({"slot_id": "1", "request": REQ}, ["slot_id"]),
        ({"slot_id": 1.0, "request": REQ}, ["slot_id"]),
        ({"slot_id": True, "request": REQ}, ["slot_id"]),
        ({"slot_id": 0, "request": REQ}, ["slot_id"]),
        ({"slot_id": -5, "request": REQ}, ["slot_id"]),
        ({"slot_id": 2**31, "request": REQ}, ["slot_id"]),
        ({"slot_id": 10**40, "request": REQ}, ["slot_id"]),
        ({"slot_id": [1], "request": REQ}, ["slot_id"]),
        ({"slot_id": {"id": 1}, "request": REQ}, ["slot_id"]),
        ({"slot_id": "SLOT", "request": []}, ["request"]),
        ({"slot_id": "SLOT", "request": "products"}, ["request"]),
        ({"slot_id": "SLOT", "request": {"products": ["a"]}}, ["request.products"]),
        ({"slot_id": "SLOT", "request": {"products": {"a": 1}}}, ["request.products"]),
        ({"slot_id": "SLOT", "request": {"products": 7}}, ["request.products"]),
        ({"slot_id": "SLOT", "request": {"products": "x", "hs_codes": {"a": "b"}}}, ["request.hs_codes"]),
        ({"slot_id": "SLOT", "request": {"products": "x", "languages": [None, 1]}}, ["request.languages"]),
        ({"slot_id": "SLOT", "request": {"products": "x" * 4001}}, ["request.products"]),
        ({"slot_id": "SLOT", "request": {"products": "a\x00b"}}, ["request.products"]),
        ({"slot_id": "SLOT", "request": {"products": "x", "hs_codes": ["3304\x0099"]}}, ["request.hs_codes"]),
        ({"slot_id": "SLOT", "request": REQ, "company_id": "7"}, ["company_id"]),
    ],
)
def test_create_booking_bad_shapes_422_name_each_field(client, world, body, fields):
    _people, headers, _companies, rnd = world
    body = {k: (rnd.slots[0].id if v == "SLOT" else v) for k, v in body.items()}

    response = _post(client, headers["owner"], body)

    error = assert_error(response, 422, "invalid")
    assert sorted(error["fields"]) == fields
    assert _count(Booking) == 0


def test_create_booking_lone_surrogate_422(client, world):
    _people, headers, _companies, rnd = world
    # A lone surrogate is valid JSON text but cannot be stored as UTF-8.
    raw = json.dumps({"slot_id": rnd.slots[0].id, "request": {"products": "\ud800", "notes": "x"}})

    response = api_call(client, "POST", LIST, headers=headers["owner"], data=raw, content_type="application/json")

    error = assert_error(response, 422, "invalid")
    assert error["fields"] == {"request.products": ["Contains characters that are not allowed."]}


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (b"[1, 2]", "application/json", 400),
        (b"null", "application/json", 400),
        (b"{", "application/json", 400),
        (b"[" * 100000 + b"]" * 100000, "application/json", 400),
        (b'{"slot_id": 1}', "text/plain", 415),
        (b"slot_id=1", "application/x-www-form-urlencoded", 415),
    ],
)
def test_create_booking_body_not_a_json_object(client, world, data, content_type, status):
    _people, headers, _companies, _rnd = world

    response = api_call(client, "POST", LIST, headers=headers["owner"], data=data, content_type=content_type)

    assert response.status_code == status
    assert _count(Booking) == 0


# --- GET /bookings -------------------------------------------------------------------------------


@pytest.fixture
def three_bookings(world):
    people, _headers, companies, rnd = world
    mine = book_slot(company=companies["owner"], slot=rnd.slots[0], request=REQ, actor=people["owner"])
    theirs = book_slot(company=companies["other"], slot=rnd.slots[3], request=REQ, actor=people["other"])
    later = make_round(day=_in_days(70))
    elsewhere = book_slot(company=companies["owner"], slot=later.slots[0], request=REQ, actor=people["owner"])
    db.session.commit()
    return {"mine": mine, "theirs": theirs, "elsewhere": elsewhere, "later": later}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("owner", ["elsewhere", "mine"]),
        ("other", ["theirs"]),
        ("newcomer", []),
        ("staff", ["elsewhere", "theirs", "mine"]),
        ("admin", ["elsewhere", "theirs", "mine"]),
    ],
)
def test_list_bookings_each_sees_its_own_staff_all_latest_first(client, world, three_bookings, role, expected):
    _people, headers, _companies, _rnd = world

    response = api_call(client, "GET", LIST, headers=headers[role])

    body = response.get_json()
    assert [b["id"] for b in body["items"]] == [three_bookings[name].id for name in expected]
    assert body["total"] == len(expected)


def test_list_bookings_anonymous_401(client, world):
    assert_error(api_call(client, "GET", LIST), 401, "unauthorized")


@pytest.mark.parametrize(
    ("role", "expected"), [("staff", ["theirs", "mine"]), ("owner", ["mine"]), ("other", ["theirs"])]
)
def test_list_bookings_filtered_by_round(client, world, three_bookings, role, expected):
    _people, headers, _companies, rnd = world

    response = api_call(client, "GET", LIST, headers=headers[role], query={"round_id": rnd.id})

    assert [b["id"] for b in response.get_json()["items"]] == [three_bookings[n].id for n in expected]


def test_list_bookings_keeps_cancelled_ones_marked(client, world, three_bookings):
    _people, headers, _companies, _rnd = world
    assert (
        api_call(
            client, "DELETE", ONE, headers=headers["owner"], booking_id=three_bookings["mine"].id, query=WHY
        ).status_code
        == 204
    )

    items = api_call(client, "GET", LIST, headers=headers["owner"]).get_json()["items"]

    mine = next(b for b in items if b["id"] == three_bookings["mine"].id)
    assert mine["status"] == "cancelled" and mine["cancelled_at"] is not None and mine["cancellable"] is False


def test_list_bookings_paginates(client, world, three_bookings):
    _people, headers, _companies, _rnd = world

    body = api_call(client, "GET", LIST, headers=headers["staff"], query={"per_page": 2, "page": 2}).get_json()

    assert [b["id"] for b in body["items"]] == [three_bookings["mine"].id]
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (2, 2, 3, 2)


@pytest.mark.parametrize(("cap", "expected"), [(3, (3, 2)), (2, (None, None))])
def test_list_bookings_total_counted_up_to_the_cap(client, world, three_bookings, monkeypatch, cap, expected):
    """A list longer than the cap says null for its total and pages (the document allows it) and still
    pages; up to the cap the total is exact."""
    from consultroom import pagination

    _people, headers, _companies, _rnd = world
    monkeypatch.setattr(pagination, "COUNT_CAP", cap)

    pages = [
        api_call(client, "GET", LIST, headers=headers["staff"], query={"per_page": 2, "page": n}).get_json()
        for n in (1, 2)
    ]

    assert [(p["total"], p["pages"]) for p in pages] == [expected, expected]
    assert [len(p["items"]) for p in pages] == [2, 1]  # the short page ends the list


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"round_id": "0"}, "round_id"),
        ({"round_id": "abc"}, "round_id"),
        ({"round_id": "2147483648"}, "round_id"),
        ({"round_id": "99999999999999999999999"}, "round_id"),
        ({"round_id": "-1"}, "round_id"),
        ({"page": "0"}, "page"),
        ({"per_page": "1000"}, "per_page"),
    ],
)
def test_list_bookings_bad_query_422_names_parameter(client, world, query, field):
    _people, headers, _companies, _rnd = world

    response = api_call(client, "GET", LIST, headers=headers["staff"], query=query)

    assert list(assert_error(response, 422, "invalid")["fields"]) == [field]


def test_list_bookings_largest_round_id_is_fine(client, world):
    _people, headers, _companies, _rnd = world

    response = api_call(client, "GET", LIST, headers=headers["staff"], query={"round_id": "2147483647"})

    assert response.get_json()["items"] == []


@pytest.mark.parametrize("role", ["staff", "owner"])
def test_list_bookings_query_count_same_for_1_and_20_bookings(client, world, count_queries, role):
    people, headers, companies, _rnd = world
    # One company holds all 20: ten a round (the cap allows 20 at most), at times that never overlap.
    rounds = [make_round(day=_in_days(d), booths=1, slots_per_booth=10, cap=10) for d in (70, 110)]
    slots = [s for r in rounds for s in r.slots]
    book_slot(company=companies["owner"], slot=slots[0], request=REQ, actor=people["owner"])
    db.session.commit()
    api_call(client, "GET", LIST, headers=headers[role])  # last_used_at is written once; not part of the count
    with count_queries() as one:
        first = api_call(client, "GET", LIST, headers=headers[role])
    for slot in slots[1:]:
        book_slot(company=companies["owner"], slot=slot, request=REQ, actor=people["owner"])
    db.session.commit()
    with count_queries() as twenty:
        second = api_call(client, "GET", LIST, headers=headers[role], query={"per_page": 50})

    assert (first.get_json()["total"], second.get_json()["total"]) == (1, 20)
    assert len(second.get_json()["items"]) == 20
    assert twenty.count == one.count


# --- GET /bookings/{id} --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [("anon", 401), ("owner", 200), ("other", 404), ("newcomer", 404), ("staff", 200), ("admin", 200)],
)
def test_get_booking_permissions(client, world, role, expected):
    _people, headers, _companies, _rnd = world
    booking = _booked(world)

    response = api_call(client, "GET", ONE, headers=headers[role], booking_id=booking.id)

    assert response.status_code == expected
    if expected == 200:
        assert response.get_json()["id"] == booking.id
    if expected == 404:
        # The same answer as for a booking that does not exist.
        unknown = api_call(client, "GET", ONE, headers=headers[role], booking_id=booking.id + 1000)
        assert response.get_json() == unknown.get_json()


@pytest.mark.parametrize("booking_id", ["0", "2147483648", "99999999999999999999", "-1", "abc", "1.5"])
def test_get_booking_odd_ids_404(client, world, booking_id):
    _people, headers, _companies, _rnd = world

    response = client.get(f"/api/v1/bookings/{booking_id}", headers=headers["staff"])

    assert_error(response, 404, "not_found")


# --- DELETE /bookings/{id} -----------------------------------------------------------------------


def test_cancel_by_owner_204_frees_the_slot_for_another_company(client, world):
    _people, headers, _companies, rnd = world
    booking = _booked(world)

    response = api_call(client, "DELETE", ONE, headers=headers["owner"], booking_id=booking.id, query=WHY)

    assert response.status_code == 204
    db.session.refresh(booking)
    assert booking.status == "cancelled"
    free = api_call(client, "GET", SLOTS, headers=headers["other"], round_id=rnd.id, query={"free": "true"})
    assert rnd.slots[0].id in {s["id"] for s in free.get_json()["items"]}
    again = _post(client, headers["other"], {"slot_id": rnd.slots[0].id, "request": REQ})
    assert again.status_code == 201
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "booking.cancel"))


@pytest.mark.parametrize(
    ("role", "expected"),
    [("anon", 401), ("other", 404), ("newcomer", 404), ("owner", 204), ("staff", 204), ("admin", 204)],
)
def test_cancel_permissions(client, world, role, expected):
    _people, headers, _companies, _rnd = world
    booking = _booked(world)

    response = api_call(client, "DELETE", ONE, headers=headers[role], booking_id=booking.id, query=WHY)

    assert response.status_code == expected
    db.session.refresh(booking)
    assert booking.status == ("cancelled" if expected == 204 else "requested")


def test_cancel_without_reason_422_nothing_cancelled(client, world):
    _people, headers, _companies, _rnd = world
    booking = _booked(world)

    response = api_call(client, "DELETE", ONE, headers=headers["owner"], booking_id=booking.id)

    assert assert_error(response, 422, "invalid")["fields"] == {"reason": ["Give a reason for the cancellation."]}
    db.session.refresh(booking)
    assert booking.status == "requested"


def test_cancel_twice_409(client, world):
    _people, headers, _companies, _rnd = world
    booking = _booked(world)
    api_call(client, "DELETE", ONE, headers=headers["owner"], booking_id=booking.id, query=WHY)

    response = api_call(client, "DELETE", ONE, headers=headers["owner"], booking_id=booking.id)

    assert assert_error(response, 409, "conflict")["message"] == "This booking is already cancelled."


def test_cancel_after_deadline_409_for_sme_staff_may_with_reason_mailed(client, world):
    people, headers, companies, rnd = world
    # A slot 30 hours ahead in a round that allows cancelling until 72 hours before.
    rnd.cancel_hours_before = 72
    start = (utcnow() + timedelta(hours=30)).replace(microsecond=0)
    slot = SlotFactory(round=rnd, starts_at=start)
    booking = book_slot(company=companies["owner"], slot=slot, request=REQ, actor=people["owner"])
    db.session.commit()

    listed = api_call(client, "GET", ONE, headers=headers["owner"], booking_id=booking.id).get_json()
    refused = api_call(client, "DELETE", ONE, headers=headers["owner"], booking_id=booking.id)
    allowed = api_call(
        client, "DELETE", ONE, headers=headers["staff"], booking_id=booking.id, query={"reason": "바이어 사정"}
    )

    assert listed["cancellable"] is False
    assert assert_error(refused, 409, "conflict")["message"] == (
        "The cancellation deadline has passed. Please contact the program staff."
    )
    assert allowed.status_code == 204
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.template == "booking_cancelled"))
    assert mail.to_addr == "owner@example.kr"
    assert "바이어 사정" in mail.body_text


def test_cancel_begun_booking_409_even_for_staff(client, world):
    _people, headers, companies, _rnd = world
    past = make_round(day=_in_days(-40))
    booking = BookingRowFactory(slot=past.slots[0], company=companies["owner"])  # begun: book_slot refuses it
    db.session.commit()

    response = api_call(client, "DELETE", ONE, headers=headers["staff"], booking_id=booking.id)

    assert assert_error(response, 409, "conflict")["message"] == "This booking can no longer be cancelled."


def test_cancel_reason_with_nul_422_nothing_cancelled(client, world):
    _people, headers, _companies, _rnd = world
    booking = _booked(world)

    response = api_call(
        client, "DELETE", ONE, headers=headers["staff"], booking_id=booking.id, query={"reason": "a\x00"}
    )

    assert assert_error(response, 422, "invalid")["fields"] == {"reason": ["Contains a NUL character."]}
    db.session.refresh(booking)
    assert booking.status == "requested"


def test_cancel_long_reason_cut_at_500_like_the_ui(client, world):
    _people, headers, _companies, _rnd = world
    booking = _booked(world)

    response = api_call(
        client, "DELETE", ONE, headers=headers["staff"], booking_id=booking.id, query={"reason": "r" * 600}
    )

    assert response.status_code == 204
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "booking.cancel"))
    assert entry.after["reason"] == "r" * 500


@pytest.mark.parametrize(
    ("method", "template"),
    [("GET", LIST), ("GET", ONE), ("DELETE", ONE), ("GET", ICS), ("POST", LIST)],
)
def test_nul_in_any_query_parameter_422(client, world, method, template):
    _people, headers, _companies, rnd = world
    booking = _booked(world)
    kwargs = {"json": {"slot_id": rnd.slots[1].id, "request": REQ}} if method == "POST" else {}

    response = api_call(
        client, method, template, headers=headers["owner"], booking_id=booking.id, query={"x\x00": "1"}, **kwargs
    )

    assert assert_error(response, 422, "invalid")["fields"] == {"x": ["Contains a NUL character."]}
    db.session.refresh(booking)
    assert (booking.status, _count(Booking)) == ("requested", 1)


def test_cancel_promotes_the_first_waiting_company_and_mails_it(client, world):
    people, headers, companies, _rnd = world
    full = make_round(day=_in_days(70), booths=1, slots_per_booth=1)
    booking = book_slot(company=companies["owner"], slot=full.slots[0], request=REQ, actor=people["owner"])
    first_user, first = make_sme_with_company()
    second_user, second = make_sme_with_company()
    join_waitlist(company=first, rnd=full, request=REQ, actor=first_user)
    db.session.flush()
    join_waitlist(company=second, rnd=full, request=REQ, actor=second_user)
    db.session.commit()

    response = api_call(client, "DELETE", ONE, headers=headers["owner"], booking_id=booking.id, query=WHY)

    assert response.status_code == 204
    promoted = db.session.scalar(select(Booking).where(Booking.status != "cancelled"))
    assert (promoted.company_id, promoted.slot_id, promoted.from_waitlist) == (first.id, full.slots[0].id, True)
    entries = {e.company_id: e.status for e in db.session.scalars(select(WaitlistEntry))}
    assert entries == {first.id: "promoted", second.id: "waiting"}
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.template == "waitlist_promoted"))
    assert mail.to_addr == first_user.email
    seen = api_call(client, "GET", LIST, headers=bearer(first_user)).get_json()["items"]
    assert [(b["id"], b["from_waitlist"]) for b in seen] == [(promoted.id, True)]


# --- GET /bookings/{id}/ics ----------------------------------------------------------------------


def _ics(client, headers, booking_id):
    response = client.get(f"/api/v1/bookings/{booking_id}/ics", headers={"Accept-Language": "en", **headers})
    if response.status_code == 200:
        spec = documented_response(ICS, "get", 200)
        assert response.mimetype in spec["content"]
        assert all(h in response.headers for h in spec["headers"])
    else:
        api_call(client, "GET", ICS, headers=headers, booking_id=booking_id)  # the error, checked against the document
    return response


def test_ics_parses_with_tzid_asia_seoul_at_the_right_instant(client, world):
    _people, headers, _companies, rnd = world
    booking = _booked(world)

    response = _ics(client, headers["owner"], booking.id)

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"] == f'attachment; filename="consultation-{booking.id}.ics"'
    cal = Calendar.from_ical(response.data)
    event = next(iter(cal.walk("VEVENT")))
    assert event["DTSTART"].params["TZID"] == "Asia/Seoul"
    assert event["DTEND"].params["TZID"] == "Asia/Seoul"
    assert event.decoded("DTSTART") == rnd.slots[0].starts_at
    assert event.decoded("DTEND") == rnd.slots[0].ends_at
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Seoul"]


def test_ics_is_the_same_as_the_web_page_gives(client, world, login_as, make_client):
    people, headers, _companies, _rnd = world
    booking = _booked(world)
    web = make_client()
    login_as(people["owner"], on=web)

    from_api = _ics(client, headers["owner"], booking.id)
    from_web = web.get(f"/bookings/{booking.id}.ics")

    def normal(data):
        # DTSTAMP and SEQUENCE are the export time by design; everything else must match.
        return [line for line in data.decode().splitlines() if not line.startswith(("DTSTAMP", "SEQUENCE"))]

    assert from_web.status_code == 200
    assert normal(from_api.data) == normal(from_web.data)
    assert from_api.headers["Content-Disposition"] == from_web.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("role", "expected"),
    [("anon", 401), ("owner", 200), ("other", 404), ("newcomer", 404), ("staff", 200), ("admin", 200)],
)
def test_ics_permissions(client, world, role, expected):
    _people, headers, _companies, _rnd = world
    booking = _booked(world)

    response = _ics(client, headers[role], booking.id)

    assert response.status_code == expected


def test_slot_id_sent_as_json_number_text_is_refused(client, world):
    # "slot_id": "12" is text, not a number: refused, not coerced (the same rule as the other ids).
    _people, headers, _companies, rnd = world
    raw = json.dumps({"slot_id": str(rnd.slots[0].id), "request": REQ})

    response = api_call(client, "POST", LIST, headers=headers["owner"], data=raw, content_type="application/json")

    assert assert_error(response, 422, "invalid")["fields"] == {"slot_id": ["Use a whole number from 1 to 2147483647."]}
    assert _count(Booking) == 0
