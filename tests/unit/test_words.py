"""Words that mean what they say (issue 15, item 6): times to the minute, periods in their unit,
countries by name, counts in the plural English needs, ambiguous words by their context."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_babel import force_locale, pgettext

from consultroom.i18n import datetime_pattern, format_minutes
from consultroom.main.todo import describe

MOMENT = datetime(2026, 3, 5, 4, 0, tzinfo=UTC)  # 13:00 in Seoul


@pytest.mark.parametrize("fmt", ["short", "medium", "long", "full"])
@pytest.mark.parametrize("locale", ["ko", "en"])
def test_datetime_filter_shows_no_seconds(app, locale, fmt):
    with app.test_request_context(), force_locale(locale):
        shown = app.jinja_env.from_string("{{ m|datetime(fmt) }}").render(m=MOMENT, fmt=fmt)
    assert "1:00" in shown or "1시" in shown, shown
    assert "1:00:00" not in shown and "0초" not in shown, shown


def test_datetime_pattern_names_the_zone_only_when_asked():
    assert "zzzz" in datetime_pattern("full", "ko", zone=True)
    assert "z" not in datetime_pattern("full", "ko").replace("'", "")
    assert "ss" not in datetime_pattern("medium", "en")


@pytest.mark.parametrize(
    ("minutes", "ko", "en"),
    [
        (1, "1분", "1 minute"),
        (5, "5분", "5 minutes"),
        (60, "1시간", "1 hour"),
        (90, "90분", "90 minutes"),
        (1440, "1일", "1 day"),
        (2880, "2일", "2 days"),
    ],
)
def test_minutes_are_shown_in_the_largest_exact_unit(app, minutes, ko, en):
    with app.test_request_context():
        with force_locale("ko"):
            assert format_minutes(minutes) == ko
        with force_locale("en"):
            assert format_minutes(minutes) == en


def test_country_name_filter_follows_the_viewer(app):
    template = app.jinja_env.from_string("{{ codes|map('country_name')|join(', ') }}")
    with app.test_request_context():
        with force_locale("ko"):
            assert template.render(codes=["US", "JP"]) == "미국, 일본"
        with force_locale("en"):
            assert template.render(codes=["US", "JP"]) == "United States, Japan"


def test_todo_counts_use_the_english_plural_and_one_korean_form(app):
    with app.test_request_context():
        with force_locale("en"):
            assert describe("match", 1) == "1 booking waits for a match"
            assert describe("match", 3) == "3 bookings wait for a match"
        with force_locale("ko"):
            assert describe("match", 1) == "매칭을 기다리는 예약 1건"
            assert describe("match", 3) == "매칭을 기다리는 예약 3건"


def test_medium_means_a_level_for_interest_and_a_size_for_companies(app):
    with app.test_request_context(), force_locale("ko"):
        assert pgettext("interest level", "Medium") == "보통"
        assert pgettext("company size", "Medium") == "중기업"
        assert pgettext("stage", "From") != "보낸 사람"  # no such context: falls back to the msgid
        assert pgettext("mail", "From") == "보낸 사람"
        assert pgettext("time range", "From") == "시작"
