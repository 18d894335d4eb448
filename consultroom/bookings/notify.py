"""Mails about bookings, in each recipient's language and time zone, queued in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy import select

from consultroom.accounts.models import User
from consultroom.bookings.models import Booking
from consultroom.extensions import db
from consultroom.i18n import datetime_pattern
from consultroom.notifications.services import external_url, queue_mail_to_user


def when_for(user: User, moment: datetime) -> str:
    """A moment as the recipient reads it: their language, their zone, the zone named."""
    pattern = datetime_pattern("full", user.locale, zone=True)
    return format_datetime(moment, pattern, tzinfo=ZoneInfo(user.timezone or "Asia/Seoul"), locale=user.locale)


def company_users(company_id: int) -> list[User]:
    return list(
        db.session.scalars(select(User).where(User.company_id == company_id, User.active.is_(True)).order_by(User.id))
    )


def _send(booking: Booking, template: str, **extra) -> int:
    users = company_users(booking.company_id)
    for user in users:
        queue_mail_to_user(
            user=user,
            template=template,
            context={
                "booking": booking,
                "round": booking.round,
                "when": when_for(user, booking.starts_at),
                "link": external_url("bookings.my_bookings"),
                **extra,
            },
        )
    return len(users)


def booking_received(booking: Booking) -> int:
    return _send(booking, "booking_received")


def waitlist_promoted(booking: Booking) -> int:
    return _send(booking, "waitlist_promoted")


def reminder(booking: Booking, kind: str) -> int:
    return _send(booking, f"reminder_{kind}", meeting_url=booking.meeting_url if booking.status == "confirmed" else "")
