"""Reminders of coming consultations to every party, a day and an hour before (scheduled job)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from consultroom.bookings.models import Booking, ReminderSent
from consultroom.bookings.notify import reminder
from consultroom.extensions import db
from consultroom.matching.confirmation import parties_of, party_reminder
from consultroom.scheduler.registry import job

REMINDERS = (("day", timedelta(hours=24)), ("hour", timedelta(hours=1)))


@job(
    "send_reminders",
    title=_l("Consultation reminders"),
    every_minutes=5,
    description=_l("Remind each party the day before and one hour before"),
)
def send_reminders(now: datetime) -> str:
    """The company of every upcoming booking; the buyer and interpreter of a confirmed one.

    One ReminderSent row per (booking, kind, recipient), written with the mail in one transaction:
    a reminder goes once, however often the job runs or the scheduler restarts. The party's id is
    in the key, so a buyer or interpreter who replaced another still gets theirs.
    """
    sent = 0
    for kind, ahead in REMINDERS:
        due = db.session.scalars(
            select(Booking)
            .where(
                Booking.status.in_(("requested", "matched", "confirmed")),
                Booking.starts_at > now,
                Booking.starts_at <= now + ahead,
            )
            .order_by(Booking.starts_at, Booking.id)
        ).all()
        done = {
            (booking_id, recipient)
            for booking_id, recipient in db.session.execute(
                select(ReminderSent.booking_id, ReminderSent.recipient).where(
                    ReminderSent.kind == kind, ReminderSent.booking_id.in_([b.id for b in due])
                )
            )
        }
        for booking in due:
            # The marker row and the mail share the transaction: both or neither.
            if (booking.id, "company") not in done:
                db.session.add(ReminderSent(booking_id=booking.id, kind=kind, recipient="company"))
                reminder(booking, kind)
                sent += 1
            if booking.status != "confirmed":
                continue  # a proposal not yet accepted is not yet the party's appointment
            for party, obj in parties_of(booking):
                key = f"{party}-{obj.id}"
                if (booking.id, key) not in done:
                    db.session.add(ReminderSent(booking_id=booking.id, kind=kind, recipient=key))
                    party_reminder(booking, party, obj, kind)
                    sent += 1
    return f"reminders {sent}"
