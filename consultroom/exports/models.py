from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from consultroom.db import utcnow
from consultroom.extensions import db

STATUSES = ("queued", "running", "done", "failed")


class ExportFile(db.Model):
    """One export asked for by a user: its scope (params), then its file once the job wrote it.

    `content` is deferred: the exports page lists rows without reading megabytes of files."""

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
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    size: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
