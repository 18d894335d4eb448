"""The scheduler process: `flask consultroom scheduler` (APScheduler 3.x, one per deployment)."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from consultroom.extensions import db
from consultroom.scheduler.leader import LeaderLock
from consultroom.scheduler.registry import JOBS
from consultroom.scheduler.runner import retry_failed, run_job

log = logging.getLogger("consultroom.scheduler")


def build_scheduler(app: Flask) -> tuple[BlockingScheduler, LeaderLock]:
    with app.app_context():
        lock = LeaderLock(db.engine)
    scheduler = BlockingScheduler(
        timezone=UTC,
        # A tick delayed (busy machine, a long job) still runs within an hour, once (coalesce).
        job_defaults={"coalesce": True, "misfire_grace_time": 3600, "max_instances": 1},
    )

    # Jobs run on the executor's threads; the lock's one connection must not be used by two at once.
    guard = threading.Lock()

    def is_leader() -> bool:
        with guard:
            return lock.try_acquire() and lock.still_held()

    def tick(name: str) -> None:
        with app.app_context():
            if not is_leader():
                log.info("standby: another scheduler holds the lock; %s not run here", name)
                return
            for outcome in [run_job(name), *retry_failed(name)]:
                log.info("job %s period %s: %s %s", name, outcome.period, outcome.status, outcome.detail)
            db.session.remove()

    now = datetime.now(UTC)
    for spec in JOBS.values():
        trigger = (
            CronTrigger(minute=f"*/{spec.every_minutes}")
            if spec.every_minutes < 60
            else IntervalTrigger(minutes=spec.every_minutes)
        )
        # next_run_time=now: on start, every job runs at once, doing what was missed while down.
        scheduler.add_job(tick, trigger, args=[spec.name], id=spec.name, name=spec.name, next_run_time=now)
    return scheduler, lock


def run_forever(app: Flask) -> None:
    scheduler, lock = build_scheduler(app)

    def stop(_signum, _frame):
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        scheduler.start()
    finally:
        lock.release()
