"""In Chromium, in the Korean UI: an SME registers, confirms its e-mail, logs in and registers its company."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from consultroom.accounts.models import User
from consultroom.companies.models import Company
from consultroom.companies.validation import business_number_with_check_digit
from consultroom.extensions import db
from tests.conftest import outbox_links

pytestmark = pytest.mark.e2e

EMAIL = "export@hanbit.example.kr"
PASSWORD = "export-2021-busan"
VALID_NUMBER = business_number_with_check_digit("220816251")  # 2208162517
WRONG_NUMBER = VALID_NUMBER[:-1] + str((int(VALID_NUMBER[-1]) + 1) % 10)  # same digits, wrong check digit


def _confirmation_link(to: str) -> str:
    db.session.rollback()  # see what the live server committed
    links = [link for link in outbox_links(to) if "/confirm/" in link]
    assert len(links) == 1, links
    return links[0]


def test_sme_registers_confirms_logs_in_and_creates_its_company_in_korean(page):
    # Register, in Korean: the default for a visitor.
    page.goto("/register")
    assert page.locator("html").get_attribute("lang") == "ko"
    page.get_by_label("이름", exact=True).fill("김영수")
    page.get_by_label("이메일", exact=True).fill(EMAIL)
    page.get_by_label("비밀번호", exact=True).fill(PASSWORD)
    page.get_by_label("비밀번호 확인", exact=True).fill(PASSWORD)
    page.get_by_label("위에 안내된 대로 개인정보를 수집·이용하는 데 동의합니다(필수).").check()
    page.get_by_role("button", name="계정 만들기").click()
    expect(page.get_by_role("heading", name="이메일 인증")).to_be_visible()

    # Follow the link from the confirmation mail, then log in.
    page.goto(_confirmation_link(EMAIL))
    page.wait_for_url("**/login")
    expect(page.get_by_text("이메일 주소가 인증되었습니다.")).to_be_visible()
    page.get_by_label("이메일", exact=True).fill(EMAIL)
    page.get_by_label("비밀번호", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.wait_for_url("**/companies/new")  # an SME without a company is sent to register one

    # The company profile, first with a business number whose check digit is wrong.
    page.get_by_label("기업명(국문)").fill("한빛코스메틱")
    page.get_by_label("기업명(영문)").fill("Hanbit Cosmetics")
    page.get_by_label("사업자등록번호").fill(f"{WRONG_NUMBER[:3]}-{WRONG_NUMBER[3:5]}-{WRONG_NUMBER[5:]}")
    page.get_by_label("대표자").fill("김영수")
    page.get_by_label("주소", exact=True).fill("부산광역시 해운대구 센텀중앙로 48")  # not 주소(영문)
    page.get_by_label("업종").fill("화장품")
    page.get_by_label("제품", exact=True).fill("기초화장품\n마스크팩")
    page.get_by_label("HS 코드", exact=True).fill("330499, 330410")

    # Long lists are the searchable picker (issue 15): tick the boxes as a user would.
    def tick(list_label: str, *names: str) -> None:
        group = page.get_by_role("group", name=list_label)
        for name in names:
            group.get_by_label(name, exact=True).check()

    tick("현재 수출 국가", "중국", "베트남")
    tick("목표 국가", "미국")
    tick("기업 담당자의 사용 언어", "한국어", "영어")
    page.get_by_label("위에 안내된 대로 담당자 연락처를 수집·이용·제공하는 데 동의합니다(필수).").check()
    page.get_by_role("button", name="기업 정보 저장").click()

    number = page.locator("#business_number")
    error = number.locator("xpath=following-sibling::div[contains(@class, 'invalid-feedback')]")
    assert error.inner_text().strip() == "올바른 사업자등록번호가 아닙니다(검증 번호가 맞는 10자리 숫자)."
    assert error.get_attribute("id") == "business_number-error"
    assert "business_number-error" in number.get_attribute("aria-describedby").split()
    assert number.get_attribute("aria-invalid") == "true"
    assert "is-invalid" in number.get_attribute("class").split()
    assert page.locator(".invalid-feedback").count() == 1  # only that field is wrong
    assert page.get_by_label("기업명(국문)").input_value() == "한빛코스메틱"  # the rest is kept
    db.session.rollback()
    assert db.session.scalar(select(Company)) is None

    # Corrected, the company is registered and its profile shown.
    number.fill(VALID_NUMBER)
    page.get_by_role("button", name="기업 정보 저장").click()
    page.wait_for_url(re.compile(r".*/companies/\d+$"))

    expect(page.get_by_text("기업이 등록되었습니다.")).to_be_visible()
    assert page.get_by_role("heading", level=1).inner_text().startswith("한빛코스메틱")
    profile = page.locator("dl")
    for label, value in [
        ("사업자등록번호", f"{VALID_NUMBER[:3]}-{VALID_NUMBER[3:5]}-{VALID_NUMBER[5:]}"),
        ("대표자", "김영수"),
        ("HS 코드", "330410, 330499"),
        ("현재 수출 국가", "중국, 베트남"),
        ("목표 국가", "미국"),
        ("사용 언어", "영어, 한국어"),
    ]:
        assert profile.locator(f"dt:text-is('{label}') + dd").inner_text().strip() == value, label
    db.session.rollback()
    company = db.session.scalar(select(Company))
    owner = db.session.scalar(select(User).where(User.email == EMAIL))
    assert (company.business_number, owner.company_id, owner.locale) == (VALID_NUMBER, company.id, "ko")
