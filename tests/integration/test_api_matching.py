"""Matching through the API: recommendations, match changes, meeting links, whole-round proposals (staff only),
and the match state an SME reads on its own booking."""

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from consultroom.bookings.models import Booking
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.matching.models import RoundProposal
from consultroom.matching.services import propose_match, respond
from tests.factories import make_company, make_round, make_sme_with_company, make_user
from tests.factories.matching import book, greedy_trap, interpreter_for, make_buyer, slots_at, use_policy
from tests.integration.test_api_support import api_call, assert_error, bearer

BOOKING = "/api/v1/bookings/{booking_id}"
RECS = "/api/v1/bookings/{booking_id}/recommendations"
MATCH = "/api/v1/bookings/{booking_id}/match"
MEETING = "/api/v1/bookings/{booking_id}/meeting-url"
PROPOSALS = "/api/v1/rounds/{round_id}/proposals"
PROPOSAL = "/api/v1/proposals/{proposal_id}"
LINE = "/api/v1/proposals/{proposal_id}/lines/{line_id}"
CONFIRM = "/api/v1/proposals/{proposal_id}/confirm"


@pytest.fixture
def w():
    """Two companies booked at 10:00 (booths 1 and 2); an English-speaking US buyer, a Vietnamese-only buyer
    and a Vietnamese interpreter working all day; interpreters only without a common language."""
    use_policy("needed")
    rnd = make_round(booths=2, slots_per_booth=2)
    owner, c1 = make_sme_with_company(hs_codes=("330499",), target_countries=("US",), languages=("ko", "en"))
    other, c2 = make_sme_with_company(hs_codes=("330499",), target_countries=("US",), languages=("ko", "en"))
    ten = slots_at(rnd, 0)
    b1, b2 = book(c1, ten[0]), book(c2, ten[1])
    x = make_buyer("Xport", country="US", interests=("330499",), timezone="Asia/Seoul")
    z = make_buyer("Zen Coffee", country="VN", interests=("3304",), languages=("vi",), timezone="Asia/Seoul")
    nguyen = interpreter_for(rnd, ("vi",), name="Nguyen")
    staff = make_user("staff")
    headers = {"owner": bearer(owner), "other": bearer(other), "staff": bearer(staff), "anon": {}}
    return {"rnd": rnd, "b1": b1, "b2": b2, "x": x, "z": z, "nguyen": nguyen, "h": headers, "staff": staff}


# --- recommendations -------------------------------------------------------------------------------


def test_recommendations_rank_buyers_with_reasons_and_interpreters(client, w):
    response = api_call(client, "GET", RECS, headers=w["h"]["staff"], booking_id=w["b1"].id)

    body = response.get_json()
    assert response.status_code == 200
    assert (body["booking_id"], body["open_for_matching"]) == (w["b1"].id, True)
    assert [item["buyer"]["company_name"] for item in body["items"]] == ["Xport", "Zen Coffee"]
    first, second = body["items"]
    assert first["score"] == sum(r["points"] for r in first["reasons"])
    assert {"code": "hs6", "points": first["reasons"][0]["points"], "detail": "330499"} == {
        k: first["reasons"][0][k] for k in ("code", "points", "detail")
    }
    assert all(r["text"] for r in first["reasons"])
    assert (first["needs_interpreter"], first["interpreters"]) == (False, [])
    assert second["needs_interpreter"] is True
    assert second["interpreters"] == [{"id": w["nguyen"].id, "name": "Nguyen", "languages": ["vi"]}]


@pytest.mark.parametrize(("role", "status"), [("anon", 401), ("owner", 404), ("other", 404)])
def test_recommendations_not_for_smes(client, w, role, status):
    response = api_call(client, "GET", RECS, headers=w["h"][role], booking_id=w["b1"].id)

    assert response.status_code == status


def test_recommendations_limit_validated(client, w):
    one = api_call(client, "GET", RECS, headers=w["h"]["staff"], booking_id=w["b1"].id, query={"limit": 1})
    bad = api_call(client, "GET", RECS, headers=w["h"]["staff"], booking_id=w["b1"].id, query={"limit": 0})

    assert len(one.get_json()["items"]) == 1
    assert list(assert_error(bad, 422, "invalid")["fields"]) == ["limit"]


# --- match changes ---------------------------------------------------------------------------------


