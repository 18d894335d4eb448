from __future__ import annotations

from datetime import time, timedelta

import pytest
from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from consultroom.audit.models import AuditEntry
from consultroom.bookings.models import Booking
from consultroom.consultations.changes import propose_match_at
from consultroom.errors import Conflict
from consultroom.extensions import db
from consultroom.matching import services as matching_services
from consultroom.matching.recommend import describe, load_world, recommend
from consultroom.matching.services import propose_match
from consultroom.notifications.models import OutboxMail
from tests.factories import BookingRowFactory, make_company, make_round, make_user
from tests.factories.matching import book, interpreter_for, make_buyer, slots_at, use_policy
from tests.undone import half_write_kept, writes_then_refuses

SEOUL_9_TO_6 = {"timezone": "Asia/Seoul", "meet_from": time(9), "meet_to": time(18)}


def _world():
    """One booking at 10:00 Seoul for a cosmetics company aiming at the US and Vietnam; interpreters
    only where there is no common language (the policy has its own tests)."""
    use_policy("needed")
    rnd = make_round(booths=3, slots_per_booth=2)
    company = make_company(hs_codes=("330499",), target_countries=("US", "VN"), languages=("ko", "en"))
    booking = book(company, slots_at(rnd, 0)[0])
    return rnd, company, booking


def _codes(rec):
    return [r.code for r in rec.score.reasons]


def test_recommend_ranks_by_score_with_reasons():
    rnd, _company, booking = _world()
    make_buyer("Exact Inc", country="US", interests=("330499",), **SEOUL_9_TO_6)
    heading = make_buyer(
        "Saigon Beauty", country="VN", interests=("3304",), languages=("vi",),
        timezone="Asia/Ho_Chi_Minh", meet_from=time(8), meet_to=time(17),
    )  # fmt: skip
    night = make_buyer("London Night", country="GB", interests=("8471",), timezone="Europe/London")
    make_buyer("Berlin Mute", country="DE", interests=("33",), languages=("de",), timezone="Europe/Berlin")
    vi = interpreter_for(rnd, ("vi",), name="Nguyen")

    recs = recommend(booking=booking)

    # London Night has no product relation (HS 8471): not a candidate, however well it speaks.
    assert [r.buyer.company_name for r in recs] == ["Exact Inc", "Saigon Beauty"]
    assert [r.score.total for r in recs] == [100, 80]
    assert [r.score.fit for r in recs] == ["hs6", "hs4"]
    assert _codes(recs[0]) == ["hs6", "country", "shared_language", "within_hours", "new_pair"]
    assert _codes(recs[1]) == ["hs4", "country", "interpreter", "within_hours", "new_pair"]
    assert recs[0].needs_interpreter is False and recs[0].interpreters == ()
    assert recs[1].needs_interpreter is True and [i.id for i in recs[1].interpreters] == [vi.id]
    assert heading.id == recs[1].buyer.id and night.id not in [r.buyer.id for r in recs]


def test_recommend_ranks_product_fit_before_language_hours_and_novelty():
    _rnd, _company, booking = _world()
    # The CNC case of issue 12: an exact HS match at night in Poland against a chapter-only buyer
    # with everything else going for it; and a buyer with no product relation at all.
    exact_night = make_buyer("Exact At Night", country="PL", interests=("330499",), timezone="Europe/Warsaw")
    chapter = make_buyer("Chapter Only", country="US", interests=("33",), **SEOUL_9_TO_6)
    make_buyer("Food Importer", country="US", interests=("2103",), **SEOUL_9_TO_6)

    recs = recommend(booking=booking)

    assert [(r.buyer.id, r.score.fit, r.score.total) for r in recs] == [
        (exact_night.id, "hs6", 40 + 15 - 40 + 10),
        (chapter.id, "hs2", 10 + 20 + 15 + 15 + 10),
    ]


def test_recommend_finds_a_buyer_by_declared_industry_below_every_hs_fit():
    _rnd, company, booking = _world()
    company.industry = "Cosmetics"
    by_word = make_buyer("Word Only", country="US", interests=("8471",), **SEOUL_9_TO_6)
    by_word.keywords = "cosmetics, skin care"
    chapter = make_buyer("Chapter", country="JP", interests=("33",), timezone="Europe/Warsaw")
    db.session.flush()

    recs = recommend(booking=booking)

    assert [(r.buyer.id, r.score.fit) for r in recs] == [(chapter.id, "hs2"), (by_word.id, "industry")]
    assert _codes(recs[1])[0] == "industry" and recs[1].score.reasons[0].detail == "cosmetics"


def test_recommendation_page_says_no_buyer_fits_when_none_has_a_product_relation(client, login_as):
    _rnd, _company, booking = _world()
    make_buyer("Food Importer", country="US", interests=("2103",), **SEOUL_9_TO_6)
    login_as("staff")

    html = client.get(f"/staff/matching/bookings/{booking.id}").get_data(as_text=True)

    assert "No buyer fits this request" in html
    assert "Food Importer" not in html


