"""Personal-data records. Subjects are named by (subject_type, subject_id) so one table serves
users, companies, buyers and interpreters, and a record outlives the anonymised row it names."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.accounts.models import User
from consultroom.db import utcnow
from consultroom.extensions import db


class SubjectType(enum.StrEnum):
    USER = "user"
    COMPANY = "company"
    BUYER = "buyer"
    INTERPRETER = "interpreter"


SUBJECT_TYPES = tuple(s.value for s in SubjectType)
_SUBJECT_CHECK = "subject_type IN ('user', 'company', 'buyer', 'interpreter')"


class RetentionKind(enum.StrEnum):
    """What an admin sets a retention period for, in months after the end of a program year."""

    SME_ACCOUNTS = "sme_accounts"  # SME users' names, e-mails, phones and the company's contact persons
    BUYER_CONTACTS = "buyer_contacts"  # buyers' contact names, e-mails, phones, notes
    INTERPRETER_CONTACTS = "interpreter_contacts"  # interpreters' names, e-mails, phones
    FREE_TEXT = "free_text"  # booking requests, consultation logs, survey comments, outcome notes
    ACCESS_LOG = "access_log"  # the personal-data access log itself


RETENTION_KINDS = tuple(k.value for k in RetentionKind)


class ConsentRecord(db.Model):
    """A consent given or refused: what (purpose), under which notice version, when, by whom."""

    __tablename__ = "consent_records"
    __table_args__ = (
        Index("ix_consent_records_subject", "subject_type", "subject_id", "purpose"),
        CheckConstraint(_SUBJECT_CHECK, name="subject_type_known"),
        CheckConstraint("via IN ('web', 'api', 'link')", name="via_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    subject_type: Mapped[str] = mapped_column(String(12))
    subject_id: Mapped[int]
    # The account that gave it; None for a buyer answering by signed link.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    purpose: Mapped[str] = mapped_column(String(40))
    notice_version: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool]
    via: Mapped[str] = mapped_column(String(5), default="web")

    user: Mapped[User | None] = relationship()


class RetentionRule(db.Model):
    """How long one kind of personal data is kept after the program year it last belongs to ends."""

    __tablename__ = "retention_rules"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('sme_accounts', 'buyer_contacts', 'interpreter_contacts', 'free_text', 'access_log')",
            name="kind_known",
        ),
        CheckConstraint("months BETWEEN 0 AND 1200", name="months_range"),
    )

    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    months: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Anonymisation(db.Model):
    """A subject's personal data was replaced: once per subject and kind, so reruns do nothing."""

    __tablename__ = "anonymisations"
    __table_args__ = (
        UniqueConstraint("subject_type", "subject_id", "kind", name="uq_anonymisations_subject_kind"),
        CheckConstraint(_SUBJECT_CHECK, name="subject_type_known"),
        CheckConstraint("reason IN ('retention', 'erasure')", name="reason_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    subject_type: Mapped[str] = mapped_column(String(12))
    subject_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    erasure_request_id: Mapped[int | None] = mapped_column(ForeignKey("erasure_requests.id", ondelete="SET NULL"))


class ErasureRequest(db.Model):
    """A person's request that their data be deleted: made by an SME user, or recorded by staff for a
    buyer or interpreter; staff carry it out (anonymise) or refuse it with a reason."""

    __tablename__ = "erasure_requests"
    __table_args__ = (
        Index("ix_erasure_requests_subject", "subject_type", "subject_id"),
        CheckConstraint(_SUBJECT_CHECK, name="subject_type_known"),
        CheckConstraint("status IN ('open', 'done', 'refused')", name="status_known"),
        CheckConstraint("status = 'open' OR handled_at IS NOT NULL", name="handled_has_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(12))
    subject_id: Mapped[int]
    requested_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(8), default="open", index=True)
    handled_at: Mapped[datetime | None]
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    response: Mapped[str] = mapped_column(Text, default="")

    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    handled_by: Mapped[User | None] = relationship(foreign_keys=[handled_by_id])


class PersonalDataAccess(db.Model):
    """One staff or admin view or export of one subject's personal data (PIPA access record)."""

    __tablename__ = "personal_data_access"
    __table_args__ = (
        Index("ix_personal_data_access_subject", "subject_type", "subject_id"),
        CheckConstraint(_SUBJECT_CHECK, name="subject_type_known"),
        CheckConstraint("action IN ('view', 'export')", name="action_known"),
        CheckConstraint("via IN ('web', 'api')", name="via_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    subject_type: Mapped[str] = mapped_column(String(12))
    subject_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(6))
    # What was seen: the page or export (endpoint name) and the fields, e.g. "companies.detail".
    what: Mapped[str] = mapped_column(String(120))
    via: Mapped[str] = mapped_column(String(3), default="web")

    actor: Mapped[User | None] = relationship()
