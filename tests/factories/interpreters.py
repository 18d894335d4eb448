"""Interpreters between Korean and other languages, with their weekly working hours."""

from __future__ import annotations

from datetime import time

import factory

from consultroom.interpreters.models import Interpreter, InterpreterHours, InterpreterLanguage
from tests.factories.base import BaseFactory

WORKDAYS = range(5)


def _time(value) -> time:
    return value if isinstance(value, time) else time.fromisoformat(value)


def hour_rows(hours, days=WORKDAYS) -> list[InterpreterHours]:
    """Hours as (weekday, start, end), or as (start, end) worked on each of `days`; times as
    datetime.time or "HH:MM" (Seoul time)."""
    rows = []
    for spec in hours:
        if len(spec) == 3:
            rows.append(InterpreterHours(weekday=spec[0], start=_time(spec[1]), end=_time(spec[2])))
        else:
            rows += [InterpreterHours(weekday=d, start=_time(spec[0]), end=_time(spec[1])) for d in days]
    return rows


class InterpreterFactory(BaseFactory):
    """No working hours by default; `available` works weekdays 09:00-18:00."""

    class Meta:
        model = Interpreter

    class Params:
        languages = ("en",)
        working = ()
        days = WORKDAYS
        user = None
        available = factory.Trait(working=((time(9, 0), time(18, 0)),))

    name = factory.Sequence(lambda n: f"Interpreter {n}")
    email = factory.Sequence(lambda n: f"interpreter{n}@interpreters.example.com")
    phone = ""
    specialties = ""
    max_sessions_per_day = 4
    locale = "en"
    active = True
    user_id = factory.LazyAttribute(lambda o: o.user.id if o.user is not None else None)
    language_rows = factory.LazyAttribute(lambda o: [InterpreterLanguage(code=c) for c in o.languages])
    hours = factory.LazyAttribute(lambda o: hour_rows(o.working, o.days))


def make_interpreter(
    *,
    email: str | None = None,
    hours=((time(9, 0), time(18, 0)),),
    max_per_day: int | None = None,
    **fields,
) -> Interpreter:
    """An interpreter between Korean and `languages` (("en",)), working weekdays 09:00-18:00 Seoul
    time unless `hours` says otherwise (see hour_rows; `hours=()` for none). `max_per_day` is the
    short name of max_sessions_per_day."""
    if email is not None:
        fields["email"] = email.lower()
    if max_per_day is not None:
        fields["max_sessions_per_day"] = max_per_day
    return InterpreterFactory(working=hours, **fields)