def test_recommendation_page_explains_reasons_in_words(client, login_as):
    rnd, _company, booking = _world()
    make_buyer("Exact Inc", country="US", interests=("330499",), timezone="Asia/Seoul")
    make_buyer(
        "Saigon Beauty", country="VN", interests=("3304",), languages=("vi",),
        timezone="Asia/Ho_Chi_Minh", meet_from=time(8), meet_to=time(17),
    )  # fmt: skip
    interpreter_for(rnd, ("vi",), name="Nguyen")
    login_as("staff")

    html = client.get(f"/staff/matching/bookings/{booking.id}").get_data(as_text=True)

    assert "HS 330499 matches exactly" in html
    assert "HS heading 3304 matches" in html
    assert "Target country: Vietnam" in html
    assert "Target country: United States" in html
    assert "Buyer&#39;s hours 08:00–17:00 Asia/Ho_Chi_Minh cover the slot" in html
    assert "Interpreter available for Vietnamese" in html
    assert "Nguyen (vi)" in html
    assert html.index("Exact Inc") < html.index("Saigon Beauty")


def test_recommend_marks_a_follow_up_with_a_company_met_in_an_earlier_round():
    rnd, company, booking = _world()
    old_round = make_round(day=rnd.day - timedelta(days=63), status="finalized")
    buyer = make_buyer("Old Friend", country="US", interests=("330499",), **SEOUL_9_TO_6)
    # Held in a round already finalized: a row, since book_slot books only open rounds.
    BookingRowFactory(slot=old_round.slots[0], company=company, status="held", buyer=buyer, products="")

    [rec] = recommend(booking=booking)

    assert _codes(rec) == ["hs6", "country", "shared_language", "within_hours", "follow_up"]
    assert rec.score.total == 90 and rec.score.follow_up is True
    with current_app.test_request_context("/"), force_locale("en"):
        assert describe(rec.score.reasons[-1], rec.info) == "Met this company before: follow-up"


def test_recommend_excludes_inactive_busy_and_already_met_buyers_and_counts_load():
    rnd, company, booking = _world()
    other = make_company(languages=("ko", "en"))
    make_buyer("Retired", active=False, **SEOUL_9_TO_6)
    busy = make_buyer("Busy Then", **SEOUL_9_TO_6)
    met = make_buyer("Met Already", **SEOUL_9_TO_6)
    later = make_buyer("Busy Later", **SEOUL_9_TO_6)
    free = make_buyer("Free", **SEOUL_9_TO_6)
    staff = make_user("staff")
    same_time_other = book(other, slots_at(rnd, 0)[1])
    propose_match(booking=same_time_other, buyer=busy, interpreter=None, actor=staff)
    later_same_company = book(company, slots_at(rnd, 1)[0])
    propose_match(booking=later_same_company, buyer=met, interpreter=None, actor=staff)
    later_other = book(other, slots_at(rnd, 1)[1])
    propose_match(booking=later_other, buyer=later, interpreter=None, actor=staff)

    recs = recommend(booking=booking)

    assert [r.buyer.company_name for r in recs] == ["Free", "Busy Later"]
    assert recs[1].load == 1 and _codes(recs[1])[-1] == "load"
    assert recs[1].score.total == recs[0].score.total - 5
    assert free.id == recs[0].buyer.id


def test_recommend_offers_only_free_interpreters_under_their_daily_cap():
    rnd, _company, booking = _world()
    buyer = make_buyer("Saigon Beauty", country="VN", languages=("vi",), timezone="Asia/Ho_Chi_Minh")
    capped = interpreter_for(rnd, ("vi",), name="Capped", max_sessions_per_day=1)
    busy = interpreter_for(rnd, ("vi",), name="Busy")
    off = make_interpreter_off_that_day(rnd)
    wrong = interpreter_for(rnd, ("th",), name="Thai only")
    ok = interpreter_for(rnd, ("vi", "en"), name="Free")
    other = make_company(languages=("ko",))
    staff = make_user("staff")
    other_buyers = [make_buyer(f"Other {i}", country="VN", languages=("vi",)) for i in range(2)]
    propose_match(booking=book(other, slots_at(rnd, 0)[1]), buyer=other_buyers[0], interpreter=busy, actor=staff)
    propose_match(booking=book(other, slots_at(rnd, 1)[1]), buyer=other_buyers[1], interpreter=capped, actor=staff)

    recs = {r.buyer.id: r for r in recommend(booking=booking)}

    assert [i.name for i in recs[buyer.id].interpreters] == ["Free"]
    assert {off.id, wrong.id, ok.id} and ok.id == recs[buyer.id].interpreters[0].id


