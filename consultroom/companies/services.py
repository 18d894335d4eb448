"""Company rules: one validation for the UI and the API, ownership, audit of staff edits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from consultroom import schema_fields as sf
from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.companies.models import Company, CompanyCountry, CompanyHsCode, CompanyLanguage
from consultroom.companies.schemas import LIST_FIELDS, TEXT_FIELDS, company_snapshot, load_company
from consultroom.errors import Conflict, NotAllowed
from consultroom.extensions import db

# The fields, their limits and messages are declared once, in companies.schemas.
ALL_FIELDS = ("business_number", *TEXT_FIELDS, *LIST_FIELDS)
MAX_LIST = sf.MAX_LIST


def clean_company_data(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate and normalise company fields. Raises Invalid naming every bad field at once."""
    return load_company(data, partial=partial)


def snapshot(company: Company) -> dict[str, Any]:
    return company_snapshot.dump(company)


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
