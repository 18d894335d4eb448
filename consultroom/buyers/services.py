"""Buyer rules: one validation for the pages, the import and the API; duplicates refused; audit of changes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.buyers import validation as v
from consultroom.buyers.models import SIZES, Buyer, BuyerInterest, BuyerLanguage
from consultroom.companies.validation import split_codes
from consultroom.errors import Conflict, Invalid, NotAllowed
from consultroom.extensions import db
from consultroom.languages import FALLBACK, parse_party_language
from consultroom.web_address import normalize_website

TEXT_FIELDS: dict[str, tuple[int, bool]] = {
    # name: (max length, required)
    "company_name": (200, True),
    "contact_name": (100, False),
    "email": (254, True),
    "phone": (40, False),
    "website": (300, False),
    "source": (100, False),
    "keywords": (2000, False),
    "notes": (4000, False),
}
LIST_FIELDS = ("languages", "interest_codes")
OTHER_FIELDS = ("country", "timezone", "preferred_language", "size", "meet_from", "meet_to", "meet_days")
ALL_FIELDS = (*TEXT_FIELDS, *LIST_FIELDS, *OTHER_FIELDS)
MAX_LIST = 30
DEFAULT_MEET_FROM = time(9, 0)
DEFAULT_MEET_TO = time(18, 0)


def _text(value: Any) -> str | None:
    """Strings as given; None for anything else (numbers come as text from the forms and the import)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else None


def clean_buyer_data(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate and normalise buyer fields. Raises Invalid naming every bad field at once.

    With partial=True only the fields given are checked and returned (API PATCH). A blank time zone
    is inferred from the country when the country has one zone (or one main zone).
    """
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    def given(name: str) -> bool:
        return name in data or not partial

    for name in sorted(set(data) - set(ALL_FIELDS)):
        err(name, _("Unknown field."))

    for name, (max_len, required) in TEXT_FIELDS.items():
        if not given(name):
            continue
        value = _text(data.get(name))
        if value is None:
            err(name, _("Must be text."))
            continue
        value = v.collapse(value) if name not in ("keywords", "notes") else value.strip()
        if required and not value:
            err(name, _("This field is required."))
        elif len(value) > max_len:
            err(name, _("Use at most %(n)d characters.", n=max_len))
        clean[name] = value

    if clean.get("email"):
        from email_validator import EmailNotValidError, validate_email

        try:
            clean["email"] = validate_email(clean["email"], check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            err("email", _("Not a valid e-mail address."))

    if clean.get("website"):
        clean["website"], problem = normalize_website(clean["website"])
        if problem:
            err("website", problem)

    if given("preferred_language"):
        raw = _text(data.get("preferred_language"))
        if raw is None:
            err("preferred_language", _("Must be text."))
        elif not raw.strip():
            clean["preferred_language"] = FALLBACK  # mails and pages fall back to English
        elif (code := parse_party_language(raw)) is None:
            err(
                "preferred_language",
                _("Not a language buyers can read mails in: %(value)s", value=raw.strip()),
            )
        else:
            clean["preferred_language"] = code

    if given("country"):
        raw = _text(data.get("country"))
        if raw is None:
            err("country", _("Must be text."))
        elif not raw.strip():
            err("country", _("This field is required."))
        else:
            code = v.parse_country(raw)
            if code is None:
                err("country", _("Not a known country: %(value)s", value=raw.strip()))
            else:
                clean["country"] = code

    if given("timezone"):
        raw = _text(data.get("timezone"))
        if raw is None:
            err("timezone", _("Must be text."))
        elif raw.strip():
            zone = v.parse_timezone(raw)
            if zone is None:
                err("timezone", _("Not an IANA time zone such as Europe/Berlin: %(value)s", value=raw.strip()))
            else:
                clean["timezone"] = zone
        elif clean.get("country") and (zone := v.infer_timezone(clean["country"])):
            clean["timezone"] = zone
        elif "country" not in errors:
            err("timezone", _("Choose the buyer's time zone (it cannot be told from the country)."))

    if given("size"):
        raw = _text(data.get("size"))
        size = v.parse_size(raw) if raw is not None else None
        if size is None or size not in SIZES:
            err("size", _("Choose small, medium, large or unknown."))
        else:
            clean["size"] = size

    for name, default in (("meet_from", DEFAULT_MEET_FROM), ("meet_to", DEFAULT_MEET_TO)):
        if not given(name):
            continue
        raw = data.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            clean[name] = default
            continue
        parsed = v.parse_time(raw) if isinstance(raw, str | time) else None
        if parsed is None:
            err(name, _("Not a time of day such as 09:00."))
        else:
            clean[name] = parsed
    if "meet_from" in clean and "meet_to" in clean and clean["meet_from"] == clean["meet_to"]:
        err("meet_to", _("The meeting hours must not start and end at the same time."))

    if given("meet_days"):
        raw = data.get("meet_days")
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            clean["meet_days"] = [0, 1, 2, 3, 4]
        elif raw == []:
            err("meet_days", _("Choose at least one day."))
        else:
            days = v.parse_days(raw) if isinstance(raw, str | list) else None
            if days is None:
                err("meet_days", _("Give weekdays such as Mon-Fri or 0,1,2 (0 is Monday)."))
            else:
                clean["meet_days"] = days

    for name in LIST_FIELDS:
        if not given(name):
            continue
        raw = data.get(name)
        if raw is not None and not (
            isinstance(raw, str) or (isinstance(raw, list) and all(isinstance(x, str) for x in raw))
        ):
            err(name, _("Must be a list of codes."))
            continue
        codes = split_codes(raw) if name == "interest_codes" else _split_languages(raw)
        if len(codes) > MAX_LIST:
            err(name, _("At most %(n)d entries.", n=MAX_LIST))
            continue
        if name == "interest_codes":
            codes = [v.normalize_interest_code(c) for c in codes]
            bad = [c for c in codes if not v.interest_code_ok(c)]
            if bad:
                err(name, _("Not an HS code of 2, 4 or 6 digits: %(codes)s", codes=", ".join(bad)))
        else:
            parsed = [(c, v.parse_language(c)) for c in codes]
            bad = [c for c, code in parsed if code is None]
            if bad:
                err(name, _("Not a known language: %(codes)s", codes=", ".join(bad)))
            codes = [code for _c, code in parsed if code]
        clean[name] = list(dict.fromkeys(codes))  # unique, in the given order

    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    return clean


def _split_languages(raw: str | list[str] | None) -> list[str]:
    # Language names may contain spaces ("Brazilian Portuguese"), so only commas and the like separate.
    if raw is None:
        return []
    parts = re.split(r"[,;/]+", raw) if isinstance(raw, str) else raw
    return [p.strip() for p in parts if p and p.strip()]


def snapshot(buyer: Buyer) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(buyer, name) for name in TEXT_FIELDS}
    data.update(
        country=buyer.country,
        timezone=buyer.timezone,
        preferred_language=buyer.preferred_language,
        size=buyer.size,
        meet_from=buyer.meet_from.strftime("%H:%M") if buyer.meet_from else None,
        meet_to=buyer.meet_to.strftime("%H:%M") if buyer.meet_to else None,
        meet_days=list(buyer.meet_days or []),
        languages=list(buyer.languages),
        interest_codes=list(buyer.interest_codes),
        active=buyer.active,
    )
    return data


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
