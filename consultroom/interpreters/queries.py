from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, exists, false, or_, select, true
from sqlalchemy.orm import joinedload, lazyload, selectinload

from consultroom.bookings.models import Booking, BookingStatus
from consultroom.buyers.models import Buyer
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter, InterpreterLanguage

STATUSES = ("active", "inactive", "all")


@dataclass(frozen=True)
class InterpreterFilter:
    q: str = ""  # name or e-mail
    language: str = ""
    status: str = "active"  # active | inactive | all


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def interpreter_search(f: InterpreterFilter, *, schedules: bool = False) -> Select:
    """Languages come in one extra query for the page; hours and exceptions (one more query each) only when
    `schedules`: the API shows them, the list page does not."""
    schedule = selectinload if schedules else lazyload
    stmt = select(Interpreter).options(
        selectinload(Interpreter.language_rows), schedule(Interpreter.hours), schedule(Interpreter.exceptions)
    )
    if f.q.strip():
        like = f"%{_escape_like(f.q.strip())}%"
        stmt = stmt.where(or_(Interpreter.name.ilike(like, escape="\\"), Interpreter.email.ilike(like, escape="\\")))
    if f.language:
        stmt = stmt.where(
            exists().where(
                InterpreterLanguage.interpreter_id == Interpreter.id, InterpreterLanguage.code == f.language.lower()
            )
        )
    if f.status == "active":
        stmt = stmt.where(Interpreter.active.is_(True))
    elif f.status == "inactive":
        stmt = stmt.where(Interpreter.active.is_(False))
    return stmt.order_by(Interpreter.name, Interpreter.id)


def _with_parties(stmt: Select, *, buyer_languages: bool) -> Select:
    # Company and buyer are many-to-ones: joined in the page's one SELECT, without the lists they
    # load by default (a company's codes, countries and languages), which these pages never show.
    # The portal shows the buyer's languages: one more query for the page.
    languages = selectinload if buyer_languages else lazyload
    return stmt.options(
        joinedload(Booking.company).lazyload("*"),
        joinedload(Booking.buyer).options(lazyload("*"), languages(Buyer.language_rows)),
    )


ASSIGNMENTS_PER_PAGE = 50


def assignment_page(
    interpreter_id: int,
    *,
    now: datetime,
    upcoming: bool,
    page: int,
    include_cancelled: bool = True,
    buyer_languages: bool = False,
) -> Pagination:
    """A page of the interpreter's bookings, upcoming ones soonest first, past ones newest first: a busy
    interpreter has a thousand past consultations."""
    stmt = _assignments(
        interpreter_id, now=now, upcoming=upcoming, cancelled=include_cancelled, buyer_languages=buyer_languages
    )
    return db.paginate(stmt, page=page, per_page=ASSIGNMENTS_PER_PAGE, error_out=False)


def _assignments(
    interpreter_id: int, *, now: datetime, upcoming: bool, cancelled: bool, buyer_languages: bool
) -> Select:
    stmt = select(Booking).where(Booking.interpreter_id == interpreter_id)
    if upcoming:
        stmt = stmt.where(Booking.ends_at > now).order_by(Booking.starts_at, Booking.id)
    else:
        stmt = stmt.where(Booking.ends_at <= now).order_by(Booking.starts_at.desc(), Booking.id.desc())
    if not cancelled:
        stmt = stmt.where(Booking.status != BookingStatus.CANCELLED.value)
    return _with_parties(stmt, buyer_languages=buyer_languages)


def linked_interpreter(user_id: int) -> Interpreter | None:
    return db.session.scalar(select(Interpreter).where(Interpreter.user_id == user_id))


def interpreter_visible_to(user) -> ColumnElement[bool]:
    """The SQL twin of policies.can_view_interpreter (tests/integration/test_policy_sql_twins.py): staff only."""
    return true() if user.is_authenticated and user.is_staff else false()
