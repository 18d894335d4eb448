"""Bookings that wait on staff for matching, as filters shared by the work list and the home's counts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, load_only

from consultroom.bookings.models import Booking, BookingStatus
from consultroom.companies.models import Company
from consultroom.rounds.models import Round

# A proposal whose answer is due within this time is shown as about to lapse.
EXPIRING_WITHIN = timedelta(hours=24)

NEEDS = ("expiring", "rematch", "match")


def need_stmt(need: str, now: datetime) -> Select:
    """expiring: a buyer or interpreter has still to answer and the answer is due within a day;
    rematch: back to matching after a proposal ended (declined, lapsed or withdrawn);
    match: requested and never proposed. Only consultations still to come."""
    stmt = select(Booking).where(Booking.starts_at > now)
    if need == "expiring":
        return stmt.where(
            Booking.status == BookingStatus.MATCHED.value,
            Booking.respond_by > now,
            Booking.respond_by <= now + EXPIRING_WITHIN,
        )
    requested = stmt.where(Booking.status == BookingStatus.REQUESTED.value)
    if need == "rematch":
        return requested.where(Booking.match_version > 0)
    if need == "match":
        return requested.where(Booking.match_version == 0)
    raise ValueError(need)


def work_stmt(need: str, now: datetime) -> Select:
    """A work list's bookings in its order, with what a row prints: a time, a round and a company's
    name, not the request's texts and lists nor the company's HS codes, countries and languages (a
    full page loads fifty of each). "match" pages down ix_bookings_requested_starts."""
    order = Booking.respond_by if need == "expiring" else Booking.starts_at
    return (
        need_stmt(need, now)
        .options(
            load_only(Booking.id, Booking.starts_at, Booking.respond_by, Booking.round_id, Booking.company_id),
            joinedload(Booking.company).load_only(Company.id, Company.name_ko).lazyload("*"),
            joinedload(Booking.round).load_only(Round.id, Round.title),
        )
        .order_by(order, Booking.id)
    )


def next_consultation_stmt(company_id: int, now: datetime) -> Select:
    """The company's next active booking still to come (requested, proposed or confirmed)."""
    return (
        select(Booking)
        .where(
            Booking.company_id == company_id,
            Booking.starts_at > now,
            Booking.status.in_(
                (BookingStatus.REQUESTED.value, BookingStatus.MATCHED.value, BookingStatus.CONFIRMED.value)
            ),
        )
        .order_by(Booking.starts_at, Booking.id)
    )


def awaiting_answers_stmt(company_id: int, now: datetime) -> Select:
    """The company's proposed matches still waiting for the buyer's and the interpreter's answers."""
    return select(Booking).where(
        Booking.company_id == company_id,
        Booking.starts_at > now,
        Booking.status == BookingStatus.MATCHED.value,
    )
