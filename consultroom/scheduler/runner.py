"""Run a job once per period, however many processes try (DESIGN rule 3).

The guard is a unique (job, period) row in job_runs, claimed in its own committed transaction
before the work starts: whoever inserts it runs, every other process sees the row and skips.
A failed run may be retried for the same period; a run stuck in 'running' past STALE_AFTER
(its process died) may be taken over.
"""

from __future__ import annotations

import os
import socket
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.scheduler import jobs as _jobs  # noqa: F401 - registers the jobs
from consultroom.scheduler.models import JobRun
from consultroom.scheduler.registry import JOBS

STALE_AFTER = timedelta(minutes=30)
MAX_ATTEMPTS = 5
RETRY_WITHIN = timedelta(hours=2)


@dataclass(frozen=True)
class Outcome:
    status: str  # "succeeded", "failed", "skipped"
    period: str
    detail: str = ""


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def _claim(name: str, period: str, now: datetime) -> JobRun | None:
    try:
        run = JobRun(job=name, period=period, status="running", started_at=now, runner=runner_name())
        db.session.add(run)
        db.session.commit()
        return run
    except IntegrityError:
        db.session.rollback()
    existing = db.session.scalar(select(JobRun).where(JobRun.job == name, JobRun.period == period))
    if existing is None:
        return None
    retryable = (existing.status == "failed" and existing.attempts < MAX_ATTEMPTS) or (
        existing.status == "running" and existing.started_at < now - STALE_AFTER
    )
    if not retryable:
        return None
    # Compare-and-set on (status, attempts): of several processes retrying, one wins.
    result = db.session.execute(
        update(JobRun)
        .where(JobRun.id == existing.id, JobRun.status == existing.status, JobRun.attempts == existing.attempts)
        .values(status="running", attempts=existing.attempts + 1, started_at=now, runner=runner_name(), error=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    db.session.refresh(existing)
    return existing


def run_job(name: str, *, period: str | None = None, now: datetime | None = None) -> Outcome:
    spec = JOBS[name]
    now = now or utcnow()
    period = period or spec.period(now)
    run = _claim(name, period, now)
    if run is None:
        return Outcome("skipped", period, "already ran or running for this period")
    run_id = run.id
    try:
        detail = spec.func(now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        error = traceback.format_exc()[-4000:]
        db.session.execute(
            update(JobRun).where(JobRun.id == run_id).values(status="failed", finished_at=utcnow(), error=error)
        )
        db.session.commit()
        return Outcome("failed", period, error.strip().splitlines()[-1])
    db.session.execute(
        update(JobRun)
        .where(JobRun.id == run_id)
        .values(status="succeeded", finished_at=utcnow(), result=(detail or "")[:2000])
    )
    db.session.commit()
    return Outcome("succeeded", period, detail)


def retry_failed(name: str, *, now: datetime | None = None) -> list[Outcome]:
    """Rerun recent failed periods of a job (a failed job is retried, not forgotten)."""
    now = now or utcnow()
    periods = db.session.scalars(
        select(JobRun.period).where(
            JobRun.job == name,
            JobRun.status == "failed",
            JobRun.attempts < MAX_ATTEMPTS,
            JobRun.started_at > now - RETRY_WITHIN,
        )
    ).all()
    return [run_job(name, period=p, now=now) for p in periods]
