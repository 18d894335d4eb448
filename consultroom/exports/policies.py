from __future__ import annotations

from datetime import datetime

from consultroom.accounts.models import User
from consultroom.exports.models import ExportFile


def can_use_exports(user: User) -> bool:
    """Staff prepare the program's large exports (admins are staff too)."""
    return bool(user.is_authenticated and user.is_staff)


def can_download(user: User, export: ExportFile, *, now: datetime) -> bool:
    """A prepared file is its requester's alone, and only while it is kept."""
    return (
        export.requested_by_id == user.id
        and export.status == "done"
        and export.expires_at is not None
        and export.expires_at > now
    )
