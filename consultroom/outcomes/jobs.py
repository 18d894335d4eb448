"""Outcome jobs. Thin: milestones come from outcomes.services; a marker row per booking and
milestone makes each follow-up mail go out once, however often the job runs."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from consultroom.bookings.models import Booking
from consultroom.extensions import db
from consultroom.outcomes.followups import last_milestone
from consultroom.outcomes.models import OPEN_STAGES, FollowUpSent, Outcome
from consultroom.outcomes.services import followup_window
from consultroom.scheduler.registry import job
from consultroom.timeutil import seoul_date


@job(
    "outcome_followups",
    title=_l("Contract follow-up requests"),
    every_minutes=24 * 60,
    description=_l("Ask companies for an update 1, 3 and 6 months after a consultation while its outcome is open"),
)
def outcome_followups(now: datetime) -> str:
    from consultroom.outcomes.notify import followup

    today = seoul_date(now)
    outcomes = db.session.scalars(
        select(Outcome)
        .join(Outcome.booking)
        .options(joinedload(Outcome.booking).joinedload(Booking.company))
        .where(Outcome.stage.in_(OPEN_STAGES), Booking.starts_at <= now - timedelta(days=28))
        .order_by(Outcome.id)
    ).unique()
    due = []
    for outcome in outcomes:
        milestone = last_milestone(seoul_date(outcome.booking.starts_at), today)
        # Only the latest milestone that has come, and only while it is recent: a consultation
        # logged months late, or a scheduler that was down, gets one mail, not a burst of old ones.
        if milestone is not None and today - milestone[1] <= followup_window():
            due.append((outcome, milestone[0]))
    if not due:
        return "follow-ups 0"
    sent_rows = set(
        (booking_id, months)
        for booking_id, months in db.session.execute(
            select(FollowUpSent.booking_id, FollowUpSent.months).where(
                FollowUpSent.booking_id.in_([o.booking_id for o, _m in due])
            )
        )
    )
    sent = 0
    for outcome, months in due:
        if (outcome.booking_id, months) in sent_rows:
            continue
        # The marker row and the mails share the job's transaction: both or neither.
        db.session.add(FollowUpSent(booking_id=outcome.booking_id, months=months, sent_at=now))
        followup(outcome, months)
        sent += 1
    db.session.flush()
    return f"follow-ups {sent}"
