"""Read-side queries for consultations, outcomes and rates; each list page runs a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, exists, false, or_, select, true
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from consultroom.bookings.models import Booking, BookingStatus
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter
from consultroom.outcomes.followups import last_milestone
from consultroom.outcomes.models import ConsultationLog, ExchangeRate, Outcome, OutcomeChange
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
    # NOT EXISTS, an anti-join: each candidate booking is looked up in the logs' unique index, where
    # NOT IN read every log ever written (188,000 at national scale) into a hash first.
    logged = exists().where(ConsultationLog.booking_id == Booking.id)
    return select(Booking).where(
        Booking.status.in_((BookingStatus.MATCHED.value, BookingStatus.CONFIRMED.value)),
        Booking.ends_at <= now - LOG_GRACE,
        ~logged,
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


@dataclass(frozen=True)
class Overdue:
    outcome: Outcome
    months: int
    due_on: date
    last_update_on: date


OVERDUE_PER_PAGE = 50


def overdue_stmt(now: datetime, *, company_id: int | None = None) -> Select:
    """Open outcomes not updated since the latest 1/3/6-month follow-up date that has come (the staff
    list, the home's counts and, with company_id, one company's own follow-ups): the first follow-up
    date after the last update has come. The services keep that date on the outcome, so this is a
    range on an index however many outcomes there are."""
    stmt = select(Outcome).where(Outcome.followup_due_on <= seoul_date(now))
    if company_id is not None:
        stmt = stmt.join(Outcome.booking).where(Booking.company_id == company_id)
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
    """The overdue follow-ups, a page at a time, the longest overdue first (by the date the first
    missed follow-up was due, in the index's order)."""
    stmt = (
        overdue_stmt(now)
        .options(
            # The page's SELECT reads outcomes alone, so a deep page's OFFSET skips index entries, not
            # joined rows; its bookings come in one more query with their company's and buyer's names.
            selectinload(Outcome.booking).options(
                joinedload(Booking.company).lazyload("*"), joinedload(Booking.buyer).lazyload("*")
            ),
        )
        .order_by(Outcome.followup_due_on, Outcome.id)
    )
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    return _overdue_rows(pagination.items, seoul_date(now)), pagination


def company_overdue(now: datetime, company_id: int) -> list[Overdue]:
    """One company's consultations whose contract progress is due for an update (its bookings page)."""
    stmt = overdue_stmt(now, company_id=company_id).options(contains_eager(Outcome.booking).joinedload(Booking.round))
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
