from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.db import utcnow
from consultroom.extensions import db

if TYPE_CHECKING:
    from consultroom.bookings.models import Booking
    from consultroom.buyers.models import Buyer
    from consultroom.interpreters.models import Interpreter
    from consultroom.rounds.models import Round


class MatchWeight(db.Model):
    """One scoring weight set by an admin; a weight without a row keeps the `Weights` default.

    Key/value rather than one wide row, so a weight added to `Weights` later needs no migration.
    """

    __tablename__ = "match_weights"
    __table_args__ = (CheckConstraint("value BETWEEN -100 AND 100", name="value_range"),)

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ProposalStatus:
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    DISCARDED = "discarded"


class RoundProposal(db.Model):
    """A whole-round matching proposal: staff review and edit it; nothing is sent before they confirm."""

    __tablename__ = "round_proposals"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'confirmed', 'discarded')", name="status_known"),
        # One draft per round at a time: a new proposal replaces the old draft.
        Index(
            "uq_round_proposals_round_draft",
            "round_id",
            unique=True,
            postgresql_where=text("status = 'draft'"),
            sqlite_where=text("status = 'draft'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=ProposalStatus.DRAFT)
    exact_total: Mapped[int] = mapped_column(default=0)
    exact_matched: Mapped[int] = mapped_column(default=0)
    greedy_total: Mapped[int] = mapped_column(default=0)
    greedy_matched: Mapped[int] = mapped_column(default=0)
    weights: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the weights it was scored with
    # How it was solved: method, objective (fit tier first, then points) of the proposal, of greedy
    # and the upper bound, lines by product fit for both, interpreter coverage.
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    round: Mapped[Round] = relationship()
    lines: Mapped[list[ProposalLine]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="ProposalLine.id"
    )

    @property
    def total(self) -> int:
        """The total of the lines as they stand now, after staff edits."""
        return sum(line.score or 0 for line in self.lines if line.buyer_id is not None)


class ProposalLine(db.Model):
    """One booking of the proposal with its proposed buyer and interpreter (either may be empty)."""

    __tablename__ = "proposal_lines"
    __table_args__ = (UniqueConstraint("proposal_id", "booking_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("round_proposals.id", ondelete="CASCADE"))
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id", ondelete="SET NULL"))
    interpreter_id: Mapped[int | None] = mapped_column(ForeignKey("interpreters.id", ondelete="SET NULL"))
    score: Mapped[int | None]
    # [[code, points, detail], ...] as scored, so the page explains the line without rescoring it
    reasons: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    edited: Mapped[bool] = mapped_column(default=False)

    proposal: Mapped[RoundProposal] = relationship(back_populates="lines")
    booking: Mapped[Booking] = relationship()
    buyer: Mapped[Buyer | None] = relationship()
    interpreter: Mapped[Interpreter | None] = relationship()
