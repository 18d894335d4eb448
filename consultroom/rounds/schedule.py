"""Pure functions: a round's day, booking window and slot times from the monthly pattern."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from consultroom.timeutil import seoul_to_utc


@dataclass(frozen=True)
class Pattern:
    pattern: str  # "nth_weekday" | "fixed_day"
    nth: int
    weekday: int
    fixed_day: int
    day_start: time
    day_end: time
    slot_minutes: int
    break_minutes: int
    booths: int
    opens_days_before: int
    opens_at: time
    closes_days_before: int
    closes_at: time
    # Extra windows aimed at regions, in Seoul hours: (label, start, end); e.g. evenings for Europe.
    region_windows: tuple[tuple[str, time, time], ...] = ()

    @classmethod
    def from_settings(cls, s) -> Pattern:
        values = {f: getattr(s, f) for f in cls.__dataclass_fields__ if f != "region_windows"}
        return cls(**values, region_windows=windows_from_json(getattr(s, "region_windows", None) or []))


def windows_from_json(rows: list[dict[str, str]]) -> tuple[tuple[str, time, time], ...]:
    return tuple((r.get("label", ""), time.fromisoformat(r["start"]), time.fromisoformat(r["end"])) for r in rows)


def nominal_day(p: Pattern, year: int, month: int) -> date:
    """The pattern's day in a month: e.g. the 2nd Wednesday, the last Friday, or the 15th."""
    last = calendar.monthrange(year, month)[1]
    if p.pattern == "fixed_day":
        return date(year, month, min(p.fixed_day, last))
    days = [date(year, month, d) for d in range(1, last + 1) if date(year, month, d).weekday() == p.weekday]
    if p.nth == -1 or p.nth > len(days):
        return days[-1]
    return days[p.nth - 1]


def round_day(p: Pattern, year: int, month: int, closed: set[date]) -> date | None:
    """The pattern's day, moved to the next open weekday of the same month if it is a closed date.

    None when no open weekday is left in the month (staff then set a day by hand).
    """
    day = nominal_day(p, year, month)
    while day in closed or day.weekday() >= 5:
        day += timedelta(days=1)
        if day.month != month:
            return None
    return day


def booking_window(p: Pattern, day: date) -> tuple[datetime, datetime]:
    opens = seoul_to_utc(day - timedelta(days=p.opens_days_before), p.opens_at)
    closes = seoul_to_utc(day - timedelta(days=p.closes_days_before), p.closes_at)
    return opens, closes


def slot_starts(p: Pattern, day: date) -> list[tuple[datetime, datetime]]:
    """(start, end) in UTC of each slot of the day, then of each region window (Seoul evenings for
    Europe, mornings for the Americas) where it does not overlap a slot already made; every booth
    has the same times."""
    out: list[tuple[datetime, datetime]] = []
    step = timedelta(minutes=p.slot_minutes + p.break_minutes)
    length = timedelta(minutes=p.slot_minutes)
    for first, last in ((p.day_start, p.day_end), *((a, b) for _label, a, b in p.region_windows)):
        start = datetime.combine(day, first)
        end_of_window = datetime.combine(day, last)
        while start + length <= end_of_window:
            slot = (seoul_to_utc(day, start.time()), seoul_to_utc(day, (start + length).time()))
            if not any(a < slot[1] and slot[0] < b for a, b in out):
                out.append(slot)
            start += step
    return sorted(out)
