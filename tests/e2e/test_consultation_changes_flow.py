"""In Chromium (issue 13): an SME cancels a confirmed consultation, and staff move one. The mails are
delivered to a real SMTP server; each party's mail is read in its language, and its calendar part is
parsed with icalendar (METHOD, UID, SEQUENCE, the instant in the buyer's half-hour zone)."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from email.message import EmailMessage

import pytest
from flask_babel import force_locale, gettext
from icalendar import Calendar
from playwright.sync_api import expect
from sqlalchemy import select

from consultroom.bookings.models import Booking
from consultroom.extensions import db
from consultroom.matching.services import propose_match
from consultroom.notifications.delivery import deliver_due
from consultroom.notifications.models import OutboxMail
from tests.e2e.session import login
from tests.factories import (
    accept_both,
    make_booking,
    make_buyer,
    make_interpreter,
    make_round,
    make_sme_with_company,
    make_user,
    propose,
)
from tests.formatting import english_round_title
from tests.smtp import smtp_server_for

pytestmark = pytest.mark.e2e

BUYER_ZONE = "Australia/Adelaide"  # +09:30 / +10:30


def ko(msgid: str, **values) -> str:
    with force_locale("ko"):
        text = gettext(msgid, **values)
    assert text != msgid % values
    return text


@pytest.fixture
def confirmed(app):
    rnd = make_round(booths=2, slots_per_booth=3)
    sme, company = make_sme_with_company()
    booking = make_booking(rnd.slots[0], company=company)
    # The buyer reads Spanish: every mail to them below is checked in it.
    buyer = make_buyer(timezone=BUYER_ZONE, preferred_language="es")
    interpreter = make_interpreter(locale="ko")
    staff = make_user("staff", locale="en")
    accept_both(propose(booking, buyer=buyer, interpreter=interpreter, actor=staff))
    db.session.commit()
    # Mails so far (proposal, confirmation) are not what these tests read.
    db.session.execute(OutboxMail.__table__.update().values(status="sent"))
    db.session.commit()
    return {
        "round": rnd,
        "booking_id": booking.id,
        "company": company,
        "sme": sme,
        "buyer": buyer,
        "interpreter": interpreter,
        "staff": staff,
    }


def _delivered(app) -> dict[str, EmailMessage]:
    with smtp_server_for(app) as server:
        result = deliver_due()
        messages = list(server.messages)
    assert result.failed == 0 and result.retry == 0
    by_to: dict[str, EmailMessage] = {}
    for m in messages:
        assert m["To"] not in by_to, f"two mails to {m['To']}"
        by_to[m["To"]] = m
    return by_to


def _calendar(message: EmailMessage, method: str) -> Calendar:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    assert parts[0].get_param("method") == method
    cal = Calendar.from_ical(parts[0].get_payload(decode=True))
    assert cal["method"] == method
    return cal


def _text(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def _event(cal: Calendar, booking: Booking):
    (event,) = cal.walk("VEVENT")
    assert str(event["uid"]) == f"booking-{booking.id}@consultroom"
    assert event["sequence"] == booking.ics_sequence
    return event


def test_sme_cancels_a_confirmed_consultation_and_every_party_gets_mail_and_calendar_cancel(page, app, confirmed):
    w = confirmed
    login(page, w["sme"].email)
    page.goto("/bookings")
    row = page.get_by_role("row").filter(has_text=english_round_title(w["round"]))
    expect(row.get_by_text(f"Buyer: {w['buyer'].company_name}")).to_be_visible()
    row.get_by_role("link", name=re.compile("^Cancel booking")).click()
    # Nothing happens without a reason.
    page.get_by_role("button", name="Yes, cancel this consultation").click()
    expect(page.get_by_text("Give a reason for the cancellation.").first).to_be_visible()
    page.get_by_label("Reason").fill("생산 일정 변경")
    page.get_by_role("button", name="Yes, cancel this consultation").click()
    expect(page.get_by_text("The booking is cancelled")).to_be_visible()

    db.session.rollback()
    booking = db.session.get(Booking, w["booking_id"])
    assert booking.status == "cancelled"
    mails = _delivered(app)

    assert set(mails) == {w["buyer"].email, w["interpreter"].email, w["staff"].email, w["sme"].email}
    company_name = w["company"].name_en
    buyer_mail = mails[w["buyer"].email]
    assert buyer_mail["Subject"] == es("Cancelled: export consultation with %(company)s", company=company_name)
    assert "생산 일정 변경" not in _text(buyer_mail)
    event = _event(_calendar(buyer_mail, "CANCEL"), booking)
    assert event["dtstart"].params["TZID"] == BUYER_ZONE
    assert event["dtstart"].dt == booking.starts_at
    assert str(event["status"]) == "CANCELLED"
    interp_mail = mails[w["interpreter"].email]
    assert interp_mail["Subject"] == ko("Cancelled: export consultation with %(company)s", company=w["company"].name_ko)
    _event(_calendar(interp_mail, "CANCEL"), booking)
    staff_mail = mails[w["staff"].email]
    assert staff_mail["Subject"] == f"Booking cancelled by the company: {w['company'].display_name}"
    assert "생산 일정 변경" in _text(staff_mail)
    assert [p for p in staff_mail.walk() if p.get_content_type() == "text/calendar"] == []
    _event(_calendar(mails[w["sme"].email], "CANCEL"), booking)


def test_staff_move_a_confirmed_consultation_and_buyer_confirms_the_new_time(
    page, browser, live_server, app, confirmed
):
    w = confirmed
    new_slot = w["round"].slots[2]
    login(page, w["staff"].email)
    # The grid's cell opens the booking's page; its move page lists one time's free booths.
    page.goto(f"/staff/rounds/{w['round'].id}")
    page.get_by_role("link", name=re.compile(w["company"].display_name)).click()
    page.get_by_role("link", name="Move to another slot").click()
    page.locator(f'a[href$="at={int(new_slot.starts_at.timestamp())}"]').click()
    page.get_by_label(f"Booth {new_slot.booth}", exact=True).check()
    page.get_by_role("button", name="Move", exact=True).click()
    moved = "The booking is moved; the company, the buyer and the interpreter are told."
    expect(page.get_by_text(moved)).to_be_visible()

    db.session.rollback()
    booking = db.session.get(Booking, w["booking_id"])
    assert (booking.starts_at, booking.status) == (new_slot.starts_at, "matched")
    mails = _delivered(app)

    assert set(mails) == {w["buyer"].email, w["interpreter"].email, w["sme"].email}
    buyer_mail = mails[w["buyer"].email]
    assert buyer_mail["Subject"] == es(
        "New time for your consultation with %(company)s: please confirm", company=w["company"].name_en
    )
    event = _event(_calendar(buyer_mail, "REQUEST"), booking)
    assert event["dtstart"].params["TZID"] == BUYER_ZONE
    assert event["dtstart"].dt == new_slot.starts_at
    assert event["dtstart"].dt.utcoffset() in (timedelta(hours=9, minutes=30), timedelta(hours=10, minutes=30))
    assert str(event["status"]) == "TENTATIVE"
    interp_mail = mails[w["interpreter"].email]
    assert interp_mail["Subject"] == ko(
        "New time for your consultation with %(company)s: please confirm", company=w["company"].name_ko
    )
    assert _event(_calendar(interp_mail, "REQUEST"), booking)["dtstart"].dt == new_slot.starts_at
    sme_mail = mails[w["sme"].email]
    assert "We have asked the buyer and the interpreter to confirm the new time" in _text(sme_mail)
    assert _event(_calendar(sme_mail, "REQUEST"), booking)["dtstart"].dt == new_slot.starts_at

    # The buyer and the interpreter accept the new time from their new links.
    for person in (w["buyer"], w["interpreter"]):
        accept = re.search(r"(https?://\S+answer=accept)", _text(mails[person.email])).group(1)
        assert accept.startswith(live_server)
        context = browser.new_context(locale="en-US", timezone_id=BUYER_ZONE)
        party_page = context.new_page()
        party_page.goto(accept)
        accept_word = es("Accept") if person is w["buyer"] else ko("Accept")
        party_page.get_by_role("button", name=accept_word).click()
        party_page.wait_for_load_state()
        context.close()
    db.session.rollback()
    booking = db.session.get(Booking, w["booking_id"])
    assert booking.status == "confirmed"
    confirmed_mails = _delivered(app)
    event = _event(_calendar(confirmed_mails[w["buyer"].email], "REQUEST"), booking)
    assert str(event["status"]) == "CONFIRMED"
    assert event["dtstart"].dt.astimezone(UTC) == new_slot.starts_at
    assert str(event["location"]) == booking.meeting_url
    assert set(confirmed_mails) == {w["buyer"].email, w["interpreter"].email, w["sme"].email}
    assert db.session.scalar(select(OutboxMail.id).where(OutboxMail.status != "sent")) is None


def ja(msgid: str, **values) -> str:
    with force_locale("ja"):
        text = gettext(msgid, **values)
    assert text != msgid % values
    return text


def es(msgid: str, **values) -> str:
    with force_locale("es"):
        text = gettext(msgid, **values)
    assert text != msgid % values
    return text


def test_a_japanese_reading_buyer_gets_the_proposal_page_and_ics_in_japanese_with_the_english_profile(
    browser, live_server, app
):
    rnd = make_round(booths=2, slots_per_booth=3)
    _sme, company = make_sme_with_company()
    company.name_en = "Hanbit Foods Co., Ltd."
    company.summary_en = "Seaweed snacks from Busan, exported to 12 countries."
    company.products_en = "Roasted seaweed snacks; seasoned laver"
    company.address = "부산광역시 해운대구 센텀중앙로 48"
    company.address_en = ""  # not given: the buyer sees the Korean address, marked untranslated
    booking = make_booking(rnd.slots[0], company=company)
    buyer = make_buyer(timezone="Asia/Tokyo", country="JP", languages=("ja",), preferred_language="ja")
    interpreter = make_interpreter(locale="ko", languages=("ja",))
    db.session.execute(OutboxMail.__table__.update().values(status="sent"))  # the booking's own mail
    propose_match(booking=booking, buyer=buyer, interpreter=interpreter, actor=make_user("staff", locale="en"))
    db.session.commit()

    mails = _delivered(app)
    mail = mails[buyer.email]
    assert mail["Subject"] == ja("Proposed export consultation with %(company)s", company="Hanbit Foods Co., Ltd.")
    body = _text(mail)
    assert ja("We propose a 1:1 video consultation between you and the Korean company named below.") in body
    assert ja("Company: %(company)s", company="Hanbit Foods Co., Ltd.") in body
    assert ja("Products: %(products)s", products="Roasted seaweed snacks; seasoned laver") in body
    assert f"{company.address} （韓国語の原文、未翻訳）" in body
    assert "Ltd.." not in body

    accept = re.search(r"(https?://\S+answer=accept)", body).group(1)
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    buyer_page = context.new_page()
    buyer_page.goto(accept)
    assert buyer_page.locator("html").get_attribute("lang") == "ja"
    expect(buyer_page.get_by_role("heading", name=ja("Proposed export consultation"))).to_be_visible()
    assert buyer_page.locator("#company-name").inner_text() == "Hanbit Foods Co., Ltd."
    assert buyer_page.locator("#company-summary").inner_text() == company.summary_en
    address = buyer_page.locator("#company-address")
    assert address.locator('[lang="ko"]').inner_text() == company.address
    assert "未翻訳" in address.inner_text()

    with buyer_page.expect_download() as download_info:
        buyer_page.get_by_role("link", name=ja("Add to your calendar (.ics)")).click()
    cal = Calendar.from_ical(download_info.value.path().read_bytes())
    (event,) = cal.walk("VEVENT")
    assert str(event["summary"]) == ja(
        "Export consultation: %(company)s and %(buyer)s", company="Hanbit Foods Co., Ltd.", buyer=buyer.company_name
    )
    assert ja("Interpreter: %(name)s", name=interpreter.name) in str(event["description"])
    assert event["dtstart"].params["TZID"] == "Asia/Tokyo"

    buyer_page.get_by_role("button", name=ja("Accept")).click()
    expect(buyer_page.get_by_text(ja("Thank you: you accepted the consultation."))).to_be_visible()
    context.close()
    db.session.rollback()
    assert db.session.get(Booking, booking.id).buyer_response == "accepted"