def test_put_match_proposes_and_staff_see_the_match(client, w):
    response = api_call(
        client, "PUT", MATCH, headers=w["h"]["staff"], json={"buyer_id": w["x"].id}, booking_id=w["b1"].id
    )

    body = response.get_json()
    assert response.status_code == 200
    assert body["status"] == "matched"
    match = body["match"]
    assert match["buyer"] == {"id": w["x"].id, "company_name": "Xport", "country": "US"}
    assert (match["interpreter"], match["buyer_response"], match["meeting_url"]) == (None, "pending", None)
    assert match["score"] is not None and match["respond_by"]


def test_put_match_overlapping_buyer_409(client, w):
    api_call(client, "PUT", MATCH, headers=w["h"]["staff"], json={"buyer_id": w["x"].id}, booking_id=w["b1"].id)

    response = api_call(
        client, "PUT", MATCH, headers=w["h"]["staff"], json={"buyer_id": w["x"].id}, booking_id=w["b2"].id
    )

    error = assert_error(response, 409, "conflict")
    assert "Xport" in error["message"]
    assert db.session.get(Booking, w["b2"].id).buyer_id is None


def test_put_match_without_needed_interpreter_409_with_one_200(client, w):
    without = api_call(
        client, "PUT", MATCH, headers=w["h"]["staff"], json={"buyer_id": w["z"].id}, booking_id=w["b1"].id
    )
    with_one = api_call(
        client,
        "PUT",
        MATCH,
        headers=w["h"]["staff"],
        json={"buyer_id": w["z"].id, "interpreter_id": w["nguyen"].id},
        booking_id=w["b1"].id,
    )

    assert_error(without, 409, "conflict")
    assert with_one.status_code == 200
    assert with_one.get_json()["match"]["interpreter"] == {"id": w["nguyen"].id, "name": "Nguyen"}


def test_put_match_validation_names_fields(client, w):
    staff = w["h"]["staff"]

    empty = api_call(client, "PUT", MATCH, headers=staff, json={}, booking_id=w["b1"].id)
    unknown = api_call(
        client, "PUT", MATCH, headers=staff, json={"buyer_id": 999999, "interpreter_id": 999999}, booking_id=w["b1"].id
    )
    wrong = api_call(client, "PUT", MATCH, headers=staff, json={"buyer_id": "1", "extra": 1}, booking_id=w["b1"].id)

    assert list(assert_error(empty, 422, "invalid")["fields"]) == ["buyer_id"]
    assert set(assert_error(unknown, 422, "invalid")["fields"]) == {"buyer_id", "interpreter_id"}
    assert set(assert_error(wrong, 422, "invalid")["fields"]) == {"buyer_id", "extra"}


@pytest.mark.parametrize(("role", "status"), [("anon", 401), ("owner", 404), ("other", 404)])
def test_match_routes_not_for_smes(client, w, role, status):
    h, bid = w["h"][role], w["b1"].id

    put = api_call(client, "PUT", MATCH, headers=h, json={"buyer_id": w["x"].id}, booking_id=bid)
    delete = api_call(client, "DELETE", MATCH, headers=h, booking_id=bid)
    meeting = api_call(client, "PUT", MEETING, headers=h, json={"url": "https://zoom.us/j/1"}, booking_id=bid)

    assert (put.status_code, delete.status_code, meeting.status_code) == (status, status, status)
    assert db.session.get(Booking, bid).buyer_id is None


def test_delete_match_clears_then_409(client, w):
    api_call(client, "PUT", MATCH, headers=w["h"]["staff"], json={"buyer_id": w["x"].id}, booking_id=w["b1"].id)

    cleared = api_call(client, "DELETE", MATCH, headers=w["h"]["staff"], booking_id=w["b1"].id, query={"reason": "x"})
    again = api_call(client, "DELETE", MATCH, headers=w["h"]["staff"], booking_id=w["b1"].id)

    assert cleared.status_code == 204
    assert_error(again, 409, "conflict")
    booking = db.session.get(Booking, w["b1"].id)
    assert (booking.status, booking.buyer_id) == ("requested", None)


def test_meeting_url_set_and_validated(client, w):
    staff = w["h"]["staff"]

    bad = api_call(client, "PUT", MEETING, headers=staff, json={"url": "zoom.us/j/1"}, booking_id=w["b1"].id)
    missing = api_call(client, "PUT", MEETING, headers=staff, json={}, booking_id=w["b1"].id)
    ok = api_call(client, "PUT", MEETING, headers=staff, json={"url": "https://zoom.us/j/123"}, booking_id=w["b1"].id)

    assert list(assert_error(bad, 422, "invalid")["fields"]) == ["url"]
    assert list(assert_error(missing, 422, "invalid")["fields"]) == ["url"]
    assert ok.get_json()["match"]["meeting_url"] == "https://zoom.us/j/123"


