from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from babel.dates import format_time
from flask_babel import force_locale
from icalendar import Calendar
from sqlalchemy import func, select

from consultroom.audit.models import AuditEntry
from consultroom.bookings.models import Booking, WaitlistEntry
from consultroom.bookings.services import book_slot
from consultroom.extensions import db
from consultroom.notifications.models import OutboxMail
from consultroom.placeholders import shown
from consultroom.rounds.models import Round, Slot
from consultroom.timeutil import seoul_to_utc
from tests.factories import make_company, make_round, make_sme_with_company, make_user

REQ = {
    "products": "기초화장품",
    "hs_codes": "330499",
    "target_countries": ["US"],
    "languages": ["en"],
    "buyer_profile": "",
    "notes": "",
}


def _flash(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", m).strip() for m in re.findall(r'<div class="alert[^"]*"[^>]*>(.*?)</div>', html, re.S)]


def _book_url(rnd, slot) -> str:
    return f"/rounds/{rnd.id}/slots/{slot.id}/book"


def test_sme_books_a_free_slot_and_sees_it_in_its_schedule(client, login_as):
    user, company = make_sme_with_company()
    rnd = make_round()
    slot = rnd.slots[0]
    login_as(user)
    form = client.get(_book_url(rnd, slot)).get_data(as_text=True)
    assert company.products in form  # the request starts from the company profile
    response = client.submit(_book_url(rnd, slot), REQ)
    assert response.status_code == 302
    booking = db.session.scalar(select(Booking))
    assert (booking.company_id, booking.slot_id, booking.status) == (company.id, slot.id, "requested")
    assert booking.hs_codes == ["330499"] and booking.target_countries == ["US"]
    mine = client.get("/bookings").get_data(as_text=True)
    with force_locale("en"):  # the SME reads English: the generated Korean title is said in English
        assert shown(rnd.title) in mine and f"/bookings/{booking.id}.ics" in mine
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.template == "booking_received"))
    assert (mail.to_addr, mail.locale) == (user.email, user.locale)


def test_booking_request_errors_beside_fields_and_nothing_booked(client, login_as):
    user, _company = make_sme_with_company()
    rnd = make_round()
    login_as(user)
    response = client.submit(_book_url(rnd, rnd.slots[0]), {**REQ, "products": "", "hs_codes": "12"})
    html = response.get_data(as_text=True)
    assert 'id="products-error"' in html and 'id="hs_codes-error"' in html
    assert db.session.scalar(select(func.count(Booking.id))) == 0


def test_taken_slot_gives_a_clear_message_not_an_error(client, login_as):
    user, _company = make_sme_with_company()
    rnd = make_round()
    slot = rnd.slots[0]
    book_slot(company=make_company(), slot=slot, request=REQ, actor=None)
    login_as(user)
    response = client.submit(_book_url(rnd, slot), REQ)
    assert response.status_code == 200
    assert any("Someone else has just booked this slot" in f for f in _flash(response.get_data(as_text=True)))


def test_cap_and_overlap_refused_with_messages(client, login_as):
    user, company = make_sme_with_company()
    rnd = make_round(booths=2, slots_per_booth=3, cap=2)
    by_time = sorted(rnd.slots, key=lambda s: (s.starts_at, s.booth))
    login_as(user)
    assert client.submit(_book_url(rnd, by_time[0]), REQ).status_code == 302
    overlap = client.submit(_book_url(rnd, by_time[1]), REQ).get_data(as_text=True)  # same time, booth 2
    assert any("already has a booking at this time" in f for f in _flash(overlap))
    assert client.submit(_book_url(rnd, by_time[2]), REQ).status_code == 302
    capped = client.submit(_book_url(rnd, by_time[4]), REQ).get_data(as_text=True)
    assert any("2 bookings in this round" in f for f in _flash(capped))
    assert db.session.scalar(select(func.count(Booking.id)).where(Booking.company_id == company.id)) == 2


def test_booking_refused_outside_the_window(client, login_as):
    user, _company = make_sme_with_company()
    now = datetime.now(UTC)
    rnd = make_round(opens_at=now + timedelta(days=1), closes_at=now + timedelta(days=5))
    login_as(user)
    response = client.submit(_book_url(rnd, rnd.slots[0]), REQ)
    assert any("not open" in f for f in _flash(response.get_data(as_text=True)))
    assert db.session.scalar(select(func.count(Booking.id))) == 0


