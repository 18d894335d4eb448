"""Matching jobs. Thin: the rule lives in matching.services; rerunning finds nothing left to do."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from consultroom.scheduler.registry import job


@job(
    "match_lapse",
    title=_l("Lapsed proposals"),
    every_minutes=15,
    description=_l("Send proposals nobody answered in time back to matching, and tell staff"),
)
def match_lapse(now: datetime) -> str:
    from consultroom.matching.services import lapse_expired

    lapsed = lapse_expired(now=now)
    return f"lapsed {lapsed}"
