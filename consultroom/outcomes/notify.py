"""Mails about outcomes, in each recipient's language, queued in the caller's transaction."""

from __future__ import annotations

from consultroom.bookings.notify import company_users, when_for
from consultroom.notifications.services import external_url, queue_mail_to_user
from consultroom.outcomes.models import Outcome


def followup(outcome: Outcome, months: int) -> int:
    booking = outcome.booking
    users = company_users(booking.company_id)
    for user in users:
        queue_mail_to_user(
            user=user,
            template="outcome_followup",
            context={
                "booking": booking,
                "company": booking.company,
                "months": months,
                "when": when_for(user, booking.starts_at),
                "link": external_url("outcomes.consultation", consultation_id=booking.id),
            },
        )
    return len(users)
