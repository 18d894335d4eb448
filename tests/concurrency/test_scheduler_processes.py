"""Real scheduler processes (`flask consultroom scheduler`) against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from consultroom import ROOT
from consultroom.audit.models import AuditEntry
from consultroom.extensions import db
from consultroom.notifications.models import OutboxMail
from consultroom.rounds.models import Round
from consultroom.scheduler.models import JobRun
from tests.conftest import other_processes_write
from tests.factories import make_round, make_sme_with_company


def _start_scheduler(log_path=None) -> subprocess.Popen:
    other_processes_write()
    env = {
        **os.environ,
        "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "CONSULTROOM_CONFIG": "development",
        "MAIL_DELIVERY_ENABLED": "0",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "consultroom", "scheduler"],
        cwd=ROOT,
        env=env,
        stdout=log_path.open("w") if log_path else subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(procs: list[subprocess.Popen]) -> list[str]:
    logs = []
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            out, _ = p.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        logs.append(out)
    return logs


def _wait_for(predicate, timeout: float = 240.0) -> bool:
    # A generous deadline costs nothing when the condition comes; on a machine loaded to twenty
    # runnable processes three schedulers took over a minute just to start (CI runs three suites at once).
    deadline = time.time() + timeout
    while time.time() < deadline:
        db.session.rollback()  # a fresh snapshot each look
        if predicate():
            return True
        time.sleep(0.3)
    return False


def _open_count() -> int:
    return db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "round.open"))


def _ticked(log: str, job: str) -> bool:
    """Whether a scheduler's log shows that it ran `job` as leader or found itself a standby."""
    return f"job {job} period" in log or "standby: another scheduler holds the lock" in log


def test_three_schedulers_started_together_open_the_round_once(tmp_path, every_table):
    user, _company = make_sme_with_company()
    rnd = make_round(status="draft", opens_at=datetime.now(UTC) - timedelta(seconds=5))
    round_id = rnd.id
    db.session.commit()
    paths = [tmp_path / f"scheduler{i}.log" for i in range(3)]
    procs = [_start_scheduler(path) for path in paths]
    try:
        opened = _wait_for(lambda: db.session.get(Round, round_id).status == "open")
        # Every process has started its timetable (the standbys too), so a second opening had its chance.
        all_ticked = _wait_for(lambda: all(_ticked(p.read_text(), "open_rounds") for p in paths))
        db.session.rollback()
        # Counted while all three run: when they are stopped one by one, a standby may rightly take over.
        runners = set(db.session.scalars(select(JobRun.runner).where(JobRun.job == "open_rounds")))
    finally:
        _stop(procs)
    logs = [p.read_text() for p in paths]
    assert opened, logs
    assert all_ticked, logs
    db.session.rollback()
    assert _open_count() == 1
    mails = db.session.scalars(select(OutboxMail).where(OutboxMail.template == "round_open")).all()
    assert [m.to_addr for m in mails] == [user.email]
    assert len(runners) == 1, "one leader ran the jobs; the others stood by"
    assert sum("standby: another scheduler holds the lock" in log for log in logs) == 2, logs


def test_scheduler_down_across_opening_time_opens_once_on_restart(tmp_path, every_table):
    # The window opened two hours ago while no scheduler was running.
    rnd = make_round(status="draft", opens_at=datetime.now(UTC) - timedelta(hours=2))
    round_id = rnd.id
    db.session.commit()
    first = [_start_scheduler()]
    try:
        opened = _wait_for(lambda: db.session.get(Round, round_id).status == "open")
    finally:
        logs = _stop(first)
    assert opened, logs
    log = tmp_path / "second.log"
    second = [_start_scheduler(log)]
    try:
        # The restarted scheduler runs open_rounds at once (skipped if still in the same minute).
        ran_again = _wait_for(lambda: "job open_rounds period" in log.read_text())
    finally:
        _stop(second)
    assert ran_again, log.read_text()
    db.session.rollback()
    assert _open_count() == 1
    assert db.session.scalar(select(func.count(Round.id))) >= 1
