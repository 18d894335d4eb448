"""A scheduler that takes over takes over the timetable (issue 17, item 10): when the leader goes,
the standby runs every job whose period passed during the failover once, when it becomes leader,
not an hour or a day later on its own timers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.scheduler.models import JobRun
from consultroom.scheduler.process import build_scheduler
from consultroom.scheduler.registry import JOBS


def _runs() -> set[tuple[str, str]]:
    db.session.commit()
    return {(r.job, r.period) for r in db.session.scalars(select(JobRun))}


def _periods(now) -> set[tuple[str, str]]:
    return {(name, spec.period(now)) for name, spec in JOBS.items()}


def test_standby_becoming_leader_runs_each_job_for_the_missed_periods_once(app):
    leader, leader_lock = build_scheduler(app)
    standby, _standby_lock = build_scheduler(app)
    start = utcnow()
    try:
        first = leader.leadership.check(now=start)
        waiting = standby.leadership.check(now=start)
        # The leader dies: its lock goes with its process (here: released); a day passes.
        leader_lock.release()
        later = start + timedelta(days=1, hours=1)
        takeover = standby.leadership.check(now=later)
        again = standby.leadership.check(now=later + timedelta(seconds=30))
    finally:
        leader_lock.release()
        _standby_lock.release()

    assert {o.status for o in first} == {"succeeded"} and len(first) == len(JOBS)
    assert waiting == []
    assert sorted((o.status, o.period) for o in takeover) == sorted(("succeeded", p) for _n, p in _periods(later))
    assert again == []
    assert _runs() == _periods(start) | _periods(later)
    # Hourly and daily jobs, not only the every-minute ones, ran for the new periods at the takeover.
    assert {name for name, spec in JOBS.items() if spec.every_minutes >= 60} <= {
        name for name, period in _runs() if period != JOBS[name].period(start)
    }


def test_takeover_does_not_rerun_periods_the_old_leader_finished(app):
    leader, leader_lock = build_scheduler(app)
    standby, standby_lock = build_scheduler(app)
    now = utcnow()
    try:
        leader.leadership.check(now=now)
        leader_lock.release()
        takeover = standby.leadership.check(now=now + timedelta(seconds=1))
    finally:
        leader_lock.release()
        standby_lock.release()
    # A period the old leader ran is skipped; only a period that turned in the second between runs.
    old = _periods(now)
    assert len(takeover) == len(JOBS)
    assert [o.status for o in takeover] == [
        "skipped" if (name, o.period) in old else "succeeded" for name, o in zip(JOBS, takeover, strict=True)
    ]
    assert len(_runs()) == len(_periods(now) | _periods(now + timedelta(seconds=1)))


def test_scheduler_triggers_tick_on_period_boundaries(app):
    scheduler, lock = build_scheduler(app)
    lock.release()
    daily = [spec for spec in JOBS.values() if spec.every_minutes == 24 * 60]
    assert daily, "the app has daily jobs"
    for spec in daily:
        trigger = scheduler.get_job(spec.name).trigger
        assert trigger.start_date.hour == 0 and trigger.start_date.minute == 0
