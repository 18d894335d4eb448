"""Monthly interpreter report: sessions and hours per interpreter in a Seoul calendar month.

A session is a booking with the interpreter whose status is confirmed or held (a cancelled or
no-show booking was not interpreted), counted in the month its start falls in, in Seoul time:
2026-04-01 08:00 in Seoul is 2026-03-31 23:00 UTC and belongs to April.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import lazyload, selectinload

from consultroom import spreadsheets
from consultroom.bookings.models import Booking, BookingStatus
from consultroom.companies.validation import language_name
from consultroom.errors import Invalid
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter
from consultroom.placeholders import shown
from consultroom.timeutil import SEOUL, month_add

SESSION_STATUSES = (BookingStatus.CONFIRMED.value, BookingStatus.HELD.value)
_MONTH_RE = re.compile(r"([0-9]{4})-([0-9]{2})")


def parse_month(value: str) -> tuple[int, int]:
    """ "2026-04" -> (2026, 4). Raises Invalid (field "month") for anything else."""
    match = _MONTH_RE.fullmatch((value or "").strip())
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return year, month
    msg = _("Give the month as YYYY-MM, e.g. 2026-04.")
    raise Invalid(msg, fields={"month": [msg]})


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """The Seoul month as a UTC half-open interval [start, end)."""
    next_year, next_month = month_add(year, month, 1)
    start = datetime(year, month, 1, tzinfo=SEOUL).astimezone(UTC)
    end = datetime(next_year, next_month, 1, tzinfo=SEOUL).astimezone(UTC)
    return start, end


def hours_text(minutes: int) -> str:
    """150 -> "2.5", 120 -> "2", 50 -> "0.83": hours to two decimals, trailing zeros dropped."""
    value = (Decimal(minutes) / Decimal(60)).quantize(Decimal("0.01"))
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass
class ReportRow:
    interpreter: Interpreter
    sessions: int = 0
    minutes: int = 0

    @property
    def hours(self) -> str:
        return hours_text(self.minutes)


@dataclass
class MonthReport:
    year: int
    month: int
    rows: list[ReportRow] = field(default_factory=list)  # one page of interpreters, or all of them
    interpreters: int = 0  # in the whole report
    sessions: int = 0  # totals over the whole report
    minutes: int = 0

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def hours(self) -> str:
        return hours_text(self.minutes)


def month_report(year: int, month: int, *, page: int | None = None, per_page: int = 50) -> MonthReport:
    """Active interpreters, and inactive ones who worked that month, by name; with `page`, only that
    page of them (the totals are always the whole month's). Four queries however many rows: the
    month's sessions (a few hundred at most, one per booth and hour), the count, the interpreters
    and their languages."""
    start, end = month_bounds(year, month)
    times = db.session.execute(
        select(Booking.interpreter_id, Booking.starts_at, Booking.ends_at).where(
            Booking.interpreter_id.is_not(None),
            Booking.status.in_(SESSION_STATUSES),
            Booking.starts_at >= start,
            Booking.starts_at < end,
        )
    ).all()
    worked: dict[int, tuple[int, int]] = {}  # interpreter id -> (sessions, minutes)
    for interpreter_id, starts_at, ends_at in times:
        sessions, minutes = worked.get(interpreter_id, (0, 0))
        worked[interpreter_id] = (sessions + 1, minutes + int((ends_at - starts_at).total_seconds()) // 60)
    included = or_(Interpreter.active.is_(True), Interpreter.id.in_(sorted(worked)))
    stmt = (
        select(Interpreter)
        .where(included)
        .options(selectinload(Interpreter.language_rows), lazyload(Interpreter.hours), lazyload(Interpreter.exceptions))
        .order_by(Interpreter.name, Interpreter.id)
    )
    if page is None:
        count = None
    else:
        count = db.session.scalar(select(func.count()).select_from(Interpreter).where(included))
        stmt = stmt.limit(per_page).offset((page - 1) * per_page)
    rows = [ReportRow(interpreter, *worked.get(interpreter.id, (0, 0))) for interpreter in db.session.scalars(stmt)]
    return MonthReport(
        year=year,
        month=month,
        rows=rows,
        interpreters=len(rows) if count is None else count,
        sessions=sum(sessions for sessions, _minutes in worked.values()),
        minutes=sum(minutes for _sessions, minutes in worked.values()),
    )


def report_csv(report: MonthReport, locale: str) -> bytes:
    """UTF-8 with a BOM, so Excel on Korean Windows reads the Korean names correctly."""
    rows = [
        [
            report.label,
            shown(row.interpreter.name),
            row.interpreter.email,
            ", ".join(language_name(c, locale) for c in row.interpreter.languages),
            row.sessions,
            row.hours,
        ]
        for row in report.rows
    ]
    rows.append([report.label, _("Total"), "", "", report.sessions, report.hours])
    return spreadsheets.csv_bytes(
        [_("Month"), _("Interpreter"), _("E-mail"), _("Languages"), _("Sessions"), _("Hours")], rows
    )
