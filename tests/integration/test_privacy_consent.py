"""Issue 6, item 2: privacy notices (what, why, how long, who receives it) and the consents recorded."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from consultroom.accounts.models import User
from consultroom.accounts.services import register_sme
from consultroom.db import utcnow
from consultroom.errors import Invalid
from consultroom.extensions import db
from consultroom.matching import confirmation
from consultroom.matching.services import propose_match
from consultroom.privacy import consent, notices
from consultroom.privacy.models import ConsentRecord, RetentionRule
from tests.factories import (
    make_booking,
    make_buyer,
    make_company,
    make_interpreter,
    make_round,
    make_sme_with_company,
    make_user,
)
from tests.integration.test_companies import FORM as COMPANY_FORM

REGISTRATION = {
    "name": "박지훈",
    "email": "jihoon@example.kr",
    "password": "export-2021-busan",
    "password_confirm": "export-2021-busan",
    "locale": "ko",
    "consent_account": "y",
}
VERSION = "2026-11"


def _records(subject_type: str | None = None) -> list[ConsentRecord]:
    stmt = select(ConsentRecord).order_by(ConsentRecord.id)
    if subject_type:
        stmt = stmt.where(ConsentRecord.subject_type == subject_type)
    return list(db.session.scalars(stmt))


def _summary(r: ConsentRecord) -> tuple:
    return (r.subject_type, r.subject_id, r.user_id, r.purpose, r.notice_version, r.granted, r.via)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", html)))


def _field_error(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error"[^>]*>(.*?)</div>\s*</div>', html, re.S)
    assert match, f"no error shown beside {field}"
    return _text(match.group(1)).strip()


# --- registration ---------------------------------------------------------------------------------


def test_register_with_marketing_records_both_consents_with_version_and_time(client):
    before = utcnow()
    response = client.submit("/register", {**REGISTRATION, "consent_marketing": "y"})
    after = utcnow()

    assert response.status_code == 200
    user = db.session.scalar(select(User))
    records = _records()
    assert [_summary(r) for r in records] == [
        ("user", user.id, user.id, "account", VERSION, True, "web"),
        ("user", user.id, user.id, "marketing_email", VERSION, True, "web"),
    ]
    for r in records:
        assert before - timedelta(seconds=1) <= r.at.replace(tzinfo=before.tzinfo) <= after + timedelta(seconds=1)


def test_register_refusing_marketing_still_registers_and_records_the_refusal(client):
    response = client.submit("/register", REGISTRATION)

    assert response.status_code == 200
    user = db.session.scalar(select(User))
    assert user.email == "jihoon@example.kr"
    assert [(r.purpose, r.granted) for r in _records()] == [("account", True), ("marketing_email", False)]
    assert consent.has_consent(subject_type="user", subject_id=user.id, purpose="marketing_email") is False


def test_register_without_required_consent_is_refused_naming_the_field(client):
    client.submit("/language", {"lang": "en", "next": "/register"})
    data = {k: v for k, v in REGISTRATION.items() if k != "consent_account"}

    response = client.submit("/register", {**data, "consent_marketing": "y"})

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _field_error(html, "consent_account") == (
        "Please agree to the collection of your personal data to create an account."
    )
    assert 'id="consent_account"' in html and 'aria-invalid="true"' in html
    assert 'href="#consent_account"' in html  # the error summary links to the box
    assert db.session.scalar(select(func.count(User.id))) == 0
    assert _records() == []


def test_register_service_refuses_without_account_consent(app):
    with force_locale("en"), pytest.raises(Invalid) as caught:
        register_sme(
            email="a@example.kr", password="export-2021-busan", name="A", consent_account=False, consent_marketing=True
        )
    assert caught.value.fields == {
        "consent_account": ["Please agree to the collection of your personal data to create an account."]
    }
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_register_page_shows_the_notice_with_the_admins_retention_months_and_unticked_boxes(client):
    db.session.add(RetentionRule(kind="sme_accounts", months=60))
    client.submit("/language", {"lang": "en", "next": "/register"})

    html = client.get("/register").get_data(as_text=True)

    text = _text(html)
    assert "What we collect" in text and "Who receives it" in text and "Your right to refuse" in text
    assert "Until 60 months after the end of the program year in which it was last used; then it is anonymised." in text
    assert "You may refuse, but without this consent we cannot create an account for you." in text
    for name in ("consent_account", "consent_marketing"):
        box = re.search(rf'<input[^>]*id="{name}"[^>]*>', html).group(0)
        assert 'type="checkbox"' in box and "checked" not in box
    assert "required" in re.search(r'<input[^>]*id="consent_account"[^>]*>', html).group(0)
    assert "required" not in re.search(r'<input[^>]*id="consent_marketing"[^>]*>', html).group(0)


# --- account page: marketing consent ---------------------------------------------------------------


def test_withdrawing_and_granting_marketing_is_recorded_and_the_service_stays(client, login_as):
    user = make_user("sme")
    consent.record_consent(subject_type="user", subject_id=user.id, user=user, purpose="account", granted=True)
    consent.record_consent(subject_type="user", subject_id=user.id, user=user, purpose="marketing_email", granted=True)
    login_as(user)

    withdrawn = client.submit("/account", {"mk-marketing_email": "", "mk-submit": "1"})
    assert withdrawn.status_code == 302
    assert client.get("/account").status_code == 200
    assert client.get("/rounds").status_code == 200  # withdrawing never costs the service

    again = client.submit("/account", {"mk-submit": "1"})  # unchanged: nothing new recorded
    assert again.status_code == 302
    granted = client.submit("/account", {"mk-marketing_email": "y", "mk-submit": "1"})
    assert granted.status_code == 302

    marketing = [(r.granted, r.via, r.user_id) for r in _records() if r.purpose == "marketing_email"]
    assert marketing == [(True, "web", user.id), (False, "web", user.id), (True, "web", user.id)]
    assert consent.has_consent(subject_type="user", subject_id=user.id, purpose="marketing_email") is True


def test_account_page_lists_consents_with_version_and_ticks_the_marketing_box(client, login_as):
    user, company = make_sme_with_company()
    consent.record_consent(subject_type="user", subject_id=user.id, user=user, purpose="account", granted=True)
    consent.record_consent(subject_type="user", subject_id=user.id, user=user, purpose="marketing_email", granted=True)
    consent.record_consent(
        subject_type="company", subject_id=company.id, user=user, purpose="company_profile", granted=True
    )
    login_as(user)

    html = client.get("/account").get_data(as_text=True)

    table = html.split('id="consents-h"')[1].split("</table>")[0]
    rows = [re.findall(r"<td>(.*?)</td>", row, re.S) for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]]
    assert [cells[:3] for cells in rows] == [
        ["Your user account", "Agreed", VERSION],
        ["News of other export programs (optional)", "Agreed", VERSION],
        ["Your company&#39;s contact persons", "Agreed", VERSION],
    ]
    assert [re.search(r'datetime="([^"]+)"', cells[3]).group(1) for cells in rows] == [
        r.at.isoformat() for r in _records()
    ]
    box = re.search(r'<input[^>]*id="mk-marketing_email"[^>]*>', html).group(0)
    assert "checked" in box
    assert "Please read our privacy notice" not in html  # the account consent is current


def test_user_without_current_account_consent_is_asked_and_can_agree(client, login_as):
    user = make_user("sme")
    old = consent.record_consent(subject_type="user", subject_id=user.id, user=user, purpose="account", granted=True)
    old.notice_version = "2025-01"  # agreed to an older notice
    login_as(user)

    html = client.get("/account").get_data(as_text=True)
    assert "Please read our privacy notice" in html
    refused = client.submit("/account", {"rc-submit": "1"})
    assert _field_error(refused.get_data(as_text=True), "rc-consent_account") == (
        "Please agree to the notice to keep using your account."
    )
    assert client.submit("/account", {"rc-consent_account": "y", "rc-submit": "1"}).status_code == 302

    assert consent.needs_renewal(subject_type="user", subject_id=user.id, purpose="account") is False
    assert "Please read our privacy notice" not in client.get("/account").get_data(as_text=True)


# --- company profile --------------------------------------------------------------------------------


def test_sme_registering_its_company_records_the_company_consent(client, login_as):
    user = login_as("sme")

    assert client.submit("/companies/new", COMPANY_FORM).status_code == 302

    db.session.refresh(user)
    assert [_summary(r) for r in _records()] == [
        ("company", user.company_id, user.id, "company_profile", VERSION, True, "web")
    ]


def test_company_registration_without_consent_is_refused_naming_the_field(client, login_as):
    login_as("sme")
    data = {k: v for k, v in COMPANY_FORM.items() if k != "consent_company_profile"}

    response = client.submit("/companies/new", data)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _field_error(html, "consent_company_profile") == (
        "Please agree to the collection of the contact data to save the company."
    )
    assert "Hanbit Cosmetics" in html  # what was typed is kept
    assert _records() == []
    assert db.session.scalar(select(func.count(User.company_id))) == 0


def test_staff_edit_writes_no_consent_and_shows_the_notice_without_a_box(client, login_as):
    _owner, company = make_sme_with_company()
    login_as("staff")

    page = client.get(f"/companies/{company.id}/edit").get_data(as_text=True)
    assert "Who receives it" in _text(page)
    assert 'id="consent_company_profile"' not in page
    data = {**COMPANY_FORM, "business_number": company.business_number}
    assert client.submit(f"/companies/{company.id}/edit", data).status_code == 302

    assert _records() == []


def test_owner_edit_asks_for_missing_consent_once(client, login_as):
    user, company = make_sme_with_company()
    login_as(user)
    data = {k: v for k, v in COMPANY_FORM.items() if k != "consent_company_profile"}
    data["business_number"] = company.business_number

    refused = client.submit(f"/companies/{company.id}/edit", data)
    assert _field_error(refused.get_data(as_text=True), "consent_company_profile")
    assert client.submit(f"/companies/{company.id}/edit", {**data, "consent_company_profile": "y"}).status_code == 302
    assert client.submit(f"/companies/{company.id}/edit", {**data, "products": "새 제품"}).status_code == 302

    assert [(r.subject_id, r.purpose, r.granted) for r in _records()] == [(company.id, "company_profile", True)]
    assert 'id="consent_company_profile"' not in client.get(f"/companies/{company.id}/edit").get_data(as_text=True)


# --- buyers and interpreters by signed link ------------------------------------------------------------


@pytest.fixture
def proposed(app):
    rnd = make_round(booths=1, slots_per_booth=2)
    booking = make_booking(rnd.slots[0])
    buyer = make_buyer()
    interpreter = make_interpreter(locale="ko")
    propose_match(booking=booking, buyer=buyer, interpreter=interpreter, actor=make_user("staff"))
    db.session.commit()
    return booking, buyer, interpreter


def test_buyer_accept_records_the_sharing_consent_once(client, proposed):
    booking, buyer, _interpreter = proposed
    token = confirmation.make_response_token(booking, "buyer")

    assert client.submit(f"/respond/{token}", {"answer": "accept"}).status_code == 302
    assert client.submit(f"/respond/{token}", {"answer": "accept"}).status_code == 302  # same answer again

    assert [_summary(r) for r in _records()] == [
        ("buyer", buyer.id, None, "consultation_sharing", VERSION, True, "link")
    ]


def test_buyer_decline_records_no_consent(client, proposed):
    booking, _buyer, _interpreter = proposed
    token = confirmation.make_response_token(booking, "buyer")

    assert client.submit(f"/respond/{token}", {"answer": "decline"}).status_code == 302

    assert _records() == []


def test_interpreter_accept_records_the_sharing_consent(client, proposed):
    booking, _buyer, interpreter = proposed
    token = confirmation.make_response_token(booking, "interpreter")

    assert client.submit(f"/respond/{token}", {"answer": "accept"}).status_code == 302

    assert [_summary(r) for r in _records()] == [
        ("interpreter", interpreter.id, None, "consultation_sharing", VERSION, True, "link")
    ]


def test_respond_page_shows_the_sharing_notice_in_english_to_the_buyer(client, proposed):
    booking, _buyer, _interpreter = proposed
    db.session.add(RetentionRule(kind="buyer_contacts", months=18))
    token = confirmation.make_response_token(booking, "buyer")

    text = _text(client.get(f"/respond/{token}").get_data(as_text=True))

    assert "Your contact data for this consultation" in text
    assert "The Korean company (SME) of the consultation" in text
    assert "Until 18 months after the end of the program year" in text
    assert "Interpreters:" not in text  # a buyer reads the buyers' period only
    assert "By accepting, you agree that your contact data are shared as described in the notice above." in text


def test_interpreter_portal_shows_the_sharing_notice(client, proposed):
    from consultroom.interpreters.services import portal_token

    _booking, _buyer, interpreter = proposed

    html = client.get(f"/interpreter/{portal_token(interpreter)}").get_data(as_text=True)

    assert "이 상담을 위한 연락처 정보" in _text(html)  # the interpreter's own language (Korean)


# --- the privacy policy --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "heading", "titles"),
    [
        (
            "ko",
            "개인정보 처리방침",
            ["회원 계정", "기업 담당자 정보", "다른 수출 지원 사업 소식(선택)", "이 상담을 위한 연락처 정보"],
        ),
        (
            "en",
            "Privacy policy",
            [
                "Your user account",
                "Your company's contact persons",
                "News of other export programs (optional)",
                "Your contact data for this consultation",
            ],
        ),
    ],
)
def test_policy_page_shows_each_notice_in_ko_and_en(client, lang, heading, titles):
    if lang == "en":
        client.submit("/language", {"lang": "en", "next": "/privacy/"})

    response = client.get("/privacy/")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.findall(r"<h1[^>]*>(.*?)</h1>", html) == [heading]
    h2 = [_text(h).strip() for h in re.findall(r"<h2[^>]*>(.*?)</h2>", html, re.S)]
    assert h2 == titles
    assert html.count(f'<dd class="col-sm-8">{VERSION}</dd>') == 4
    months = notices.retention_months()
    assert months["buyer_contacts"] == 36  # the default when the admin has set nothing


def test_policy_page_lists_both_retention_periods_of_the_sharing_notice(client):
    db.session.add_all(
        [RetentionRule(kind="buyer_contacts", months=12), RetentionRule(kind="interpreter_contacts", months=6)]
    )
    client.submit("/language", {"lang": "en", "next": "/privacy/"})

    text = _text(client.get("/privacy/").get_data(as_text=True))

    assert "Buyers: Until 12 months after the end of the program year" in text
    assert "Interpreters: Until 6 months after the end of the program year" in text


# --- the consent service ------------------------------------------------------------------------------


def test_record_consent_unknown_purpose_is_invalid(app):
    with force_locale("en"), pytest.raises(Invalid) as caught:
        consent.record_consent(subject_type="user", subject_id=1, user=None, purpose="newsletter", granted=True)
    assert caught.value.fields == {"purpose": ["Unknown consent purpose: newsletter."]}
    assert _records() == []


def test_current_consents_is_the_latest_record_per_purpose(app):
    company = make_company()
    subject = {"subject_type": "company", "subject_id": company.id}
    first = consent.record_consent(**subject, user=None, purpose="company_profile", granted=True)
    latest = consent.record_consent(**subject, user=None, purpose="company_profile", granted=False)
    latest.at = first.at  # same second: the later id still wins

    assert consent.current_consents(**subject) == {"company_profile": latest}
    assert consent.has_consent(**subject, purpose="company_profile") is False
    assert consent.needs_renewal(**subject, purpose="company_profile") is True
    assert consent.current_consents(subject_type="company", subject_id=company.id + 1) == {}


def test_set_consent_records_only_changes(app):
    user = make_user("sme")
    subject = {"subject_type": "user", "subject_id": user.id, "user": user, "purpose": "marketing_email"}

    refused = consent.set_consent(**subject, granted=False)
    assert (refused.purpose, refused.granted) == ("marketing_email", False)
    assert consent.set_consent(**subject, granted=False) is None
    granted = consent.set_consent(**subject, granted=True)
    assert (granted.purpose, granted.granted) == ("marketing_email", True)

    assert [r.granted for r in _records()] == [False, True]


def test_booking_form_tells_who_reads_the_request_and_for_how_long(client, login_as):
    user, _company = make_sme_with_company()
    rnd = make_round()
    db.session.add(RetentionRule(kind="free_text", months=18))
    db.session.commit()
    login_as(user)

    page = client.get(f"/rounds/{rnd.id}/slots/{rnd.slots[0].id}/book").get_data(as_text=True)

    notice = page[page.index('id="request-notice"') :]
    assert re.search(r"18 ?(months|개월)", notice[: notice.index("</p>")])
    assert 'href="/privacy/"' in notice[: notice.index("</p>")]


def test_staff_buyer_and_interpreter_forms_carry_the_third_party_notice(client, login_as):
    login_as(make_user("staff"))

    for url in ("/staff/buyers/new", "/staff/interpreters/new"):
        page = client.get(url).get_data(as_text=True)
        assert 'id="third-party-notice"' in page, url
