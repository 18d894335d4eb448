"""Issue 13, item 6: reminders go to the company, the buyer and the interpreter exactly once, across
real scheduler processes that stop and start again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from consultroom.bookings.models import ReminderSent
from consultroom.extensions import db
from consultroom.notifications.models import OutboxMail
from consultroom.scheduler.models import JobRun
from tests.concurrency.test_scheduler_processes import _start_scheduler, _stop, _wait_for
from tests.factories import (
    BookingRowFactory,
    SlotFactory,
    make_round,
    make_sme_with_company,
)


def _reminder_mails() -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(OutboxMail.template, OutboxMail.to_addr).where(OutboxMail.template.like("reminder_%"))
    ).all()
    return sorted((t, to) for t, to in rows)


def _reminder_runs() -> int:
    return db.session.scalar(
        select(func.count(JobRun.id)).where(JobRun.job == "send_reminders", JobRun.status == "succeeded")
    )


def test_reminders_once_each_across_a_scheduler_restart():
    sme, company = make_sme_with_company()
    # A confirmed consultation in 50 minutes: both the day-before and the hour-before reminder are due.
    start = (datetime.now(UTC) + timedelta(minutes=50)).replace(microsecond=0)
    booking = BookingRowFactory(confirmed=True, slot=SlotFactory(round=make_round(), starts_at=start), company=company)
    buyer, interpreter = booking.buyer, booking.interpreter
    db.session.commit()
    expected = sorted(
        [
            ("reminder_day", sme.email),
            ("reminder_hour", sme.email),
            ("reminder_day_party", buyer.email),
            ("reminder_hour_party", buyer.email),
            ("reminder_day_party", interpreter.email),
            ("reminder_hour_party", interpreter.email),
        ]
    )

    first = [_start_scheduler()]
    try:
        sent = _wait_for(lambda: len(_reminder_mails()) >= 6)
    finally:
        logs = _stop(first)
    assert sent, logs

    # As if the next period had come: the job runs again in the restarted scheduler.
    db.session.rollback()
    db.session.execute(JobRun.__table__.delete().where(JobRun.job == "send_reminders"))
    db.session.commit()
    second = [_start_scheduler(), _start_scheduler()]
    try:
        ran = _wait_for(lambda: _reminder_runs() >= 1)
    finally:
        logs = _stop(second)
    assert ran, logs

    db.session.rollback()
    assert _reminder_mails() == expected
    assert db.session.scalar(select(func.count()).select_from(ReminderSent)) == 6
