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
