from __future__ import annotations

from datetime import time

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.db import TimestampMixin
from consultroom.extensions import db
from consultroom.table_import import ImportBatchMixin

SIZES = ("small", "medium", "large", "unknown")
WEEKDAYS = (0, 1, 2, 3, 4)


def _weekdays() -> list[int]:
    return list(WEEKDAYS)


class Buyer(TimestampMixin, db.Model):
    """An overseas buyer. Interests and languages are rows, so they can be searched and matched.

    Duplicates are refused by the database too: the e-mail (stored lower-case) is unique, and so is
    the company within a country, compared by `company_key` (case-folded, spaces collapsed).
    """

    __tablename__ = "buyers"
    __table_args__ = (
        UniqueConstraint("company_key", "country"),
        CheckConstraint("size IN ('small', 'medium', 'large', 'unknown')", name="size_known"),
        CheckConstraint("length(country) = 2", name="country_alpha_2"),
        CheckConstraint("meet_from <> meet_to", name="meet_hours_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_name: Mapped[str] = mapped_column(String(200))
    company_key: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    # The language the buyer reads mails and pages in (a locale of config LANGUAGES); English by default.
    preferred_language: Mapped[str] = mapped_column(String(10), default="en")
    timezone: Mapped[str] = mapped_column(String(64))
    size: Mapped[str] = mapped_column(String(10), default="unknown")
    source: Mapped[str] = mapped_column(String(100), default="")
    keywords: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # Hours and weekdays (0 = Monday) the buyer can meet, in the buyer's own time zone.
    meet_from: Mapped[time] = mapped_column(default=time(9, 0))
    meet_to: Mapped[time] = mapped_column(default=time(18, 0))
    meet_days: Mapped[list[int]] = mapped_column(JSON, default=_weekdays)
    active: Mapped[bool] = mapped_column(default=True, index=True)

    language_rows: Mapped[list[BuyerLanguage]] = relationship(
        cascade="all, delete-orphan", order_by="BuyerLanguage.code", lazy="selectin"
    )
    interest_rows: Mapped[list[BuyerInterest]] = relationship(
        cascade="all, delete-orphan", order_by="BuyerInterest.code", lazy="selectin"
    )

    @property
    def languages(self) -> list[str]:
        return [r.code for r in self.language_rows]

    @property
    def interest_codes(self) -> list[str]:
        return [r.code for r in self.interest_rows]

    def __repr__(self) -> str:
        return f"<Buyer {self.id} {self.company_name} {self.country}>"


class BuyerLanguage(db.Model):
    __tablename__ = "buyer_languages"

    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(8), primary_key=True, index=True)


class BuyerInterest(db.Model):
    """An HS code the buyer is interested in, at chapter (2), heading (4) or subheading (6) level."""

    __tablename__ = "buyer_interests"
    __table_args__ = (CheckConstraint("length(code) IN (2, 4, 6)", name="code_2_4_6_digits"),)

    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(6), primary_key=True, index=True)


class BuyerImportBatch(ImportBatchMixin, db.Model):
    """A buyer file between its preview and its confirmation (consultroom.table_import)."""

    __tablename__ = "buyer_import_batches"