def test_draft_round_is_hidden_from_smes(client, login_as):
    user, _company = make_sme_with_company()
    rnd = make_round(status="draft")
    login_as(user)
    assert client.get(f"/rounds/{rnd.id}").status_code == 404


def test_sme_cancels_before_deadline_and_slot_is_free_again(client, login_as):
    user, company = make_sme_with_company()
    rnd = make_round()
    slot = rnd.slots[0]
    booking = book_slot(company=company, slot=slot, request=REQ, actor=user)
    login_as(user)
    assert client.submit(f"/bookings/{booking.id}/cancel", {"reason": "일정 변경"}).status_code == 302
    db.session.refresh(booking)
    assert booking.status == "cancelled"
    assert booking.cancel_reason == "일정 변경"
    other_user, other = make_sme_with_company()
    book_slot(company=other, slot=db.session.get(Slot, slot.id), request=REQ, actor=other_user)


def test_sme_cannot_cancel_after_the_deadline_but_staff_can(client, login_as, make_client):
    user, company = make_sme_with_company()
    soon = (datetime.now(UTC) + timedelta(days=1)).date()
    rnd = make_round(day=soon, cancel_hours=72)
    slot = next(s for s in rnd.slots if s.starts_at > datetime.now(UTC) + timedelta(hours=2))
    booking = book_slot(company=company, slot=slot, request=REQ, actor=user)
    login_as(user)
    page = client.get(f"/bookings/{booking.id}/cancel").get_data(as_text=True)
    assert "The cancellation deadline" in page and 'name="request_submit"' in page
    response = client.submit(f"/bookings/{booking.id}/cancel", {"reason": "수출 일정"}, follow_redirects=True)
    flashed = _flash(response.get_data(as_text=True))
    assert flashed == ["Your request is with the staff. They will tell you what they decide."]
    db.session.refresh(booking)
    assert booking.status == "requested"
    assert booking.cancel_request_reason == "수출 일정" and booking.cancel_requested_at is not None
    staff_client = make_client()
    login_as("staff", on=staff_client)
    assert staff_client.submit(f"/bookings/{booking.id}/cancel", {"reason": "바이어 사정"}).status_code == 302
    db.session.refresh(booking)
    assert booking.status == "cancelled"
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.template == "booking_cancelled"))
    assert "바이어 사정" in mail.body_text


def test_full_round_waitlist_first_company_promoted_on_cancel(client, login_as, make_client):
    holder_user, holder = make_sme_with_company()
    first_user, first = make_sme_with_company()
    second_user, second = make_sme_with_company()
    rnd = make_round(booths=1, slots_per_booth=1)
    booking = book_slot(company=holder, slot=rnd.slots[0], request=REQ, actor=holder_user)
    db.session.commit()
    c1, c2 = make_client(), make_client()
    login_as(first_user, on=c1)
    login_as(second_user, on=c2)
    assert c1.submit(f"/rounds/{rnd.id}/waitlist", REQ).status_code == 302
    assert c2.submit(f"/rounds/{rnd.id}/waitlist", REQ).status_code == 302
    again = c1.submit(f"/rounds/{rnd.id}/waitlist", REQ).get_data(as_text=True)
    assert any("already on the waitlist" in f for f in _flash(again))
    login_as(holder_user)
    assert client.submit(f"/bookings/{booking.id}/cancel", {"reason": "사정"}).status_code == 302
    promoted = db.session.scalar(select(Booking).where(Booking.status != "cancelled"))
    assert promoted.company_id == first.id and promoted.from_waitlist is True
    entries = {e.company_id: e.status for e in db.session.scalars(select(WaitlistEntry))}
    assert entries == {first.id: "promoted", second.id: "waiting"}
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.template == "waitlist_promoted"))
    assert mail.to_addr == first_user.email
    assert "position 1" in c2.get("/bookings").get_data(as_text=True)


def test_waitlist_refused_while_slots_are_free(client, login_as):
    user, _company = make_sme_with_company()
    rnd = make_round()
    login_as(user)
    response = client.submit(f"/rounds/{rnd.id}/waitlist", REQ)
    assert any("still free slots" in f for f in _flash(response.get_data(as_text=True)))
    assert db.session.scalar(select(func.count(WaitlistEntry.id))) == 0


