"""Issue 13, "done when": every .ics the app produces, parsed with icalendar, has the booking's UID,
its stored SEQUENCE, the right METHOD and the right instant, for readers in half-hour zones and in
zones whose clocks change, at local times that happen twice or next to ones that never happen."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from flask_babel import force_locale
from icalendar import Calendar
from sqlalchemy import select

from consultroom.bookings.models import Booking
from consultroom.consultations.changes import cancel_booking, move_booking
from consultroom.extensions import db
from consultroom.matching import confirmation
from consultroom.notifications.models import OutboxMail
from tests.factories import (
    BookingRowFactory,
    SlotFactory,
    make_buyer,
    make_interpreter,
    make_round,
    make_sme_with_company,
    make_user,
)
from tests.integration.test_api_support import bearer

# (zone, a start instant that is hard for it, another to move to)
CASES = [
    # 01:30 EST, the second 01:30 of the night clocks go back; then 03:15 EDT, just after the skipped hour
    ("America/New_York", datetime(2027, 11, 7, 6, 30, tzinfo=UTC), datetime(2027, 3, 14, 7, 15, tzinfo=UTC)),
    # 02:30 CET, the second 02:30; then 03:30 CEST, just after the skipped hour
    ("Europe/Berlin", datetime(2027, 10, 31, 1, 30, tzinfo=UTC), datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
    # 02:30 ACST, the second 02:30 (+09:30); then 03:00 ACDT (+10:30), just after the skipped hour
    ("Australia/Adelaide", datetime(2027, 4, 3, 17, 0, tzinfo=UTC), datetime(2027, 10, 2, 16, 30, tzinfo=UTC)),
    # +05:30 all year
    ("Asia/Kolkata", datetime(2027, 3, 14, 7, 0, tzinfo=UTC), datetime(2027, 3, 14, 8, 30, tzinfo=UTC)),
]


@pytest.fixture(autouse=True)
def _english_messages(app):
    with force_locale("en"):
        yield


def _instant(prop, cal: Calendar) -> datetime:
    """What a client computes: a UTC value as is, a TZID time through the file's own VTIMEZONE."""
    if "TZID" not in prop.params:
        assert prop.dt.utcoffset() == timedelta(0)
        return prop.dt
    vtz = next(c for c in cal.walk("VTIMEZONE") if str(c["TZID"]) == prop.params["TZID"])
    return prop.dt.replace(tzinfo=vtz.to_tz()).astimezone(UTC)


def _check(raw: bytes | str, booking: Booking, *, method: str, start: datetime) -> None:
    cal = Calendar.from_ical(raw)
    (event,) = cal.walk("VEVENT")
    assert cal["method"] == method
    assert str(event["uid"]) == f"booking-{booking.id}@consultroom"
    assert event["sequence"] == booking.ics_sequence
    assert event["dtstart"].dt == start  # read by the TZID's name
    assert _instant(event["dtstart"], cal) == start  # read by the embedded VTIMEZONE
    assert _instant(event["dtend"], cal) == start + timedelta(minutes=50)


@pytest.fixture(params=CASES, ids=[c[0] for c in CASES])
def world(request, app):
    zone, start, other = request.param
    rnd = make_round(booths=1, slots_per_booth=1)
    sme, company = make_sme_with_company()
    sme.timezone = zone
    staff = make_user("staff", locale="en")
    staff.timezone = zone
    buyer = make_buyer(timezone=zone)
    # Works around the clock every day: a move is refused at a time the interpreter does not work.
    interpreter = make_interpreter(hours=((time(0, 0), time(23, 59)),), days=range(7))
    booking = BookingRowFactory(
        confirmed=True,
        slot=SlotFactory(round=rnd, booth=7, starts_at=start),
        company=company,
        buyer=buyer,
        interpreter=interpreter,
        match_version=1,
        ics_sequence=3,
    )
    other_slot = SlotFactory(round=rnd, booth=8, starts_at=other)
    db.session.commit()
    return {
        "zone": zone,
        "start": start,
        "other": other,
        "other_slot": other_slot,
        "booking": booking,
        "sme": sme,
        "staff": staff,
        "buyer": buyer,
        "interpreter": interpreter,
    }


def test_downloads_by_sme_staff_api_and_signed_link(world, client, make_client, login_as):
    w = world
    booking = w["booking"]
    login_as(w["sme"])
    _check(client.get(f"/bookings/{booking.id}.ics").data, booking, method="PUBLISH", start=w["start"])
    staff_client = make_client()
    login_as(w["staff"], on=staff_client)
    _check(staff_client.get(f"/bookings/{booking.id}.ics").data, booking, method="PUBLISH", start=w["start"])
    api = client.get(f"/api/v1/bookings/{booking.id}/ics", headers=bearer(w["sme"]))
    _check(api.data, booking, method="PUBLISH", start=w["start"])
    for party in ("buyer", "interpreter"):
        token = confirmation.make_response_token(booking, party)
        _check(client.get(f"/respond/{token}/ics").data, booking, method="PUBLISH", start=w["start"])


def test_mails_of_a_move_then_a_cancellation(world):
    w = world
    booking = w["booking"]

    move_booking(booking=booking, slot=w["other_slot"], actor=w["staff"])
    moved = db.session.scalars(select(OutboxMail).where(OutboxMail.ics_body.is_not(None))).all()
    assert sorted(m.template for m in moved) == ["booking_moved", "match_moved", "match_moved"]
    for mail in moved:
        assert mail.ics_method == "REQUEST"
        _check(mail.ics_body, booking, method="REQUEST", start=w["other"])
    moved_sequence = booking.ics_sequence
    assert moved_sequence == 4

    cancel_booking(booking=booking, actor=w["staff"], reason="Typhoon")
    cancels = db.session.scalars(select(OutboxMail).where(OutboxMail.ics_method == "CANCEL")).all()
    expected = ["booking_cancelled", "consultation_cancelled", "consultation_cancelled"]
    assert sorted(m.template for m in cancels) == expected
    for mail in cancels:
        _check(mail.ics_body, booking, method="CANCEL", start=w["other"])
    assert booking.ics_sequence == moved_sequence + 1


def test_calendar_feeds_of_sme_staff_and_interpreter(world, client):
    from consultroom.bookings.calendar import new_feed

    w = world
    booking = w["booking"]
    raws = [
        new_feed(user=w["sme"], actor=w["sme"])[1],
        new_feed(user=w["staff"], actor=w["staff"])[1],
        new_feed(interpreter=w["interpreter"], actor=None)[1],
    ]
    db.session.commit()
    for raw in raws:
        _check(client.get(f"/calendar/{raw}.ics").data, booking, method="PUBLISH", start=w["start"])