def test_sme_reads_its_match_without_buyer_contact(client, w):
    api_call(client, "PUT", MATCH, headers=w["h"]["staff"], json={"buyer_id": w["x"].id}, booking_id=w["b1"].id)

    proposed = api_call(client, "GET", BOOKING, headers=w["h"]["owner"], booking_id=w["b1"].id)
    booking = db.session.get(Booking, w["b1"].id)
    respond(booking=booking, party="buyer", accept=True, version=booking.match_version)
    db.session.commit()
    confirmed = api_call(client, "GET", BOOKING, headers=w["h"]["owner"], booking_id=w["b1"].id)
    other = api_call(client, "GET", BOOKING, headers=w["h"]["other"], booking_id=w["b1"].id)

    assert proposed.get_json()["match"] == {
        "buyer": {"company_name": None, "country": "US"},
        "confirmed_at": None,
        "meeting_url": None,
    }
    match = confirmed.get_json()["match"]
    assert confirmed.get_json()["status"] == "confirmed"
    assert match["buyer"] == {"company_name": "Xport", "country": "US"}
    assert match["meeting_url"].startswith("http") and match["confirmed_at"]
    for response in (proposed, confirmed):
        assert w["x"].email not in response.get_data(as_text=True)
    assert other.status_code == 404


def test_booking_without_match_has_empty_match_state(client, w):
    response = api_call(client, "GET", BOOKING, headers=w["h"]["owner"], booking_id=w["b1"].id)

    assert response.get_json()["match"] == {"buyer": None, "confirmed_at": None, "meeting_url": None}


# --- whole-round proposals -------------------------------------------------------------------------


@pytest.fixture
def pw():
    """Three bookings where greedy leaves one unmatched (greedy_trap), and bearer tokens."""
    w = greedy_trap()
    owner, _company = make_sme_with_company()
    db.session.flush()
    return {**w, "h": bearer(w["staff"]), "sme": bearer(owner)}


def _lines_by_booking(body):
    return {line["booking"]["id"]: line for line in body["lines"]}


def test_create_proposal_201_with_exact_and_greedy_totals_and_reasons(client, pw):
    (b1, b2, b3), (x, y, z) = pw["b"], pw["buyers"]

    response = api_call(client, "POST", PROPOSALS, headers=pw["h"], round_id=pw["rnd"].id)

    body = response.get_json()
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"/api/v1/proposals/{body['id']}")
    assert (body["status"], body["exact"], body["greedy"], body["total"]) == (
        "draft",
        {"total": 230, "matched": 3},
        {"total": 180, "matched": 2},
        230,
    )
    lines = _lines_by_booking(body)
    assert {bid: (ln["buyer"]["id"], (ln["interpreter"] or {}).get("id")) for bid, ln in lines.items()} == {
        b1.id: (y.id, None),
        b2.id: (x.id, None),
        b3.id: (z.id, pw["interp"].id),
    }
    assert all(ln["reasons"] and all(r["text"] for r in ln["reasons"]) for ln in lines.values())
    assert body["violations"] == []


def test_edit_line_returns_violations_confirm_422_then_fixed_200(client, pw):
    (b1, b2, _b3), (x, y, _z) = pw["b"], pw["buyers"]
    body = api_call(client, "POST", PROPOSALS, headers=pw["h"], round_id=pw["rnd"].id).get_json()
    lines = _lines_by_booking(body)
    pid = body["id"]

    # X on both 10:00 bookings: the buyer would be in two places at once.
    edited = api_call(
        client, "PATCH", LINE, headers=pw["h"], json={"buyer_id": x.id}, proposal_id=pid, line_id=lines[b1.id]["id"]
    )
    refused = api_call(client, "POST", CONFIRM, headers=pw["h"], proposal_id=pid)
    fixed = api_call(
        client, "PATCH", LINE, headers=pw["h"], json={"buyer_id": y.id}, proposal_id=pid, line_id=lines[b1.id]["id"]
    )
    confirmed = api_call(client, "POST", CONFIRM, headers=pw["h"], proposal_id=pid)

    violations = edited.get_json()["violations"]
    assert len(violations) == 1
    assert set(violations[0]["line_ids"]) == {lines[b1.id]["id"], lines[b2.id]["id"]}
    assert "Xport" in violations[0]["message"]
    assert set(assert_error(refused, 422, "invalid")["fields"]) == {
        f"lines.{lines[b1.id]['id']}",
        f"lines.{lines[b2.id]['id']}",
    }
    assert fixed.get_json()["violations"] == []
    assert confirmed.status_code == 200
    assert confirmed.get_json()["status"] == "confirmed"
    statuses = db.session.scalars(select(Booking.status).where(Booking.id.in_([b.id for b in pw["b"]]))).all()
    assert statuses == ["matched", "matched", "matched"]


