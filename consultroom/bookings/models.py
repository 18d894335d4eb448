from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.db import utcnow
from consultroom.extensions import db

if TYPE_CHECKING:
    from consultroom.buyers.models import Buyer
    from consultroom.companies.models import Company
    from consultroom.interpreters.models import Interpreter
    from consultroom.rounds.models import Round, Slot


class BookingStatus(enum.StrEnum):
    REQUESTED = "requested"
    MATCHED = "matched"  # buyer proposed
    CONFIRMED = "confirmed"  # buyer and interpreter confirmed
    HELD = "held"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


ACTIVE = "status <> 'cancelled'"
# Bookings with a buyer and no log yet (a log sets held or no_show); the missing-logs filter.
UNLOGGED = "status IN ('matched', 'confirmed')"
# Requests not yet matched; the partial index the "bookings to match" list pages down.
REQUESTS = "status = 'requested'"

# A booking's own free text (its request), as the retention page's partial indexes test it.
OWN_TEXT = (
    "(products IS NOT NULL AND products != '') OR (buyer_profile IS NOT NULL AND buyer_profile != '') "
    "OR (notes IS NOT NULL AND notes != '')"
)


class Booking(db.Model):
    """A company's booking of one slot, with its request.

    Rule 1 and 2 are enforced by the database, not only checked before writing:
    - one active booking per slot: partial unique index on slot_id;
    - at most `cap` active bookings per company and round: each active booking takes a numbered
      place `seq` in 1..cap (check constraint), unique per (round, company) among active bookings;
    - no overlapping active bookings of a company: on PostgreSQL an exclusion constraint over
      tstzrange(starts_at, ends_at) with btree_gist; on SQLite a trigger (see the migration).
    starts_at/ends_at copy the slot's times so those constraints need no join.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint(
            "status IN ('requested', 'matched', 'confirmed', 'held', 'no_show', 'cancelled')", name="status_known"
        ),
        CheckConstraint("seq >= 1 AND seq <= cap", name="seq_within_cap"),
        CheckConstraint("starts_at < ends_at", name="time_order"),
        Index(
            "uq_bookings_slot_active",
            "slot_id",
            unique=True,
            postgresql_where=text(ACTIVE),
            sqlite_where=text(ACTIVE),
        ),
        Index(
            "uq_bookings_company_round_seq_active",
            "round_id",
            "company_id",
            "seq",
            unique=True,
            postgresql_where=text(ACTIVE),
            sqlite_where=text(ACTIVE),
        ),
        # A buyer meets a company at most once per round.
        Index(
            "uq_bookings_round_company_buyer_active",
            "round_id",
            "company_id",
            "buyer_id",
            unique=True,
            postgresql_where=text(f"{ACTIVE} AND buyer_id IS NOT NULL"),
            sqlite_where=text(f"{ACTIVE} AND buyer_id IS NOT NULL"),
        ),
        CheckConstraint(
            "buyer_response IS NULL OR buyer_response IN ('pending', 'accepted', 'declined')",
            name="buyer_response_known",
        ),
        CheckConstraint(
            "interpreter_response IS NULL OR interpreter_response IN ('pending', 'accepted', 'declined')",
            name="interpreter_response_known",
        ),
        CheckConstraint("ics_sequence >= 0", name="ics_sequence_nonnegative"),
        Index("ix_bookings_company_starts", "company_id", "starts_at"),
        Index("ix_bookings_round_status", "round_id", "status"),
        # The round pages join a round's slots to their active bookings by an index-only scan.
        Index(
            "ix_bookings_round_slot_active",
            "round_id",
            "slot_id",
            postgresql_include=["id", "status", "company_id", "cancel_requested_at"],
            postgresql_where=text(ACTIVE),
            sqlite_where=text(ACTIVE),
        ),
        # The year figures read a year of consultations by an index-only scan (issue 16 item 3).
        Index(
            "ix_bookings_starts_status",
            "starts_at",
            "status",
            postgresql_include=["id", "company_id", "buyer_id", "round_id"],
        ),
        # The retention page counts the due free text from these (issue 16 item 3; see the migration).
        Index(
            "ix_bookings_with_text",
            "round_id",
            "starts_at",
            postgresql_where=text(OWN_TEXT),
            sqlite_where=text(OWN_TEXT),
        ),
        Index(
            "ix_bookings_without_text",
            "round_id",
            "starts_at",
            postgresql_where=text(f"NOT ({OWN_TEXT})"),
            sqlite_where=text(f"NOT ({OWN_TEXT})"),
        ),
        # the interpreter's assignments by time, a page at a time (issue 16)
        Index("ix_bookings_interpreter_starts", "interpreter_id", "starts_at"),
        # Logging a consultation makes it held or no_show, so the matched and confirmed ones are the
        # unlogged few: the missing-logs list and the home's count read them alone (see the migration).
        Index(
            "ix_bookings_unlogged_ends",
            "ends_at",
            "id",
            postgresql_where=text(UNLOGGED),
            sqlite_where=text(UNLOGGED),
        ),
        # Requests still to match, by start time: the staff's "bookings to match" list pages down it
        # instead of reading and sorting every request of the open round (see the migration).
        Index(
            "ix_bookings_requested_starts",
            "starts_at",
            "id",
            postgresql_where=text(REQUESTS),
            sqlite_where=text(REQUESTS),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default=BookingStatus.REQUESTED.value)
    seq: Mapped[int]
    cap: Mapped[int]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # The request: what the company wants from this consultation.
    products: Mapped[str] = mapped_column(Text, default="")
    hs_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    target_countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    buyer_profile: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None]
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_waitlist: Mapped[bool] = mapped_column(default=False)
    # The match (issue 4): a buyer and an interpreter, each asked to accept by signed link.
    # buyer_id/interpreter_id take part in the overlap guards like company_id (see the migration).
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id", ondelete="RESTRICT"), index=True)
    interpreter_id: Mapped[int | None] = mapped_column(ForeignKey("interpreters.id", ondelete="RESTRICT"), index=True)
    buyer_response: Mapped[str | None] = mapped_column(String(10))  # pending | accepted | declined
    interpreter_response: Mapped[str | None] = mapped_column(String(10))
    match_score: Mapped[int | None]
    # Bumped at every new proposal, so a signed link from an earlier proposal no longer answers.
    match_version: Mapped[int] = mapped_column(default=0)
    proposed_at: Mapped[datetime | None]
    respond_by: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    meeting_url: Mapped[str] = mapped_column(String(500), default="")
    # RFC 5545 SEQUENCE of the calendar event (UID booking-<id>@consultroom): raised at every change a
    # calendar must take over (time, cancellation, parties, link), so clients replace the event they hold.
    ics_sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    cancel_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # A company asking to cancel after the deadline: staff decide (issue 13, item 2).
    cancel_requested_at: Mapped[datetime | None]
    cancel_request_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    cancel_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    round: Mapped[Round] = relationship()
    slot: Mapped[Slot] = relationship(back_populates="bookings")
    company: Mapped[Company] = relationship()
    buyer: Mapped[Buyer | None] = relationship()
    interpreter: Mapped[Interpreter | None] = relationship()

    @property
    def active(self) -> bool:
        return self.status != BookingStatus.CANCELLED


class WaitlistEntry(db.Model):
    """A company waiting for a slot in a full round; the first waiting gets the next freed slot."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint("status IN ('waiting', 'promoted', 'left', 'expired')", name="status_known"),
        Index(
            "uq_waitlist_round_company_waiting",
            "round_id",
            "company_id",
            unique=True,
            postgresql_where=text("status = 'waiting'"),
            sqlite_where=text("status = 'waiting'"),
        ),
        Index("ix_waitlist_round_status_created", "round_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    products: Mapped[str] = mapped_column(Text, default="")
    hs_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    target_countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    buyer_profile: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    round: Mapped[Round] = relationship()
    company: Mapped[Company] = relationship()


class ReminderSent(db.Model):
    """One row per (booking, kind, recipient): a reminder is mailed once, however often the job runs."""

    __tablename__ = "reminders_sent"

    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # "day", "hour"
    recipient: Mapped[str] = mapped_column(String(40), primary_key=True)  # e.g. "company"
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarFeed(db.Model):
    """A private calendar subscription URL of an SME user, a staff member or an interpreter.

    Only the SHA-256 of the token is kept (like API tokens): the URL is shown once, when it is made.
    Making a new one or turning it off sets revoked_at, and the old URL answers 404 from then on.
    """

    __tablename__ = "calendar_feeds"
    __table_args__ = (CheckConstraint("(user_id IS NULL) <> (interpreter_id IS NULL)", name="one_owner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    interpreter_id: Mapped[int | None] = mapped_column(ForeignKey("interpreters.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
