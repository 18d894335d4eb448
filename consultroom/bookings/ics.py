"""Calendar objects for consultations (RFC 5545), and the iTIP methods of RFC 5546.

Every consultation is one event with the UID `booking-<id>@consultroom` in every file, mail and
feed, so a calendar client that holds it replaces it: a change carries the booking's stored
SEQUENCE (raised at each change), METHOD:REQUEST for a new or changed event, METHOD:CANCEL when it
is off. Downloads and feeds are METHOD:PUBLISH (feeds must not carry an iTIP method that asks for
replies). Times are written with the reader's TZID and its VTIMEZONE, except a local time that
occurs twice (the hour a DST change repeats): RFC 5545 reads such a TZID time as its first
occurrence, so those are written in UTC, which every client reads unambiguously.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

from consultroom.bookings.models import Booking
from consultroom.db import utcnow

PRODID = "-//Consultroom//Export consultation room//EN"
METHODS = ("PUBLISH", "REQUEST", "CANCEL")


def event_uid(booking: Booking) -> str:
    return f"booking-{booking.id}@consultroom"


def is_ambiguous(local: datetime) -> bool:
    """True when this wall-clock time happens twice in its zone (the repeated hour of a DST end)."""
    return local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


def calendar_time(moment: datetime, zone: str) -> datetime:
    """`moment` as it is written to the file: local with a TZID, or UTC when the local time is ambiguous."""
    local = moment.astimezone(ZoneInfo(zone))
    if is_ambiguous(local):
        return moment.astimezone(UTC)
    return local


@dataclass(frozen=True)
class EventText:
    """What one reader sees in the event, already in their language."""

    summary: str
    description: str
    url: str  # the join link once there is one, else the reader's consultation page
    location: str = ""  # the join link: most clients show LOCATION as a clickable "where"


def booking_event(
    booking: Booking,
    *,
    zone: str,
    text: EventText,
    organizer: str = "",
    attendee: str = "",
    cancelled: bool = False,
) -> Event:
    event = Event()
    event.add("uid", event_uid(booking))
    event.add("dtstamp", utcnow())
    event.add("dtstart", calendar_time(booking.starts_at, zone))
    event.add("dtend", calendar_time(booking.ends_at, zone))
    event.add("sequence", booking.ics_sequence)
    event.add("summary", text.summary)
    event.add("description", text.description)
    if text.url:
        event.add("url", text.url)
    if text.location:
        event.add("location", text.location)
    if organizer:
        org = vCalAddress(f"mailto:{organizer}")
        org.params["cn"] = vText("Consultroom")
        event.add("organizer", org)
    if attendee:
        att = vCalAddress(f"mailto:{attendee}")
        # Answers go to staff through the app's links, not as iTIP replies to a no-reply address.
        att.params["rsvp"] = "FALSE"
        att.params["role"] = "REQ-PARTICIPANT"
        event.add("attendee", att)
    if cancelled or not booking.active:
        event.add("status", "CANCELLED")
    else:
        # Booked but not yet agreed by buyer and interpreter: calendars show it as tentative.
        event.add("status", "CONFIRMED" if booking.status in ("confirmed", "held") else "TENTATIVE")
    return event


def calendar(events: list[Event], *, method: str = "PUBLISH", name: str = "") -> bytes:
    if method not in METHODS:
        raise ValueError(method)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    for event in events:
        cal.add_component(event)
    # Writes the VTIMEZONE that the TZID parameters refer to, so calendars need no zone database.
    cal.add_missing_timezones()
    return cal.to_ical()


def booking_ics(
    booking: Booking,
    *,
    zone: str = "Asia/Seoul",
    text: EventText,
    method: str = "PUBLISH",
    organizer: str = "",
    attendee: str = "",
) -> bytes:
    cancelled = method == "CANCEL"
    event = booking_event(
        booking,
        zone=zone,
        text=text,
        organizer=organizer if method != "PUBLISH" else "",
        attendee=attendee if method != "PUBLISH" else "",
        cancelled=cancelled,
    )
    return calendar([event], method=method)


def organizer_address(sender: str) -> str:
    return parseaddr(sender)[1] or "no-reply@consultroom.local"
