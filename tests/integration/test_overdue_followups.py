"""The overdue follow-ups list filters and pages in SQL (issue 16): the same rows as the 1/3/6-month
rule in Python (followups.last_milestone) at month ends and the Seoul/UTC date line, and a page costs
the same number of queries however many outcomes are overdue."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

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
    assert ids == [o.id for o in sorted(made, key=lambda o: (o.booking.starts_at, o.id))]
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