def make_interpreter_off_that_day(rnd):
    from consultroom.interpreters.models import InterpreterException

    interp = interpreter_for(rnd, ("vi",), name="Away")
    db.session.add(InterpreterException(interpreter_id=interp.id, day=rnd.day, available=False, note="휴가"))
    db.session.flush()
    return interp


def _page_queries(client, count_queries, booking_id: int) -> int:
    client.get(f"/staff/matching/bookings/{booking_id}")  # warm: session, caches
    with count_queries() as q:
        response = client.get(f"/staff/matching/bookings/{booking_id}")
    assert response.status_code == 200
    return q.count


def test_recommendation_page_query_count_does_not_grow_with_buyers(client, login_as, count_queries):
    rnd, _company, booking = _world()
    interpreter_for(rnd, ("vi",))
    for i in range(2):
        make_buyer(f"First {i}", country="VN", interests=("3304",), languages=("vi", "en"))
    login_as("staff")
    with_two = _page_queries(client, count_queries, booking.id)

    for i in range(28):
        make_buyer(f"More {i}", country="VN", interests=("3304", "2103"), languages=("vi",) if i % 2 else ("en",))
    for _i in range(5):
        interpreter_for(rnd, ("vi", "th"))
    with_thirty = _page_queries(client, count_queries, booking.id)

    assert with_two == with_thirty, (with_two, with_thirty)
    assert with_thirty <= 20


def test_recommendation_page_is_for_staff_only(make_client, login_as):
    _rnd, company, booking = _world()
    owner = make_user("sme", company=company)
    url = f"/staff/matching/bookings/{booking.id}"
    anon = make_client()
    assert anon.get(url).status_code == 302
    sme = make_client()
    login_as(owner, on=sme)
    assert sme.get(url).status_code == 404
    staff = make_client()
    login_as("staff", on=staff)
    assert staff.get(url).status_code == 200
    admin = make_client()
    login_as("admin", on=admin)
    assert admin.get(url).status_code == 200


def test_match_from_the_page_proposes_and_mails_then_unmatch_withdraws(client, login_as):
    _rnd, _company, booking = _world()
    buyer = make_buyer("Exact Inc", **SEOUL_9_TO_6)
    login_as("staff")

    response = client.submit(f"/staff/matching/bookings/{booking.id}/match", {"buyer_id": str(buyer.id)})

    assert response.status_code == 302
    db.session.expire_all()
    matched = db.session.get(Booking, booking.id)
    assert (matched.status, matched.buyer_id, matched.match_score) == ("matched", buyer.id, 100)
    assert db.session.scalars(select(OutboxMail.template).where(OutboxMail.to_addr == buyer.email)).all() == [
        "match_proposed"
    ]
    page = client.get(f"/staff/matching/bookings/{booking.id}").get_data(as_text=True)
    assert "Buyer proposed" in page and "waiting for an answer" in page

    response = client.submit(
        f"/staff/matching/bookings/{booking.id}/unmatch", {"reason": "wrong buyer", "confirm": "1"}
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "requested"
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == booking.id)).all()
    assert "booking.match.propose" in actions and "booking.match.clear" in actions


def test_match_conflict_shows_beside_the_form_not_a_500(client, login_as):
    rnd, _company, booking = _world()
    buyer = make_buyer("Exact Inc", **SEOUL_9_TO_6)
    login_as("staff")
    page = client.get(f"/staff/matching/bookings/{booking.id}").get_data(as_text=True)
    assert f'data-buyer-id="{buyer.id}"' in page
    # Meanwhile another staff member gives the buyer another company at the same time.
    other = make_company(languages=("ko", "en"))
    propose_match(booking=book(other, slots_at(rnd, 0)[1]), buyer=buyer, interpreter=None, actor=make_user("staff"))

    response = client.submit(f"/staff/matching/bookings/{booking.id}/match", {"buyer_id": str(buyer.id)})

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "The buyer Exact Inc already has a consultation at this time." in html
    assert 'role="alert"' in html
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "requested"


