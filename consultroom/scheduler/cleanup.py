"""The scheduler's own clean-up: its runs are a working record, not history. Four jobs run every
minute (6,195 runs a day, 2.3 million a year), and the jobs page and the once-per-period guard only
ever read recent ones, so runs older than RUN_KEEP_DAYS are deleted daily."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete

from consultroom.extensions import db
from consultroom.scheduler.models import JobRun
from consultroom.scheduler.registry import job

RUN_KEEP_DAYS = 30


@job(
    "prune_job_runs",
    title=_l("Job run clean-up"),
    every_minutes=24 * 60,
    description=_l("Delete the scheduler's runs older than 30 days"),
)
def prune_job_runs(now: datetime) -> str:
    # A run still 'running' that old belongs to a process long gone; its period passed with it.
    result = db.session.execute(delete(JobRun).where(JobRun.started_at < now - timedelta(days=RUN_KEEP_DAYS)))
    return f"deleted {result.rowcount}"
