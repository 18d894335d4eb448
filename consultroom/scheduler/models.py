from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consultroom.db import utcnow
from consultroom.extensions import db


class JobRun(db.Model):
    """One row per job and period: the unique key is what makes a job run once per period (rule 3)."""

    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("job", "period", name="uq_job_runs_job_period"),
        CheckConstraint("status IN ('running', 'succeeded', 'failed')", name="status_known"),
        # The jobs page: the latest runs, each job's last run, the week's failures.
        Index("ix_job_runs_started", "started_at", "id"),
        Index("ix_job_runs_job_started", "job", "started_at"),
        Index("ix_job_runs_status_started", "status", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(60))  # found by ix_job_runs_job_started and the unique key
    period: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default="running")
    attempts: Mapped[int] = mapped_column(default=1)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    runner: Mapped[str] = mapped_column(String(100), default="")  # host:pid
    result: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
