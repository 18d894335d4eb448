"""Job bodies. Each looks at the state now, so a run missed while the scheduler was down is done
by the next run; each is idempotent, so running it twice changes nothing the second time."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from consultroom.bookings.models import Booking, ReminderSent
from consultroom.extensions import db
from consultroom.rounds import services as rounds
from consultroom.scheduler.registry import job


@job(
    "open_rounds",
    title=_l("Opening rounds"),
    every_minutes=1,
    description=_l("Generate the coming months' rounds and open booking on time"),
)
def open_rounds(now: datetime) -> str:
    created = 0
    for year, month in rounds.upcoming_program_months(now, count=3):
        _rnd, made = rounds.ensure_round(year=year, month=month, not_after=now)
        created += made
    opened = [r.id for r in rounds.rounds_due_to_open(now) if rounds.open_round(rnd=r, now=now)]
    return f"generated {created}, opened {opened}"


@job(
    "close_booking",
    title=_l("Closing booking"),
    every_minutes=1,
    description=_l("Close booking when a round's window ends"),
)
def close_booking(now: datetime) -> str:
    closed = [r.id for r in rounds.rounds_due_to_close(now) if rounds.close_booking(rnd=r)]
    return f"closed {closed}"


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
    from consultroom.bookings.notify import reminder
    from consultroom.matching.confirmation import parties_of, party_reminder

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


@job("deliver_mail", title=_l("Mail delivery"), every_minutes=1, description=_l("Deliver the mail outbox"))
def deliver_mail(now: datetime) -> str:
    from consultroom.notifications.delivery import deliver_due

    result = deliver_due(now=now)
    return f"sent {result.sent}, retry {result.retry}, failed {result.failed}"


# Jobs declared beside their feature register themselves on import.
from consultroom.matching import jobs as _matching_jobs  # noqa: E402, F401 - registers match_lapse
from consultroom.outcomes import jobs as _outcome_jobs  # noqa: E402, F401 - registers outcome_followups
from consultroom.privacy import jobs as _privacy_jobs  # noqa: E402, F401 - registers privacy_retention
from consultroom.surveys import jobs as _survey_jobs  # noqa: E402, F401 - registers survey_invitations, survey_reminders
