from datetime import UTC, date, datetime, time

import pytest

from consultroom.rounds.schedule import Pattern, booking_window, nominal_day, round_day, slot_starts
from consultroom.timeutil import SEOUL


def pattern(**kw) -> Pattern:
    base = dict(
        pattern="nth_weekday", nth=2, weekday=2, fixed_day=15, day_start=time(10), day_end=time(17),
        slot_minutes=50, break_minutes=10, booths=4, opens_days_before=21, opens_at=time(10),
        closes_days_before=7, closes_at=time(18),
    )  # fmt: skip
    base.update(kw)
    return Pattern(**base)


@pytest.mark.parametrize(
    ("kw", "year", "month", "expected"),
    [
        ({}, 2021, 3, date(2021, 3, 10)),  # 2nd Wednesday
        ({"nth": 1, "weekday": 0}, 2021, 11, date(2021, 11, 1)),
        ({"nth": -1, "weekday": 4}, 2021, 12, date(2021, 12, 31)),  # last Friday
        ({"nth": 5, "weekday": 2}, 2021, 2, date(2021, 2, 24)),  # no 5th Wednesday: the last one
        ({"pattern": "fixed_day", "fixed_day": 31}, 2021, 4, date(2021, 4, 30)),  # clamped to month end
    ],
)
def test_nominal_day(kw, year, month, expected):
    assert nominal_day(pattern(**kw), year, month) == expected


def test_round_day_moves_past_closed_dates_and_weekends():
    p = pattern(pattern="fixed_day", fixed_day=1)
    # 2021-03-01 is 삼일절 (closed); the 2nd is a Tuesday.
    assert round_day(p, 2021, 3, {date(2021, 3, 1)}) == date(2021, 3, 2)
    # 2021-05-01 is a Saturday: the next open weekday is Monday the 3rd... closed too (observed holiday).
    assert round_day(p, 2021, 5, {date(2021, 5, 3)}) == date(2021, 5, 4)


def test_round_day_none_when_month_has_no_open_day():
    p = pattern(pattern="fixed_day", fixed_day=31)
    assert round_day(p, 2021, 12, {date(2021, 12, 31)}) is None


def test_booking_window_in_seoul_time():
    opens, closes = booking_window(pattern(), date(2021, 3, 10))
    assert opens == datetime(2021, 2, 17, 1, 0, tzinfo=UTC)  # 10:00 KST
    assert closes == datetime(2021, 3, 3, 9, 0, tzinfo=UTC)  # 18:00 KST


def test_slot_starts_fill_the_day():
    slots = slot_starts(pattern(), date(2021, 3, 10))
    assert len(slots) == 7  # 10:00, 11:00, ... 16:00; each 50 minutes
    assert slots[0] == (datetime(2021, 3, 10, 1, 0, tzinfo=UTC), datetime(2021, 3, 10, 1, 50, tzinfo=UTC))
    assert slots[-1][1] <= datetime(2021, 3, 10, 8, 0, tzinfo=UTC)


def test_floor_minutes_daily_period_is_one_key_per_utc_day():
    from datetime import UTC, datetime

    from consultroom.timeutil import floor_minutes

    morning = datetime(2026, 3, 2, 1, 5, tzinfo=UTC)
    evening = datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC)
    assert floor_minutes(morning, 24 * 60) == datetime(2026, 3, 2, tzinfo=UTC)
    assert floor_minutes(evening, 24 * 60) == datetime(2026, 3, 2, tzinfo=UTC)
    assert floor_minutes(morning, 5) == datetime(2026, 3, 2, 1, 5, tzinfo=UTC)
    assert floor_minutes(datetime(2026, 3, 2, 1, 9, tzinfo=UTC), 5) == datetime(2026, 3, 2, 1, 5, tzinfo=UTC)


def test_slot_starts_add_region_windows_without_overlapping_the_day():
    p = pattern(
        day_start=time(10), day_end=time(12),
        region_windows=(("Europe", time(11, 30), time(19)), ("Americas", time(7), time(9))),
    )  # fmt: skip

    starts = slot_starts(p, date(2027, 3, 10))

    # Seoul 07:00, 08:00 (Americas), 10:00, 11:00 (day), then Europe from 12:30 to 17:30: its 11:30
    # slot would overlap the day's 11:00 one, and 18:30 would end after 19:00.
    seoul = [s.astimezone(SEOUL).hour + s.astimezone(SEOUL).minute / 60 for s, _e in starts]
    assert seoul == [7, 8, 10, 11, 12.5, 13.5, 14.5, 15.5, 16.5, 17.5]
