"""Job runs the jobs page and the admin's home both report."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, select

from consultroom.scheduler.models import JobRun

# Failures older than this have been seen or superseded by later runs.
FAILURE_WINDOW = timedelta(days=7)


def recent_failures_stmt(now: datetime) -> Select:
    return select(JobRun).where(JobRun.status == "failed", JobRun.started_at >= now - FAILURE_WINDOW)
