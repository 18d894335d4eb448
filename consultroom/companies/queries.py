from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, exists, false, func, or_, select, true

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


def company_visible_to(user) -> ColumnElement[bool]:
    """The SQL twin of policies.can_view_company (tests/integration/test_policy_sql_twins.py): staff
    every company, an SME its own."""
    if not user.is_authenticated:
        return false()
    if user.is_staff:
        return true()
    return Company.id == user.company_id if user.is_sme and user.company_id is not None else false()
