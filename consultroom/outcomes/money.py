"""Exact money: ISO 4217 codes and exponents (from Babel's CLDR data), minor units, KRW conversion."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from babel.numbers import get_currency_precision, is_currency


class MoneyError(ValueError):
    """A bad currency or amount; `code` says which (the caller words the message)."""

    def __init__(self, code: str, *, exponent: int | None = None):
        super().__init__(code)
        self.code = code
        self.exponent = exponent


def normalize_currency(code: str) -> str:
    """The upper-cased ISO 4217 code, or MoneyError("currency")."""
    code = (code or "").strip().upper()
    if len(code) != 3 or not code.isalpha() or not code.isascii() or not is_currency(code):
        raise MoneyError("currency")
    return code


def exponent(currency: str) -> int:
    """Decimal places of the currency's minor unit: KRW and JPY 0, USD 2, BHD 3."""
    return get_currency_precision(currency)


def parse_decimal(text: str | Decimal) -> Decimal:
    """A finite decimal from user text; thousands separators (commas) allowed."""
    if isinstance(text, Decimal):
        value = text
    else:
        cleaned = (text or "").strip().replace(",", "")
        if not cleaned:
            raise MoneyError("amount")
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            raise MoneyError("amount") from None
    if not value.is_finite():
        raise MoneyError("amount")
    return value


def to_minor(amount: str | Decimal, currency: str) -> int:
    """Integer minor units; more decimals than the currency has is refused, never rounded."""
    value = parse_decimal(amount)
    places = exponent(currency)
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise MoneyError("decimals", exponent=places)
    if value <= 0:
        raise MoneyError("positive")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def krw_value(*, amount_minor: int, currency: str, krw_per_unit: Decimal) -> int:
    """amount x rate in whole won, rounded half-up, computed in Decimal (no floats)."""
    # Enough precision that an 18-digit amount times an 18-digit rate is never rounded before quantize.
    with localcontext(prec=60):
        value = from_minor(amount_minor, currency) * Decimal(krw_per_unit)
        return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_amount(minor: int, currency: str) -> str:
    """1,234.50 with the currency's own number of decimals (no locale symbols: exact and plain)."""
    places = exponent(currency)
    return f"{from_minor(minor, currency):,.{places}f}"
