"""Expected texts for localised numbers, made by Babel itself for the same value and locale.

A test that writes "₩31,249,931" by hand breaks when a CLDR release changes a symbol, a space or a
grouping; one that asks Babel keeps checking what matters: the right amount, in the viewer's locale.
"""

from __future__ import annotations

from decimal import Decimal

import babel.numbers


def won(amount: int | Decimal, locale: str) -> str:
    """A KRW amount as the app's `krw` filter writes it in `locale`."""
    return babel.numbers.format_currency(amount, "KRW", locale=locale)


def grouped(number: int | Decimal, locale: str) -> str:
    """A number with the locale's digit grouping (8,569,000,000 in Korean and English today)."""
    return babel.numbers.format_decimal(number, locale=locale)


def full_moment(value, tzinfo, locale: str) -> str:
    """A moment as mails and answer pages write it: the full date, hours and minutes (no seconds),
    and the zone's name, glued by the locale's own pattern."""
    from babel import Locale
    from babel.dates import format_datetime

    loc = Locale.parse(locale)
    pattern = (
        str(loc.datetime_formats["full"])
        .replace("{0}", loc.time_formats["short"].pattern + " zzzz")
        .replace("{1}", loc.date_formats["full"].pattern)
    )
    return format_datetime(value, pattern, tzinfo=tzinfo, locale=locale)


def english_round_title(rnd) -> str:
    """A generated round title as an English reader sees it (the stored title is Korean)."""
    from babel.dates import format_skeleton

    return f"Export consultations, {format_skeleton('yMMMM', rnd.day.replace(day=1), locale='en')}"
