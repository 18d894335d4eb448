"""Read-side queries for consultations, outcomes and rates; each list page runs a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from consultroom.bookings.models import Booking, BookingStatus
from consultroom.extensions import db
from consultroom.outcomes.models import OPEN_STAGES, ConsultationLog, ExchangeRate, Outcome, OutcomeChange
from consultroom.outcomes.services import last_milestone
from consultroom.timeutil import seoul_date

LOG_GRACE = timedelta(days=1)


def log_of(booking: Booking) -> ConsultationLog | None:
    return db.session.scalar(
        select(ConsultationLog)
        .options(joinedload(ConsultationLog.recorded_by))
        .where(ConsultationLog.booking_id == booking.id)
    )


def logged_booking_ids(booking_ids: list[int]) -> set[int]:
    """Which of these bookings have a log: one query for a list page."""
    if not booking_ids:
        return set()
    return set(
        db.session.scalars(select(ConsultationLog.booking_id).where(ConsultationLog.booking_id.in_(booking_ids)))
    )


def outcome_of(booking: Booking) -> Outcome | None:
    return db.session.scalar(
        select(Outcome)
        .options(
            selectinload(Outcome.changes).joinedload(OutcomeChange.actor),
            selectinload(Outcome.contracts),
        )
        .where(Outcome.booking_id == booking.id)
    )


def missing_logs(now: datetime) -> list[Booking]:
    """Consultations that ended more than a day ago with a buyer matched, but nobody logged them."""
    logged = select(ConsultationLog.booking_id)
    return list(
        db.session.scalars(
            select(Booking)
            .options(
                joinedload(Booking.company),
                joinedload(Booking.buyer),
                joinedload(Booking.interpreter),
                joinedload(Booking.round),
                joinedload(Booking.slot),
            )
            .where(
                Booking.status.in_((BookingStatus.MATCHED.value, BookingStatus.CONFIRMED.value)),
                Booking.ends_at <= now - LOG_GRACE,
                Booking.id.not_in(logged),
            )
            .order_by(Booking.ends_at, Booking.id)
        ).unique()
    )


@dataclass(frozen=True)
class Overdue:
    outcome: Outcome
    months: int
    due_on: date
    last_update_on: date


def overdue_followups(now: datetime) -> list[Overdue]:
    """Open outcomes not updated since the latest 1/3/6-month follow-up date that has come."""
    today = seoul_date(now)
    # No milestone before a month has passed; a month is at least 28 days.
    rows = db.session.scalars(
        select(Outcome)
        .join(Outcome.booking)
        .options(
            joinedload(Outcome.booking).joinedload(Booking.company),
            joinedload(Outcome.booking).joinedload(Booking.buyer),
        )
        .where(Outcome.stage.in_(OPEN_STAGES), Booking.starts_at <= now - timedelta(days=28))
        .order_by(Booking.starts_at, Outcome.id)
    ).unique()
    result = []
    for outcome in rows:
        milestone = last_milestone(seoul_date(outcome.booking.starts_at), today)
        if milestone is None:
            continue
        months, due_on = milestone
        updated = seoul_date(outcome.last_update_at)
        if updated < due_on:
            result.append(Overdue(outcome=outcome, months=months, due_on=due_on, last_update_on=updated))
    return result


def rates_query(currency: str | None) -> Select:
    stmt = select(ExchangeRate).order_by(ExchangeRate.day.desc(), ExchangeRate.currency)
    if currency:
        stmt = stmt.where(ExchangeRate.currency == currency)
    return stmt


def rate_currencies() -> list[str]:
    return list(db.session.scalars(select(ExchangeRate.currency).distinct().order_by(ExchangeRate.currency)))