def test_staff_book_move_cancel_are_audited_with_before_and_after(client, login_as):
    _user, company = make_sme_with_company()
    rnd = make_round(booths=2, slots_per_booth=2)
    a, b = rnd.slots[0], rnd.slots[3]
    staff = login_as("staff")
    assert client.submit(f"/staff/slots/{a.id}/book", {"company": company.business_number_display}).status_code == 302
    booking = db.session.scalar(select(Booking))
    assert booking.slot_id == a.id and booking.created_by_id == staff.id
    assert client.submit(f"/staff/bookings/{booking.id}/move", {"slot_id": str(b.id)}).status_code == 302
    db.session.refresh(booking)
    assert booking.slot_id == b.id and booking.starts_at == b.starts_at
    move = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "booking.move"))
    assert move.actor_id == staff.id
    assert move.before["slot_id"] == a.id and move.after["slot_id"] == b.id
    templates = set(db.session.scalars(select(OutboxMail.template)))
    assert {"booking_received", "booking_moved"} <= templates
    audit_page = client.get("/staff/audit").get_data(as_text=True)
    assert "booking.move" in audit_page


def test_staff_cancels_round_every_booker_told(client, login_as):
    users = []
    rnd = make_round(booths=3, slots_per_booth=1)
    for slot in rnd.slots:
        user, company = make_sme_with_company()
        book_slot(company=company, slot=slot, request=REQ, actor=user)
        users.append(user)
    login_as("staff")
    response = client.submit(f"/staff/rounds/{rnd.id}/cancel", {"reason": "태풍 예보", "confirm": "1"})
    assert response.status_code == 302
    db.session.refresh(rnd)
    assert rnd.status == "cancelled"
    assert db.session.scalar(select(func.count(Booking.id)).where(Booking.status != "cancelled")) == 0
    mails = db.session.scalars(select(OutboxMail).where(OutboxMail.template == "round_cancelled")).all()
    assert sorted(m.to_addr for m in mails) == sorted(u.email for u in users)
    assert all("태풍 예보" in m.body_text for m in mails)


def test_staff_cannot_close_a_booked_slot(client, login_as):
    user, company = make_sme_with_company()
    rnd = make_round()
    book_slot(company=company, slot=rnd.slots[0], request=REQ, actor=user)
    login_as("staff")
    response = client.submit(f"/staff/slots/{rnd.slots[0].id}/closed", {"closed": "1"}, follow_redirects=True)
    assert any("This slot is booked" in f for f in _flash(response.get_data(as_text=True)))
    assert db.session.get(Slot, rnd.slots[0].id).closed is False


def test_staff_creates_round_by_hand_and_adds_a_slot(client, login_as):
    login_as("staff")
    day = (datetime.now(UTC) + timedelta(days=60)).date()
    response = client.submit(
        "/staff/rounds/new",
        {"day": day.isoformat(), "title": "특별 상담회", "day_start": "09:00", "day_end": "12:00",
         "slot_minutes": "40", "break_minutes": "20", "booths": "2", "company_cap": "2", "cancel_hours_before": "24"},
    )  # fmt: skip
    assert response.status_code == 302
    rnd = db.session.scalar(select(Round))
    assert (rnd.title, rnd.status, rnd.company_cap) == ("특별 상담회", "draft", 2)
    assert len(rnd.slots) == 3 * 2
    assert rnd.slots[0].starts_at == seoul_to_utc(day, time(9, 0))
    client.submit(f"/staff/rounds/{rnd.id}/slots", {"booth": "3", "start": "09:00", "minutes": "40"})
    clash = client.submit(
        f"/staff/rounds/{rnd.id}/slots", {"booth": "1", "start": "09:20", "minutes": "40"}, follow_redirects=True
    )
    assert any("already has a slot" in f for f in _flash(clash.get_data(as_text=True)))
    assert db.session.scalar(select(func.count(Slot.id))) == 7


def test_ics_parses_carries_tzid_and_opens_at_the_right_instant(client, login_as):
    user, company = make_sme_with_company()
    rnd = make_round()
    slot = rnd.slots[0]
    booking = book_slot(company=company, slot=slot, request=REQ, actor=user)
    login_as(user)
    response = client.get(f"/bookings/{booking.id}.ics")
    assert response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.data)
    event = next(iter(cal.walk("VEVENT")))
    assert event["DTSTART"].params["TZID"] == "Asia/Seoul"
    assert event.decoded("DTSTART") == slot.starts_at
    assert event.decoded("DTEND") == slot.ends_at
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Seoul"]
    assert event["STATUS"] == "TENTATIVE"  # no buyer has agreed yet