def test_edit_line_validation_and_wrong_proposal(client, pw):
    body = api_call(client, "POST", PROPOSALS, headers=pw["h"], round_id=pw["rnd"].id).get_json()
    line_id, pid = body["lines"][0]["id"], body["id"]

    bad = api_call(
        client, "PATCH", LINE, headers=pw["h"], json={"buyer_id": 0, "x": 1}, proposal_id=pid, line_id=line_id
    )
    inactive = api_call(
        client, "PATCH", LINE, headers=pw["h"], json={"buyer_id": 999999}, proposal_id=pid, line_id=line_id
    )
    elsewhere = api_call(client, "PATCH", LINE, headers=pw["h"], json={}, proposal_id=pid + 1, line_id=line_id)

    assert set(assert_error(bad, 422, "invalid")["fields"]) == {"buyer_id", "x"}
    assert list(assert_error(inactive, 422, "invalid")["fields"]) == ["buyer_id"]
    assert elsewhere.status_code == 404


def test_confirm_409_names_the_failing_line_and_applies_nothing(client, pw):
    (b1, b2, _b3), (x, _y, _z) = pw["b"], pw["buyers"]
    body = api_call(client, "POST", PROPOSALS, headers=pw["h"], round_id=pw["rnd"].id).get_json()
    lines = _lines_by_booking(body)
    # Meanwhile X is matched with a booking outside the proposal at 10:00.
    late = book(make_company(name_en="C4", hs_codes=("330499",), languages=("ko", "en")), pw["ten"][2])
    propose_match(booking=late, buyer=x, interpreter=None, actor=pw["staff"])
    db.session.commit()

    response = api_call(client, "POST", CONFIRM, headers=pw["h"], proposal_id=body["id"])

    error = assert_error(response, 409, "conflict")
    assert list(error["fields"]) == [f"lines.{lines[b2.id]['id']}"]
    assert db.session.get(RoundProposal, body["id"]).status == "draft"
    assert [db.session.get(Booking, b.id).status for b in (b1, b2)] == ["requested", "requested"]


def test_discard_proposal_then_409(client, pw):
    pid = api_call(client, "POST", PROPOSALS, headers=pw["h"], round_id=pw["rnd"].id).get_json()["id"]

    discarded = api_call(client, "DELETE", PROPOSAL, headers=pw["h"], proposal_id=pid)
    again = api_call(client, "DELETE", PROPOSAL, headers=pw["h"], proposal_id=pid)
    read = api_call(client, "GET", PROPOSAL, headers=pw["h"], proposal_id=pid)

    assert discarded.status_code == 204
    assert_error(again, 409, "conflict")
    assert (read.get_json()["status"], read.get_json()["violations"]) == ("discarded", [])


def test_create_proposal_nothing_waiting_409(client, pw):
    rnd = make_round(status="closed", booths=1, slots_per_booth=1, day=(utcnow() + timedelta(days=70)).date())

    response = api_call(client, "POST", PROPOSALS, headers=pw["h"], round_id=rnd.id)

    assert_error(response, 409, "conflict")


@pytest.mark.parametrize("who", ["anon", "sme"])
def test_proposal_routes_not_for_smes(client, pw, who):
    headers = {} if who == "anon" else pw["sme"]
    status = 401 if who == "anon" else 404
    body = api_call(client, "POST", PROPOSALS, headers=pw["h"], round_id=pw["rnd"].id).get_json()
    pid, line_id = body["id"], body["lines"][0]["id"]

    codes = [
        api_call(client, "POST", PROPOSALS, headers=headers, round_id=pw["rnd"].id).status_code,
        api_call(client, "GET", PROPOSAL, headers=headers, proposal_id=pid).status_code,
        api_call(client, "PATCH", LINE, headers=headers, json={}, proposal_id=pid, line_id=line_id).status_code,
        api_call(client, "POST", CONFIRM, headers=headers, proposal_id=pid).status_code,
        api_call(client, "DELETE", PROPOSAL, headers=headers, proposal_id=pid).status_code,
    ]

    assert codes == [status] * 5
    assert db.session.get(RoundProposal, pid).status == "draft"


