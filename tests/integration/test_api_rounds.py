from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from consultroom.bookings.policies import can_see_round
from consultroom.bookings.services import book_slot
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.rounds.models import Round
from tests.factories import make_company, make_round, make_user
from tests.integration.test_api_support import api_call, assert_error, bearer

LIST = "/api/v1/rounds"
ONE = "/api/v1/rounds/{round_id}"
SLOTS = "/api/v1/rounds/{round_id}/slots"
REQ = {"products": "기초화장품", "hs_codes": ["330499"]}


def _in_days(n: int):
    return (utcnow() + timedelta(days=n)).date()


@pytest.fixture
def world():
    owner = make_user("sme", email="owner@example.kr")
    company = make_company(owner=owner)
    other = make_user("sme", email="other@example.kr")
    make_company(owner=other)
    people = {
        "owner": owner,
        "other": other,
        "staff": make_user("staff", email="staff@example.kr"),
        "admin": make_user("admin", email="admin@example.kr"),
        "newcomer": make_user("sme", email="new@example.kr"),
    }
    rounds = {
        "open": make_round(booths=2, slots_per_booth=3),
        "draft": make_round(status="draft", day=_in_days(70)),
        "closed": make_round(status="closed", day=_in_days(-40)),
    }
    headers = {role: bearer(user) for role, user in people.items()}
    headers["anon"] = {}
    return people, headers, company, rounds


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("owner", {"open", "closed"}),
        ("other", {"open", "closed"}),
        ("newcomer", {"open", "closed"}),
        ("staff", {"open", "draft", "closed"}),
        ("admin", {"open", "draft", "closed"}),
    ],
)
def test_round_list_shows_what_the_rounds_page_shows(client, world, role, expected):
    people, headers, _company, rounds = world

    response = api_call(client, "GET", LIST, headers=headers[role])

    assert response.status_code == 200
    ids = [item["id"] for item in response.get_json()["items"]]
    assert set(ids) == {rounds[name].id for name in expected}
    visible = {r.id for r in db.session.scalars(select(Round)) if can_see_round(people[role], r)}
    assert set(ids) == visible
    assert response.get_json()["total"] == len(expected)


def test_round_list_anonymous_401(client, world):
    response = api_call(client, "GET", LIST)

    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_round_list_latest_day_first_and_paginates(client, world):
    _people, headers, _company, rounds = world

    first = api_call(client, "GET", LIST, headers=headers["staff"], query={"per_page": 2}).get_json()
    second = api_call(client, "GET", LIST, headers=headers["staff"], query={"per_page": 2, "page": 2}).get_json()

    assert [r["id"] for r in first["items"]] == [rounds["draft"].id, rounds["open"].id]
    assert [r["id"] for r in second["items"]] == [rounds["closed"].id]
    assert (first["total"], first["pages"], second["page"]) == (3, 2, 2)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"page": "0"}, "page"),
        ({"page": "abc"}, "page"),
        ({"page": "99999999999999999999"}, "page"),
        ({"per_page": "101"}, "per_page"),
        ({"per_page": "-1"}, "per_page"),
        ({"per_page": "١"}, "per_page"),  # an Arabic-Indic digit: int() takes it, the API does not
    ],
)
def test_round_list_bad_paging_422_names_parameter(client, world, query, field):
    _people, headers, _company, _rounds = world

    response = api_call(client, "GET", LIST, headers=headers["owner"], query=query)

    error = assert_error(response, 422, "invalid")
    assert list(error["fields"]) == [field]


def test_round_json_fields(client, world):
    _people, headers, _company, rounds = world
    rnd = rounds["open"]

    body = api_call(client, "GET", ONE, headers=headers["owner"], round_id=rnd.id).get_json()

    assert body == {
        "id": rnd.id,
        "title": rnd.title,
        "year": rnd.year,
        "month": rnd.month,
        "day": rnd.day.isoformat(),
        "status": "open",
        "booking_opens_at": rnd.booking_opens_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "booking_closes_at": rnd.booking_closes_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "booking_open": True,
        "cancel_hours_before": 48,
        "company_cap": 3,
    }


