"""In Chromium: a held consultation runs through to the program report. Staff read the year's
report and log the consultation; the SME (Korean, switching to English) moves its outcome to
negotiating and records a USD contract whose KRW value comes from the signing date's rate; the
survey job mails the SME its link, the SME answers; the staff report then shows the contract, its
won value and the satisfaction score."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from consultroom.bookings.models import Booking
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.outcomes.models import Contract, Outcome
from consultroom.surveys.models import SurveyInvitation, SurveyResponse
from consultroom.surveys.services import invite_held
from consultroom.timeutil import seoul_date
from tests.conftest import outbox_links
from tests.e2e.session import login
from tests.factories import SurveyQuestionFactory, make_company, make_consultation, make_rate, make_user, past_round
from tests.formatting import won

pytestmark = pytest.mark.e2e

RATE = "1391.45675"  # won per US dollar on the signing date
# By hand: 10,000.00 x 1,391.45675 = 13,914,567.5 won, rounded half-up to whole won.
EXPECTED_KRW = 13_914_568


def _figures(page) -> dict[str, str]:
    names = ("held", "contracted", "contracts", "krw", "satisfaction", "conversion", "smes")
    return {name: page.locator(f"dd[data-figure='{name}']").inner_text().strip() for name in names}


def _flash(page, text: str) -> None:
    expect(page.get_by_text(text, exact=False).first).to_be_visible()


def test_logged_consultation_contract_and_survey_change_the_program_report(page, browser, live_server):
    assert Decimal("10000.00") * Decimal(RATE) == Decimal("13914567.5")
    assert int((Decimal("10000.00") * Decimal(RATE)).quantize(Decimal(1), rounding=ROUND_HALF_UP)) == EXPECTED_KRW

    rnd = past_round(days_ago=3, booths=1, slots_per_booth=1)
    sme = make_user("sme", locale="ko")
    company = make_company(owner=sme, name_ko="바다식품", name_en="Sea Foods")
    booking = make_consultation(rnd, company=company)
    consulted_on = seoul_date(booking.starts_at)
    make_rate("USD", consulted_on, RATE)
    SurveyQuestionFactory(text_ko="상담에 만족하셨습니까?", text_en="How satisfied were you?", required=True)
    SurveyQuestionFactory(kind="text", text_ko="개선할 점은?", text_en="What could be better?", actor=None)
    staff = make_user("staff")
    db.session.commit()
    booking_id, year = booking.id, consulted_on.year
    sme_email, staff_email = sme.email, staff.email
    assert booking.status == "confirmed"

    # Staff read the year's report: the consultation is not logged yet, so nothing counts.
    login(page, staff_email)
    page.goto(f"/staff/reports?year={year}")
    expect(page.get_by_role("heading", level=2, name=f"Year {year}")).to_be_visible()
    before_log = _figures(page)
    assert before_log["held"] == "0"
    assert before_log["contracts"] == "0"

    # Staff log the consultation as held, with high interest.
    page.goto(f"/consultations/{booking_id}")
    page.get_by_role("link", name="Write the log").click()
    page.wait_for_url(f"**/consultations/{booking_id}/log")
    page.get_by_label("Held", exact=True).check()
    page.get_by_label("Buyer interest").select_option("high")
    page.get_by_label("Products discussed").fill("Dried laver, seasoned")
    page.get_by_role("button", name="Save the log").click()
    page.wait_for_url(f"**/consultations/{booking_id}")
    _flash(page, "The consultation log is saved.")
    log = page.locator("#consultation-log")
    assert log.locator("dt:text-is('Attendance') + dd").inner_text().strip() == "Held"
    assert log.locator("dt:text-is('Buyer interest') + dd").inner_text().strip() == "High"
    assert page.locator("#outcome-stage").inner_text().strip() == "Follow-up"

    # The report now counts one held consultation, still with no contract and no satisfaction.
    page.goto(f"/staff/reports?year={year}")
    before = _figures(page)
    assert before["held"] == "1"
    assert before["smes"] == "1"
    assert before["contracted"] == "0"
    assert before["contracts"] == "0"
    assert before["krw"] == won(0, "en")
    assert before["conversion"] == "0.0%"
    assert before["satisfaction"] == "–"

    # The SME logs in (its account reads Korean) and switches to English.
    sme_ctx = browser.new_context(base_url=live_server, locale="ko-KR", timezone_id="Asia/Seoul")
    sme_page = sme_ctx.new_page()
    sme_page.set_default_timeout(10_000)
    login(sme_page, sme_email)
    sme_page.goto(f"/consultations/{booking_id}")
    assert sme_page.get_by_role("heading", level=1).inner_text() == "상담"
    sme_page.locator("#lang-select").select_option("en")
    sme_page.locator("#lang-select").locator("xpath=..").get_by_role("button").click()
    sme_page.wait_for_url(f"**/consultations/{booking_id}")
    assert sme_page.get_by_role("heading", level=1).inner_text() == "Consultation"
    assert "바다식품" in sme_page.locator("main p.text-muted").first.inner_text()
    assert sme_page.locator("#outcome-stage").inner_text().strip() == "Follow-up"
    # The SME sees the log but may not write it.
    assert sme_page.get_by_role("link", name="Edit the log").count() == 0

    # The SME moves the outcome to negotiating.
    sme_page.get_by_label("New stage").select_option("negotiating")
    sme_page.get_by_label("Note").fill("Price list sent")
    sme_page.get_by_role("button", name="Update").click()
    sme_page.wait_for_url(f"**/consultations/{booking_id}")
    _flash(sme_page, "The outcome is updated.")
    assert sme_page.locator("#outcome-stage").inner_text().strip() == "Negotiating"

    # It records a USD 10,000.00 contract signed on the rate's date; the won value is the rate's.
    sme_page.get_by_role("link", name="Record a contract").click()
    sme_page.wait_for_url(f"**/consultations/{booking_id}/contracts/new")
    sme_page.get_by_label("Currency").fill("usd")
    sme_page.get_by_label("Amount").fill("10,000.00")
    sme_page.get_by_label("Signing date").fill(consulted_on.isoformat())
    sme_page.get_by_label("Items").fill("Seasoned laver, 2 containers")
    sme_page.get_by_role("button", name="Record the contract").click()
    sme_page.wait_for_url(f"**/consultations/{booking_id}")
    _flash(sme_page, f"The contract is recorded: 10,000.00 USD, {EXPECTED_KRW:,} won.")
    assert sme_page.locator("#outcome-stage").inner_text().strip() == "Contracted"
    row = sme_page.locator("table tbody tr").filter(has_text="USD").first
    cells = [c.inner_text().strip() for c in row.locator("td").all()]
    assert cells[1] == "10,000.00 USD"
    # The rate is shown exactly as used (all its decimals), so the won value can be checked by hand.
    assert cells[2].startswith("1,391.45675 ("), cells[2]
    assert cells[3] == won(EXPECTED_KRW, "en")
    assert cells[4] == "Seasoned laver, 2 containers"
    assert sme_page.locator("#contracts-total").inner_text().strip() == won(EXPECTED_KRW, "en")

    db.session.rollback()  # see what the live server committed
    contract = db.session.scalar(
        select(Contract).join(Outcome, Contract.outcome_id == Outcome.id).where(Outcome.booking_id == booking_id)
    )
    assert (contract.currency, contract.amount_minor, contract.krw_value) == ("USD", 1_000_000, EXPECTED_KRW)
    assert contract.rate_day == consulted_on and contract.rate == Decimal(RATE)
    db.session.rollback()

    # The nightly survey job invites the held consultation's company; a second run sends nothing more.
    assert invite_held(now=utcnow()) == {"sme": 1, "buyer": 0}  # no buyer questions
    db.session.commit()
    assert invite_held(now=utcnow()) == {"sme": 0, "buyer": 0}
    db.session.commit()
    links = [link for link in outbox_links(sme_email) if "/survey/" in link]
    assert len(links) == 1, links
    link = links[0]
    assert link.startswith(live_server) and "lang=en" in link  # the language the SME now reads
    db.session.rollback()

    # The SME opens the mailed link, answers 5 and a comment, and sees the thank-you page.
    assert sme_page.goto(link).status == 200
    assert sme_page.get_by_role("heading", level=1).inner_text() == "Satisfaction survey"
    scale = sme_page.locator("fieldset").filter(has_text="How satisfied were you?")
    scale.get_by_label("5 · Very satisfied").check()
    sme_page.get_by_label("What could be better?").fill("More buyers from Japan, please.")
    sme_page.get_by_role("button", name="Send my answers").click()
    assert sme_page.get_by_role("heading", level=1).inner_text() == "Thank you"
    expect(sme_page.locator("p.lead[data-status='answered']")).to_be_visible()

    # The link is spent: opening it again says so (409), not a second form.
    assert sme_page.goto(link).status == 409
    assert sme_page.get_by_role("button", name="Send my answers").count() == 0
    sme_ctx.close()

    db.session.rollback()
    invitation = db.session.scalar(select(SurveyInvitation).where(SurveyInvitation.booking_id == booking_id))
    response = db.session.scalar(select(SurveyResponse).where(SurveyResponse.invitation_id == invitation.id))
    assert response is not None and response.locale == "en"
    assert {(a.score, a.text) for a in response.answers} == {(5, None), (None, "More buyers from Japan, please.")}
    assert db.session.get(Booking, booking_id).status == "held"
    db.session.rollback()

    # Staff reload the report: one contract, its won value, the satisfaction score.
    page.reload()
    after = _figures(page)
    assert after["held"] == "1"
    assert after["contracted"] == "1"
    assert after["contracts"] == "1"
    assert after["krw"] == won(EXPECTED_KRW, "en")
    assert after["conversion"] == "100.0%"
    assert after["satisfaction"] == "5.00"
    assert after != before

    # The scorecard above the figures agrees.
    def scorecard(metric: str) -> str:
        cell = f"table[data-table='scorecard'] tr[data-metric='{metric}'] td[data-cell='result']"
        return page.locator(cell).inner_text().strip()

    assert scorecard("contracts") == "1"
    assert scorecard("contract_value_krw") == won(EXPECTED_KRW, "en")
    assert scorecard("satisfaction") == "5.00"
