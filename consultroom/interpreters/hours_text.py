"""An interpreter's weekly hours as one line of text, as a spreadsheet cell holds them:
"Mon-Fri 09:00-18:00; Sat 10:00-13:00" (Asia/Seoul). Days as the buyer import reads them (Mon-Fri,
월~금, Mon, Wed); the ranges, their order and overlaps checked as the hours page checks them."""

from __future__ import annotations

import re
from datetime import time
from itertools import groupby

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import gettext as _

from consultroom.buyers.validation import parse_days
from consultroom.errors import Invalid
from consultroom.interpreters.services import clean_weekly_hours, format_ranges

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_ENTRY = re.compile(r"(?P<days>.*?)\s*(?P<ranges>\d{1,2}:\d{2}.*)")


def parse_week(text: str, *, field: str = "hours") -> dict[int, list[tuple[time, time]]]:
    """{weekday: ranges} from the line; blank: no hours. Invalid names `field` with every problem."""
    per_day: dict[int, list[str]] = {}
    problems: list[str] = []
    for entry in (e.strip() for e in re.split(r"[;\n]+", text or "")):
        if not entry:
            continue
        match = _ENTRY.fullmatch(entry)
        days = parse_days(match["days"]) if match and match["days"] else None
        if days is None:
            problems.append(_("Write days and hours such as Mon-Fri 09:00-18:00: %(value)s", value=entry))
            continue
        for day in days:
            per_day.setdefault(day, []).append(match["ranges"])
    if not problems:
        try:
            return {d: r for d, r in clean_weekly_hours({d: ", ".join(r) for d, r in per_day.items()}).items() if r}
        except Invalid as exc:
            names = get_day_names("abbreviated", locale=str(get_locale() or "ko"))
            problems = [f"{names[int(name[4:])]}: {m}" for name, messages in exc.fields.items() for m in messages]
    raise Invalid(problems[0], fields={field: problems})


def format_week(hours: list[tuple[int, time, time]]) -> str:
    """(weekday, start, end) rows as the line parse_week reads: days in a row with the same ranges
    grouped, e.g. "Mon-Fri 09:00-18:00"."""
    by_day = {day: format_ranges(sorted((a, b) for d, a, b in hours if d == day)) for day in range(7)}
    parts = []
    runs = groupby(((day, ranges) for day, ranges in by_day.items() if ranges), key=lambda item: item[1])
    for ranges, run in runs:
        days = [day for day, _r in run]
        # groupby joins equal neighbours in the dict's order; split where a day is skipped.
        start = prev = days[0]
        for day in [*days[1:], None]:
            if day is not None and day == prev + 1:
                prev = day
                continue
            label = DAY_NAMES[start] if start == prev else f"{DAY_NAMES[start]}-{DAY_NAMES[prev]}"
            parts.append(f"{label} {ranges}")
            if day is not None:
                start = prev = day
    return "; ".join(parts)
