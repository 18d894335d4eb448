"""The round pages at size (issue 15 items 3-5): the staff grid and the SME's page load in a constant
number of queries, offer only actions that can succeed, and destructive actions need a confirmation."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from consultroom.bookings.models import Booking, WaitlistEntry
from consultroom.bookings.services import book_at_time, book_slot
from consultroom.db import utcnow
from consultroom.errors import Conflict
from consultroom.extensions import db
from consultroom.notifications.models import OutboxMail
from tests.factories import BookingRowFactory, make_company, make_round, make_sme_with_company

REQ = {"products": "기초화장품", "hs_codes": "330499", "target_countries": ["US"], "languages": ["en"]}


def _fill(rnd, every: int, status: str = "requested") -> None:
    """Book every n-th slot for a company of its own, straight into the table (the rules hold: one
    booking per slot and per company), so a big round is quick to make."""
    for i, slot in enumerate(rnd.slots):
        if i % every:
            continue
        BookingRowFactory(slot=slot, company=make_company(), status=status, cap=rnd.company_cap)
    db.session.add(WaitlistEntry(round_id=rnd.id, company_id=make_company().id, products="김"))
    db.session.commit()


def _queries(client, count_queries, url: str) -> int:
    assert client.get(url).status_code == 200  # warm: translations, the session's user
    with count_queries() as q:
        response = client.get(url)
    assert response.status_code == 200
    return q.count


@pytest.mark.parametrize("status", ["open", "finalized"])
def test_staff_grid_query_count_is_the_same_at_20_and_200_slots(client, login_as, count_queries, status):
    small = make_round(booths=4, slots_per_booth=5, status=status)
    big = make_round(booths=20, slots_per_booth=10, status=status, day=small.day + timedelta(days=35))
    _fill(small, every=2, status="requested" if status == "open" else "held")
    _fill(big, every=2, status="requested" if status == "open" else "held")
    login_as("staff")

    counts = [_queries(client, count_queries, f"/staff/rounds/{r.id}") for r in (small, big)]
    filtered = [_queries(client, count_queries, f"/staff/rounds/{r.id}?status=free") for r in (small, big)]

    assert counts[0] == counts[1], counts
    assert filtered[0] == filtered[1], filtered
    assert counts[1] <= 12, counts


def test_sme_round_page_query_count_is_the_same_at_20_and_200_slots(client, login_as, count_queries):
    user, company = make_sme_with_company()
    small = make_round(booths=4, slots_per_booth=5)
    big = make_round(booths=20, slots_per_booth=10, day=small.day + timedelta(days=35))
    _fill(small, every=3)
    _fill(big, every=3)
    for rnd in (small, big):
        book_slot(company=company, slot=rnd.slots[1], request=REQ, actor=user)
    login_as(user)

    counts = [_queries(client, count_queries, f"/rounds/{r.id}") for r in (small, big)]

    assert counts[0] == counts[1], counts


def test_staff_grid_has_no_form_per_cell_and_links_each_cell(client, login_as):
    rnd = make_round(booths=5, slots_per_booth=4)
    _fill(rnd, every=4)
    login_as("staff")

    html = client.get(f"/staff/rounds/{rnd.id}").get_data(as_text=True)

    booked = db.session.scalars(select(Booking.id).where(Booking.round_id == rnd.id)).all()
    assert len(booked) == 5
    for booking_id in booked:
        assert f'href="/staff/matching/bookings/{booking_id}"' in html
    assert len(re.findall(r'href="/staff/slots/\d+"', html)) == 15
    # The page's forms, not its cells': language and logout, a status step and a round cancellation
    # (each with its dialog's form), the filter, adding a slot.
    assert html.count("<form") == 8
    assert 'name="slot_id"' not in html


def test_staff_grid_filters_by_state_and_time(client, login_as):
    rnd = make_round(booths=3, slots_per_booth=2)
    _fill(rnd, every=2)  # slots 0, 2, 4 of (10:00 b1-3, 11:00 b1-3)
    login_as("staff")
    second = rnd.slots[3].starts_at

    free = client.get(f"/staff/rounds/{rnd.id}?status=free").get_data(as_text=True)
    free_at = client.get(f"/staff/rounds/{rnd.id}?status=free&at={int(second.timestamp())}").get_data(as_text=True)

    free_ids = {rnd.slots[i].id for i in (1, 3, 5)}
    assert {int(x) for x in re.findall(r'href="/staff/slots/(\d+)"', free)} == free_ids
    assert "/staff/matching/bookings/" not in free
    assert {int(x) for x in re.findall(r'href="/staff/slots/(\d+)"', free_at)} == {rnd.slots[3].id, rnd.slots[5].id}


def test_slot_page_offers_booking_for_a_company_and_a_booked_slot_is_its_booking(client, login_as):
    rnd = make_round(booths=1, slots_per_booth=2)
    user, company = make_sme_with_company()
    booking = book_slot(company=company, slot=rnd.slots[0], request=REQ, actor=user)
    login_as("staff")

    free_page = client.get(f"/staff/slots/{rnd.slots[1].id}").get_data(as_text=True)
    booked = client.get(f"/staff/slots/{rnd.slots[0].id}")

    assert f'action="/staff/slots/{rnd.slots[1].id}/book"' in free_page
    assert booked.status_code == 302 and booked.headers["Location"] == f"/staff/matching/bookings/{booking.id}"


def test_move_page_lists_the_free_booths_of_one_time(client, login_as):
    rnd = make_round(booths=3, slots_per_booth=2)
    user, company = make_sme_with_company()
    booking = book_slot(company=company, slot=rnd.slots[0], request=REQ, actor=user)
    login_as("staff")
    later = rnd.slots[3].starts_at

    first = client.get(f"/staff/bookings/{booking.id}/move").get_data(as_text=True)
    second = client.get(f"/staff/bookings/{booking.id}/move?at={int(later.timestamp())}").get_data(as_text=True)

    assert {int(x) for x in re.findall(r'name="slot_id" value="(\d+)"', first)} == {rnd.slots[1].id, rnd.slots[2].id}
    assert {int(x) for x in re.findall(r'name="slot_id" value="(\d+)"', second)} == {s.id for s in rnd.slots[3:]}


def test_closing_booking_needs_the_confirmation(client, login_as):
    rnd = make_round(status="open")
    login_as("staff")

    refused = client.submit(f"/staff/rounds/{rnd.id}/status", {"status": "closed"}, follow_redirects=True)
    db.session.refresh(rnd)
    assert rnd.status == "open"
    assert "Nothing was done" in refused.get_data(as_text=True)

    client.submit(f"/staff/rounds/{rnd.id}/status", {"status": "closed", "confirm": "1"})
    db.session.refresh(rnd)
    assert rnd.status == "closed"


def test_cancelling_a_round_says_how_many_mails_and_needs_the_confirmation(client, login_as):
    rnd = make_round(booths=3, slots_per_booth=1)
    for slot in rnd.slots:
        user, company = make_sme_with_company()
        book_slot(company=company, slot=slot, request=REQ, actor=user)
    db.session.commit()
    login_as("staff")

    html = client.get(f"/staff/rounds/{rnd.id}").get_data(as_text=True)
    refused = client.submit(f"/staff/rounds/{rnd.id}/cancel", {"reason": "태풍"})
    db.session.refresh(rnd)

    assert "3 bookings are cancelled. 3 mails are sent." in html
    assert '<dialog class="confirm-dialog" id="confirm-cancel-round-dialog"' in html
    assert refused.status_code == 302 and rnd.status == "open"
    sent = db.session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.template == "round_cancelled"))
    assert sent == 0


def test_book_at_time_picks_the_lowest_free_booth_then_the_next(app):
    rnd = make_round(booths=3, slots_per_booth=1)
    at = rnd.slots[0].starts_at
    (u1, c1), (u2, c2), (u3, c3), (u4, c4) = (make_sme_with_company() for _ in range(4))
    # Booth 1 taken meanwhile by someone else: the next free booth is given instead.
    book_slot(company=c1, slot=rnd.slots[0], request=REQ, actor=u1)

    second = book_at_time(company=c2, rnd=rnd, starts_at=at, request=REQ, actor=u2)
    third = book_at_time(company=c3, rnd=rnd, starts_at=at, request=REQ, actor=u3)

    assert (second.slot.booth, third.slot.booth) == (2, 3)
    with pytest.raises(Conflict):
        book_at_time(company=c4, rnd=rnd, starts_at=at, request=REQ, actor=u4)


def test_sme_books_a_time_through_the_page(client, login_as):
    user, company = make_sme_with_company()
    rnd = make_round(booths=2, slots_per_booth=2)
    at = int(rnd.slots[2].starts_at.timestamp())
    login_as(user)

    page = client.get(f"/rounds/{rnd.id}").get_data(as_text=True)
    response = client.submit(f"/rounds/{rnd.id}/times/{at}/book", {**REQ, "languages": "en"})

    assert f'href="/rounds/{rnd.id}/times/{at}/book"' in page
    assert "Booth" not in page
    assert response.status_code == 302
    booking = db.session.scalar(select(Booking).where(Booking.company_id == company.id))
    assert booking.slot_id == rnd.slots[2].id


def _book_links(html: str) -> list[str]:
    return re.findall(r'href="(/rounds/\d+/times/\d+/book)"', html)


def test_sme_page_offers_no_other_booth_at_an_hour_the_company_holds(client, login_as):
    user, company = make_sme_with_company()
    rnd = make_round(booths=3, slots_per_booth=2)
    book_slot(company=company, slot=rnd.slots[0], request=REQ, actor=user)
    login_as(user)

    html = client.get(f"/rounds/{rnd.id}").get_data(as_text=True)

    assert _book_links(html) == [f"/rounds/{rnd.id}/times/{int(rnd.slots[3].starts_at.timestamp())}/book"]
    assert "Your booking" in html
    assert "/waitlist" not in html  # slots are free


def test_sme_page_offers_the_waitlist_only_when_full(client, login_as):
    user, _company = make_sme_with_company()
    rnd = make_round(booths=1, slots_per_booth=2)
    _fill(rnd, every=1)
    login_as(user)

    html = client.get(f"/rounds/{rnd.id}").get_data(as_text=True)

    assert _book_links(html) == []
    assert f'href="/rounds/{rnd.id}/waitlist"' in html


def test_sme_page_offers_nothing_at_the_cap_or_on_past_and_finalized_rounds(client, login_as):
    user, company = make_sme_with_company()
    capped = make_round(booths=2, slots_per_booth=3, cap=1)
    book_slot(company=company, slot=capped.slots[0], request=REQ, actor=user)
    past = make_round(status="finalized", day=date(2024, 3, 13), opens_at=utcnow() - timedelta(days=900),
                      closes_at=utcnow() - timedelta(days=890))  # fmt: skip
    login_as(user)

    at_cap = client.get(f"/rounds/{capped.id}").get_data(as_text=True)
    finished = client.get(f"/rounds/{past.id}").get_data(as_text=True)

    assert _book_links(at_cap) == [] and "/waitlist" not in at_cap
    assert "the most allowed" in at_cap
    assert _book_links(finished) == [] and "/waitlist" not in finished


def test_a_big_round_opens_on_its_first_time_and_pages_by_time(client, login_as, monkeypatch):
    from consultroom.rounds import views

    monkeypatch.setattr(views, "GRID_PAGE", 5)
    rnd = make_round(booths=3, slots_per_booth=3)
    login_as("staff")
    second = int(rnd.slots[3].starts_at.timestamp())

    first_page = client.get(f"/staff/rounds/{rnd.id}").get_data(as_text=True)
    second_page = client.get(f"/staff/rounds/{rnd.id}?at={second}").get_data(as_text=True)

    assert {int(x) for x in re.findall(r'href="/staff/slots/(\d+)"', first_page)} == {s.id for s in rnd.slots[:3]}
    assert f"/staff/rounds/{rnd.id}?at={second}" in first_page
    assert {int(x) for x in re.findall(r'href="/staff/slots/(\d+)"', second_page)} == {s.id for s in rnd.slots[3:6]}
