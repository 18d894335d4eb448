from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from consultroom.audit.models import AuditEntry
from consultroom.extensions import db
from consultroom.matching.settings import get_interpreter_policy
from consultroom.rounds.models import ClosedDate, Round
from consultroom.rounds.services import ensure_round, get_settings
from consultroom.scheduler.runner import run_job
from consultroom.timeutil import SEOUL

SETTINGS = {
    "pattern": "nth_weekday", "nth": "-1", "weekday": "4", "fixed_day": "15", "day_start": "09:30",
    "day_end": "12:30", "slot_minutes": "40", "break_minutes": "20", "booths": "3", "opens_days_before": "30",
    "opens_at": "09:00", "closes_days_before": "5", "closes_at": "17:00", "cancel_hours_before": "24",
    "company_cap": "2", "months": ["4", "5", "6"],
}  # fmt: skip


def test_admin_saves_round_settings_and_generation_follows_them(client, login_as):
    admin = login_as("admin")
    assert client.submit("/staff/settings/rounds", SETTINGS).status_code == 302
    settings = get_settings()
    assert (settings.nth, settings.weekday, settings.booths, settings.company_cap) == (-1, 4, 3, 2)
    assert settings.months == [4, 5, 6]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "round_settings.update"))
    assert entry.actor_id == admin.id and entry.after["booths"] == 3
    rnd, created = ensure_round(year=2027, month=4)
    assert created and rnd.day == date(2027, 4, 30)  # the last Friday
    assert len(rnd.slots) == 3 * 3  # 09:30, 10:30, 11:30 on three booths
    assert rnd.company_cap == 2
    assert ensure_round(year=2027, month=7) == (None, False)  # not a program month


def test_round_settings_refuse_inconsistent_values(client, login_as):
    login_as("admin")
    bad = {**SETTINGS, "day_end": "09:00", "opens_days_before": "3", "closes_days_before": "5"}
    html = client.submit("/staff/settings/rounds", bad).get_data(as_text=True)
    assert 'id="day_end-error"' in html and 'id="closes_days_before-error"' in html
    assert get_settings().booths == 4  # unchanged default


def test_staff_cannot_edit_round_settings(client, login_as):
    login_as("staff")
    assert client.get("/staff/settings/rounds").status_code == 404


def test_closed_date_moves_the_generated_round(client, login_as):
    login_as("staff")
    # 2027-03-10 is the 2nd Wednesday; closing it moves the round to Thursday the 11th.
    assert client.submit("/staff/closed-dates", {"day": "2027-03-10", "reason": "임시 휴무"}).status_code == 302
    again = client.submit("/staff/closed-dates", {"day": "2027-03-10", "reason": "중복"}).get_data(as_text=True)
    assert 'id="day-error"' in again
    rnd, _created = ensure_round(year=2027, month=3)
    assert rnd.day == date(2027, 3, 11)
    row = db.session.scalar(select(ClosedDate))
    assert client.submit(f"/staff/closed-dates/{row.id}/delete").status_code == 302
    assert db.session.scalar(select(ClosedDate)) is None


def test_generate_button_is_idempotent(client, login_as):
    login_as("staff")
    client.submit("/staff/rounds/generate")
    first = db.session.scalars(select(Round.id)).all()
    client.submit("/staff/rounds/generate")
    assert db.session.scalars(select(Round.id)).all() == first


def test_jobs_page_shows_runs_and_failures(client, login_as):
    run_job("close_booking", now=datetime(2026, 3, 1, tzinfo=UTC))
    db.session.commit()
    login_as("staff")
    html = client.get("/staff/jobs").get_data(as_text=True)
    assert "close_booking" in html and "2026-03-01T00:00Z" in html and "succeeded" in html


def test_jobs_page_gives_each_job_its_last_run_in_a_constant_number_of_queries(client, login_as, count_queries):
    """Each job's last start comes from its own index probe, all in one statement: "never" for a job
    that has not run, the latest start for one that ran twice."""
    import re

    run_job("close_booking", now=datetime(2026, 3, 1, tzinfo=UTC))
    run_job("close_booking", now=datetime(2026, 3, 2, tzinfo=UTC))
    db.session.commit()
    login_as("staff")
    with count_queries() as q:
        html = client.get("/staff/jobs").get_data(as_text=True)
    run_job("deliver_mail", now=datetime(2026, 3, 3, tzinfo=UTC))
    db.session.commit()
    with count_queries() as again:
        client.get("/staff/jobs")

    rows = dict(re.findall(r'<tr data-job="([a-z_]+)">.*?<td>([^<]*)</td></tr>', html, re.S))
    assert rows["deliver_mail"] == "never" and rows["close_booking"] not in ("", "never")
    assert rows["close_booking"] != rows["open_rounds"]
    assert q.count == again.count


def test_round_lifecycle_by_staff(client, login_as):
    from tests.factories import make_round

    rnd = make_round(status="draft")
    login_as("staff")
    for status in ("open", "closed", "held", "finalized"):
        assert client.submit(f"/staff/rounds/{rnd.id}/status", {"status": status, "confirm": "1"}).status_code == 302
        db.session.refresh(rnd)
        assert rnd.status == status
    client.submit(f"/staff/rounds/{rnd.id}/status", {"status": "open"})
    db.session.refresh(rnd)
    assert rnd.status == "finalized"  # no way back from finalized


def test_round_settings_region_windows_and_interpreter_policy_shape_generation_and_matching(client, login_as):
    login_as("admin")
    form = {**SETTINGS, "region_windows": "Europe 16:00-18:00\nAmericas 07:00-08:00", "interpreter_policy": "needed"}

    assert client.submit("/staff/settings/rounds", form).status_code == 302

    settings = get_settings()
    assert settings.region_windows == [
        {"label": "Europe", "start": "16:00", "end": "18:00"},
        {"label": "Americas", "start": "07:00", "end": "08:00"},
    ]
    assert settings.interpreter_policy == "needed" and get_interpreter_policy() == "needed"
    rnd, _created = ensure_round(year=2027, month=4)
    starts = sorted({s.starts_at.astimezone(SEOUL).strftime("%H:%M") for s in rnd.slots})
    assert starts == ["07:00", "09:30", "10:30", "11:30", "16:00", "17:00"]
    page = client.get("/staff/settings/rounds").get_data(as_text=True)
    assert "Europe 16:00-18:00\nAmericas 07:00-08:00" in page


def test_round_settings_refuse_a_malformed_region_window(client, login_as):
    login_as("admin")

    html = client.submit("/staff/settings/rounds", {**SETTINGS, "region_windows": "Europe 18:00-17:00"}).get_data(
        as_text=True
    )

    assert 'id="region_windows-error"' in html and "Line 1: the window must end after it starts." in html
    assert get_settings().region_windows == []
