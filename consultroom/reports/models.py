"""Yearly program targets, published in advance as the city's target disclosure requires; and the
summary of each consultation that the year figures add up (kept by facts.py)."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consultroom.db import utcnow
from consultroom.extensions import db


class Metric(enum.StrEnum):
    CONSULTATIONS = "consultations"
    CONTRACTS = "contracts"
    CONTRACT_VALUE_KRW = "contract_value_krw"
    SMES = "smes"
    SATISFACTION = "satisfaction"


METRICS = tuple(m.value for m in Metric)


class ReportTarget(db.Model):
    """One metric's target for one year; `value` is exact (whole won, counts, or a 1-5 score to 0.01)."""

    __tablename__ = "report_targets"
    __table_args__ = (
        UniqueConstraint("year", "metric", name="uq_report_targets_year_metric"),
        CheckConstraint(
            "metric IN ('consultations', 'contracts', 'contract_value_krw', 'smes', 'satisfaction')",
            name="metric_known",
        ),
        CheckConstraint("value >= 0", name="value_nonnegative"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        # Published means a publication date: the public page shows when the target was disclosed.
        CheckConstraint("published = false OR published_at IS NOT NULL", name="published_has_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    metric: Mapped[str] = mapped_column(String(20))
    value: Mapped[Decimal] = mapped_column(Numeric(20, 2))
    published: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


# What the year figures read of a fact, carried by its start-time index (index-only scans on PostgreSQL).
FACT_COLUMNS = ["status", "round_id", "company_id", "country", "chapter", "language", "contracts", "krw",
                "score_sum", "score_n"]  # fmt: skip


class ConsultationFact(db.Model):
    """One booking as the year figures count it (issue 16 item 3): a held or no-show consultation,
    or any booking with an SME survey response with scores. A summary of its sources (booking,
    buyer, company HS codes, contracts, survey answers), written only by reports/facts.py in the
    same transaction as the sources, so summing a year reads one narrow row per consultation
    instead of joining contracts and survey answers of the whole year. Empty strings stand for an
    unknown country, chapter or language, as the report's UNKNOWN group."""

    __tablename__ = "consultation_facts"
    __table_args__ = (
        CheckConstraint("contracts >= 0 AND score_n >= 0", name="counts_nonnegative"),
        Index("ix_consultation_facts_starts", "starts_at", postgresql_include=FACT_COLUMNS),
    )

    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True)
    starts_at: Mapped[datetime]
    round_id: Mapped[int]
    # The booking's status: held and no-show ones are consultations; others count only their scores.
    status: Mapped[str] = mapped_column(String(10))
    company_id: Mapped[int]
    country: Mapped[str] = mapped_column(String(2))  # the buyer's
    chapter: Mapped[str] = mapped_column(String(2))  # the company's first HS code's two digits
    language: Mapped[str] = mapped_column(String(8))  # the buyer's first language
    contracts: Mapped[int]  # not withdrawn
    krw: Mapped[int] = mapped_column(BigInteger)  # their KRW value
    score_sum: Mapped[int]  # the SME survey response's scale answers
    score_n: Mapped[int]
