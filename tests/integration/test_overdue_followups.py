"""The overdue follow-ups list filters and pages in SQL (issue 16): the same rows as the 1/3/6-month
rule in Python (followups.last_milestone) at month ends and the Seoul/UTC date line, the due date the
services keep on each outcome (and the migration back-fills) equals a recomputation after every kind
of change, and a page costs the same number of queries however many outcomes are overdue."""

from __future__ import annotations

import importlib.util
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text

from consultroom.extensions import db
from consultroom.outcomes import followups, queries, services
from consultroom.outcomes.models import Outcome
from consultroom.rounds.models import Round
from consultroom.timeutil import seoul_date
from tests.factories import make_consultation, make_user, past_round

HELD = {"attendance": "held"}
NOW = datetime(2027, 3, 31, 3, 0, tzinfo=UTC)  # 12:00 on 31 March in Seoul

# (consultation start, last update), both UTC; Seoul is nine hours ahead.
CASES = {
    "6 months, clamped to 28 Feb, updated the day before": ("2026-08-31 01:00", "2027-02-27 01:00"),
    "6 months, clamped to 28 Feb, updated that day": ("2026-08-31 01:00", "2027-02-28 01:00"),
    "1 month from 31 Jan, updated 27 Feb": ("2027-01-31 01:00", "2027-02-27 01:00"),
    "1 month from 31 Jan, updated 28 Feb": ("2027-01-31 01:00", "2027-02-28 01:00"),
    "1 February in Seoul, updated 28 Feb in Seoul": ("2027-01-31 16:00", "2027-02-28 14:30"),
    "1 February in Seoul, updated 1 March in Seoul": ("2027-01-31 16:00", "2027-02-28 15:30"),
    "1 month from 28 Feb, updated 27 Mar": ("2027-02-28 01:00", "2027-03-27 01:00"),
    "1 month from 28 Feb, updated 28 Mar": ("2027-02-28 01:00", "2027-03-28 01:00"),
}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _outcomes(count: int, rnd: Round | None = None, first: int = 0) -> list[Outcome]:
    staff = make_user("staff")
    rnd = rnd or past_round(days_ago=200, booths=3, slots_per_booth=3)
    made = []
    for index in range(first, first + count):
        booking = make_consultation(rnd, index)
        services.record_log(booking=booking, data=HELD, actor=staff, now=booking.ends_at)
        made.append(services.outcome_for(booking))
    return made


def _python_rule(outcome: Outcome, now: datetime) -> bool:
    milestone = followups.last_milestone(seoul_date(outcome.booking.starts_at), seoul_date(now))
    return milestone is not None and seoul_date(outcome.last_update_at) < milestone[1]


def test_overdue_sql_filter_matches_the_milestone_rule_at_month_ends_and_the_date_line(app):
    outcomes = dict(zip(CASES, _outcomes(len(CASES)), strict=True))
    for name, (start, updated) in CASES.items():
        booking = outcomes[name].booking
        booking.starts_at, booking.ends_at = _at(start), _at(start) + timedelta(minutes=50)
        outcomes[name].last_update_at = _at(updated)
        services.refresh_followup_due(outcomes[name], booking)
    db.session.flush()

    rows, pagination = queries.overdue_followups(NOW, per_page=100)

    listed = {row.outcome.id for row in rows}
    assert {name for name, o in outcomes.items() if o.id in listed} == {
        name for name, o in outcomes.items() if _python_rule(o, NOW)
    }
    assert sorted(name for name, o in outcomes.items() if o.id in listed) == [
        "1 February in Seoul, updated 28 Feb in Seoul",
        "1 month from 28 Feb, updated 27 Mar",
        "1 month from 31 Jan, updated 27 Feb",
        "6 months, clamped to 28 Feb, updated the day before",
    ]
    assert pagination.total == 4


def test_overdue_pages_hold_per_page_rows_in_a_stable_order(app):
    made = _outcomes(5)

    first, pagination = queries.overdue_followups(NOW, page=1, per_page=2)
    rest = [queries.overdue_followups(NOW, page=p, per_page=2)[0] for p in (2, 3)]

    ids = [row.outcome.id for row in first] + [row.outcome.id for page in rest for row in page]
    assert ids == [o.id for o in sorted(made, key=lambda o: (o.followup_due_on, o.id))]
    assert (pagination.total, pagination.pages, [len(p) for p in rest]) == (5, 3, [2, 1])


