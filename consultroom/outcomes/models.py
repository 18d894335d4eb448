"""Consultation logs, outcomes with their history, contracts and exchange rates.

Money is exact (rule 5): contract amounts are integers in the currency's minor unit (KRW/JPY have
none, USD cents, BHD fils), rates are Numeric, KRW values whole won.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.outcomes.money import from_minor

if TYPE_CHECKING:
    from consultroom.accounts.models import User
    from consultroom.bookings.models import Booking
    from consultroom.interpreters.models import Interpreter


class Attendance(enum.StrEnum):
    HELD = "held"
    NO_SHOW = "no_show"


class Party(enum.StrEnum):
    COMPANY = "company"
    BUYER = "buyer"
    INTERPRETER = "interpreter"


class Interest(enum.StrEnum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Stage(enum.StrEnum):
    FOLLOW_UP = "follow_up"
    SAMPLE_SENT = "sample_sent"
    NEGOTIATING = "negotiating"
    CONTRACTED = "contracted"
    DROPPED = "dropped"


OPEN_STAGES = (Stage.FOLLOW_UP.value, Stage.SAMPLE_SENT.value, Stage.NEGOTIATING.value)
CLOSED_STAGES = (Stage.CONTRACTED.value, Stage.DROPPED.value)


class ConsultationLog(db.Model):
    """What happened at one consultation, written right after it by staff or its interpreter."""

    __tablename__ = "consultation_logs"
    __table_args__ = (
        CheckConstraint("attendance IN ('held', 'no_show')", name="attendance_known"),
        CheckConstraint(
            "(attendance = 'held' AND absent_party IS NULL) OR "
            "(attendance = 'no_show' AND absent_party IN ('company', 'buyer', 'interpreter'))",
            name="absent_party_for_no_show",
        ),
        CheckConstraint("buyer_interest IN ('none', 'low', 'medium', 'high')", name="interest_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), unique=True)
    attendance: Mapped[str] = mapped_column(String(10))
    absent_party: Mapped[str | None] = mapped_column(String(12))
    buyer_interest: Mapped[str] = mapped_column(String(10), default=Interest.NONE.value)
    products_discussed: Mapped[str] = mapped_column(Text, default="")
    samples_requested: Mapped[bool] = mapped_column(default=False)
    samples_text: Mapped[str] = mapped_column(Text, default="")
    next_action: Mapped[str] = mapped_column(String(300), default="")
    next_action_on: Mapped[date | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # An interpreter who came by the portal link has no account: the log names the interpreter instead.
    recorded_by_interpreter_id: Mapped[int | None] = mapped_column(ForeignKey("interpreters.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    booking: Mapped[Booking] = relationship()
    recorded_by: Mapped[User | None] = relationship()
    recorded_by_interpreter: Mapped[Interpreter | None] = relationship()


class Outcome(db.Model):
    """The commercial follow-through of one held consultation; `stage_on` is the date of the last change."""

    __tablename__ = "outcomes"
    __table_args__ = (
        CheckConstraint(
            "stage IN ('follow_up', 'sample_sent', 'negotiating', 'contracted', 'dropped')", name="stage_known"
        ),
        Index("ix_outcomes_stage_updated", "stage", "last_update_at"),
        # The overdue list pages by due date; its count and the home's to-do read only this index.
        Index("ix_outcomes_followup_due", "followup_due_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), unique=True)
    stage: Mapped[str] = mapped_column(String(12), default=Stage.FOLLOW_UP.value)
    stage_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Any update by the SME or staff (a stage change or a contract); drives the overdue list.
    last_update_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The Seoul date this outcome becomes overdue (followups.next_followup_due of the consultation
    # and the last update), None when closed or past every follow-up. Kept by the outcome services
    # (refresh_followup_due) so the overdue list filters and sorts on an index, not on date maths.
    followup_due_on: Mapped[date | None]

    booking: Mapped[Booking] = relationship()
    changes: Mapped[list[OutcomeChange]] = relationship(
        back_populates="outcome", cascade="all, delete-orphan", order_by="OutcomeChange.id"
    )
    contracts: Mapped[list[Contract]] = relationship(
        back_populates="outcome", cascade="all, delete-orphan", order_by="Contract.id"
    )

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    @property
    def active_contracts(self) -> list[Contract]:
        """The contracts that count: withdrawn ones stay listed but are not part of the outcome."""
        return [c for c in self.contracts if c.withdrawn_at is None]


class OutcomeChange(db.Model):
    """One line of an outcome's history: who moved it from which stage to which, on what date."""

    __tablename__ = "outcome_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    outcome_id: Mapped[int] = mapped_column(ForeignKey("outcomes.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_on: Mapped[date]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_stage: Mapped[str | None] = mapped_column(String(12))
    to_stage: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")

    outcome: Mapped[Outcome] = relationship(back_populates="changes")
    actor: Mapped[User | None] = relationship()


class Contract(db.Model):
    """A contract signed after a consultation, with its KRW value at the rate of the signing date."""

    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("krw_value >= 0", name="krw_value_nonnegative"),
        CheckConstraint("length(currency) = 3", name="currency_code"),
        # A withdrawal is never silent: staff say why (the reason is in the audit log too).
        CheckConstraint("withdrawn_at IS NULL OR withdrawal_reason <> ''", name="withdrawal_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outcome_id: Mapped[int] = mapped_column(ForeignKey("outcomes.id", ondelete="CASCADE"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    # The amount in the currency's minor unit (10^exponent per unit, ISO 4217), so never rounded.
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    signed_on: Mapped[date]
    items: Mapped[str] = mapped_column(Text, default="")
    krw_value: Mapped[int] = mapped_column(BigInteger)
    rate_day: Mapped[date]
    rate: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Staff withdraw a contract recorded by mistake or cancelled (issue 15 item 7): the row stays for the
    # history, but no longer counts in the outcome's stage, its total or the report.
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    withdrawal_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    outcome: Mapped[Outcome] = relationship(back_populates="contracts")

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def amount(self) -> Decimal:
        return from_minor(self.amount_minor, self.currency)


class ExchangeRate(db.Model):
    """KRW per one unit of `currency` on `day` (a bank's published rate)."""

    __tablename__ = "exchange_rates"
    __table_args__ = (
        UniqueConstraint("currency", "day", name="uq_exchange_rates_currency_day"),
        CheckConstraint("krw_per_unit > 0", name="rate_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    day: Mapped[date]
    krw_per_unit: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class FollowUpSent(db.Model):
    """One row per (booking, milestone month): each follow-up mail goes out once, however often the job runs."""

    __tablename__ = "outcome_followups_sent"

    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True)
    months: Mapped[int] = mapped_column(primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