def test_ics_of_a_confirmed_consultation_is_confirmed_and_a_cancelled_one_cancelled(client, login_as):
    user, company = make_sme_with_company()
    rnd = make_round(booths=1, slots_per_booth=2)
    first = book_slot(company=company, slot=rnd.slots[0], request=REQ, actor=user)
    second = book_slot(company=company, slot=rnd.slots[1], request=REQ, actor=user)
    first.status = "confirmed"
    second.status = "cancelled"
    login_as(user)
    statuses = []
    for booking in (first, second):
        cal = Calendar.from_ical(client.get(f"/bookings/{booking.id}.ics").data)
        statuses.append(str(next(iter(cal.walk("VEVENT")))["STATUS"]))
    assert statuses == ["CONFIRMED", "CANCELLED"]


def test_user_in_new_york_sees_slots_at_local_time_across_us_dst(client, login_as):
    # US clocks go forward on 2027-03-14; Korea keeps UTC+9. 10:00 KST is 20:00 EST before, 21:00 EDT after.
    user = make_user("sme", locale="en", timezone="America/New_York")
    make_company(owner=user)
    before = make_round(day=date(2027, 3, 10), slots_per_booth=1, booths=1)
    after = make_round(day=date(2027, 4, 14), slots_per_booth=1, booths=1)
    login_as(user)
    page_before = client.get(f"/rounds/{before.id}").get_data(as_text=True)
    page_after = client.get(f"/rounds/{after.id}").get_data(as_text=True)
    # What Babel writes for 20:00 and 21:00 in English, whatever space CLDR puts before "PM".
    eight_pm = format_time(time(20, 0), "short", locale="en")
    nine_pm = format_time(time(21, 0), "short", locale="en")
    assert eight_pm in page_before and nine_pm not in page_before
    assert nine_pm in page_after and eight_pm not in page_after
    assert "America/New_York" in page_before


def test_stored_times_are_utc(app):
    rnd = make_round(day=date(2027, 3, 10), slots_per_booth=1, booths=1)
    db.session.commit()
    db.session.expire_all()
    slot = db.session.get(Slot, rnd.slots[0].id)
    assert slot.starts_at == datetime(2027, 3, 10, 1, 0, tzinfo=UTC)
    assert slot.starts_at.utcoffset() == timedelta(0)


def test_round_grid_query_count_does_not_grow_with_bookings(client, login_as, count_queries):
    rnd = make_round(booths=4, slots_per_booth=3)
    _first_user, first_company = make_sme_with_company()
    book_slot(company=first_company, slot=rnd.slots[0], request=REQ, actor=None)
    login_as("staff")
    url = f"/staff/rounds/{rnd.id}"
    client.get(url)
    with count_queries() as one:
        client.get(url)
    for slot in rnd.slots[4:]:
        _u, c = make_sme_with_company()
        book_slot(company=c, slot=db.session.get(Slot, slot.id), request=REQ, actor=None)
    db.session.commit()
    with count_queries() as many:
        client.get(url)
    assert one.count == many.count


def test_my_bookings_pages_latest_first(client, login_as, monkeypatch):
    """A company in the program for years holds hundreds of bookings: the page lists a page at a time,
    latest first, and links the next page."""
    from consultroom.bookings import views
    from tests.factories.bookings import make_booking

    monkeypatch.setattr(views, "MINE_PER_PAGE", 2)
    user, company = make_sme_with_company()
    rnd = make_round(cap=3)
    times = {slot.starts_at: slot for slot in sorted(rnd.slots, key=lambda s: (s.starts_at, s.id), reverse=True)}
    booked = [make_booking(slot, company=company) for slot in list(times.values())[:3]]
    db.session.commit()
    login_as(user)

    first, second = (client.get(f"/bookings?page={n}").get_data(as_text=True) for n in (1, 2))

    shown_ids = [[int(i) for i in re.findall(r'<tr id="booking-(\d+)"', html)] for html in (first, second)]
    latest_first = [b.id for b in sorted(booked, key=lambda b: (b.starts_at, b.id), reverse=True)]
    assert shown_ids == [latest_first[:2], latest_first[2:]]
    assert 'href="/bookings?page=2"' in first and 'href="/bookings?page=1"' in second
