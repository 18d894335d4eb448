"""Who may see program figures: staff read reports, admins set targets, anyone reads the disclosure."""

from __future__ import annotations

from consultroom.accounts.models import User


def can_see_reports(user: User) -> bool:
    return bool(user.is_authenticated and user.is_staff)


def can_set_targets(user: User) -> bool:
    return bool(user.is_authenticated and user.is_admin)


def can_see_disclosure(user: User) -> bool:
    """The public page: published targets and aggregate results, no company or person in them."""
    return True
