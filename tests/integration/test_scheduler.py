from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from consultroom.audit.models import AuditEntry
from consultroom.bookings.models import ReminderSent
from consultroom.bookings.services import book_slot
from consultroom.extensions import db
from consultroom.notifications.models import OutboxMail
from consultroom.rounds.models import Round, Slot
from consultroom.rounds.services import get_settings
from consultroom.scheduler.models import JobRun
from consultroom.scheduler.registry import JOBS, job
from consultroom.scheduler.runner import retry_failed, run_job
from tests.factories import make_round, make_sme_with_company

CALLS: list[str] = []


@job("test_counter", every_minutes=5, description="test job")
def _counter(now: datetime) -> str:
    CALLS.append(now.isoformat())
    return "counted"


FAIL_ONCE = {"left": 0}


@job("test_flaky", every_minutes=1, description="fails while FAIL_ONCE['left'] > 0")
def _flaky(now: datetime) -> str:
    if FAIL_ONCE["left"] > 0:
        FAIL_ONCE["left"] -= 1
        raise RuntimeError("smtp down")
    return "fine"


def test_run_job_runs_once_per_period():
    CALLS.clear()
    now = datetime(2026, 3, 2, 1, 7, tzinfo=UTC)
    first = run_job("test_counter", now=now)
    again = run_job("test_counter", now=now + timedelta(minutes=2))  # same 5-minute period
    later = run_job("test_counter", now=now + timedelta(minutes=5))
    assert (first.status, again.status, later.status) == ("succeeded", "skipped", "succeeded")
    assert first.period == "2026-03-02T01:05Z"
    assert len(CALLS) == 2
    assert db.session.scalar(select(func.count(JobRun.id)).where(JobRun.job == "test_counter")) == 2


def test_run_job_from_many_threads_at_once_runs_once(app):
    CALLS.clear()
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    barrier = threading.Barrier(12)
    outcomes: list[str] = []

    def worker():
        with app.app_context():
            barrier.wait(timeout=30)
            outcomes.append(run_job("test_counter", now=now).status)
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["skipped"] * 11 + ["succeeded"]
    assert len(CALLS) == 1


def test_failed_job_is_recorded_and_retried_for_its_period():
    FAIL_ONCE["left"] = 1
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    failed = run_job("test_flaky", now=now)
    assert failed.status == "failed" and "smtp down" in failed.detail
    run = db.session.scalar(select(JobRun).where(JobRun.job == "test_flaky"))
    assert run.status == "failed" and "RuntimeError" in run.error
    retried = retry_failed("test_flaky", now=now + timedelta(minutes=1))
    assert [o.status for o in retried] == ["succeeded"]
    db.session.refresh(run)
    assert (run.status, run.attempts) == ("succeeded", 2)


def test_open_rounds_generates_from_settings_once_and_opens_on_time():
    settings = get_settings()
    settings.months = [3]
    db.session.commit()
    # 2027-03: the 2nd Wednesday is 10 March; booking opens 21 days before at 10:00 Seoul (01:00 UTC).
    before = datetime(2027, 2, 17, 0, 59, tzinfo=UTC)
    run_job("open_rounds", now=before)
    rnd = db.session.scalar(select(Round))
    assert rnd.day == date(2027, 3, 10)
    assert rnd.status == "draft"
    assert rnd.booking_opens_at == datetime(2027, 2, 17, 1, 0, tzinfo=UTC)
    slots = db.session.scalar(select(func.count(Slot.id)))
    assert slots == 7 * 4  # 10:00-17:00, 50 + 10 minutes, 4 booths
    run_job("open_rounds", now=before + timedelta(minutes=1))
    db.session.refresh(rnd)
    assert rnd.status == "open"
    run_job("open_rounds", now=before + timedelta(minutes=2))
    assert db.session.scalar(select(func.count(Round.id))) == 1
    opens = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "round.open"))
    assert opens == 1


def test_open_rounds_announces_to_each_sme_once():
    user, _company = make_sme_with_company()
    make_round(status="draft", opens_at=datetime.now(UTC) - timedelta(minutes=5))
    db.session.commit()
    now = datetime.now(UTC)
    run_job("open_rounds", now=now)
    run_job("open_rounds", now=now + timedelta(minutes=1))
    mails = db.session.scalars(select(OutboxMail).where(OutboxMail.template == "round_open")).all()
    assert [m.to_addr for m in mails] == [user.email]


def test_close_booking_closes_when_window_ends():
    now = datetime.now(UTC)
    rnd = make_round(status="open", opens_at=now - timedelta(days=5), closes_at=now - timedelta(minutes=1))
    db.session.commit()
    assert run_job("close_booking", now=now).status == "succeeded"
    db.session.refresh(rnd)
    assert rnd.status == "closed"


def test_reminders_sent_once_per_booking_and_kind():
    user, company = make_sme_with_company()
    rnd = make_round()
    slot = rnd.slots[0]
    book_slot(company=company, slot=slot, request={"products": "김"}, actor=user)
    db.session.commit()
    day_before = slot.starts_at - timedelta(hours=23)
    run_job("send_reminders", now=day_before)
    run_job("send_reminders", now=day_before + timedelta(minutes=5))
    hour_before = slot.starts_at - timedelta(minutes=50)
    run_job("send_reminders", now=hour_before)
    run_job("send_reminders", now=hour_before + timedelta(minutes=5))
    kinds = sorted(r.kind for r in db.session.scalars(select(ReminderSent)))
    assert kinds == ["day", "hour"]
    templates = sorted(
        m.template for m in db.session.scalars(select(OutboxMail).where(OutboxMail.template.like("reminder_%")))
    )
    assert templates == ["reminder_day", "reminder_hour"]


def test_cli_run_job_and_unknown_job(app):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["consultroom", "run-job", "close_booking", "--period", "2026-03-01T00:00Z"])
    assert ok.exit_code == 0 and "succeeded" in ok.output
    again = runner.invoke(args=["consultroom", "run-job", "close_booking", "--period", "2026-03-01T00:00Z"])
    assert "skipped" in again.output
    bad = runner.invoke(args=["consultroom", "run-job", "no_such_job"])
    assert bad.exit_code != 0 and "unknown job" in bad.output


def test_registered_jobs_of_the_app():
    assert {"open_rounds", "close_booking", "send_reminders", "deliver_mail", "privacy_retention"} <= set(JOBS)


def test_prune_job_runs_deletes_runs_older_than_the_kept_days_only():
    from consultroom.scheduler.cleanup import RUN_KEEP_DAYS

    now = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
    old = now - timedelta(days=RUN_KEEP_DAYS, minutes=1)
    kept = now - timedelta(days=RUN_KEEP_DAYS - 1)
    assert run_job("test_counter", now=old).status == "succeeded"
    assert run_job("test_counter", now=kept).status == "succeeded"

    result = run_job("prune_job_runs", now=now)

    assert (result.status, result.detail) == ("succeeded", "deleted 1")
    left = db.session.scalars(select(JobRun.started_at).where(JobRun.job == "test_counter")).all()
    assert left == [kept]
    assert "prune_job_runs" in JOBS
