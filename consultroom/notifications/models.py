from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from consultroom.db import utcnow
from consultroom.extensions import db


class MailStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for (another) delivery attempt
    SENDING = "sending"  # claimed by one delivery run
    SENT = "sent"
    FAILED = "failed"  # refused for good, or its deadline passed; an admin decides
    # Offered to the server by a run that died before recording the answer: it may or may not have
    # left. Never resent on its own (that could deliver it twice); an admin decides.
    IN_DOUBT = "in_doubt"


class OutboxMail(db.Model):
    """A mail written in the same transaction as the change that causes it, delivered later."""

    __tablename__ = "outbox_mails"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'in_doubt')", name="status_known"),
        CheckConstraint(
            "ics_method IS NULL OR ics_method IN ('REQUEST', 'CANCEL', 'PUBLISH')", name="ics_method_known"
        ),
        Index("ix_outbox_mails_due", "status", "next_attempt_at"),
        # The outbox page, newest first, whole and by status tab (a million mails at national scale).
        Index("ix_outbox_mails_created", "created_at", "id"),
        Index("ix_outbox_mails_status_created", "status", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Fixed at creation so a retried delivery carries the same Message-ID (receivers can dedupe).
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    to_addr: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    template: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # An iTIP calendar object (RFC 5546) sent as a text/calendar part, e.g. the update of a moved
    # consultation; ics_method repeats its METHOD for the Content-Type parameter.
    ics_body: Mapped[str | None] = mapped_column(Text)
    ics_method: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default=MailStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # Retried until then; after it the mail is no use (a proposal past its answer deadline, a
    # reminder after the meeting) and becomes 'failed'. Set from the kind at queueing.
    deadline_at: Mapped[datetime | None]
    # The first temporary failure of this mail: the admin home warns when it is long ago.
    first_error_at: Mapped[datetime | None]