def test_overdue_page_runs_the_same_queries_for_one_and_many_rows(client, login_as, count_queries):
    login_as("staff")
    rnd = past_round(days_ago=200, booths=3, slots_per_booth=3)
    _outcomes(1, rnd)
    db.session.commit()
    with count_queries() as one:
        first = client.get("/staff/outcomes/overdue").get_data(as_text=True)
    _outcomes(4, rnd, first=1)
    db.session.commit()
    with count_queries() as many:
        second = client.get("/staff/outcomes/overdue").get_data(as_text=True)

    assert (len(re.findall(r'class="overdue"', first)), len(re.findall(r'class="overdue"', second))) == (1, 5)
    assert many.count == one.count


def _recomputed(outcome: Outcome) -> date | None:
    if not outcome.is_open:
        return None
    return followups.next_followup_due(seoul_date(outcome.booking.starts_at), seoul_date(outcome.last_update_at))


def test_next_followup_due_is_the_first_follow_up_date_after_the_last_update():
    consulted = date(2026, 8, 31)
    assert [
        followups.next_followup_due(consulted, updated)
        for updated in (date(2026, 8, 31), date(2026, 9, 30), date(2026, 11, 29), date(2027, 2, 27), date(2027, 2, 28))
    ] == [date(2026, 9, 30), date(2026, 11, 30), date(2026, 11, 30), date(2027, 2, 28), None]


def test_followup_due_date_equals_a_recomputation_after_every_kind_of_change(app):
    staff = make_user("staff")
    started, moved, reopened, dropped, contracted, again = _outcomes(6)
    start_day = seoul_date(started.booking.starts_at)
    expected_start = followups.add_months(start_day, 1)
    later = started.booking.starts_at + timedelta(days=40)

    services.change_stage(outcome=moved, to_stage="negotiating", on=seoul_date(later), note="", actor=staff, now=later)
    services.change_stage(outcome=reopened, to_stage="dropped", on=seoul_date(later), note="", actor=staff, now=later)
    reopen_at = later + timedelta(days=60)
    services.reopen(
        outcome=reopened, to_stage="follow_up", on=seoul_date(reopen_at), note="Buyer wrote again", actor=staff,
        now=reopen_at,
    )  # fmt: skip
    services.change_stage(outcome=dropped, to_stage="dropped", on=seoul_date(later), note="", actor=staff, now=later)
    services.record_contract(
        outcome=contracted, currency="KRW", amount="1000000", signed_on=seoul_date(later), items="", actor=staff,
        now=later,
    )  # fmt: skip
    services.record_contract(
        outcome=again, currency="KRW", amount="1000000", signed_on=seoul_date(later), items="", actor=staff, now=later
    )
    services.record_contract(
        outcome=again, currency="KRW", amount="5000", signed_on=seoul_date(later), items="", actor=staff,
        now=later + timedelta(days=200),
    )  # fmt: skip
    db.session.flush()
    db.session.expire_all()

    stored = {o.id: o.followup_due_on for o in db.session.scalars(select(Outcome))}
    assert stored == {o.id: _recomputed(o) for o in (started, moved, reopened, dropped, contracted, again)}
    assert stored[started.id] == expected_start
    assert stored[moved.id] == followups.add_months(start_day, 3)
    assert (stored[dropped.id], stored[contracted.id], stored[again.id]) == (None, None, None)


def _migration():
    path = next(Path(__file__).resolve().parents[2].glob("migrations/versions/*_a7c2e91d4b58_*.py"))
    spec = importlib.util.spec_from_file_location("followup_due_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migration_backfill_equals_the_python_rule_at_month_ends_and_the_date_line(app):
    outcomes = dict(zip(CASES, _outcomes(len(CASES)), strict=True))
    for name, (start, updated) in CASES.items():
        booking = outcomes[name].booking
        booking.starts_at, booking.ends_at = _at(start), _at(start) + timedelta(minutes=50)
        outcomes[name].last_update_at = _at(updated)
    closed = outcomes["1 month from 28 Feb, updated 27 Mar"]
    closed.stage = "dropped"
    db.session.flush()
    db.session.execute(text("UPDATE outcomes SET followup_due_on = NULL"))

    db.session.execute(text(_migration().backfill_sql(db.engine.dialect.name)))
    db.session.expire_all()

    stored = {o.id: o.followup_due_on for o in db.session.scalars(select(Outcome))}
    assert stored == {o.id: _recomputed(o) for o in outcomes.values()}
    assert sorted(name for name, o in outcomes.items() if stored[o.id] is None) == [
        "1 month from 28 Feb, updated 27 Mar",  # dropped
        "6 months, clamped to 28 Feb, updated that day",  # past every follow-up
    ]


def test_demo_outcomes_carry_their_followup_due_date(app, demo_world):
    outcomes = list(db.session.scalars(select(Outcome)))

    assert {o.id: o.followup_due_on for o in outcomes} == {o.id: _recomputed(o) for o in outcomes}
    assert any(o.followup_due_on is not None for o in outcomes)
