from __future__ import annotations

from consultroom.accounts.models import User
from consultroom.companies.models import Company


def can_list_companies(user: User) -> bool:
    return bool(user.is_authenticated and user.is_staff)


def can_view_company(user: User, company: Company) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_staff or (user.is_sme and user.company_id == company.id)


def can_edit_company(user: User, company: Company) -> bool:
    return can_view_company(user, company)


def can_create_company(user: User) -> bool:
    """An SME user without a company registers one (staff register companies through an SME account)."""
    return bool(user.is_authenticated and user.is_sme and user.company_id is None and user.email_confirmed)
