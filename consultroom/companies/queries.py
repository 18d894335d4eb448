from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, exists, func, or_, select

from consultroom.companies.models import Company, CompanyCountry, CompanyHsCode
from consultroom.companies.profile import ENGLISH_FIELDS


@dataclass(frozen=True)
class CompanyFilter:
    q: str = ""
    industry: str = ""
    country: str = ""  # export market or target country
    hs: str = ""  # prefix: 2, 4 or 6 digits
    english_missing: bool = False  # lacking any field of the English profile buyers read


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def company_search(f: CompanyFilter) -> Select:
    stmt = select(Company)
    if f.q:
        like = f"%{_escape_like(f.q.strip())}%"
        digits = "".join(c for c in f.q if c.isdigit())
        conds = [
            Company.name_ko.ilike(like, escape="\\"),
            Company.name_en.ilike(like, escape="\\"),
            Company.products.ilike(like, escape="\\"),
            Company.representative.ilike(like, escape="\\"),
        ]
        if len(digits) >= 3:
            conds.append(Company.business_number.like(f"%{digits}%"))
        stmt = stmt.where(or_(*conds))
    if f.industry:
        stmt = stmt.where(Company.industry == f.industry)
    if f.country:
        stmt = stmt.where(
            exists().where(CompanyCountry.company_id == Company.id, CompanyCountry.code == f.country.upper())
        )
    if f.hs:
        prefix = "".join(c for c in f.hs if c.isdigit())[:6]
        if prefix:
            stmt = stmt.where(
                exists().where(CompanyHsCode.company_id == Company.id, CompanyHsCode.code.like(f"{prefix}%"))
            )
    if f.english_missing:
        stmt = stmt.where(or_(*(func.trim(getattr(Company, name)) == "" for name in ENGLISH_FIELDS)))
    return stmt.order_by(Company.name_ko, Company.id)


def market_countries() -> Select:
    """The countries companies export to or target: the list filter offers them by name, not code."""
    return select(CompanyCountry.code).distinct().order_by(CompanyCountry.code)


def industries() -> Select:
    return select(Company.industry).where(Company.industry != "").distinct().order_by(Company.industry)
