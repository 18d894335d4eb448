from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from consultroom.db import utcnow
from consultroom.extensions import db

STATUSES = ("queued", "running", "done", "failed")


class ExportFile(db.Model):
    """One export asked for by a user: its scope (params), then its file once the job wrote it (in
    export_file_chunks; `size` is the whole file's length)."""

    __tablename__ = "export_files"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status_known"),
        # The job's "next queued, oldest first" (and its stale running ones) without a scan.
        Index("ix_export_files_status_created", "status", "created_at", "id"),
        # A user's own list, newest first.
        Index("ix_export_files_requested_by_created", "requested_by_id", "created_at", "id"),
        # The clean-up of expired files.
        Index("ix_export_files_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(String(255), default="")
    size: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]


class ExportFileChunk(db.Model):
    """One piece (at most CHUNK_SIZE bytes) of a prepared file, in order by seq.

    A file is kept in pieces so that neither the job storing it nor the download sending it ever holds
    more than one piece in memory (a ten-year survey CSV is 75 MB). The database deletes the pieces
    with their export (ON DELETE CASCADE), so every delete of export_files (expiry, erasure, a user's
    removal) takes them along without knowing of them."""

    __tablename__ = "export_file_chunks"

    export_id: Mapped[int] = mapped_column(ForeignKey("export_files.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
