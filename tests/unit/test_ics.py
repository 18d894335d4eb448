"""The instant of every written event is the booking's, for every local time around DST changes and in
half-hour zones, read the way clients read it: by TZID name, and by the file's own VTIMEZONE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from consultroom.bookings.ics import EventText, booking_ics, calendar_time, is_ambiguous
from consultroom.bookings.models import Booking

ZONES = ("Asia/Kolkata", "Australia/Adelaide", "America/New_York", "Europe/Berlin", "Asia/Seoul")
# A UTC instant at each 2027 change: clocks go forward (a local hour never happens) or back (one
# local hour happens twice). Kolkata and Seoul have no change; they get a plain instant.
CHANGES = {
    "America/New_York": [datetime(2027, 3, 14, 7, 0, tzinfo=UTC), datetime(2027, 11, 7, 6, 0, tzinfo=UTC)],
    "Europe/Berlin": [datetime(2027, 3, 28, 1, 0, tzinfo=UTC), datetime(2027, 10, 31, 1, 0, tzinfo=UTC)],
    "Australia/Adelaide": [datetime(2027, 4, 3, 16, 30, tzinfo=UTC), datetime(2027, 10, 2, 16, 30, tzinfo=UTC)],
    "Asia/Kolkata": [datetime(2027, 3, 14, 7, 0, tzinfo=UTC)],
    "Asia/Seoul": [datetime(2027, 3, 14, 7, 0, tzinfo=UTC)],
}
TEXT = EventText(summary="S", description="D", url="https://meet.example/x", location="https://meet.example/x")


def _booking(start: datetime, *, sequence: int = 4, status: str = "confirmed") -> Booking:
    return Booking(id=17, starts_at=start, ends_at=start + timedelta(minutes=50), status=status, ics_sequence=sequence)


def _around(change: datetime) -> list[datetime]:
    """Every quarter hour from three hours before the change to three hours after."""
    return [change + timedelta(minutes=15 * n) for n in range(-12, 13)]


def _instant(prop, cal: Calendar) -> datetime:
    """The instant a client computes: from a UTC value, or a TZID time through the file's VTIMEZONE."""
    value = prop.dt
    if value.tzinfo is not None and value.utcoffset() == timedelta(0) and "TZID" not in prop.params:
        return value
    tzid = prop.params["TZID"]
    vtz = next(c for c in cal.walk("VTIMEZONE") if str(c["TZID"]) == tzid)
    return value.replace(tzinfo=vtz.to_tz()).astimezone(UTC)


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("method", ["PUBLISH", "REQUEST", "CANCEL"])
def test_booking_ics_instant_is_right_around_every_change(zone, method):
    for change in CHANGES[zone]:
        for start in _around(change):
            booking = _booking(start)
            raw = booking_ics(booking, zone=zone, text=TEXT, method=method, organizer="o@x.kr", attendee="a@x.kr")

            cal = Calendar.from_ical(raw)
            event = next(iter(cal.walk("VEVENT")))
            assert cal["method"] == method
            assert str(event["uid"]) == "booking-17@consultroom"
            assert event["sequence"] == 4
            # Read by TZID name (zoneinfo) and by the embedded VTIMEZONE: the same, right instant.
            assert event["dtstart"].dt == start, (zone, start)
            assert _instant(event["dtstart"], cal) == start, (zone, start)
            assert _instant(event["dtend"], cal) == start + timedelta(minutes=50)
            assert str(event["status"]) == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")


def test_repeated_local_hour_is_written_in_utc_and_others_with_tzid():
    first = datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second = datetime(2027, 11, 7, 6, 30, tzinfo=UTC)  # 01:30 EST, the same wall time again
    plain = datetime(2027, 11, 7, 8, 0, tzinfo=UTC)  # 03:00 EST

    assert calendar_time(first, "America/New_York") == first and calendar_time(first, "America/New_York").tzinfo is UTC
    assert calendar_time(second, "America/New_York").tzinfo is UTC
    assert calendar_time(plain, "America/New_York").tzinfo == ZoneInfo("America/New_York")
    raw = booking_ics(_booking(second), zone="America/New_York", text=TEXT).decode()
    assert "DTSTART:20271107T063000Z" in raw
    assert "DTSTART;TZID=America/New_York" not in raw


def test_is_ambiguous_only_in_the_repeated_hour():
    ny = ZoneInfo("America/New_York")
    assert is_ambiguous(datetime(2027, 11, 7, 1, 30, tzinfo=ny))
    assert not is_ambiguous(datetime(2027, 11, 7, 2, 30, tzinfo=ny))
    assert not is_ambiguous(datetime(2027, 3, 14, 3, 30, tzinfo=ny))
    assert not is_ambiguous(datetime(2027, 3, 14, 5, 30, tzinfo=ZoneInfo("Asia/Kolkata")))


def test_half_hour_zone_is_written_with_its_tzid_and_offset():
    start = datetime(2027, 3, 14, 7, 0, tzinfo=UTC)
    raw = booking_ics(_booking(start), zone="Asia/Kolkata", text=TEXT)
    cal = Calendar.from_ical(raw)
    event = next(iter(cal.walk("VEVENT")))
    assert "DTSTART;TZID=Asia/Kolkata:20270314T123000" in raw.decode()
    assert _instant(event["dtstart"], cal) == start


def test_unconfirmed_booking_is_tentative_and_publish_has_no_attendee():
    raw = booking_ics(
        _booking(datetime(2027, 3, 14, 7, 0, tzinfo=UTC), status="matched"),
        zone="Asia/Seoul",
        text=TEXT,
        organizer="o@x.kr",
        attendee="a@x.kr",
    )
    event = next(iter(Calendar.from_ical(raw).walk("VEVENT")))
    assert str(event["status"]) == "TENTATIVE"
    assert "ATTENDEE" not in event and "ORGANIZER" not in event
    assert str(event["location"]) == "https://meet.example/x"
