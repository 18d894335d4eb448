"""An .ics invitation for a booking, in a named time zone (TZID with its VTIMEZONE)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from consultroom.bookings.models import Booking
from consultroom.db import utcnow


def booking_ics(booking: Booking, *, zone: str = "Asia/Seoul", summary: str, description: str, url: str) -> bytes:
    tz = ZoneInfo(zone)
    cal = Calendar()
    cal.add("prodid", "-//Consultroom//Export consultation room//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"booking-{booking.id}@consultroom")
    event.add("dtstamp", utcnow())
    event.add("dtstart", booking.starts_at.astimezone(tz))
    event.add("dtend", booking.ends_at.astimezone(tz))
    event.add("summary", summary)
    event.add("description", description)
    event.add("url", url)
    # Booked but not yet agreed by buyer and interpreter: calendars show it as tentative.
    if booking.status == "cancelled":
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED" if booking.status in ("confirmed", "held") else "TENTATIVE")
    # Each export must outrank the previous one (a moved booking replaces the old event); the
    # export time in seconds always increases, without storing a revision counter.
    event.add("sequence", int(utcnow().timestamp()))
    cal.add_component(event)
    # Writes the VTIMEZONE that the TZID parameters refer to, so calendars need no zone database.
    cal.add_missing_timezones()
    return cal.to_ical()
