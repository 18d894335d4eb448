"""Yearly program targets, published in advance as the city's target disclosure requires."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, UniqueConstraint
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
