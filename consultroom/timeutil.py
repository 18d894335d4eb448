"""Time zone helpers. Times are stored in UTC; program days and hours are defined in Asia/Seoul."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")


def seoul_to_utc(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=SEOUL).astimezone(UTC)


def to_zone(moment: datetime, zone: str | ZoneInfo) -> datetime:
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    return moment.astimezone(tz)


def seoul_date(moment: datetime) -> date:
    return moment.astimezone(SEOUL).date()


def month_add(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


def floor_minutes(moment: datetime, minutes: int) -> datetime:
    """The start of the `minutes`-long period holding `moment`, counted from the Unix epoch in UTC,
    so periods longer than an hour (a daily job's 1440) still floor to one key per period."""
    moment = moment.astimezone(UTC).replace(second=0, microsecond=0)
    since_epoch = int(moment.timestamp()) // 60
    return moment - timedelta(minutes=since_epoch % minutes)
