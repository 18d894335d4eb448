from datetime import UTC, date, datetime, time, timedelta

from consultroom.interpreters.availability import Exception_, WeeklyHours, is_available

WED_10 = datetime(2027, 3, 10, 1, 0, tzinfo=UTC)  # Wednesday 10:00 in Seoul
WEEKLY = [WeeklyHours(2, time(9), time(13)), WeeklyHours(3, time(14), time(18))]


def window(start: datetime, minutes: int = 50) -> tuple[datetime, datetime]:
    return start, start + timedelta(minutes=minutes)


def test_weekly_hours_cover_the_session():
    assert is_available(WEEKLY, [], *window(WED_10))
    assert not is_available(WEEKLY, [], *window(WED_10 + timedelta(hours=3)))  # 13:00-13:50, after 13:00
    assert not is_available(WEEKLY, [], *window(WED_10 + timedelta(days=1)))  # Thursday 10:00


def test_away_all_day_and_part_of_the_day():
    assert not is_available(WEEKLY, [Exception_(date(2027, 3, 10), False)], *window(WED_10))
    part = Exception_(date(2027, 3, 10), False, time(10, 30), time(11))
    assert not is_available(WEEKLY, [part], *window(WED_10))
    assert is_available(WEEKLY, [part], *window(WED_10 + timedelta(hours=1)))  # 11:00-11:50


def test_extra_hours_on_a_day_off():
    saturday = WED_10 + timedelta(days=3)
    extra = Exception_(date(2027, 3, 13), True, time(9), time(12))
    assert not is_available(WEEKLY, [], *window(saturday))
    assert is_available(WEEKLY, [extra], *window(saturday))
