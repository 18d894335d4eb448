"""Factories for outcome tests: past consultations with a buyer and an interpreter, as real rows."""

from __future__ import annotations

from datetime import date, timedelta

from consultroom.bookings.models import Booking
from consultroom.bookings.services import book_slot
from consultroom.companies.models import Company
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter
from consultroom.outcomes.models import ExchangeRate
from consultroom.rounds.models import Round
from consultroom.timeutil import seoul_date
from tests.factories import make_company, make_interpreter, make_round, make_user
from tests.match_factories import make_buyer


def past_round(*, days_ago: int = 3, booths: int = 3, slots_per_booth: int = 3) -> Round:
    """A round held `days_ago` days ago (moved back to the Friday before when that is a weekend)."""
    day: date = seoul_date(utcnow()) - timedelta(days=days_ago)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return make_round(
        day=day,
        status="closed",
        booths=booths,
        slots_per_booth=slots_per_booth,
        opens_at=utcnow() - timedelta(days=days_ago + 40),
        closes_at=utcnow() - timedelta(days=days_ago + 10),
    )


def make_consultation(
    rnd: Round,
    index: int = 0,
    *,
    company: Company | None = None,
    interpreter: Interpreter | None = None,
    status: str = "confirmed",
) -> Booking:
    """A confirmed booking of the round's `index`-th slot, with a buyer and an interpreter."""
    slot = rnd.slots[index]
    if company is None:
        company = make_company(owner=make_user("sme"))
    booking = book_slot(
        company=company,
        slot=slot,
        request={"products": "Skin care serum"},
        actor=None,
        now=slot.starts_at - timedelta(days=5),
    )
    booking.buyer_id = make_buyer().id
    booking.interpreter_id = (interpreter or make_interpreter()).id
    booking.status = status
    db.session.flush()
    return booking


def make_rate(currency: str, day: date, krw_per_unit: str) -> ExchangeRate:
    from decimal import Decimal

    rate = ExchangeRate(currency=currency, day=day, krw_per_unit=Decimal(krw_per_unit))
    db.session.add(rate)
    db.session.flush()
    return rate
