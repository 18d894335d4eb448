from __future__ import annotations

from consultroom.accounts.models import User


def can_match(user: User) -> bool:
    """Staff and admins match bookings and run round proposals; SMEs never see buyers' data."""
    return bool(user.is_authenticated and user.is_staff)


def can_edit_weights(user: User) -> bool:
    """The scoring weights are a program setting: admins only."""
    return bool(user.is_authenticated and user.is_admin)
