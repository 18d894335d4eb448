"""What the round pages show, loaded set-based: one aggregate over the round's slots and one row per
shown cell, whatever the round's size (issue 15 item 3, issue 16). Slots carry no ORM objects here:
a round holds thousands of them and each page reads a few columns."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, literal, select

from consultroom.bookings.models import Booking, BookingStatus, WaitlistEntry
from consultroom.companies.models import Company
from consultroom.extensions import db
from consultroom.rounds.models import Round, Slot

ACTIVE = Booking.status != BookingStatus.CANCELLED.value

# A cell's state as the staff grid filters it: a booking's status, or the state of a slot without one.
STATES = ("free", "requested", "matched", "confirmed", "held", "no_show", "closed", "past")
FILTERS = ("booked", "cancel_requested", *STATES)


def _state(now: datetime):
    return case(
        (Booking.id.is_not(None), Booking.status),
        (Slot.closed.is_(True), literal("closed")),
        (Slot.starts_at <= now, literal("past")),
        else_=literal("free"),
    )


def _slots_with_active_booking(rnd: Round):
    # round_id in the join lets PostgreSQL read the round's bookings from ix_bookings_round_slot_active
    # in one index-only scan, instead of probing the slot index once per slot.
    return select(Slot).outerjoin(Booking, and_(Booking.round_id == rnd.id, Booking.slot_id == Slot.id, ACTIVE))


@dataclass
class TimeRow:
    starts_at: datetime
    ends_at: datetime
    counts: Counter = field(default_factory=Counter)
    cells: list = field(default_factory=list)

    @property
    def free(self) -> int:
        return self.counts["free"]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


BOOKED = ("requested", "matched", "confirmed", "held", "no_show")


def matching(row: TimeRow, state: str | None) -> int:
    """Cells of a time that a state filter shows, from the counts (cancel requests are not counted
    apart; they are few, so they count as none here)."""
    if state is None:
        return row.total
    if state == "booked":
        return sum(row.counts[s] for s in BOOKED)
    return row.counts[state]


@dataclass(frozen=True)
class Cell:
    slot_id: int
    booth: int
    state: str
    booking_id: int | None
    company_name: str | None
    cancel_requested: bool


@dataclass
class StaffGrid:
    times: list[TimeRow]
    counts: Counter
    shown: int


def time_rows(rnd: Round, now: datetime) -> list[TimeRow]:
    """Every start time of the round with its cells counted by state: one GROUP BY over the slots."""
    state = _state(now)
    stmt = (
        _slots_with_active_booking(rnd)
        .with_only_columns(Slot.starts_at, func.max(Slot.ends_at), state, func.count())
        .where(Slot.round_id == rnd.id)
        .group_by(Slot.starts_at, state)
        .order_by(Slot.starts_at)
    )
    rows: dict[datetime, TimeRow] = {}
    for starts_at, ends_at, st, n in db.session.execute(stmt):
        row = rows.setdefault(starts_at, TimeRow(starts_at, ends_at))
        row.ends_at = max(row.ends_at, ends_at)
        row.counts[st] += n
    return list(rows.values())


def staff_grid(
    rnd: Round,
    *,
    now: datetime,
    state: str | None = None,
    at: datetime | None = None,
    times: list[TimeRow] | None = None,
) -> StaffGrid:
    """The staff grid: counts per time and state for the whole round, and the cells that pass the filter.

    Two queries: the aggregate, then the filtered cells with their booking's status and company
    name joined in (no per-cell loading, no forms: the actions live on the slot's and the booking's pages).
    """
    times = time_rows(rnd, now) if times is None else times
    counts: Counter = Counter()
    for row in times:
        counts.update(row.counts)
    st = _state(now)
    stmt = (
        _slots_with_active_booking(rnd)
        .outerjoin(Company, Company.id == Booking.company_id)
        .with_only_columns(
            Slot.id,
            Slot.booth,
            Slot.starts_at,
            st,
            Booking.id,
            Company.name_ko,
            Company.name_en,
            Booking.cancel_requested_at,
        )
        .where(Slot.round_id == rnd.id)
        .order_by(Slot.starts_at, Slot.booth)
    )
    if at is not None:
        stmt = stmt.where(Slot.starts_at == at)
    if state == "booked":
        stmt = stmt.where(Booking.id.is_not(None))
    elif state == "cancel_requested":
        stmt = stmt.where(Booking.cancel_requested_at.is_not(None))
    elif state in STATES:
        stmt = stmt.where(st == state)
    by_time = {row.starts_at: row for row in times}
    shown = 0
    for slot_id, booth, starts_at, cell_state, booking_id, name_ko, name_en, cancel_requested_at in db.session.execute(
        stmt
    ):
        by_time[starts_at].cells.append(
            Cell(
                slot_id,
                booth,
                cell_state,
                booking_id,
                (name_ko or name_en) if booking_id else None,
                cancel_requested_at is not None,
            )
        )
        shown += 1
    return StaffGrid(times=times, counts=counts, shown=shown)


def waiting_list(rnd: Round) -> list[tuple[str, datetime]]:
    """The round's waitlist in order, with each company's name joined in (one query)."""
    stmt = (
        select(Company.name_ko, Company.name_en, WaitlistEntry.created_at)
        .join(Company, Company.id == WaitlistEntry.company_id)
        .where(WaitlistEntry.round_id == rnd.id, WaitlistEntry.status == "waiting")
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    )
    return [(ko or en, created) for ko, en, created in db.session.execute(stmt)]


def free_slots_at(rnd: Round, *, at: datetime, now: datetime, limit: int | None = None) -> list[Slot]:
    """Free, open, future slots of a round at one start time, lowest booth first."""
    stmt = (
        _slots_with_active_booking(rnd)
        .where(
            Slot.round_id == rnd.id,
            Slot.starts_at == at,
            Slot.closed.is_(False),
            Slot.starts_at > now,
            Booking.id.is_(None),
        )
        .order_by(Slot.booth)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


@dataclass
class CompanyTime:
    """One start time of a round as a company sees it: whether it holds it and whether it can book it."""

    starts_at: datetime
    ends_at: datetime
    free: int
    mine: bool
    blocked: bool  # the company holds another booking overlapping this time


def company_times(rnd: Round, *, company_id: int | None, now: datetime) -> tuple[list[CompanyTime], int]:
    """The SME's round page: each start time with its free booths, and the company's active bookings in
    the round (for the cap). Two queries whatever the number of slots; booths are not shown."""
    times = time_rows(rnd, now)
    own: list[tuple[datetime, datetime]] = []
    if company_id is not None:
        own = list(
            db.session.execute(
                select(Booking.starts_at, Booking.ends_at).where(
                    Booking.round_id == rnd.id, Booking.company_id == company_id, ACTIVE
                )
            )
        )
    out = []
    for row in times:
        mine = any(s == row.starts_at for s, _e in own)
        blocked = not mine and any(s < row.ends_at and e > row.starts_at for s, e in own)
        out.append(CompanyTime(row.starts_at, row.ends_at, row.free, mine, blocked))
    return out, len(own)
