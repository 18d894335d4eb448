"""Pure validators for company data: business number check digit, HS codes, ISO codes."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import pycountry
from babel import Locale

_BRN_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)


def normalize_business_number(value: str) -> str:
    # NFKC turns full-width digits and dashes (typed with a Korean IME) into ASCII ones.
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", value or ""))


def business_number_ok(value: str) -> bool:
    """Korean business registration number (사업자등록번호): 10 digits, the last a check digit.

    Weights 1,3,7,1,3,7,1,3,5 over the first nine digits, plus the tens of 5 x the ninth digit;
    the check digit makes the total a multiple of ten.
    """
    digits = normalize_business_number(value)
    if not re.fullmatch(r"[0-9]{10}", digits):
        return False
    nums = [int(c) for c in digits]
    total = sum(d * w for d, w in zip(nums[:9], _BRN_WEIGHTS, strict=True)) + (nums[8] * 5) // 10
    return (10 - total % 10) % 10 == nums[9]


def business_number_with_check_digit(first_nine: str) -> str:
    """Complete nine digits with their check digit (demo data and tests make valid numbers with it)."""
    nums = [int(c) for c in first_nine]
    total = sum(d * w for d, w in zip(nums, _BRN_WEIGHTS, strict=True)) + (nums[8] * 5) // 10
    return first_nine + str((10 - total % 10) % 10)


_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff]")


def has_hangul(text: str) -> bool:
    """Hangul syllables or jamo: text an English field must not hold."""
    return bool(_HANGUL.search(text or ""))


def split_codes(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    parts = re.split(r"[,;\s]+", value) if isinstance(value, str) else [str(v) for v in value]
    return [p.strip() for p in parts if p and p.strip()]


def normalize_hs_code(value: str) -> str:
    return re.sub(r"[.\s\-]", "", unicodedata.normalize("NFKC", value))


def hs_code_ok(code: str) -> bool:
    """A 6-digit HS subheading: chapter 01-97 (77 is reserved by the WCO), heading 01-99."""
    if not re.fullmatch(r"[0-9]{6}", code):
        return False
    chapter, heading = int(code[:2]), int(code[2:4])
    return 1 <= chapter <= 97 and chapter != 77 and heading >= 1


@cache
def country_codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


def country_ok(code: str) -> bool:
    return code.upper() in country_codes()


@cache
def language_codes() -> frozenset[str]:
    return frozenset(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))


def language_ok(code: str) -> bool:
    return code.lower() in language_codes()


def country_name(code: str, locale: str) -> str:
    return Locale.parse(locale).territories.get(code.upper(), code.upper())


def language_name(code: str, locale: str) -> str:
    return Locale.parse(locale).languages.get(code.lower(), code.lower())


@cache
def country_choices(locale: str) -> list[tuple[str, str]]:
    names = Locale.parse(locale).territories
    return sorted(((c, names.get(c, c)) for c in country_codes()), key=lambda p: p[1])


# Business languages offered in forms; any ISO 639-1 code is accepted through the API.
COMMON_LANGUAGES = (
    "ko",
    "en",
    "zh",
    "ja",
    "vi",
    "es",
    "ru",
    "fr",
    "de",
    "ar",
    "id",
    "th",
    "pt",
    "hi",
    "ms",
    "mn",
    "tr",
    "it",
    "nl",
    "pl",
    "uz",
    "kk",
    "fa",
    "tl",
    "km",
    "my",
)


@cache
def language_choices(locale: str) -> list[tuple[str, str]]:
    names = Locale.parse(locale).languages
    return sorted(((c, names.get(c, c)) for c in COMMON_LANGUAGES), key=lambda p: p[1])
