from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.db import TimestampMixin
from consultroom.extensions import db

if TYPE_CHECKING:
    from consultroom.accounts.models import User


class Company(TimestampMixin, db.Model):
    """An export SME. HS codes, countries and languages are rows, so they can be searched and matched."""

    __tablename__ = "companies"
    __table_args__ = (CheckConstraint("length(business_number) = 10", name="business_number_10_digits"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name_ko: Mapped[str] = mapped_column(String(200), index=True)
    name_en: Mapped[str] = mapped_column(String(200), default="")
    business_number: Mapped[str] = mapped_column(String(10), unique=True)
    representative: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(300), default="")
    industry: Mapped[str] = mapped_column(String(100), default="", index=True)
    products: Mapped[str] = mapped_column(Text, default="")
    # The English profile buyers read (issue 13): without it they see the Korean field, marked untranslated.
    products_en: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    address_en: Mapped[str] = mapped_column(String(300), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")

    users: Mapped[list[User]] = relationship(back_populates="company")
    hs_code_rows: Mapped[list[CompanyHsCode]] = relationship(
        cascade="all, delete-orphan", order_by="CompanyHsCode.code", lazy="selectin"
    )
    country_rows: Mapped[list[CompanyCountry]] = relationship(
        cascade="all, delete-orphan", order_by="CompanyCountry.code", lazy="selectin"
    )
    language_rows: Mapped[list[CompanyLanguage]] = relationship(
        cascade="all, delete-orphan", order_by="CompanyLanguage.code", lazy="selectin"
    )

    @property
    def hs_codes(self) -> list[str]:
        return [r.code for r in self.hs_code_rows]

    @property
    def export_markets(self) -> list[str]:
        return [r.code for r in self.country_rows if r.kind == "export"]

    @property
    def target_countries(self) -> list[str]:
        return [r.code for r in self.country_rows if r.kind == "target"]

    @property
    def languages(self) -> list[str]:
        return [r.code for r in self.language_rows]

    @property
    def display_name(self) -> str:
        return self.name_ko or self.name_en

    @property
    def business_number_display(self) -> str:
        n = self.business_number
        return f"{n[:3]}-{n[3:5]}-{n[5:]}"


class CompanyHsCode(db.Model):
    __tablename__ = "company_hs_codes"

    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(6), primary_key=True, index=True)


class CompanyCountry(db.Model):
    __tablename__ = "company_countries"
    __table_args__ = (CheckConstraint("kind IN ('export', 'target')", name="kind_known"),)

    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(6), primary_key=True)
    code: Mapped[str] = mapped_column(String(2), primary_key=True, index=True)


class CompanyLanguage(db.Model):
    __tablename__ = "company_languages"

    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(8), primary_key=True)
