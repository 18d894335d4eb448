from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from consultroom.outcomes.followups import add_months, last_milestone
from consultroom.outcomes.money import (
    MoneyError,
    exponent,
    format_amount,
    from_minor,
    krw_value,
    normalize_currency,
    to_minor,
)
from consultroom.outcomes.services import allowed_next


@pytest.mark.parametrize(("code", "places"), [("KRW", 0), ("JPY", 0), ("USD", 2), ("EUR", 2), ("BHD", 3), ("KWD", 3)])
def test_exponent_follows_iso_4217(code, places):
    assert exponent(code) == places


@pytest.mark.parametrize("code", ["", "US", "USDD", "XYZ", "12$", "ＵＳＤ"])
def test_normalize_currency_refuses_unknown_codes(code):
    with pytest.raises(MoneyError):
        normalize_currency(code)


def test_normalize_currency_upper_cases_known_codes():
    assert normalize_currency(" usd ") == "USD"


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("12,345.67", "USD", 1234567),
        ("1000000", "JPY", 1000000),
        ("1.5", "BHD", 1500),
        ("5000", "KRW", 5000),
        ("10.50", "USD", 1050),
        ("7.000", "JPY", 7),
    ],
)
def test_to_minor_is_exact(amount, currency, minor):
    assert to_minor(amount, currency) == minor
    assert from_minor(minor, currency) == Decimal(amount.replace(",", ""))


@pytest.mark.parametrize(
    ("amount", "currency", "code"),
    [
        ("1.5", "JPY", "decimals"),
        ("0.001", "USD", "decimals"),
        ("1.0001", "BHD", "decimals"),
        ("0", "USD", "positive"),
        ("-5", "USD", "positive"),
        ("NaN", "USD", "amount"),
        ("Infinity", "USD", "amount"),
        ("1e", "USD", "amount"),
        ("", "USD", "amount"),
    ],
)
def test_to_minor_refuses_more_decimals_or_bad_amounts(amount, currency, code):
    with pytest.raises(MoneyError) as exc:
        to_minor(amount, currency)
    assert exc.value.code == code


def test_krw_value_by_hand():
    # 12,345.67 x 1,387.25 = 17,126,530.7075 -> 17,126,531
    assert krw_value(amount_minor=1234567, currency="USD", krw_per_unit=Decimal("1387.25")) == 17_126_531
    assert krw_value(amount_minor=1_000_000, currency="JPY", krw_per_unit=Decimal("9.1234")) == 9_123_400
    # half-up, not banker's rounding: 0.10 x 5 = 0.5 -> 1 and 0.50 x 5 = 2.5 -> 3
    assert krw_value(amount_minor=10, currency="USD", krw_per_unit=Decimal("5")) == 1
    assert krw_value(amount_minor=50, currency="USD", krw_per_unit=Decimal("5")) == 3


def test_krw_value_of_a_huge_amount_keeps_every_digit():
    value = krw_value(amount_minor=999_999_999_999_999_99, currency="USD", krw_per_unit=Decimal("999999.999999"))
    # (10^15 - 0.01) x (10^6 - 10^-6) = 10^21 - 10^9 - 10^4 + 10^-8 (a float would lose the last digits)
    assert value == 999_999_999_998_999_990_000


def test_format_amount_uses_the_currencys_decimals():
    assert (format_amount(1234567, "USD"), format_amount(1000000, "JPY"), format_amount(1500, "BHD")) == (
        "12,345.67",
        "1,000,000",
        "1.500",
    )


def test_add_months_clamps_to_the_months_last_day():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2026, 3, 15), 3) == date(2026, 6, 15)


def test_last_milestone_is_the_latest_passed():
    held = date(2026, 3, 15)
    assert last_milestone(held, date(2026, 4, 14)) is None
    assert last_milestone(held, date(2026, 4, 15)) == (1, date(2026, 4, 15))
    assert last_milestone(held, date(2026, 7, 1)) == (3, date(2026, 6, 15))
    assert last_milestone(held, date(2027, 1, 1)) == (6, date(2026, 9, 15))


def test_allowed_next_goes_forward_or_drops():
    assert allowed_next("follow_up") == ["sample_sent", "negotiating", "dropped"]
    assert allowed_next("negotiating") == ["dropped"]
    assert allowed_next("contracted") == []
    assert allowed_next("dropped") == []
