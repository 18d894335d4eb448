"""The program report through the JSON API: the figures, breakdowns and targets of program_report."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.outcomes.services import outcome_for, record_contract, record_log
from consultroom.reports.figures import program_report, year_period
from consultroom.reports.queries import targets_for
from consultroom.reports.targets import save_targets, scorecard
from consultroom.timeutil import seoul_date
from tests.factories import make_company, make_consultation, make_rate, make_user, past_round
from tests.integration.test_api_support import api_call, assert_error, bearer

REPORT = "/api/v1/reports/program"


@pytest.fixture
def world():
    """Two held consultations (one with USD and KRW contracts) and a no-show, with yearly targets."""
    staff, admin = make_user("staff"), make_user("admin")
    owner = make_user("sme")
    company = make_company(owner=owner)
    rnd = past_round(days_ago=3)
    day = seoul_date(rnd.slots[0].starts_at)
    make_rate("USD", day, "1450.25")
    first = make_consultation(rnd, 0, company=company)
    second = make_consultation(rnd, 1)
    absent = make_consultation(rnd, 2)
    now = utcnow()
    for booking in (first, second):
        record_log(booking=booking, data={"attendance": "held"}, actor=staff, now=now)
    record_log(booking=absent, data={"attendance": "no_show", "absent_party": "buyer"}, actor=staff, now=now)
    outcome = outcome_for(first)
    for currency, amount in (("USD", "10000.01"), ("KRW", "3000000")):
        record_contract(
            outcome=outcome, currency=currency, amount=amount, signed_on=day, items="", actor=staff, now=now
        )
    save_targets(
        year=day.year,
        values={
            "consultations": "4",
            "contracts": "1",
            "contract_value_krw": "20000000",
            "smes": "",
            "satisfaction": "4.5",
        },
        publish={"consultations"},
        actor=admin,
        now=now,
    )
    db.session.commit()
    return {"owner": owner, "staff": staff, "admin": admin, "round": rnd, "year": day.year}


def test_year_report_equals_program_report(client, world):
    year = world["year"]
    body = api_call(client, "GET", REPORT, headers=bearer(world["staff"]), query={"year": year}).get_json()
    start, end = year_period(year)
    report = program_report(start=start, end=end)
    assert body["start"] == start.isoformat() and body["end"] == end.isoformat() and body["year"] == year
    total = body["total"]
    assert total == {
        "held": report.total.held,
        "no_shows": report.total.no_shows,
        "smes": report.total.smes,
        "contracted": report.total.contracted,
        "contracts": report.total.contracts,
        "krw": report.total.krw,
        "satisfaction": None,
        "conversion": str(report.total.conversion),
    }
    # 10,000.01 USD x 1,450.25 = 14,502,514.5025 -> 14,502,515 won, plus 3,000,000 won.
    assert (total["held"], total["no_shows"], total["contracts"], total["krw"]) == (2, 1, 2, 17_502_515)
    assert total["conversion"] == "50.0"
    assert body["rounds_held"] == report.rounds_held
    for kind, groups in report.breakdowns():
        assert [g["key"] for g in body["breakdowns"][kind]] == [g.key for g in groups]
        assert [g["figures"]["krw"] for g in body["breakdowns"][kind]] == [g.figures.krw for g in groups]
        assert [g["figures"]["held"] for g in body["breakdowns"][kind]] == [g.figures.held for g in groups]
    assert len(body["breakdowns"]["month"]) == 12
    lines = {line.metric: line for line in scorecard(report, targets_for(year))}
    targets = {t["metric"]: t for t in body["targets"]}
    assert targets["consultations"] == {
        "metric": "consultations",
        "target": 4,
        "result": 2,
        "achievement": str(lines["consultations"].achievement),
        "published": True,
        "published_at": targets["consultations"]["published_at"],
    }
    assert targets["consultations"]["achievement"] == "50.0"
    assert targets["contract_value_krw"]["target"] == 20_000_000
    assert targets["contract_value_krw"]["result"] == 17_502_515
    assert targets["contract_value_krw"]["achievement"] == "87.5"
    assert targets["satisfaction"]["target"] == "4.50" and targets["satisfaction"]["result"] is None
    assert targets["smes"]["target"] is None and targets["smes"]["achievement"] is None


def test_round_and_range_selections(client, world):
    staff_h = bearer(world["staff"])
    rnd = world["round"]
    by_round = api_call(client, "GET", REPORT, headers=staff_h, query={"round_id": rnd.id}).get_json()
    assert by_round["round_id"] == rnd.id and by_round["year"] is None
    assert by_round["total"]["krw"] == program_report(start=rnd.day, end=rnd.day, round_id=rnd.id).total.krw
    # Targets are yearly: a round is not compared with them.
    assert all(t["target"] is None and t["achievement"] is None for t in by_round["targets"])
    start = (rnd.day - timedelta(days=1)).isoformat()
    ranged = api_call(
        client, "GET", REPORT, headers=staff_h, query={"start": start, "end": rnd.day.isoformat()}
    ).get_json()
    assert ranged["total"]["held"] == 2 and ranged["start"] == start
    empty = api_call(client, "GET", REPORT, headers=staff_h, query={"year": 2001}).get_json()
    assert empty["total"]["held"] == 0 and empty["total"]["krw"] == 0 and empty["total"]["conversion"] is None


def test_bad_selections_are_422_naming_the_parameter(client, world):
    staff_h = bearer(world["staff"])
    for query, field in (
        ({"year": "1999"}, "year"),
        ({"year": "x"}, "year"),
        ({"round_id": "999999"}, "round_id"),
        ({"start": "2026-01-01"}, "end"),
        ({"start": "2026-02-01", "end": "2026-01-01"}, "end"),
        ({"start": "yesterday", "end": "2026-01-01"}, "start"),
        ({"year": "²"}, "year"),  # str.isdigit() holds for it, int() refuses it
        ({"round_id": "²"}, "round_id"),
    ):
        response = api_call(client, "GET", REPORT, headers=staff_h, query=query)
        assert field in assert_error(response, 422, "invalid")["fields"], query


def test_only_staff_read_the_report(client, world):
    assert api_call(client, "GET", REPORT, headers=bearer(world["admin"])).status_code == 200
    assert_error(api_call(client, "GET", REPORT, headers=bearer(world["owner"])), 404, "not_found")
    assert_error(api_call(client, "GET", REPORT), 401, "unauthorized")
