"""Pure parsers and validators for buyer data, shared by the forms, the import and the services.

Staff type (or paste from Excel) what they have: "3304.99", "미국", "English", "9:00", "월-금".
Each parser returns the normalised value, or None when the input cannot be understood.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from datetime import time
from functools import cache
from importlib import resources
from pathlib import Path

import pycountry
from babel import Locale

from consultroom.companies.validation import country_codes, language_codes

SIZE_ALIASES = {
    "small": "small",
    "s": "small",
    "소": "small",
    "소형": "small",
    "소기업": "small",
    "medium": "medium",
    "mid": "medium",
    "m": "medium",
    "중": "medium",
    "중형": "medium",
    "중견": "medium",
    "중기업": "medium",
    "large": "large",
    "big": "large",
    "l": "large",
    "대": "large",
    "대형": "large",
    "대기업": "large",
    "unknown": "unknown",
    "": "unknown",
    "-": "unknown",
    "미상": "unknown",
    "모름": "unknown",
}

_DAY_NAMES = {
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{
        name: i for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
    },
    **{name: i for i, name in enumerate("월화수목금토일")},
    **{name + "요일": i for i, name in enumerate("월화수목금토일")},
}

# Countries with several zones in the tz database where one zone serves nearly everyone (for
# inferring a buyer's zone from the country). Elsewhere with several zones, staff choose.
_MAIN_ZONE = {
    "CN": "Asia/Shanghai",
    "DE": "Europe/Berlin",
    "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon",
    "MY": "Asia/Kuala_Lumpur",
    "NZ": "Pacific/Auckland",
    "UA": "Europe/Kyiv",
    "CY": "Asia/Nicosia",
    "EC": "America/Guayaquil",
    "UZ": "Asia/Tashkent",
}


def collapse(value: str) -> str:
    # NFKC turns full-width letters, digits and spaces (typed with a Korean IME) into ASCII ones.
    return " ".join(unicodedata.normalize("NFKC", value).split())


def company_key(name: str) -> str:
    """The company name as compared for duplicates: case-folded, spaces collapsed."""
    return collapse(name).casefold()


def normalize_interest_code(value: str) -> str:
    return re.sub(r"[.\s\-]", "", unicodedata.normalize("NFKC", value))


def interest_code_ok(code: str) -> bool:
    """An HS chapter (2 digits), heading (4) or subheading (6): chapter 01-97 except 77, heading 01-99."""
    if not re.fullmatch(r"[0-9]{2}|[0-9]{4}|[0-9]{6}", code):
        return False
    chapter = int(code[:2])
    if not (1 <= chapter <= 97) or chapter == 77:
        return False
    return len(code) == 2 or int(code[2:4]) >= 1


@cache
def _timezones() -> dict[str, str]:
    return {name.casefold(): name for name in zoneinfo.available_timezones() if name not in ("Factory", "localtime")}


def parse_timezone(value: str) -> str | None:
    """The IANA name as the tz database spells it ("asia/seoul" -> "Asia/Seoul"), or None."""
    return _timezones().get(collapse(value).replace(" ", "_").casefold())


def _zone_tab() -> str:
    try:
        return resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        for base in zoneinfo.TZPATH:
            path = Path(base) / "zone.tab"
            if path.exists():
                return path.read_text(encoding="utf-8")
    return ""


@cache
def _zones_by_country() -> dict[str, tuple[str, ...]]:
    zones: dict[str, list[str]] = {}
    for line in _zone_tab().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) >= 3:
            zones.setdefault(parts[0], []).append(parts[2])
    return {k: tuple(v) for k, v in zones.items()}


def infer_timezone(country: str) -> str | None:
    """The zone of a country that has one (Korea, Japan, Vietnam...) or one main zone; else None."""
    country = country.upper()
    if country in _MAIN_ZONE:
        return _MAIN_ZONE[country]
    zones = [z for z in _zones_by_country().get(country, ()) if z in zoneinfo.available_timezones()]
    return zones[0] if len(zones) == 1 else None


def _name_key(value: str) -> str:
    return re.sub(r"[\s.'’()\-,]", "", collapse(value).casefold())


@cache
def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    codes = country_codes()
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            if hasattr(country, attr):
                names[_name_key(getattr(country, attr))] = country.alpha_2
        names[_name_key(country.alpha_3)] = country.alpha_2
    for locale in ("en", "ko"):
        for code, name in Locale.parse(locale).territories.items():
            if code in codes:
                names[_name_key(name)] = code
    # Names people write that neither list has.
    names.update({"usa": "US", "uk": "GB", "korea": "KR", "한국": "KR", "미국": "US", "영국": "GB", "대만": "TW"})
    for code in codes:  # alpha-2 codes win over any name that happens to spell the same
        names[code.casefold()] = code
    return names


def parse_country(value: str) -> str | None:
    """An ISO 3166 alpha-2 code from the code, the alpha-3 code, or the English or Korean name."""
    key = _name_key(value)
    return _country_names().get(key) if key else None


@cache
def _language_names() -> dict[str, str]:
    codes = language_codes()
    names: dict[str, str] = {}
    for locale in ("en", "ko"):
        for code, name in Locale.parse(locale).languages.items():
            if code in codes:
                names[_name_key(name)] = code
    for lang in pycountry.languages:
        if hasattr(lang, "alpha_2"):
            names.setdefault(_name_key(lang.name), lang.alpha_2)
            names[lang.alpha_3] = lang.alpha_2
    for code in codes:
        names[code] = code
    return names


def parse_language(value: str) -> str | None:
    """An ISO 639-1 code from the code, the ISO 639-3 code, or the English or Korean name."""
    key = _name_key(value)
    return _language_names().get(key) if key else None


_TIME_RE = re.compile(r"(\d{1,2})(?::(\d{2})(?::(\d{2}))?)?(am|pm)?")


def parse_time(value: str | time) -> time | None:
    """ "9", "9:00", "09:00:00", "0900", "6pm", "오후 6시", "18시 30분" -> a time; None if not a time of day."""
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    text = collapse(value).casefold().replace(" ", "")
    text = text.replace("a.m.", "am").replace("p.m.", "pm").replace("분", "").replace("시", ":").replace(".", ":")
    half = None
    for marker, meaning in (("오전", "am"), ("오후", "pm")):
        if text.startswith(marker):
            half, text = meaning, text[len(marker) :]
    text = text.rstrip(":")
    if re.fullmatch(r"\d{4}", text):
        text = f"{text[:2]}:{text[2:]}"
    match = _TIME_RE.fullmatch(text)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    half = match.group(4) or half
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour == 24 and minute == 0:
        return time(23, 59)  # "until 24:00": the last minute of the day
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)


def parse_days(value: str | list) -> list[int] | None:
    """Weekdays as ints (0 = Monday) from [0, 1], "0,1,2", "Mon-Fri", "Mon, Wed" or "월~금"; None if not."""
    if isinstance(value, list):
        parts: list[str] = [str(v) for v in value]
    else:
        text = re.sub(r"\s*([-~])\s*", r"\1", collapse(value).casefold())
        parts = [p for p in re.split(r"[,;/\s·]+", text) if p]
    days: set[int] = set()
    for part in parts:
        ends = [_day(b) for b in re.split(r"[-~]", part)]
        if len(ends) > 2 or any(d is None for d in ends):
            return None
        if len(ends) == 1:
            days.add(ends[0])
        else:
            start, end = ends
            days.update(range(start, end + 1) if start <= end else [*range(start, 7), *range(0, end + 1)])
    return sorted(days) if days else None


def _day(text: str) -> int | None:
    text = text.strip().casefold()
    if re.fullmatch(r"[0-6]", text):
        return int(text)
    return _DAY_NAMES.get(text)


def parse_size(value: str) -> str | None:
    return SIZE_ALIASES.get(collapse(value).casefold())
