"""The Korean reviewed in context (issue 15 item 6) stays reviewed: one word per concept in the
catalogue, and counts that read right for one and for many in both languages."""

from __future__ import annotations

import re

from babel.messages.pofile import read_po
from flask_babel import force_locale, ngettext

from consultroom.extensions import db
from consultroom.i18n import TRANSLATIONS_DIR
from tests.factories import make_company, make_user


def _korean():
    with open(TRANSLATIONS_DIR / "ko" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return [m for m in read_po(fh) if m.id]


def _strings(message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


def _ids(message) -> str:
    return " ".join(message.id) if isinstance(message.id, tuple) else message.id


def test_korean_says_one_word_per_concept():
    wrong = []
    for m in _korean():
        for text in _strings(m):
            if "부스" in text:
                wrong.append(f"{_ids(m)!r}: booth is 상담실, 부스 means nothing to an SME: {text}")
            if "시간대" in text and re.search(r"\bslots?\b", _ids(m), re.I) and "%(tz)s" not in _ids(m):
                wrong.append(f"{_ids(m)!r}: a slot is 시간 or 자리; 시간대 is a time zone: {text}")
            if "예약 작업" in text:
                wrong.append(f"{_ids(m)!r}: a scheduled job is 자동 실행 작업; 예약 is a booking: {text}")
            if "설문" in text or "상담 일지" in text or "수출 상담" in text or "담당 직원" in text:
                wrong.append(f"{_ids(m)!r}: 만족도 조사, 상담일지, 수출상담, 담당자: {text}")
            if "십시오" in text:
                wrong.append(f"{_ids(m)!r}: instructions say -세요: {text}")
    assert wrong == []


def test_company_list_count_reads_right_for_one_and_for_two(client, login_as):
    login_as(make_user("staff", locale="en"))
    make_company(owner=make_user("sme"))
    db.session.commit()
    one = client.get("/companies").get_data(as_text=True)
    make_company(owner=make_user("sme"))
    db.session.commit()
    two = client.get("/companies").get_data(as_text=True)
    assert "<p>1 company</p>" in one and "<p>2 companies</p>" in two


def test_counted_messages_have_one_korean_form(app):
    with app.test_request_context():
        with force_locale("en"):
            assert ngettext("%(num)d month", "%(num)d months", 1) == "1 month"
            assert ngettext("%(num)d month", "%(num)d months", 3) == "3 months"
        with force_locale("ko"):
            assert ngettext("%(num)d month", "%(num)d months", 1) == "1개월"
            assert ngettext("%(num)d booking matched", "%(num)d bookings matched", 4) == "예약 4건 매칭"


def test_generated_round_title_and_placeholder_names_read_in_the_viewers_language(app):
    from flask import render_template_string

    from consultroom.placeholders import deleted_name, generated_round_title, shown

    stored = generated_round_title(2026, 12)
    template = "{{ title }} · {{ name }} · {{ typed }} · {{ _('Cancelled: %(title)s', title=title|shown) }}"
    values = {"title": stored, "name": deleted_name("user", 12), "typed": "12월 특별 수출상담회"}
    with app.test_request_context():
        with force_locale("en"):
            english = render_template_string(template, **values)
        with force_locale("ko"):
            korean = render_template_string(template, **values)
        with force_locale("ja"):
            assert shown(deleted_name("interpreter", 3)) == "削除された通訳者 #3"
    assert english == (
        "Export consultations, December 2026 · Deleted user #12 · 12월 특별 수출상담회 · "
        "Cancelled: Export consultations, December 2026"
    )
    assert (
        korean
        == "2026년 12월 수출상담회 · 삭제된 사용자 #12 · 12월 특별 수출상담회 · 취소 안내: 2026년 12월 수출상담회"
    )
    assert shown(generated_round_title(2026, 13)) == "2026년 13월 수출상담회"  # not a month: left as typed


def test_company_list_filter_offers_countries_by_name(client, login_as):
    login_as(make_user("staff", locale="en"))
    make_company(owner=make_user("sme"), target_countries=("JP", "DE"))
    db.session.commit()
    html = client.get("/companies").get_data(as_text=True)
    assert re.search(r'<option value="DE"\s*>Germany</option>', html)
    assert re.search(r'<option value="JP"\s*>Japan</option>', html)
    assert 'placeholder="US"' not in html  # no ISO code to type
