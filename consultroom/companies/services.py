"""Company rules: one validation for the UI and the API, ownership, audit of staff edits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.companies import validation as v
from consultroom.companies.models import Company, CompanyCountry, CompanyHsCode, CompanyLanguage
from consultroom.errors import Conflict, Invalid, NotAllowed
from consultroom.extensions import db
from consultroom.web_address import normalize_website

TEXT_FIELDS: dict[str, tuple[int, bool]] = {
    # name: (max length, required)
    "name_ko": (200, True),
    "name_en": (200, False),
    "representative": (100, True),
    "address": (300, False),
    "industry": (100, False),
    "products": (4000, False),
    "products_en": (4000, False),
    "summary_en": (2000, False),
    "address_en": (300, False),
    "website": (300, False),
    "contact_name": (100, False),
    "contact_email": (254, False),
    "contact_phone": (40, False),
}
# What buyers read (companies.profile): written in English, so no Hangul.
ENGLISH_TEXT = ("name_en", "products_en", "summary_en", "address_en")
NAME_FIELDS = ("name_ko", "name_en")
LIST_FIELDS = ("hs_codes", "export_markets", "target_countries", "languages")
ALL_FIELDS = ("business_number", *TEXT_FIELDS, *LIST_FIELDS)
MAX_LIST = 30


def clean_company_data(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate and normalise company fields. Raises Invalid naming every bad field at once."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    unknown = sorted(set(data) - set(ALL_FIELDS))
    for name in unknown:
        err(name, _("Unknown field."))

    if "business_number" in data or not partial:
        raw = data.get("business_number")
        if not isinstance(raw, str) or not raw.strip():
            err("business_number", _("This field is required."))
        else:
            number = v.normalize_business_number(raw)
            if not v.business_number_ok(number):
                err(
                    "business_number",
                    _("Not a valid business registration number (10 digits with a correct check digit)."),
                )
            clean["business_number"] = number

    for name, (max_len, required) in TEXT_FIELDS.items():
        if name not in data and partial:
            continue
        value = data.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            err(name, _("Must be text."))
            continue
        value = value.strip()
        if required and not value:
            err(name, _("This field is required."))
        elif len(value) > max_len:
            err(name, _("Use at most %(n)d characters.", n=max_len))
        clean[name] = value

    for name in ENGLISH_TEXT:
        if clean.get(name) and v.has_hangul(clean[name]) and name not in errors:
            err(name, _("Write this in English: it contains Korean characters."))
    for name in NAME_FIELDS:
        # "Co., Ltd.." in a mail (issue 13): a name ends in at most one period.
        if clean.get(name, "").endswith("..") and name not in errors:
            err(name, _("A name ends in at most one period."))

    if clean.get("contact_email"):
        from email_validator import EmailNotValidError, validate_email

        try:
            clean["contact_email"] = validate_email(clean["contact_email"], check_deliverability=False).normalized
        except EmailNotValidError:
            err("contact_email", _("Not a valid e-mail address."))
    if clean.get("website"):
        clean["website"], problem = normalize_website(clean["website"])
        if problem:
            err("website", problem)

    for name in LIST_FIELDS:
        if name not in data and partial:
            continue
        raw = data.get(name)
        if raw is not None and not isinstance(raw, str | list):
            err(name, _("Must be a list of codes."))
            continue
        if isinstance(raw, list) and not all(isinstance(x, str) for x in raw):
            err(name, _("Must be a list of codes."))
            continue
        codes = v.split_codes(raw)
        if len(codes) > MAX_LIST:
            err(name, _("At most %(n)d entries.", n=MAX_LIST))
            continue
        if name == "hs_codes":
            codes = [v.normalize_hs_code(c) for c in codes]
            bad = [c for c in codes if not v.hs_code_ok(c)]
            if bad:
                err(name, _("Not a valid 6-digit HS code: %(codes)s", codes=", ".join(bad)))
        elif name == "languages":
            codes = [c.lower() for c in codes]
            bad = [c for c in codes if not v.language_ok(c)]
            if bad:
                err(name, _("Not an ISO 639-1 language code: %(codes)s", codes=", ".join(bad)))
        else:
            codes = [c.upper() for c in codes]
            bad = [c for c in codes if not v.country_ok(c)]
            if bad:
                err(name, _("Not an ISO 3166 country code: %(codes)s", codes=", ".join(bad)))
        clean[name] = list(dict.fromkeys(codes))  # unique, in the given order

    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    return clean


def snapshot(company: Company) -> dict[str, Any]:
    data: dict[str, Any] = {"business_number": company.business_number}
    data.update({name: getattr(company, name) for name in TEXT_FIELDS})
    data.update({name: list(getattr(company, name)) for name in LIST_FIELDS})
    return data


def _apply(company: Company, clean: dict[str, Any]) -> None:
    for name in ("business_number", *TEXT_FIELDS):
        if name in clean:
            setattr(company, name, clean[name])
    if "hs_codes" in clean:
        company.hs_code_rows = [CompanyHsCode(code=c) for c in clean["hs_codes"]]
    if "export_markets" in clean or "target_countries" in clean:
        export = clean.get("export_markets", company.export_markets)
        target = clean.get("target_countries", company.target_countries)
        company.country_rows = [CompanyCountry(kind="export", code=c) for c in export] + [
            CompanyCountry(kind="target", code=c) for c in target
        ]
    if "languages" in clean:
        company.language_rows = [CompanyLanguage(code=c) for c in clean["languages"]]


def _check_number_free(number: str, *, except_id: int | None = None) -> None:
    other = db.session.scalar(select(Company.id).where(Company.business_number == number))
    if other is not None and other != except_id:
        msg = _(
            "A company with this business registration number is already registered. "
            "Ask the company's account holder or the program staff to add you."
        )
        raise Conflict(msg, fields={"business_number": [msg]})


def create_company(*, owner: User, data: Mapping[str, Any], actor: User) -> Company:
    """An SME user registers its company and becomes its owner."""
    from consultroom.companies.policies import can_create_company

    if not can_create_company(owner) or (actor.id != owner.id and not actor.is_staff):
        raise NotAllowed(_("You cannot register a company with this account."))
    clean = clean_company_data(data)
    _check_number_free(clean["business_number"])
    company = Company()
    _apply(company, clean)
    db.session.add(company)
    db.session.flush()
    owner.company_id = company.id
    owner.company = company
    record(actor=actor, action="company.create", obj=company, after=snapshot(company))
    return company


def update_company(*, company: Company, data: Mapping[str, Any], actor: User, partial: bool = False) -> Company:
    from consultroom.companies.policies import can_edit_company

    if not can_edit_company(actor, company):
        raise NotAllowed(_("You cannot edit this company."))
    clean = clean_company_data(data, partial=partial)
    if "business_number" in clean:
        _check_number_free(clean["business_number"], except_id=company.id)
    before = snapshot(company)
    _apply(company, clean)
    db.session.flush()
    after = snapshot(company)
    if before != after:
        record(actor=actor, action="company.update", obj=company, before=before, after=after)
    return company
