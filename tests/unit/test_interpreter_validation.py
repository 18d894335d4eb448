from datetime import time

import pytest
from flask_babel import force_locale

from consultroom.errors import Invalid
from consultroom.interpreters.reports import hours_text, month_bounds, parse_month
from consultroom.interpreters.services import clean_interpreter_data, clean_weekly_hours, format_ranges, parse_ranges


def test_parse_ranges_sorts_and_accepts_loose_times():
    assert parse_ranges("13-18, 9:00 ~ 12:00") == ([(time(13), time(18)), (time(9), time(12))][::-1], [])
    assert parse_ranges("") == ([], [])


def test_parse_ranges_names_each_problem():
    with force_locale("en"):
        _ranges, errors = parse_ranges("09:00-12:00, 11:30-14:00, 15:00-15:00, lunch")
    assert errors == [
        "The start must be before the end: 15:00-15:00",
        "Write each range as start-end, e.g. 09:00-12:00: lunch",
        "09:00-12:00 and 11:30-14:00 overlap.",
    ]


def test_a_range_inside_another_overlaps():
    with force_locale("en"):
        _ranges, errors = parse_ranges("09:00-18:00, 12:00-13:00, 14:00-15:00")
    assert errors == ["09:00-18:00 and 12:00-13:00 overlap."]


def test_clean_weekly_hours_names_the_day_fields():
    with pytest.raises(Invalid) as caught:
        clean_weekly_hours({0: "09:00-12:00", 5: "10-09", 6: "x"})
    assert sorted(caught.value.fields) == ["day_5", "day_6"]
    clean = clean_weekly_hours({0: "09:00-12:00, 13:00-17:30"})
    assert format_ranges(clean[0]) == "09:00-12:00, 13:00-17:30" and clean[3] == []


def test_clean_interpreter_data_normalises_languages_by_name_and_code():
    clean = clean_interpreter_data(
        {
            "name": " Kim ",
            "email": "Kim@Voices.example.com",
            "languages": "English, ja, 베트남어",
            "max_sessions_per_day": 12,
            "locale": "EN",
            "phone": "",
            "specialties": "",
            "account_email": "",
        }
    )
    assert (clean["name"], clean["email"], clean["languages"]) == ("Kim", "kim@voices.example.com", ["en", "ja", "vi"])
    assert (clean["max_sessions_per_day"], clean["locale"]) == (12, "en")


@pytest.mark.parametrize("value", [0, 13, True, "1.5", "", None, "-1"])
def test_daily_cap_outside_1_to_12_is_refused(value):
    with pytest.raises(Invalid) as caught:
        clean_interpreter_data({"max_sessions_per_day": value}, partial=True)
    assert list(caught.value.fields) == ["max_sessions_per_day"]


def test_month_parsing_and_seoul_bounds():
    assert parse_month("2026-04") == (2026, 4)
    start, end = month_bounds(2026, 4)
    assert (start.isoformat(), end.isoformat()) == ("2026-03-31T15:00:00+00:00", "2026-04-30T15:00:00+00:00")
    with pytest.raises(Invalid):
        parse_month("2026-00")


@pytest.mark.parametrize(("minutes", "text"), [(150, "2.5"), (120, "2"), (50, "0.83"), (0, "0"), (6000, "100")])
def test_hours_text(minutes, text):
    assert hours_text(minutes) == text
