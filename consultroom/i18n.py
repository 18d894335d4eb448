"""Locale and time zone selection, formatting filters, and catalog compilation."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale
from babel import dates as babel_dates
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal as babel_format_decimal
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import (
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    format_time,
    format_timedelta,
    get_locale,
    get_timezone,
)
from flask_babel import gettext as _
from flask_login import current_user

from consultroom import pagination
from consultroom.languages import NATIVE_NAMES, PARTY_LOCALES, html_lang
from consultroom.placeholders import shown

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
# Pages buyers and interpreters reach by signed link: they offer every party language.
PARTY_BLUEPRINTS = ("respond",)
PARTY_ENDPOINTS = (
    "surveys.answer",
    # the interpreters' own portal (consultroom/interpreters/portal.py)
    "interpreters.me",
    "interpreters.portal",
    "interpreters.me_calendar",
    "interpreters.portal_calendar",
    "interpreters.portal_log",
)


def is_party_page() -> bool:
    return has_request_context() and (request.blueprint in PARTY_BLUEPRINTS or request.endpoint in PARTY_ENDPOINTS)


def offered_locales() -> tuple[str, ...]:
    """The staff/SME interface is Korean/English; buyer- and interpreter-facing pages offer all six."""
    return PARTY_LOCALES if is_party_page() else tuple(current_app.config["LANGUAGES"])


def select_locale() -> str:
    languages = offered_locales()
    if not has_request_context():  # CLI and jobs: mails set their locale with force_locale
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.path.startswith("/api/"):
        # The API never reads the cookie session: the token user's language, else Accept-Language.
        api_user = g.get("api_user")
        if api_user is not None and api_user.locale in languages:
            return api_user.locale
        return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    # Signed links (buyers, interpreters) may carry ?lang=; the UI default is Korean.
    arg = request.args.get("lang")
    if arg in languages:
        return arg
    if is_party_page():
        # A buyer's or interpreter's page rendered before its token names their language (an error
        # page, say): English, the buyers' fallback, rather than the staff interface's Korean.
        return "en"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    if getattr(current_user, "is_authenticated", False) and current_user.timezone:
        return current_user.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def krw(amount: int | Decimal | None) -> str:
    """KRW has no minor unit in practice; Babel formats it per locale (₩8,569,000,000)."""
    if amount is None:
        return ""
    return format_currency(amount, "KRW")


@cache
def datetime_pattern(fmt: str, locale: str, *, zone: bool = False) -> str:
    """The locale's date-and-time pattern for `fmt` with the short time (hours and minutes):
    consultations start on the minute, and "오후 1시 0분 0초" reads like a stopwatch. `zone` adds the
    zone's name, for readers in other zones (mails, buyer pages)."""
    loc = Locale.parse(locale)
    time_pattern = loc.time_formats["short"].pattern + (" zzzz" if zone else "")
    glue = str(loc.datetime_formats[fmt])
    return glue.replace("{0}", time_pattern).replace("{1}", loc.date_formats[fmt].pattern)


def format_datetime_minutes(value: datetime | None, fmt: str = "medium") -> str:
    """The `datetime` filter: a stored UTC moment in the viewer's zone, to the minute."""
    if not value:
        return ""
    if fmt not in ("short", "medium", "long", "full"):
        return format_datetime(value, fmt)  # an explicit pattern is taken as written
    locale = str(get_locale() or "ko")
    return _formatted(value, datetime_pattern(fmt, locale), locale, get_timezone())


@lru_cache(maxsize=4096)
def _formatted(value: datetime, pattern: str, locale: str, zone) -> str:
    # A list page prints the same few slot times over and over (a round has eight a day), and Babel
    # takes about 50 us a call; the result depends only on these arguments.
    return babel_dates.format_datetime(value, pattern, tzinfo=zone, locale=locale)


def format_minutes(minutes: int) -> str:
    """A period in the largest unit that states it exactly: 1440 -> "1일" / "1 day", 90 -> "90분".
    (An unreachable threshold makes Babel stop at `granularity` instead of rounding 90 min to 2 h.)"""
    unit = next(u for u, size in (("day", 24 * 60), ("hour", 60), ("minute", 1)) if minutes % size == 0)
    return format_timedelta(timedelta(minutes=minutes), granularity=unit, threshold=10**9)


def capped_number(value: int | None) -> str:
    """A count from pagination.capped_count: the number, or "more than 10,000" when it stopped there."""
    if value is None:
        return _("more than %(num)s", num=format_decimal(pagination.COUNT_CAP))
    return format_decimal(value)


def init_filters(app: Flask) -> None:
    from consultroom.companies.validation import country_name, language_name

    app.jinja_env.globals["language_names"] = NATIVE_NAMES
    app.jinja_env.filters["datetime"] = format_datetime_minutes
    # Generated round titles and anonymised people's placeholder names, printed anywhere, read in the
    # viewer's language; `shown` also serves values passed into a message (title=round.title|shown).
    app.jinja_env.filters["shown"] = shown
    app.jinja_env.finalize = shown
    app.jinja_env.filters["date"] = lambda v, fmt="medium": format_date(v, fmt) if v else ""
    app.jinja_env.filters["time"] = lambda v, fmt="short": format_time(v, fmt) if v else ""
    app.jinja_env.filters["minutes"] = format_minutes
    app.jinja_env.filters["number"] = lambda v: format_decimal(v) if v is not None else ""
    app.jinja_env.filters["capped"] = capped_number
    app.jinja_env.globals["pagination_cap"] = pagination.COUNT_CAP
    app.jinja_env.filters["exact"] = exact_number
    app.jinja_env.filters["krw"] = krw
    app.jinja_env.filters["country_name"] = lambda code: country_name(code, str(get_locale() or "ko"))
    app.jinja_env.filters["language_name"] = lambda code: language_name(code, str(get_locale() or "ko"))

    @app.context_processor
    def _locale_ctx():
        locale = str(get_locale() or "ko")
        offered = offered_locales()
        if locale not in offered:  # a page rendered in a party's language keeps it in the list
            offered = (*offered, locale)
        return {
            "current_locale": locale,
            "html_lang": html_lang(locale),
            "current_timezone": str(get_timezone()),
            "language_choices": [(code, NATIVE_NAMES.get(code, code)) for code in offered],
        }


def exact_number(value) -> str:
    """Every stored digit, grouped for the viewer's locale: exchange rates have up to six decimals,
    and Babel's default pattern would round them to three (the page would then disagree with the
    KRW value computed from the rate)."""
    if value is None:
        return ""
    return babel_format_decimal(value, locale=str(get_locale() or "ko"), decimal_quantization=False)


def compile_catalogs(directory: Path = TRANSLATIONS_DIR, *, strict: bool = False) -> list[str]:
    """Compile every messages.po to messages.mo when the .po is newer. Returns the compiled paths.

    The demo calls this so a fresh checkout shows Korean without a separate `pybabel compile` step.
    """
    compiled = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if not strict and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=po_path.parent.parent.name)
        errors = list(catalog.check())
        if strict and errors:
            raise ValueError(f"{po_path}: {errors}")
        with mo_path.open("wb") as fh:
            write_mo(fh, catalog)
        compiled.append(str(mo_path))
    return compiled
