from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import babel.dates
import babel.numbers
from flask_babel import force_locale

from consultroom.i18n import krw
from tests.formatting import grouped, won


def test_krw_formatted_per_locale(app):
    with app.test_request_context():
        for locale in ("ko", "en"):
            with force_locale(locale):
                shown = krw(8_569_000_000)
            assert shown == won(8_569_000_000, locale)
            # The parts that matter, whatever CLDR's spacing: the won sign and every digit grouped.
            assert babel.numbers.get_currency_symbol("KRW", locale) in shown
            assert grouped(8_569_000_000, locale) in shown
        assert krw(None) == ""


def test_datetime_filter_uses_locale_and_zone(app):
    moment = datetime(2021, 3, 10, 1, 0, tzinfo=UTC)  # 10:00 in Seoul
    with app.test_request_context():
        env = app.jinja_env
        with force_locale("ko"):
            ko = env.from_string("{{ m|datetime('short') }}").render(m=moment)
        with force_locale("en"):
            en = env.from_string("{{ m|datetime('short') }}").render(m=moment)
            number = env.from_string("{{ n|number }}").render(n=1234567)
    # Asia/Seoul is the default zone: 01:00 UTC is 10:00 there. The expected text is what Babel itself
    # writes for that wall-clock time, so a CLDR release that changes words ("AM" -> "오전") cannot break it.
    seoul = ZoneInfo("Asia/Seoul")
    assert ko == babel.dates.format_datetime(moment, "short", tzinfo=seoul, locale="ko")
    assert en == babel.dates.format_datetime(moment, "short", tzinfo=seoul, locale="en")
    assert "10:00" in ko and "10:00" in en  # the zone was applied: 01:00 UTC would show as 1:00
    assert en.index("3/10/21") < en.index("10:00")  # English puts the date first
    assert number == babel.numbers.format_decimal(1234567, locale="en")


def test_exact_filter_keeps_every_digit_of_a_rate(app):
    from decimal import Decimal

    with app.test_request_context(), force_locale("en"):
        render = app.jinja_env.from_string("{{ r|exact }}|{{ r|number }}").render
        assert render(r=Decimal("1391.456750")) == "1,391.45675|1,391.457"
        assert render(r=Decimal("1400.000000")) == "1,400|1,400"
        assert render(r=None) == "|"
