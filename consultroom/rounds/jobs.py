"""The rounds' scheduled jobs: generate the coming months' rounds, open and close booking on time.
Each looks at the state now and is idempotent (see consultroom.scheduler.registry)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

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
