"""Who may do what with accounts. Plain predicates, checked by views and the API."""

from __future__ import annotations

from consultroom.accounts.models import User


def can_manage_users(user: User) -> bool:
    return bool(user.is_authenticated and user.is_admin)


def can_see_outbox(user: User) -> bool:
    return bool(user.is_authenticated and user.is_admin)


def can_read_audit(user: User) -> bool:
    return bool(user.is_authenticated and user.is_staff)
