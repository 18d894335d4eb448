"""Buyer rules: one validation for the pages, the import and the API; duplicates refused; audit of changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from consultroom import schema_fields as sf
from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.buyers import validation as v
from consultroom.buyers.models import Buyer, BuyerInterest, BuyerLanguage
from consultroom.buyers.schemas import (
    DEFAULT_MEET_FROM,
    DEFAULT_MEET_TO,
    LIST_FIELDS,
    OTHER_FIELDS,
    TEXT_FIELDS,
    buyer_snapshot,
    load_buyer,
)
from consultroom.errors import Conflict, Invalid, NotAllowed
from consultroom.extensions import db
from consultroom.languages import FALLBACK

# The fields, their limits and messages are declared once, in buyers.schemas.
ALL_FIELDS = (*TEXT_FIELDS, *LIST_FIELDS, *OTHER_FIELDS)
MAX_LIST = sf.MAX_LIST


def clean_buyer_data(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate and normalise buyer fields (buyers.schemas.BuyerIn); Invalid names every bad field.

    With partial=True only the fields given are checked and returned (API PATCH).
    """
    return load_buyer(data, partial=partial)


def snapshot(buyer: Buyer) -> dict[str, Any]:
    return buyer_snapshot.dump(buyer)


def apply_clean(buyer: Buyer, clean: Mapping[str, Any]) -> None:
    """Copy cleaned values onto a buyer (the import uses it for new rows too)."""
    for name in (*TEXT_FIELDS, *OTHER_FIELDS):
        if name in clean:
            setattr(buyer, name, clean[name])
    if "company_name" in clean:
        buyer.company_key = v.company_key(clean["company_name"])
    if "languages" in clean:
        buyer.language_rows = [BuyerLanguage(code=c) for c in clean["languages"]]
    if "interest_codes" in clean:
        buyer.interest_rows = [BuyerInterest(code=c) for c in clean["interest_codes"]]


def new_buyer(clean: Mapping[str, Any]) -> Buyer:
    buyer = Buyer(
        size="unknown",
        meet_from=DEFAULT_MEET_FROM,
        meet_to=DEFAULT_MEET_TO,
        meet_days=[0, 1, 2, 3, 4],
        active=True,
        contact_name="",
        phone="",
        website="",
        preferred_language=FALLBACK,
        source="",
        keywords="",
        notes="",
    )
    apply_clean(buyer, clean)
    return buyer


def find_duplicate(*, email: str, company_key: str, country: str, except_id: int | None = None) -> Buyer | None:
    """The registered buyer with the same e-mail, or the same company in the same country."""
    stmt = select(Buyer).where(
        or_(Buyer.email == email, (Buyer.company_key == company_key) & (Buyer.country == country))
    )
    if except_id is not None:
        stmt = stmt.where(Buyer.id != except_id)
    return db.session.scalars(stmt.order_by(Buyer.id).limit(1)).first()


def duplicate_conflict(existing: Buyer, *, email: str) -> Conflict:
    if existing.email == email:
        msg = _("A buyer with this e-mail address is already registered (buyer no. %(id)d).", id=existing.id)
        return Conflict(msg, fields={"email": [msg]})
    msg = _("This company is already registered in this country (buyer no. %(id)d).", id=existing.id)
    return Conflict(msg, fields={"company_name": [msg]})


def _check_not_duplicate(buyer_values: Mapping[str, Any], *, except_id: int | None = None) -> None:
    existing = find_duplicate(
        email=buyer_values["email"],
        company_key=v.company_key(buyer_values["company_name"]),
        country=buyer_values["country"],
        except_id=except_id,
    )
    if existing is not None:
        raise duplicate_conflict(existing, email=buyer_values["email"])


def _flush_unique() -> None:
    # The checks above read first; two staff saving the same buyer at once meet the unique constraints.
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        msg = _("Another buyer with this e-mail address, or this company in this country, was just registered.")
        raise Conflict(msg, fields={"email": [msg]}) from exc


def _require_staff(actor: User) -> None:
    from consultroom.buyers.policies import can_manage_buyers

    if not can_manage_buyers(actor):
        raise NotAllowed(_("You cannot change the buyer registry."))


def create_buyer(*, data: Mapping[str, Any], actor: User) -> Buyer:
    _require_staff(actor)
    clean = clean_buyer_data(data)
    _check_not_duplicate(clean)
    buyer = new_buyer(clean)
    db.session.add(buyer)
    _flush_unique()
    record(actor=actor, action="buyer.create", obj=buyer, after=snapshot(buyer))
    return buyer


def update_buyer(*, buyer: Buyer, data: Mapping[str, Any], actor: User, partial: bool = False) -> Buyer:
    _require_staff(actor)
    clean = clean_buyer_data(data, partial=partial)
    merged = {
        "email": clean.get("email", buyer.email),
        "company_name": clean.get("company_name", buyer.company_name),
        "country": clean.get("country", buyer.country),
    }
    meet_from, meet_to = clean.get("meet_from", buyer.meet_from), clean.get("meet_to", buyer.meet_to)
    if meet_from == meet_to:
        msg = _("The meeting hours must not start and end at the same time.")
        raise Invalid(msg, fields={"meet_to": [msg]})
    _check_not_duplicate(merged, except_id=buyer.id)
    before = snapshot(buyer)
    apply_clean(buyer, clean)
    _flush_unique()
    after = snapshot(buyer)
    if before != after:
        record(actor=actor, action="buyer.update", obj=buyer, before=before, after=after)
    return buyer


def set_buyer_active(*, buyer: Buyer, active: bool, actor: User) -> Buyer:
    """Deactivated buyers stay in the registry with their history; matching leaves them out."""
    _require_staff(actor)
    if buyer.active == active:
        return buyer
    buyer.active = active
    db.session.flush()
    record(
        actor=actor,
        action="buyer.reactivate" if active else "buyer.deactivate",
        obj=buyer,
        before={"active": not active},
        after={"active": active},
    )
    return buyer
