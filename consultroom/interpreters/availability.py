"""Interpreter availability: recurring weekly hours plus dated exceptions, all in Asia/Seoul.

Pure functions over plain values, shared by the assignment proposal and the assignment service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from consultroom.timeutil import SEOUL


@dataclass(frozen=True)
class WeeklyHours:
    weekday: int  # Monday 0 .. Sunday 6
    start: time
    end: time


@dataclass(frozen=True)
class Exception_:
    day: date
    available: bool  # False: away (the whole day, or start-end if given); True: extra hours start-end
    start: time | None = None
    end: time | None = None


def _covers(start: time, end: time, a: time, b: time) -> bool:
    return start <= a and b <= end


def is_available(
    weekly: list[WeeklyHours], exceptions: list[Exception_], starts_at: datetime, ends_at: datetime
) -> bool:
    """Whether the interpreter can take a session from starts_at to ends_at (Seoul hours)."""
    local_start, local_end = starts_at.astimezone(SEOUL), ends_at.astimezone(SEOUL)
    if local_start.date() != local_end.date():
        return False
    day, a, b = local_start.date(), local_start.time(), local_end.time()
    todays = [e for e in exceptions if e.day == day]
    for e in todays:
        if not e.available:
            if e.start is None or e.end is None:
                return False  # away all day
            if a < e.end and e.start < b:
                return False  # away for part of it
    for e in todays:
        if e.available and e.start is not None and e.end is not None and _covers(e.start, e.end, a, b):
            return True
    return any(w.weekday == day.weekday() and _covers(w.start, w.end, a, b) for w in weekly)
