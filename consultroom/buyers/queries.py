from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, exists, false, or_, select, true
from sqlalchemy.orm import selectinload

from consultroom.bookings.models import Booking
from consultroom.buyers.models import Buyer, BuyerInterest, BuyerLanguage
from consultroom.extensions import db

STATUSES = ("active", "inactive", "all")


@dataclass(frozen=True)
class BuyerFilter:
    q: str = ""  # company, contact person, e-mail or keyword
    country: str = ""
    hs: str = ""  # 2 to 6 digits
    language: str = ""
    status: str = "active"  # active | inactive | all


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def buyer_search(f: BuyerFilter) -> Select:
    stmt = select(Buyer)
    if f.q.strip():
        like = f"%{_escape_like(f.q.strip())}%"
        stmt = stmt.where(
            or_(
                Buyer.company_name.ilike(like, escape="\\"),
                Buyer.contact_name.ilike(like, escape="\\"),
                Buyer.email.ilike(like, escape="\\"),
                Buyer.keywords.ilike(like, escape="\\"),
            )
        )
    if f.country:
        stmt = stmt.where(Buyer.country == f.country.upper())
    prefix = "".join(c for c in f.hs if c.isdigit())[:6]
    if prefix:
        # A buyer interested in chapter 33 wants 3304 and 330499 too: match codes under the prefix
        # and the chapter or heading above it.
        broader = [prefix[:n] for n in (2, 4) if len(prefix) > n]
        stmt = stmt.where(
            exists().where(
                BuyerInterest.buyer_id == Buyer.id,
                or_(BuyerInterest.code.like(f"{prefix}%"), BuyerInterest.code.in_(broader)),
            )
        )
    if f.language:
        stmt = stmt.where(exists().where(BuyerLanguage.buyer_id == Buyer.id, BuyerLanguage.code == f.language.lower()))
    if f.status == "active":
        stmt = stmt.where(Buyer.active.is_(True))
    elif f.status == "inactive":
        stmt = stmt.where(Buyer.active.is_(False))
    return stmt.order_by(Buyer.company_key, Buyer.country, Buyer.id)


def registry_countries() -> Select:
    return select(Buyer.country).distinct().order_by(Buyer.country)


def buyer_history(buyer_id: int) -> list[Booking]:
    """The buyer's consultations, newest first (cancelled ones too, marked as such)."""
    stmt = (
        select(Booking)
        .where(Booking.buyer_id == buyer_id)
        .options(selectinload(Booking.company), selectinload(Booking.round))
        .order_by(Booking.starts_at.desc(), Booking.id.desc())
    )
    return list(db.session.scalars(stmt))


def buyer_visible_to(user) -> ColumnElement[bool]:
    """The SQL twin of policies.can_view_buyer (tests/integration/test_policy_sql_twins.py): staff only."""
    return true() if user.is_authenticated and user.is_staff else false()
