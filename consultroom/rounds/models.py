from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.db import TimestampMixin
from consultroom.extensions import db

if TYPE_CHECKING:
    from consultroom.bookings.models import Booking


class RoundStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"  # booking window
    CLOSED = "closed"  # booking closed, matching
    HELD = "held"
    FINALIZED = "finalized"
    CANCELLED = "cancelled"


class RoundSettings(TimestampMixin, db.Model):
    """The monthly pattern rounds are generated from (one row, kept by admins)."""

    __tablename__ = "round_settings"
    __table_args__ = (
        CheckConstraint("pattern IN ('nth_weekday', 'fixed_day')", name="pattern_known"),
        CheckConstraint("nth BETWEEN -1 AND 5 AND nth <> 0", name="nth_range"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("fixed_day BETWEEN 1 AND 31", name="fixed_day_range"),
        CheckConstraint("slot_minutes BETWEEN 10 AND 240", name="slot_minutes_range"),
        CheckConstraint("break_minutes BETWEEN 0 AND 120", name="break_minutes_range"),
        CheckConstraint("booths BETWEEN 1 AND 50", name="booths_range"),
        CheckConstraint("company_cap BETWEEN 1 AND 20", name="company_cap_range"),
        CheckConstraint("interpreter_policy IN ('always', 'needed')", name="interpreter_policy_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pattern: Mapped[str] = mapped_column(String(12), default="nth_weekday")
    nth: Mapped[int] = mapped_column(default=2)  # 1..5, or -1 for the last
    weekday: Mapped[int] = mapped_column(default=2)  # Monday 0 .. Sunday 6; 2 = Wednesday
    fixed_day: Mapped[int] = mapped_column(default=15)
    day_start: Mapped[time] = mapped_column(default=time(10, 0))  # Asia/Seoul
    day_end: Mapped[time] = mapped_column(default=time(17, 0))
    slot_minutes: Mapped[int] = mapped_column(default=50)
    break_minutes: Mapped[int] = mapped_column(default=10)
    booths: Mapped[int] = mapped_column(default=4)
    opens_days_before: Mapped[int] = mapped_column(default=21)
    opens_at: Mapped[time] = mapped_column(default=time(10, 0))
    closes_days_before: Mapped[int] = mapped_column(default=7)
    closes_at: Mapped[time] = mapped_column(default=time(18, 0))
    cancel_hours_before: Mapped[int] = mapped_column(default=48)
    company_cap: Mapped[int] = mapped_column(default=3)
    months: Mapped[list[int]] = mapped_column(JSON, default=lambda: list(range(3, 13)))
    # Whether every consultation gets an interpreter ("always", as the program promises) or only
    # those where the company and the buyer share no language ("needed").
    interpreter_policy: Mapped[str] = mapped_column(String(10), default="always", server_default="always")
    # Extra slot times aimed at regions, in Seoul hours: [{"label": "Europe", "start": "17:00",
    # "end": "21:00"}, ...]; the round generator makes slots in them beside the day's.
    region_windows: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list, server_default="[]")


class ClosedDate(db.Model):
    """A day without rounds (public holidays, office closures), kept by staff."""

    __tablename__ = "closed_dates"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    reason: Mapped[str] = mapped_column(String(100), default="")


class Round(TimestampMixin, db.Model):
    __tablename__ = "rounds"
    __table_args__ = (
        # Opening a month twice finds this row instead of making a second one (rule 3).
        UniqueConstraint("year", "month", name="uq_rounds_year_month"),
        CheckConstraint("status IN ('draft', 'open', 'closed', 'held', 'finalized', 'cancelled')", name="status_known"),
        CheckConstraint("month BETWEEN 1 AND 12", name="month_range"),
        CheckConstraint("booking_opens_at < booking_closes_at", name="window_order"),
        CheckConstraint("company_cap BETWEEN 1 AND 20", name="company_cap_range"),
        Index("ix_rounds_status_opens", "status", "booking_opens_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    month: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    day: Mapped[date]  # the consultation day, in Asia/Seoul
    status: Mapped[str] = mapped_column(String(10), default=RoundStatus.DRAFT.value)
    booking_opens_at: Mapped[datetime]
    booking_closes_at: Mapped[datetime]
    cancel_hours_before: Mapped[int] = mapped_column(default=48)
    company_cap: Mapped[int] = mapped_column(default=3)
    notes: Mapped[str] = mapped_column(String(2000), default="")
    opened_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]

    slots: Mapped[list[Slot]] = relationship(
        back_populates="round", order_by="(Slot.starts_at, Slot.booth)", cascade="all, delete-orphan"
    )

    @property
    def is_bookable_status(self) -> bool:
        return self.status == RoundStatus.OPEN


class Slot(db.Model):
    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("round_id", "booth", "starts_at", name="uq_slots_round_booth_start"),
        CheckConstraint("starts_at < ends_at", name="time_order"),
        CheckConstraint("booth >= 1", name="booth_positive"),
        Index("ix_slots_round_start", "round_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    booth: Mapped[int]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    closed: Mapped[bool] = mapped_column(default=False)

    round: Mapped[Round] = relationship(back_populates="slots")
    bookings: Mapped[list[Booking]] = relationship(back_populates="slot", viewonly=True)
