from __future__ import annotations

from sqlalchemy import Select, select

from consultroom.exports.models import ExportFile


def own_exports_stmt(user_id: int) -> Select:
    """A user's exports, newest first (content stays deferred)."""
    return (
        select(ExportFile)
        .where(ExportFile.requested_by_id == user_id)
        .order_by(ExportFile.created_at.desc(), ExportFile.id.desc())
    )
