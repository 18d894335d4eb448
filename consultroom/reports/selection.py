"""Which period a report covers, read from a request's arguments (?round_id=, ?start=&end= or
?year=), and the report with its scorecard for it: shared by the report pages and the report API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.forms_util import small_int
from consultroom.reports import figures, queries, targets
from consultroom.rounds.models import Round
from consultroom.timeutil import seoul_date

MAX_SPAN_DAYS = 366 * 10


@dataclass(frozen=True)
class Selection:
    start: date
    end: date
    round: Round | None = None
    year: int | None = None

    @property
    def round_id(self) -> int | None:
        return self.round.id if self.round is not None else None

    def args(self) -> dict[str, str]:
        if self.round is not None:
            return {"round_id": str(self.round.id)}
        if self.year is not None:
            return {"year": str(self.year)}
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    def filename(self, ext: str) -> str:
        if self.round is not None:
            part = f"round{self.round.id}"
        elif self.year is not None:
            part = str(self.year)
        else:
            part = f"{self.start.isoformat()}-{self.end.isoformat()}"
        return f"program-report-{part}.{ext}"


def this_year() -> int:
    return seoul_date(utcnow()).year


def parse_year(raw: str) -> int | None:
    raw = raw.strip()[:6]
    year = small_int(raw, max_digits=4)
    if year is not None and figures.MIN_YEAR <= year <= figures.MAX_YEAR:
        return year
    return None


def read(args: Mapping[str, str], default_year: int | None = None) -> tuple[Selection | None, dict[str, str]]:
    """One of ?round_id=, ?start=&end= or ?year= (`default_year`, else the current year, when none)."""
    errors: dict[str, str] = {}
    raw_round = args.get("round_id", "").strip()[:12]
    if raw_round:
        round_id = small_int(raw_round)
        rnd = db.session.get(Round, round_id) if round_id is not None else None
        if rnd is None:
            errors["round_id"] = _("Choose a round from the list.")
            return None, errors
        return Selection(start=rnd.day, end=rnd.day, round=rnd), errors
    if args.get("start", "").strip() or args.get("end", "").strip():
        dates: dict[str, date | None] = {}
        for name in ("start", "end"):
            raw = args.get(name, "")[:20].strip()
            dates[name] = None
            if not raw:
                errors[name] = _("Give both dates.")
                continue
            try:
                dates[name] = date.fromisoformat(raw)
            except ValueError:
                errors[name] = _("Give the date as YYYY-MM-DD.")
        start, end = dates["start"], dates["end"]
        if start and end:
            if start > end:
                errors["end"] = _("The end date is before the start date.")
            elif (end - start).days > MAX_SPAN_DAYS:
                errors["end"] = _("Choose at most ten years.")
        if errors or start is None or end is None:
            return None, errors
        return Selection(start=start, end=end), errors
    raw_year = args.get("year", "")
    year = parse_year(raw_year) if raw_year.strip() else (default_year or this_year())
    if year is None:
        errors["year"] = _("Choose a year from %(lo)d to %(hi)d.", lo=figures.MIN_YEAR, hi=figures.MAX_YEAR)
        return None, errors
    start, end = figures.year_period(year)
    return Selection(start=start, end=end, year=year), errors


def compute(sel: Selection) -> tuple[figures.Report, list[targets.ScoreLine]]:
    report = figures.program_report(start=sel.start, end=sel.end, round_id=sel.round_id)
    # Targets are yearly: they are compared only with a whole calendar year's results.
    chosen = queries.targets_for(sel.year) if report.is_calendar_year and sel.year else {}
    return report, targets.scorecard(report, chosen)
