from __future__ import annotations

from sqlalchemy import Select, select

from consultroom.exports.models import ExportFile


def own_exports_stmt(user_id: int, *columns) -> Select:
    """A user's exports (or `columns` of them), newest first (their files are in export_file_chunks)."""
    return (
        select(*(columns or (ExportFile,)))
        .where(ExportFile.requested_by_id == user_id)
        .order_by(ExportFile.created_at.desc(), ExportFile.id.desc())
    )
