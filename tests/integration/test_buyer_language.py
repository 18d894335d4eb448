"""Issue 13, items 3 and 4: a buyer's own language and website, and the company's English profile,
through the mails, the answer page, the .ics, the survey, the forms, the import and the API."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from flask_babel import force_locale, gettext
from icalendar import Calendar
from sqlalchemy import select

from consultroom.buyers.models import Buyer
from consultroom.extensions import db
from consultroom.i18n import datetime_pattern
from consultroom.matching import confirmation
from consultroom.matching.services import propose_match
from consultroom.notifications.models import OutboxMail
from tests.factories import (
    accept_both,
    make_booking,
    make_buyer,
    make_company,
    make_interpreter,
    make_round,
    make_user,
)
from tests.integration.test_api_support import api_call, bearer

ADDRESS_KO = "부산광역시 해운대구 센텀중앙로 48"


def tr(locale: str, msgid: str, **values) -> str:
    with force_locale(locale):
        return gettext(msgid, **values)


@pytest.fixture
def proposal(app):
    rnd = make_round(booths=2, slots_per_booth=3)
    booking = make_booking(rnd.slots[0])
    company = booking.company
    company.name_en = "Hanbit Foods Co., Ltd."
    company.summary_en = "Seaweed snacks from Busan, exported to 12 countries."
    company.products_en = ""  # missing: the buyer reads the Korean request, marked
    company.address = ADDRESS_KO
    company.address_en = ""
    buyer = make_buyer(preferred_language="ja", timezone="Asia/Tokyo", country="JP", languages=("ja",))
    interpreter = make_interpreter(locale="vi", languages=("ja",))
    staff = make_user("staff", locale="ko")
    with force_locale("en"):
        propose_match(booking=booking, buyer=buyer, interpreter=interpreter, actor=staff)
    db.session.commit()
    return {"booking": booking, "buyer": buyer, "interpreter": interpreter, "staff": staff, "company": company}


def _mail(template: str, to: str) -> OutboxMail:
    return db.session.scalar(select(OutboxMail).where(OutboxMail.template == template, OutboxMail.to_addr == to))


def test_proposal_mail_is_in_the_buyers_language_with_the_english_profile(proposal):
    p = proposal
    mail = _mail("match_proposed", p["buyer"].email)
    booking = p["booking"]

    assert mail.locale == "ja"
    assert mail.subject == tr("ja", "Proposed export consultation with %(company)s", company="Hanbit Foods Co., Ltd.")
    body = mail.body_text
    assert body.startswith(tr("ja", "Hello %(name)s,", name=p["buyer"].contact_name) + "\n")
    # Tokyo's wall time, to the minute, with the zone named (datetime_pattern has its own unit test)
    pattern = datetime_pattern("full", "ja", zone=True)
    when = format_datetime(booking.starts_at, pattern, tzinfo=ZoneInfo("Asia/Tokyo"), locale="ja")
    assert "10:00" in when and "日本標準時" in when
    assert tr("ja", "Time: %(when)s", when=when) in body
    assert tr("ja", "Company: %(company)s", company="Hanbit Foods Co., Ltd.") in body
    assert "Ltd.." not in body
    marked = f"{ADDRESS_KO} （韓国語の原文、未翻訳）"
    assert tr("ja", "Address: %(address)s", address=marked) in body
    assert f"{booking.products} （韓国語の原文、未翻訳）" in body
    assert "Seaweed snacks from Busan, exported to 12 countries." in body
    assert "輸出商談" in mail.subject and "1対1ビデオ商談" in body


def test_interpreter_mail_is_in_the_interpreters_language(proposal):
    mail = _mail("match_proposed", proposal["interpreter"].email)

    assert mail.locale == "vi"
    assert mail.body_text.startswith(f"Xin chào {proposal['interpreter'].name},\n")
    assert "Chúng tôi muốn mời bạn phiên dịch" in mail.body_text


def test_answer_page_and_ics_are_in_the_buyers_language(proposal, client):
    p = proposal
    token = confirmation.make_response_token(p["booking"], "buyer")

    html = client.get(f"/respond/{token}").get_data(as_text=True)

    assert '<html lang="ja">' in html
    assert tr("ja", "Proposed export consultation") in html
    assert 'id="company-name">Hanbit Foods Co., Ltd.</dd>' in html
    assert (
        f'<span lang="ko">{ADDRESS_KO}</span> <small class="text-muted untranslated">（韓国語の原文、未翻訳）</small>'
        in html
    )
    assert "Seaweed snacks from Busan" in html
    # The language list offers the six party languages here, the staff/SME two elsewhere.
    assert 'value="zh_Hans" lang="zh-Hans"' in html and "日本語" in html

    cal = Calendar.from_ical(client.get(f"/respond/{token}/ics").data)
    (event,) = cal.walk("VEVENT")
    summary = tr(
        "ja",
        "Export consultation: %(company)s and %(buyer)s",
        company="Hanbit Foods Co., Ltd.",
        buyer=p["buyer"].company_name,
    )
    assert str(event["summary"]) == summary
    assert tr("ja", "Company: %(company)s", company="Hanbit Foods Co., Ltd.") in str(event["description"])


def test_a_buyer_may_switch_the_answer_page_to_another_party_language(proposal, client):
    token = confirmation.make_response_token(proposal["booking"], "buyer")

    html = client.get(f"/respond/{token}?lang=es").get_data(as_text=True)

    assert '<html lang="es">' in html and "Consulta de exportación propuesta" in html


def test_staff_pages_stay_korean_or_english_whatever_the_session_chose(client, login_as):
    login_as(make_user("staff", locale="ko"))
    client.submit("/language", {"lang": "ja", "next": "/"})

    html = client.get("/companies").get_data(as_text=True)

    assert '<html lang="ko">' in html
    assert 'value="ja"' not in html


def test_unknown_preferred_language_falls_back_to_english(app):
    rnd = make_round()
    booking = make_booking(rnd.slots[0])
    buyer = make_buyer(preferred_language="fr")
    with force_locale("ko"):
        propose_match(booking=booking, buyer=buyer, interpreter=make_interpreter(), actor=make_user("staff"))

    mail = _mail("match_proposed", buyer.email)
    assert mail.locale == "en"
    assert mail.subject.startswith("Proposed export consultation with ")


def test_buyer_survey_is_in_the_buyers_language(client):
    from tests.integration.test_surveys import _held, _invitation, _invite, _questions, _url

    _questions("sme")
    questions = _questions("buyer")
    _user, booking = _held(make_round(), 0)
    booking.buyer.preferred_language = "zh_Hans"
    booking.company.name_en = "Hanbit Foods Co., Ltd."
    _invite()
    db.session.commit()

    mail = _mail("survey_invitation", booking.buyer.email)
    assert mail.locale == "zh_Hans"
    assert "感谢您于" in mail.body_text and "Hanbit Foods Co., Ltd." in mail.body_text
    html = client.get(_url(_invitation(booking, "buyer"))).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in html
    assert "请告诉我们您于" in html and "Hanbit Foods Co., Ltd." in html
    assert questions[0].text_en in html  # question texts fall back to English
    assert "非常满意" in html


# --- the buyer's fields ---------------------------------------------------------------------------


def test_buyer_form_saves_language_and_website_and_refuses_bad_ones(client, login_as):
    login_as(make_user("staff", locale="en"))
    form = {
        "company_name": "Kyoto Trading",
        "country": "JP",
        "email": "buy@kyoto.example.jp",
        "size": "unknown",
        "meet_from": "09:00",
        "meet_to": "18:00",
        "meet_days": ["0", "1"],
        "website": "ftp://kyoto.example.jp",
        "preferred_language": "fr",
    }
    html = client.submit("/staff/buyers/new", form).get_data(as_text=True)
    assert "Start the address with http:// or https://." in html
    assert "Not a language buyers can read mails in: fr" in html
    assert db.session.scalar(select(Buyer)) is None

    response = client.submit(
        "/staff/buyers/new", {**form, "website": "https://kyoto.example.jp", "preferred_language": "ja"}
    )
    assert response.status_code == 302
    buyer = db.session.scalar(select(Buyer))
    assert (buyer.preferred_language, buyer.website) == ("ja", "https://kyoto.example.jp")


def test_buyer_api_reads_and_writes_language_and_website(client):
    staff = make_user("staff", locale="en")
    payload = {"company_name": "Saigon Foods", "country": "VN", "email": "buy@saigon.example.vn"}
    created = api_call(
        client,
        "POST",
        "/api/v1/buyers",
        headers=bearer(staff),
        json={**payload, "preferred_language": "Vietnamese", "website": "https://saigon.example.vn"},
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["preferred_language"], body["website"]) == ("vi", "https://saigon.example.vn")

    bad = api_call(
        client,
        "PATCH",
        "/api/v1/buyers/{buyer_id}",
        buyer_id=body["id"],
        headers=bearer(staff),
        json={"preferred_language": "Klingon"},
    )
    assert bad.status_code == 422
    assert list(bad.get_json()["error"]["fields"]) == ["preferred_language"]


def test_buyer_import_reads_language_and_website_columns():
    from consultroom.buyers.importing import parse_upload
    from consultroom.buyers.services import clean_buyer_data

    csv = (
        "회사명,국가,이메일,선호 언어,홈페이지\n"
        "Tokyo Beauty,JP,tb@beauty.example.jp,일본어,https://beauty.example.jp\n"
        "Bogota Foods,CO,mf@foods.example.co,Spanish,\n"
    ).encode()
    parsed = parse_upload("buyers.csv", csv)
    assert {"preferred_language", "website"} <= set(parsed.columns)
    with force_locale("en"):
        rows = [clean_buyer_data(r["values"]) for r in parsed.rows]
    assert [(r["preferred_language"], r["website"]) for r in rows] == [
        ("ja", "https://beauty.example.jp"),
        ("es", ""),
    ]


def test_sme_sees_the_confirmed_buyers_website(proposal, client, login_as):
    p = proposal
    p["buyer"].website = "https://buyer.example.jp"
    accept_both(p["booking"])
    sme = db.session.scalar(select(type(p["staff"])).where(type(p["staff"]).company_id == p["company"].id))
    db.session.commit()
    login_as(sme)

    html = client.get(f"/bookings/{p['booking'].id}").get_data(as_text=True)

    assert 'id="buyer-website">https://buyer.example.jp</a>' in html


# --- the company's English profile ---------------------------------------------------------------


def test_company_english_fields_refuse_hangul_and_double_periods(client, login_as):
    company = make_company()
    login_as(make_user("staff", locale="en"))
    db.session.commit()
    form = {
        "name_ko": company.name_ko,
        "name_en": "Hanbit Co., Ltd..",
        "business_number": company.business_number,
        "representative": company.representative,
        "products_en": "김 snacks",
        "summary_en": "Good seaweed.",
    }

    html = client.submit(f"/companies/{company.id}/edit", form).get_data(as_text=True)

    assert "A name ends in at most one period." in html
    assert "Write this in English: it contains Korean characters." in html
    db.session.refresh(company)
    assert company.products_en == ""


def test_company_api_refuses_hangul_in_english_fields_too(client):
    owner = make_user("sme")
    company = make_company(owner=owner)
    db.session.commit()

    response = api_call(
        client,
        "PATCH",
        "/api/v1/companies/{company_id}",
        company_id=company.id,
        headers=bearer(owner),
        json={"summary_en": "부산의 김"},
    )

    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["summary_en"]


def test_staff_list_shows_and_filters_companies_lacking_an_english_profile(client, login_as):
    done = make_company(name_en="Done Co.", products_en="Laver", summary_en="We make laver.")
    lacking = make_company(name_en="Half Co.")
    login_as(make_user("staff", locale="en"))

    html = client.get("/companies").get_data(as_text=True)
    assert html.count('badge text-bg-success">Complete') >= 1
    assert "Products (English), Company summary (English)" in html

    only = client.get("/companies?english=missing").get_data(as_text=True)
    assert lacking.name_ko in only and done.name_ko not in only

    api = client.get("/api/v1/companies?english=missing", headers=bearer(make_user("staff")))
    names = {c["name_ko"]: c["missing_english"] for c in api.get_json()["items"]}
    assert names == {lacking.name_ko: ["products_en", "summary_en"]}


def test_no_party_message_ends_a_sentence_on_a_company_name():
    """The 'Co., Ltd..' cause: a sentence-final period right after a name placeholder."""
    from tests.integration.test_i18n import _source_messages

    bad = [m for m, _context in _source_messages() if re.search(r"%\((company|buyer|company_name)\)s\.", m)]
    assert bad == []


def test_an_error_on_a_buyers_page_is_in_english_or_the_language_chosen_there(proposal, client):
    token = confirmation.make_response_token(proposal["booking"], "buyer")

    plain = client.post(f"/respond/{token}", data={"answer": "accept"})  # no CSRF token
    assert plain.status_code == 400
    assert '<html lang="en">' in plain.get_data(as_text=True)

    client.submit("/language", {"lang": "ja", "next": f"/respond/{token}"})
    chosen = client.post(f"/respond/{token}", data={"answer": "accept"})
    html = chosen.get_data(as_text=True)
    assert '<html lang="ja">' in html
    assert tr("ja", "Your form expired or was sent from another site. Please reload the page and try again.") in html


def test_english_profile_filter_query_count_is_the_same_for_1_and_25_rows(client, login_as, count_queries):
    make_company(name_en="Half Co.")
    login_as("staff")
    client.get("/companies?english=missing")  # warm-up
    with count_queries() as one:
        assert client.get("/companies?english=missing").status_code == 200
    for _ in range(24):
        make_company()
    db.session.commit()
    with count_queries() as many:
        html = client.get("/companies?english=missing").get_data(as_text=True)
    assert html.count("text-bg-warning") == 25
    assert one.count == many.count
    print(f"company list ?english=missing: {one.count} queries at 1 row, {many.count} at 25")
