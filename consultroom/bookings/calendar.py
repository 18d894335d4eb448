"""Private calendar feeds (issue 13, item 5): a subscription URL per SME user, staff member and interpreter.

The feed lists the reader's consultations with the same UID and SEQUENCE as every mail and
download, so a client that also imported an invitation keeps one event. The URL carries a random
token; only its SHA-256 is stored (as for API tokens), so the URL is shown once, when it is made.
Making a new one, or turning the feed off, ends the old URL at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.bookings.ics import booking_event, calendar
from consultroom.bookings.models import Booking, BookingStatus, CalendarFeed
from consultroom.db import utcnow
from consultroom.errors import NotAllowed
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter
from consultroom.matching import confirmation as c

# Past consultations stay in the feed for a while, so the week's calendar still shows them.
KEEP_PAST = timedelta(days=30)
# A feed is polled every few minutes: remember its use at most this often, not at every poll.
TOUCH_EVERY = timedelta(hours=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _owner_filter(*, user: User | None, interpreter: Interpreter | None):
    if (user is None) == (interpreter is None):
        raise ValueError("a feed has exactly one owner")
    if user is not None:
        return CalendarFeed.user_id == user.id
    return CalendarFeed.interpreter_id == interpreter.id


def can_have_feed(user: User) -> bool:
    return bool(user.is_authenticated and (user.is_staff or (user.is_sme and user.company_id is not None)))


def active_feed(*, user: User | None = None, interpreter: Interpreter | None = None) -> CalendarFeed | None:
    return db.session.scalar(
        select(CalendarFeed).where(_owner_filter(user=user, interpreter=interpreter), CalendarFeed.revoked_at.is_(None))
    )


def revoke_feeds(
    *, user: User | None = None, interpreter: Interpreter | None = None, actor: User | None, now: datetime | None = None
) -> int:
    now = now or utcnow()
    feeds = db.session.scalars(
        select(CalendarFeed).where(_owner_filter(user=user, interpreter=interpreter), CalendarFeed.revoked_at.is_(None))
    ).all()
    for feed in feeds:
        feed.revoked_at = now
        record(actor=actor, action="calendar_feed.revoke", obj=feed, after={"revoked_at": now.isoformat()})
    db.session.flush()
    return len(feeds)


def new_feed(
    *, user: User | None = None, interpreter: Interpreter | None = None, actor: User | None
) -> tuple[CalendarFeed, str]:
    """A new private feed for the owner, ending any earlier one; returns the row and the raw token."""
    if user is not None and not can_have_feed(user):
        raise NotAllowed(_("Only company users and staff have a calendar feed."))
    revoke_feeds(user=user, interpreter=interpreter, actor=actor)
    raw = secrets.token_urlsafe(32)
    feed = CalendarFeed(
        user_id=user.id if user is not None else None,
        interpreter_id=interpreter.id if interpreter is not None else None,
        token_hash=_hash(raw),
    )
    db.session.add(feed)
    db.session.flush()
    owner = {"user_id": feed.user_id} if user is not None else {"interpreter_id": feed.interpreter_id}
    record(actor=actor, action="calendar_feed.create", obj=feed, after=owner)
    return feed, raw


def feed_for_token(token: str, *, now: datetime | None = None) -> CalendarFeed | None:
    """The active feed of this token, or None (unknown, revoked, or its owner no longer active)."""
    if not token or len(token) > 100:
        return None
    feed = db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token), CalendarFeed.revoked_at.is_(None))
    )
    if feed is None:
        return None
    if feed.user_id is not None:
        user = db.session.get(User, feed.user_id)
        if user is None or not user.active or not can_have_feed(user):
            return None
    else:
        interpreter = db.session.get(Interpreter, feed.interpreter_id)
        if interpreter is None or not interpreter.active:
            return None
    now = now or utcnow()
    if feed.last_used_at is None or feed.last_used_at < now - TOUCH_EVERY:
        feed.last_used_at = now
    return feed


def _bookings(stmt, now: datetime) -> list[Booking]:
    return list(
        db.session.scalars(
            stmt.where(Booking.status != BookingStatus.CANCELLED.value, Booking.ends_at > now - KEEP_PAST).order_by(
                Booking.starts_at, Booking.id
            )
        )
    )


def feed_ics(feed: CalendarFeed, *, now: datetime | None = None) -> bytes:
    """The feed's calendar (METHOD:PUBLISH), each event as its reader sees it elsewhere."""
    now = now or utcnow()
    events = []
    if feed.user_id is not None:
        user = db.session.get(User, feed.user_id)
        stmt = select(Booking)
        if not user.is_staff:
            stmt = stmt.where(Booking.company_id == user.company_id)
        reader = "staff" if user.is_staff else "company"
        zone, locale = user.timezone or c.SEOUL_ZONE, user.locale
        for booking in _bookings(stmt, now):
            page = c.staff_page(booking) if user.is_staff else c.company_page(booking)
            text = c.event_text(booking, locale=locale, reader=reader, page_url=page)
            events.append(booking_event(booking, zone=zone, text=text))
    else:
        interpreter = db.session.get(Interpreter, feed.interpreter_id)
        locale = c.party_locale("interpreter", interpreter)
        stmt = select(Booking).where(
            Booking.interpreter_id == interpreter.id,
            Booking.interpreter_response.in_(("pending", "accepted")),
        )
        for booking in _bookings(stmt, now):
            page = c.links_for(booking, "interpreter")["page"]
            text = c.event_text(booking, locale=locale, reader="interpreter", page_url=page)
            events.append(booking_event(booking, zone=c.party_zone("interpreter", interpreter), text=text))
    with force_locale(locale):
        name = _("Consultroom consultations")
    return calendar(events, method="PUBLISH", name=name)