def test_round_booking_open_false_before_the_window(client, world):
    _people, headers, _company, _rounds = world
    later = make_round(day=_in_days(100), opens_at=utcnow() + timedelta(days=5), closes_at=utcnow() + timedelta(days=9))

    body = api_call(client, "GET", ONE, headers=headers["owner"], round_id=later.id).get_json()

    assert body["status"] == "open"
    assert body["booking_open"] is False


@pytest.mark.parametrize(
    ("role", "round_name", "expected"),
    [
        ("anon", "open", 401),
        ("owner", "open", 200),
        ("other", "open", 200),
        ("newcomer", "closed", 200),
        ("owner", "draft", 404),
        ("newcomer", "draft", 404),
        ("staff", "draft", 200),
        ("admin", "draft", 200),
    ],
)
def test_round_get_permissions(client, world, role, round_name, expected):
    _people, headers, _company, rounds = world

    response = api_call(client, "GET", ONE, headers=headers[role], round_id=rounds[round_name].id)

    assert response.status_code == expected
    if expected == 200:
        assert response.get_json()["id"] == rounds[round_name].id


@pytest.mark.parametrize("round_id", ["999999", "2147483647", "2147483648", "99999999999999999999"])
def test_round_get_unknown_or_huge_id_404(client, world, round_id):
    _people, headers, _company, _rounds = world

    response = api_call(client, "GET", ONE, headers=headers["staff"], round_id=round_id)

    assert_error(response, 404, "not_found")


def test_slots_in_utc_with_offset_booth_and_free(client, world):
    people, headers, company, rounds = world
    rnd = rounds["open"]
    taken = book_slot(company=company, slot=rnd.slots[0], request=REQ, actor=people["owner"])
    rnd.slots[1].closed = True
    db.session.commit()

    body = api_call(client, "GET", SLOTS, headers=headers["other"], round_id=rnd.id).get_json()

    assert body["round_id"] == rnd.id
    first = body["items"][0]
    assert first == {
        "id": rnd.slots[0].id,
        "round_id": rnd.id,
        "booth": 1,
        "starts_at": rnd.slots[0].starts_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "ends_at": rnd.slots[0].ends_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "closed": False,
        "free": False,
        "booking_id": None,  # another company's booking: taken, but not whose
    }
    # 10:00 in Seoul is 01:00 UTC: the offset is explicit and the instant exact.
    assert datetime.fromisoformat(first["starts_at"]) == rnd.slots[0].starts_at
    assert first["starts_at"].endswith("Z")
    free = {item["id"]: item["free"] for item in body["items"]}
    assert free[taken.slot_id] is False and free[rnd.slots[1].id] is False
    assert sum(free.values()) == len(rnd.slots) - 2
    assert [(i["starts_at"], i["booth"]) for i in body["items"]] == sorted(
        (i["starts_at"], i["booth"]) for i in body["items"]
    )


def test_slots_booking_id_shown_to_its_company_and_staff(client, world):
    people, headers, company, rounds = world
    rnd = rounds["open"]
    booking = book_slot(company=company, slot=rnd.slots[0], request=REQ, actor=people["owner"])
    db.session.commit()

    def seen_by(role):
        body = api_call(client, "GET", SLOTS, headers=headers[role], round_id=rnd.id).get_json()
        return next(i["booking_id"] for i in body["items"] if i["id"] == rnd.slots[0].id)

    assert [seen_by(r) for r in ("owner", "other", "newcomer", "staff", "admin")] == [
        booking.id,
        None,
        None,
        booking.id,
        booking.id,
    ]


def test_slots_free_filter(client, world):
    people, headers, company, rounds = world
    rnd = rounds["open"]
    book_slot(company=company, slot=rnd.slots[0], request=REQ, actor=people["owner"])
    db.session.commit()
    all_ids = {s.id for s in rnd.slots}

    free = api_call(client, "GET", SLOTS, headers=headers["owner"], round_id=rnd.id, query={"free": "true"})
    taken = api_call(client, "GET", SLOTS, headers=headers["owner"], round_id=rnd.id, query={"free": "false"})

    free_ids = {i["id"] for i in free.get_json()["items"]}
    taken_ids = {i["id"] for i in taken.get_json()["items"]}
    assert taken_ids == {rnd.slots[0].id}
    assert free_ids == all_ids - taken_ids
    assert all(i["free"] for i in free.get_json()["items"])


