"""An interpreter's weekly hours as one cell of an import file ("Mon-Fri 09:00-18:00; Sat 10:00-13:00")."""

from __future__ import annotations

from datetime import time

import pytest
from flask_babel import force_locale

from consultroom.errors import Invalid
from consultroom.interpreters.hours_text import format_week, parse_week


@pytest.fixture(autouse=True)
def _english(app):
    with app.test_request_context(), force_locale("en"):
        yield


def _rows(week: dict[int, list[tuple[time, time]]]) -> list[tuple[int, time, time]]:
    return [(day, a, b) for day, ranges in week.items() for a, b in ranges]


@pytest.mark.parametrize(
    "line",
    [
        "Mon-Fri 09:00-18:00",
        "Mon 09:00-12:00; Wed-Thu 09:00-12:00, 13:00-18:00; Sun 10:00-11:00",
        "",
    ],
)
def test_format_week_writes_what_parse_week_reads(line):
    assert format_week(_rows(parse_week(line))) == line


def test_parse_week_reads_korean_days_and_joins_entries_of_one_day():
    week = parse_week("월~수 09:00-12:00\n수 13:00-15:00")
    assert week == {
        0: [(time(9), time(12))],
        1: [(time(9), time(12))],
        2: [(time(9), time(12)), (time(13), time(15))],
    }


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("Mon-Fri", "Write days and hours such as Mon-Fri 09:00-18:00: Mon-Fri"),
        ("Someday 09:00-10:00", "Write days and hours such as Mon-Fri 09:00-18:00: Someday 09:00-10:00"),
        ("Tue 09:00-12:00; Tue 11:00-13:00", "Tue: 09:00-12:00 and 11:00-13:00 overlap."),
    ],
)
def test_parse_week_names_the_problem_on_its_field(line, message):
    with pytest.raises(Invalid) as caught:
        parse_week(line, field="hours")
    assert caught.value.fields == {"hours": [message]}
