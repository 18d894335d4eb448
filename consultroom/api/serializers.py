"""JSON shapes of API objects; consultroom/api/openapi.py documents the same shapes."""

from __future__ import annotations

from typing import Any

from consultroom.accounts.models import ApiToken, User
from consultroom.api.http import iso
from consultroom.companies.models import Company
from consultroom.companies.services import LIST_FIELDS, TEXT_FIELDS


def company_json(company: Company) -> dict[str, Any]:
    data: dict[str, Any] = {"id": company.id, "business_number": company.business_number}
    data.update({name: getattr(company, name) for name in TEXT_FIELDS})
    data.update({name: list(getattr(company, name)) for name in LIST_FIELDS})
    data["created_at"] = iso(company.created_at)
    data["updated_at"] = iso(company.updated_at)
    return data


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "locale": user.locale,
        "timezone": user.timezone,
        "company_id": user.company_id,
    }


def token_json(token: ApiToken, *, current_id: int | None = None) -> dict[str, Any]:
    """A token as listed: never the secret nor its hash."""
    return {
        "id": token.id,
        "prefix": token.prefix,
        "name": token.name,
        "created_at": iso(token.created_at),
        "expires_at": iso(token.expires_at),
        "last_used_at": iso(token.last_used_at),
        "revoked_at": iso(token.revoked_at),
        "current": token.id == current_id,
    }
