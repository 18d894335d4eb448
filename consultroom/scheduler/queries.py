"""Job runs the jobs page and the admin's home both report."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, func, select

from consultroom.extensions import db
from consultroom.scheduler.models import JobRun

# Failures older than this have been seen or superseded by later runs.
FAILURE_WINDOW = timedelta(days=7)


def recent_failures_stmt(now: datetime) -> Select:
    return select(JobRun).where(JobRun.status == "failed", JobRun.started_at >= now - FAILURE_WINDOW)


def last_runs(names: list[str]) -> dict[str, datetime]:
    """Each job's latest start, one index probe per job (ix_job_runs_job_started) in one statement;
    grouping every run would read a month of them (6,195 a day)."""
    if not names:
        return {}
    latest = [select(func.max(JobRun.started_at)).where(JobRun.job == name).scalar_subquery() for name in names]
    row = db.session.execute(select(*latest)).one()
    return {name: at for name, at in zip(names, row, strict=True) if at is not None}