# --- time of day as a plan, and the matching settings ------------------------------------------------

SETTINGS = "/api/v1/matching/settings"


def test_recommendation_offers_another_slot_and_put_match_moves_there_and_proposes(client, w):
    """Late Riser meets from 10:30 Seoul: 10:00 is outside its hours, 11:00 (free) suits both."""
    late = make_buyer("Late Riser", country="US", interests=("330499",), timezone="Asia/Seoul", meet_from=time(10, 30))
    db.session.commit()
    body = api_call(client, "GET", RECS, headers=w["h"]["staff"], booking_id=w["b1"].id).get_json()
    item = next(i for i in body["items"] if i["buyer"]["id"] == late.id)
    eleven = slots_at(w["rnd"], 1)[0]
    assert item["fit"] == "hs6"
    assert item["other_slot"]["id"] == eleven.id
    assert next(i for i in body["items"] if i["buyer"]["id"] == w["x"].id)["other_slot"] is None

    response = api_call(
        client, "PUT", MATCH, headers=w["h"]["staff"], json={"buyer_id": late.id, "slot_id": eleven.id},
        booking_id=w["b1"].id,
    )  # fmt: skip

    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.expire_all()
    moved = db.session.get(Booking, w["b1"].id)
    assert (moved.slot_id, moved.buyer_id, moved.status) == (eleven.id, late.id, "matched")


def test_put_match_refuses_a_slot_of_another_round_and_moves_nothing(client, w):
    elsewhere = make_round(booths=1, slots_per_booth=1, day=(utcnow() + timedelta(days=60)).date())
    db.session.commit()

    response = api_call(
        client, "PUT", MATCH, headers=w["h"]["staff"],
        json={"buyer_id": w["x"].id, "slot_id": elsewhere.slots[0].id}, booking_id=w["b1"].id,
    )  # fmt: skip

    assert list(assert_error(response, 422, "invalid")["fields"]) == ["slot_id"]
    db.session.expire_all()
    assert db.session.get(Booking, w["b1"].id).buyer_id is None


def test_matching_settings_read_by_staff_changed_by_admins_and_used_by_matching(client, w):
    admin = bearer(make_user("admin"))
    windows = [{"label": "Europe", "start": "17:00", "end": "21:00"}]

    staff_put = api_call(client, "PUT", SETTINGS, headers=w["h"]["staff"], json={"interpreter_policy": "always"})
    sme_get = api_call(client, "GET", SETTINGS, headers=w["h"]["owner"])
    saved = api_call(
        client, "PUT", SETTINGS, headers=admin, json={"interpreter_policy": "always", "region_windows": windows}
    )

    assert (staff_put.status_code, sme_get.status_code) == (403, 404)
    assert saved.status_code == 200
    assert saved.get_json() == {"interpreter_policy": "always", "region_windows": windows}
    assert api_call(client, "GET", SETTINGS, headers=w["h"]["staff"]).get_json() == saved.get_json()
    # The policy in force: Xport shares English with the company, yet now needs an interpreter.
    body = api_call(client, "GET", RECS, headers=w["h"]["staff"], booking_id=w["b1"].id).get_json()
    assert all(item["needs_interpreter"] for item in body["items"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"interpreter_policy": "sometimes"}, "interpreter_policy"),
        ({"region_windows": [{"label": "Europe", "start": "21:00", "end": "17:00"}]}, "region_windows"),
        ({"region_windows": "Europe 17:00-21:00"}, "region_windows"),
        ({"region_windows": [{"label": "x", "start": "1", "end": "2", "colour": "red"}]}, "region_windows"),
        ({"windows": []}, "windows"),
    ],
)
def test_matching_settings_validation_names_the_field(client, w, body, field):
    response = api_call(client, "PUT", SETTINGS, headers=bearer(make_user("admin")), json=body)

    assert list(assert_error(response, 422, "invalid")["fields"]) == [field]