def test_quick_candidates_agree_with_scores():
    rnd, company, booking = _world()
    company.industry = "Cosmetics"
    other = make_company(languages=("ko", "en"))
    staff = make_user("staff")
    interpreter_for(rnd, ("vi",))
    make_buyer("Exact Inc", country="US", interests=("330499",), **SEOUL_9_TO_6)
    loaded = make_buyer("Loaded", country="US", interests=("3304",), **SEOUL_9_TO_6)
    make_buyer("Night", country="PL", interests=("330499",), timezone="Europe/Warsaw")
    make_buyer("Saigon", country="VN", interests=("33",), languages=("vi",), timezone="Asia/Ho_Chi_Minh")
    make_buyer("Mute", country="DE", interests=("3304",), languages=("de",), timezone="Europe/Berlin")
    word = make_buyer("Word", country="JP", interests=("8471",), **SEOUL_9_TO_6)
    word.keywords = "Cosmetics distributor"
    propose_match(booking=book(other, slots_at(rnd, 1)[1]), buyer=loaded, interpreter=None, actor=staff)
    world = load_world([booking])

    for hours_rule in (False, True):
        full = world.candidates(booking, hours_rule=hours_rule)
        quick = world.quick_candidates(booking, hours_rule=hours_rule)

        assert [(c.buyer_id, c.value, c.total, c.fit, c.needs_interpreter, c.interpreter_ids) for c in quick] == [
            (c.buyer_id, c.score.value, c.score.total, c.score.fit, c.needs_interpreter, c.interpreter_ids)
            for c in full
        ]
    names = {c.buyer_id: world.infos[c.buyer_id].company_name for c in world.candidates(booking)}
    assert sorted(names.values()) == ["Exact Inc", "Loaded", "Night", "Saigon", "Word"]  # Mute: no language route
    assert [names[c.buyer_id] for c in world.candidates(booking, hours_rule=True)] == ["Exact Inc", "Loaded", "Word"]


def test_match_page_offers_a_free_slot_that_suits_the_buyer_and_moves_the_booking_when_proposed(client, login_as):
    rnd, _company, booking = _world()  # booked at 10:00 Seoul
    late = make_buyer("Late Riser", country="US", interests=("330499",), timezone="Asia/Seoul", meet_from=time(10, 30))
    free_at_eleven = slots_at(rnd, 1)[0]
    login_as("staff")

    page = client.get(f"/staff/matching/bookings/{booking.id}").get_data(as_text=True)

    assert f'name="slot_id" value="{free_at_eleven.id}"' in page
    assert "Suits both at" in page
    response = client.submit(
        f"/staff/matching/bookings/{booking.id}/match", {"buyer_id": str(late.id), "slot_id": str(free_at_eleven.id)}
    )

    assert response.status_code == 302
    db.session.expire_all()
    moved = db.session.get(Booking, booking.id)
    assert (moved.slot_id, moved.status, moved.buyer_id) == (free_at_eleven.id, "matched", late.id)
    assert moved.match_score == 40 + 20 + 15 + 15 + 10  # scored at the new time, inside the buyer's hours
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_id == booking.id).order_by(AuditEntry.id)
    ).all()
    assert actions[-2:] == ["booking.move", "booking.match.propose"]


def test_propose_match_at_refuses_a_booking_already_matched_and_moves_nothing():
    rnd, _company, booking = _world()
    buyer = make_buyer("Exact Inc", **SEOUL_9_TO_6)
    staff = make_user("staff")
    propose_match(booking=booking, buyer=buyer, interpreter=None, actor=staff)
    slot = booking.slot_id

    with pytest.raises(Conflict):
        propose_match_at(booking=booking, slot=slots_at(rnd, 1)[0], buyer=buyer, interpreter=None, actor=staff)

    assert booking.slot_id == slot


def test_proposal_requests_read_from_rows_equal_those_read_from_the_companies():
    rnd, company, booking = _world()
    company.industry = "Cosmetics and skin care"
    other = make_company(hs_codes=("210390", "090111"), target_countries=("JP",), languages=("ko",))
    own = book(other, slots_at(rnd, 1)[0])
    own.hs_codes, own.target_countries, own.languages = ["330410"], ["de"], ["EN"]  # the request's own
    booking.hs_codes, booking.target_countries, booking.languages = [], [], []  # the company's
    db.session.flush()
    db.session.expire_all()  # neither booking's company loaded: the proposal's case
    bookings = [db.session.get(Booking, booking.id), db.session.get(Booking, own.id)]

    from_rows = load_world(bookings, with_companies=False).requests
    from_objects = load_world(bookings).requests

    assert from_rows == from_objects
    assert from_rows[own.id].hs_codes == ("330410",) and from_rows[own.id].target_countries == ("DE",)
    assert from_rows[own.id].languages == ("en", "ko")
    assert from_rows[booking.id].hs_codes == ("330499",) and from_rows[booking.id].target_countries == ("US", "VN")
    assert from_rows[booking.id].industry_words == ("and", "care", "cosmetics", "skin")


def test_a_refused_match_keeps_nothing_written_before_the_refusal(client, login_as, monkeypatch):
    _rnd, _company, booking = _world()
    buyer = make_buyer("Exact Inc", **SEOUL_9_TO_6)
    login_as("staff")
    monkeypatch.setattr(matching_services, "propose_match", writes_then_refuses(Conflict("Taken meanwhile.")))

    response = client.submit(f"/staff/matching/bookings/{booking.id}/match", {"buyer_id": str(buyer.id)})

    assert response.status_code == 409 and "Taken meanwhile." in response.get_data(as_text=True)
    assert not half_write_kept()