def test_slots_come_a_page_at_a_time_in_their_order_and_the_filter_pages_too(client, world):
    people, headers, company, rounds = world
    rnd = rounds["open"]
    book_slot(company=company, slot=rnd.slots[0], request=REQ, actor=people["owner"])
    db.session.commit()
    in_order = [s.id for s in sorted(rnd.slots, key=lambda s: (s.starts_at, s.booth, s.id))]

    def page(n, **query):
        query = {"per_page": "4", "page": str(n), **query}
        return api_call(client, "GET", SLOTS, headers=headers["owner"], round_id=rnd.id, query=query).get_json()

    first, second = page(1), page(2)
    free = page(2, free="true")

    assert [i["id"] for i in first["items"] + second["items"]] == in_order
    assert (first["total"], first["pages"], first["page"], first["per_page"]) == (6, 2, 1, 4)
    assert [i["id"] for i in free["items"]] == [i for i in in_order if i != rnd.slots[0].id][4:]
    assert (free["total"], free["pages"]) == (5, 2)


def test_slots_past_slots_are_not_free(client, world):
    _people, headers, _company, rounds = world
    rnd = rounds["closed"]  # its day is 40 days ago

    body = api_call(client, "GET", SLOTS, headers=headers["staff"], round_id=rnd.id, query={"free": "true"}).get_json()

    assert body["items"] == []


@pytest.mark.parametrize("value", ["1", "0", "True", "FALSE", "yes", "", " true", "true ", "null", "[]", "ｔｒｕｅ"])
def test_slots_free_not_a_strict_boolean_422_names_it(client, world, value):
    _people, headers, _company, rounds = world

    response = api_call(
        client, "GET", SLOTS, headers=headers["owner"], round_id=rounds["open"].id, query={"free": value}
    )

    error = assert_error(response, 422, "invalid")
    assert error["fields"] == {"free": ["Use true or false."]}


@pytest.mark.parametrize(
    ("role", "round_name", "expected"),
    [
        ("anon", "open", 401),
        ("owner", "open", 200),
        ("newcomer", "open", 200),
        ("owner", "draft", 404),
        ("other", "draft", 404),
        ("staff", "draft", 200),
        ("admin", "draft", 200),
    ],
)
def test_slots_permissions(client, world, role, round_name, expected):
    _people, headers, _company, rounds = world

    response = api_call(client, "GET", SLOTS, headers=headers[role], round_id=rounds[round_name].id)

    assert response.status_code == expected


def test_slots_query_count_does_not_grow_with_bookings(client, world, count_queries):
    _people, headers, _company, _rounds = world
    rnd = make_round(day=_in_days(130), booths=10, slots_per_booth=2)

    def book(slot):
        user = make_user("sme")
        book_slot(company=make_company(owner=user), slot=slot, request=REQ, actor=user)
        db.session.commit()

    book(rnd.slots[0])
    api_call(client, "GET", SLOTS, headers=headers["staff"], round_id=rnd.id)  # last_used_at written once
    with count_queries() as one:
        api_call(client, "GET", SLOTS, headers=headers["staff"], round_id=rnd.id)
    for slot in rnd.slots[1:]:
        book(slot)
    with count_queries() as twenty:
        response = api_call(client, "GET", SLOTS, headers=headers["staff"], round_id=rnd.id)

    assert [i["free"] for i in response.get_json()["items"]] == [False] * 20
    assert twenty.count == one.count


def test_round_list_query_count_does_not_grow_with_rows(client, world, count_queries):
    _people, headers, _company, _rounds = world
    api_call(client, "GET", LIST, headers=headers["owner"])
    with count_queries() as few:
        api_call(client, "GET", LIST, headers=headers["owner"])
    for months in range(1, 11):
        make_round(day=_in_days(100 + 31 * months))
    db.session.commit()
    with count_queries() as many:
        response = api_call(client, "GET", LIST, headers=headers["owner"])

    assert response.get_json()["total"] == 12
    assert many.count == few.count


@pytest.mark.parametrize("template", [LIST, ONE, SLOTS])
def test_nul_in_a_query_parameter_422(client, world, template):
    _people, headers, _company, rounds = world

    response = api_call(
        client, "GET", template, headers=headers["owner"], round_id=rounds["open"].id, query={"free": "\x00"}
    )

    assert assert_error(response, 422, "invalid")["fields"] == {"free": ["Contains a NUL character."]}
