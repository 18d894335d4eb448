"""Rounds with their slots: booths x hours from 10:00 Seoul time; `past` for a round already held."""

from __future__ import annotations

from datetime import date, time, timedelta

import factory

from consultroom.db import utcnow
from consultroom.rounds.models import Round, Slot
from consultroom.timeutil import seoul_date, seoul_to_utc
from tests.factories.base import BaseFactory


def next_weekday(day: date) -> date:
    return day + timedelta(days=7 - day.weekday()) if day.weekday() >= 5 else day


def weekday_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def grid(o) -> list[Slot]:
    slots = []
    for i in range(o.slots_per_booth):
        start = seoul_to_utc(o.day, time(10 + i, 0))
        for booth in range(1, o.booths + 1):
            slots.append(Slot(booth=booth, starts_at=start, ends_at=start + timedelta(minutes=o.slot_minutes)))
    return slots


class RoundFactory(BaseFactory):
    """Open for booking around now by default, on a weekday about a month ahead."""

    class Meta:
        model = Round

    class Params:
        booths = 2
        slots_per_booth = 3
        slot_minutes = 50
        days_ago = 3
        past = factory.Trait(
            status="closed",
            day=factory.LazyAttribute(lambda o: weekday_before(seoul_date(utcnow()) - timedelta(days=o.days_ago))),
            booking_opens_at=factory.LazyAttribute(lambda o: utcnow() - timedelta(days=o.days_ago + 40)),
            booking_closes_at=factory.LazyAttribute(lambda o: utcnow() - timedelta(days=o.days_ago + 10)),
        )

    day = factory.LazyFunction(lambda: next_weekday((utcnow() + timedelta(days=30)).date()))
    year = factory.SelfAttribute("day.year")
    month = factory.SelfAttribute("day.month")
    title = factory.LazyAttribute(lambda o: f"{o.day.year}년 {o.day.month}월 수출상담회")
    status = "open"
    booking_opens_at = factory.LazyFunction(lambda: utcnow() - timedelta(days=1))
    booking_closes_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=10))
    cancel_hours_before = 48
    company_cap = 3
    slots = factory.LazyAttribute(grid)


def make_round(
    *,
    day=None,
    cap: int | None = None,
    cancel_hours: int | None = None,
    opens_at=None,
    closes_at=None,
    **fields,
) -> Round:
    """A round with slots every hour from 10:00 Seoul time, booking open around now by default;
    a `day` on a weekend moves to the Monday after."""
    given = {
        "day": next_weekday(day) if isinstance(day, date) else day,
        "company_cap": cap,
        "cancel_hours_before": cancel_hours,
        "booking_opens_at": opens_at,
        "booking_closes_at": closes_at,
    }
    return RoundFactory(**{k: v for k, v in given.items() if v is not None}, **fields)


def past_round(*, days_ago: int = 3, booths: int = 3, slots_per_booth: int = 3) -> Round:
    """A round held `days_ago` days ago (moved back to the Friday before when that is a weekend)."""
    return RoundFactory(past=True, days_ago=days_ago, booths=booths, slots_per_booth=slots_per_booth)


class SlotFactory(BaseFactory):
    """An extra slot of a round at any moment, e.g. one starting in an hour, which no grid has."""

    class Meta:
        model = Slot

    class Params:
        minutes = 50

    round = factory.SubFactory(RoundFactory, slots_per_booth=0)
    booth = 9
    starts_at = factory.LazyFunction(lambda: utcnow().replace(microsecond=0) + timedelta(days=30))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(minutes=o.minutes))
