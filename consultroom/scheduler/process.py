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
from consultroom.scheduler.runner import Outcome, retry_failed, run_job
from consultroom.timeutil import floor_minutes

log = logging.getLogger("consultroom.scheduler")


# How often a standby asks for the lock: the longest a failover waits before the timetable resumes.
LEADER_CHECK_SECONDS = 30


class Leadership:
    """Whether this process leads, and the takeover when it starts to.

    A standby's own timers say nothing about the timetable: its hourly and daily jobs would next
    fire an hour or a day after *it* started. So on becoming leader (at start, or when the old
    leader's lock goes) a process runs every job once for its current period; the job_runs row per
    (job, period) makes that a no-op for periods the old leader finished.
    """

    def __init__(self, app: Flask, lock: LeaderLock) -> None:
        self.app = app
        self.lock = lock
        self.leading = False
        self._said_standby = False
        # Jobs run on the executor's threads; the lock's one connection must not be used by two at once.
        self._guard = threading.Lock()

    def is_leader(self) -> bool:
        with self._guard:
            return self.lock.try_acquire() and self.lock.still_held()

    def check(self, now: datetime | None = None) -> list[Outcome]:
        """Call often. Returns what a takeover ran (empty when nothing changed)."""
        with self.app.app_context():
            if not self.is_leader():
                if self.leading or not self._said_standby:
                    # Once per change, so an operator (and the process tests) can see who stands by.
                    log.info("standby: another scheduler holds the lock; jobs not run here")
                    self._said_standby = True
                self.leading = False
                return []
            with self._guard:
                if self.leading:
                    return []
                self.leading = True
            log.warning("This scheduler is now the leader: running each job for its current period.")
            outcomes: list[Outcome] = []
            for name in list(JOBS):
                for outcome in [run_job(name, now=now), *retry_failed(name, now=now)]:
                    log.info("takeover: job %s period %s: %s %s", name, outcome.period, outcome.status, outcome.detail)
                    outcomes.append(outcome)
            db.session.remove()
            return outcomes


def build_scheduler(app: Flask) -> tuple[BlockingScheduler, LeaderLock]:
    with app.app_context():
        lock = LeaderLock(db.engine)
    leadership = Leadership(app, lock)
    scheduler = BlockingScheduler(
        timezone=UTC,
        # A tick delayed (busy machine, a long job) still runs within an hour, once (coalesce).
        job_defaults={"coalesce": True, "misfire_grace_time": 3600, "max_instances": 1},
    )

    def tick(name: str) -> None:
        leadership.check()
        with app.app_context():
            if not leadership.leading:
                log.info("standby: another scheduler holds the lock; %s not run here", name)
                return
            for outcome in [run_job(name), *retry_failed(name)]:
                log.info("job %s period %s: %s %s", name, outcome.period, outcome.status, outcome.detail)
            db.session.remove()

    now = datetime.now(UTC)
    for spec in JOBS.values():
        # Ticks on the period boundaries that run_job keys its periods by (floor_minutes).
        trigger = (
            CronTrigger(minute=f"*/{spec.every_minutes}")
            if spec.every_minutes < 60
            else IntervalTrigger(minutes=spec.every_minutes, start_date=floor_minutes(now, spec.every_minutes))
        )
        scheduler.add_job(tick, trigger, args=[spec.name], id=spec.name, name=spec.name)
    # At start and every LEADER_CHECK_SECONDS: the process that becomes leader catches up at once.
    scheduler.add_job(
        leadership.check, IntervalTrigger(seconds=LEADER_CHECK_SECONDS), id="leadership", next_run_time=now
    )
    scheduler.leadership = leadership  # type: ignore[attr-defined] - for run_forever's log and tests
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
