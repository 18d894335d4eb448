"""Read-side queries for consultations, outcomes and rates; each list page runs a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Date, Select, and_, false, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.sql.expression import FunctionElement

from consultroom.bookings.models import Booking, BookingStatus
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter
from consultroom.outcomes.followups import FOLLOWUP_MONTHS, last_milestone
from consultroom.outcomes.models import OPEN_STAGES, ConsultationLog, ExchangeRate, Outcome, OutcomeChange
from consultroom.timeutil import seoul_date

LOG_GRACE = timedelta(days=1)


def log_of(booking: Booking) -> ConsultationLog | None:
    return db.session.scalar(
        select(ConsultationLog)
        .options(joinedload(ConsultationLog.recorded_by))
        .where(ConsultationLog.booking_id == booking.id)
    )


def logged_booking_ids(booking_ids: list[int]) -> set[int]:
    """Which of these bookings have a log: one query for a list page."""
    if not booking_ids:
        return set()
    return set(
        db.session.scalars(select(ConsultationLog.booking_id).where(ConsultationLog.booking_id.in_(booking_ids)))
    )


def outcome_of(booking: Booking) -> Outcome | None:
    return db.session.scalar(
        select(Outcome)
        .options(
            selectinload(Outcome.changes).joinedload(OutcomeChange.actor),
            selectinload(Outcome.contracts),
        )
        .where(Outcome.booking_id == booking.id)
    )


MISSING_LOGS_PER_PAGE = 50


def missing_logs_stmt(now: datetime) -> Select:
    """Consultations that ended more than a day ago with a buyer matched, but nobody logged them
    (the list page and the home's count both use this filter)."""
    logged = select(ConsultationLog.booking_id)
    return select(Booking).where(
        Booking.status.in_((BookingStatus.MATCHED.value, BookingStatus.CONFIRMED.value)),
        Booking.ends_at <= now - LOG_GRACE,
        Booking.id.not_in(logged),
    )


def missing_logs(now: datetime, *, page: int = 1) -> Pagination:
    """The consultations of missing_logs_stmt, the oldest first, a page at a time."""
    stmt = (
        missing_logs_stmt(now)
        .options(
            # one row per booking (each a many-to-one); of the buyer and interpreter only their names
            joinedload(Booking.company).lazyload("*"),
            joinedload(Booking.buyer).lazyload("*"),
            joinedload(Booking.interpreter).lazyload("*"),
            joinedload(Booking.slot),
        )
        .order_by(Booking.ends_at, Booking.id)
    )
    return db.paginate(stmt, page=page, per_page=MISSING_LOGS_PER_PAGE, error_out=False)


class SeoulDayPlusMonths(FunctionElement):
    """The Asia/Seoul date of a UTC timestamp, `months` later, clamped to the month's end like
    followups.add_months (0 months: the date itself), so the overdue rule can filter and page in SQL."""

    type = Date()
    inherit_cache = True

    def __init__(self, moment, months: int):
        self.months = months
        super().__init__(moment)


@compiles(SeoulDayPlusMonths, "postgresql")
def _pg_seoul_day_plus_months(element, compiler, **kw):
    day = f"({compiler.process(element.clauses, **kw)} AT TIME ZONE 'Asia/Seoul')::date"
    # date + interval 'n months' keeps the day or takes the month's last one, as add_months does.
    return f"({day} + interval '{int(element.months)} months')::date" if element.months else day


@compiles(SeoulDayPlusMonths, "sqlite")
def _sqlite_seoul_day_plus_months(element, compiler, **kw):
    # Seoul has kept UTC+9 without daylight saving since 1988. SQLite's '+n months' rolls 31 Jan over
    # into March, so take the earlier of that and the target month's last day.
    moment, n = compiler.process(element.clauses, **kw), int(element.months)
    if not n:
        return f"date({moment}, '+9 hours')"
    return (
        f"min(date({moment}, '+9 hours', '+{n} months'), "
        f"date({moment}, '+9 hours', 'start of month', '+{n + 1} months', '-1 day'))"
    )


@dataclass(frozen=True)
class Overdue:
    outcome: Outcome
    months: int
    due_on: date
    last_update_on: date


OVERDUE_PER_PAGE = 50


def overdue_stmt(now: datetime, *, company_id: int | None = None) -> Select:
    """Open outcomes not updated since the latest 1/3/6-month follow-up date that has come: overdue
    means some follow-up date has come and the last update is older than it (the staff list, the
    home's counts and, with company_id, one company's own follow-ups)."""
    today = seoul_date(now)
    updated_on = SeoulDayPlusMonths(Outcome.last_update_at, 0)
    due_dates = [SeoulDayPlusMonths(Booking.starts_at, m) for m in FOLLOWUP_MONTHS]
    stmt = (
        select(Outcome)
        .join(Outcome.booking)
        # No milestone before a month has passed; a month is at least 28 days (lets an index narrow it).
        .where(Outcome.stage.in_(OPEN_STAGES), Booking.starts_at <= now - timedelta(days=28))
        .where(or_(*(and_(due <= today, updated_on < due) for due in due_dates)))
    )
    if company_id is not None:
        stmt = stmt.where(Booking.company_id == company_id)
    return stmt


def _overdue_rows(outcomes, today: date) -> list[Overdue]:
    rows = []
    for outcome in outcomes:
        milestone = last_milestone(seoul_date(outcome.booking.starts_at), today)
        if milestone is None:  # cannot happen: the filter holds only once a follow-up date has come
            continue
        months, due_on = milestone
        rows.append(
            Overdue(outcome=outcome, months=months, due_on=due_on, last_update_on=seoul_date(outcome.last_update_at))
        )
    return rows


def overdue_followups(
    now: datetime, *, page: int = 1, per_page: int = OVERDUE_PER_PAGE
) -> tuple[list[Overdue], Pagination]:
    """The overdue follow-ups, a page at a time, oldest consultation first."""
    stmt = (
        overdue_stmt(now)
        .options(
            joinedload(Outcome.booking).joinedload(Booking.company),
            joinedload(Outcome.booking).joinedload(Booking.buyer),
        )
        .order_by(Booking.starts_at, Outcome.id)
    )
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    return _overdue_rows(pagination.items, seoul_date(now)), pagination


def company_overdue(now: datetime, company_id: int) -> list[Overdue]:
    """One company's consultations whose contract progress is due for an update (its bookings page)."""
    stmt = overdue_stmt(now, company_id=company_id).options(joinedload(Outcome.booking).joinedload(Booking.round))
    return _overdue_rows(db.session.scalars(stmt.order_by(Booking.starts_at, Outcome.id)).unique(), seoul_date(now))


def rates_query(currency: str | None) -> Select:
    stmt = select(ExchangeRate).order_by(ExchangeRate.day.desc(), ExchangeRate.currency)
    if currency:
        stmt = stmt.where(ExchangeRate.currency == currency)
    return stmt


def rate_currencies() -> list[str]:
    return list(db.session.scalars(select(ExchangeRate.currency).distinct().order_by(ExchangeRate.currency)))


# --- who may see what, in SQL: the twins of policies.py (tests/integration/test_policy_sql_twins.py).


def consultation_visible_to(user) -> ColumnElement[bool]:
    """policies.can_see_consultation, on Booking: staff, the company itself, and the account of the
    interpreter assigned to it."""
    if not user.is_authenticated:
        return false()
    if user.is_staff:
        return true()
    mine = Booking.interpreter_id.in_(select(Interpreter.id).where(Interpreter.user_id == user.id))
    if user.is_sme and user.company_id is not None:
        return or_(Booking.company_id == user.company_id, mine)
    return mine


def outcome_visible_to(user) -> ColumnElement[bool]:
    """policies.can_see_outcome, on Booking: staff and the company itself."""
    if not user.is_authenticated:
        return false()
    if user.is_staff:
        return true()
    return Booking.company_id == user.company_id if user.is_sme and user.company_id is not None else false()
