"""In Chromium: staff match a booking with a buyer and an interpreter, both accept by their mailed
links (no login), and the SME sees the consultation confirmed with its video link. A stale or
tampered link ends on a clear error page, never a 500."""

from __future__ import annotations

import re
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from consultroom.bookings.models import Booking
from consultroom.bookings.services import book_slot
from consultroom.db import utcnow
from consultroom.extensions import db
from tests.conftest import outbox_links, recent
from tests.e2e.session import login
from tests.factories import make_interpreter, make_round, make_sme_with_company, make_user
from tests.factories.matching import make_buyer
from tests.formatting import english_round_title, full_moment

pytestmark = pytest.mark.e2e

NEW_YORK = ZoneInfo("America/New_York")
SEOUL = ZoneInfo("Asia/Seoul")


def _respond_link(to: str, answer: str) -> str:
    db.session.rollback()  # see what the live server committed
    links = [link for link in outbox_links(to) if "/respond/" in link and f"answer={answer}" in link]
    assert len(links) == 1, links
    return links[0]


def _token(link: str) -> str:
    return link.split("/respond/", 1)[1].split("?", 1)[0]


def _world():
    """A Korean-only cosmetics company booked on a Wednesday at 10:00 Seoul (the evening before in
    New York); a New York buyer who fits, one who fits less; two English interpreters free then."""
    today = utcnow().date()
    day = today + timedelta(days=30)
    day += timedelta(days=(2 - day.weekday()) % 7)  # a Wednesday: Tuesday evening in New York
    rnd = make_round(day=day, booths=1, slots_per_booth=1)
    sme, company = make_sme_with_company(
        name_ko="한빛코스메틱",
        name_en="Hanbit Cosmetics",
        hs_codes=("330499",),
        target_countries=("US",),
        languages=("ko",),
    )
    booking = book_slot(
        company=company,
        slot=rnd.slots[0],
        request={
            "products": "Skin care serum",
            "hs_codes": ["330499"],
            "target_countries": ["US"],
            "languages": ["ko"],
        },
        actor=sme,
    )
    fit = make_buyer(
        "Hudson Beauty Imports",
        country="US",
        interests=("330499",),
        languages=("en",),
        timezone="America/New_York",
        meet_from=time(19),
        meet_to=time(23),
    )
    # Speaks English too, but only the HS chapter matches, another country, and it is 02:00 in Berlin.
    other = make_buyer("Rhein Kosmetik", country="DE", interests=("33",), languages=("en",), timezone="Europe/Berlin")
    weekday = rnd.day.weekday()
    first = make_interpreter(name="Interpreter Han", languages=("en",), hours=((weekday, "08:00", "20:00"),))
    chosen = make_interpreter(name="Interpreter Park", languages=("en",), hours=((weekday, "08:00", "20:00"),))
    make_interpreter(name="Interpreter Nguyen", languages=("vi",), hours=((weekday, "08:00", "20:00"),))
    staff = make_user("staff")
    db.session.commit()
    return {
        "round": rnd,
        "sme": sme,
        "booking": booking,
        "buyer": fit,
        "other_buyer": other,
        "interpreter": chosen,
        "first_interpreter": first,
        "staff": staff,
    }


def test_staff_match_buyer_and_interpreter_accept_by_link_and_sme_sees_it_confirmed(page, browser, live_server):
    w = _world()
    booking_id, round_id = w["booking"].id, w["round"].id
    buyer, interpreter = w["buyer"], w["interpreter"]
    buyer_id, buyer_email, interpreter_id, interpreter_email = buyer.id, buyer.email, interpreter.id, interpreter.email
    starts_at = w["booking"].starts_at

    # Staff open the round's grid and follow the booking's cell to its page.
    login(page, w["staff"].email)
    page.goto(f"/staff/rounds/{round_id}")
    page.get_by_role("link", name=re.compile("한빛코스메틱")).click()
    page.wait_for_url(f"**/staff/matching/bookings/{booking_id}")
    # Staff see the company's Korean name.
    assert page.get_by_role("heading", level=1).inner_text() == "Match a buyer for 한빛코스메틱"
    assert page.locator("#match-state").inner_text().strip() == "Waiting for a buyer"

    # The fitting buyer ranks first, with its reasons; the other second.
    rows = page.locator("tbody tr[data-buyer-id]")
    assert rows.count() == 2
    assert rows.nth(0).get_attribute("data-buyer-id") == str(buyer_id)
    assert rows.nth(1).get_attribute("data-buyer-id") == str(w["other_buyer"].id)
    top = rows.nth(0)
    # Columns: #, buyer, product fit, score, the buyer's time, why, match.
    reasons = [li.inner_text().strip() for li in top.locator("td").nth(5).locator("li").all()]
    assert reasons == [
        "HS 330499 matches exactly (+40)",
        "Target country: United States (+20)",
        "Interpreter available for English (+10)",
        "Buyer's hours 19:00–23:00 America/New_York cover the slot (+15)",
        "First meeting with this company (+10)",
    ]
    assert top.locator("td").nth(3).inner_text().strip() == "95"
    assert int(rows.nth(1).locator("td").nth(3).inner_text()) < 95

    # Only the English interpreters free at that time are offered; staff choose the second one.
    choice = top.get_by_label("Interpreter")
    offered = [o.inner_text().strip() for o in choice.locator("option").all()]
    assert offered == ["Interpreter Han (en)", "Interpreter Park (en)"]
    choice.select_option(label="Interpreter Park (en)")
    top.get_by_role("button", name="Propose").click()
    page.wait_for_url(f"**/staff/matching/bookings/{booking_id}")
    proposed = "Hudson Beauty Imports is proposed; the buyer and the interpreter are asked"
    expect(page.get_by_text(proposed)).to_be_visible()
    assert page.locator("#match-state").inner_text().strip() == "Buyer proposed"
    current = page.locator("section[aria-labelledby='state-h'] dl")
    assert current.locator("dt:text-is('Buyer') + dd").inner_text().strip() == (
        "Hudson Beauty Imports · waiting for an answer"
    )
    assert current.locator("dt:text-is('Interpreter') + dd").inner_text().strip() == (
        "Interpreter Park · waiting for an answer"
    )
    assert page.locator(f"#buyer-{buyer_id}").get_by_role("button", name="Propose").is_disabled()
    db.session.rollback()
    booking = db.session.get(Booking, booking_id)
    assert (booking.status, booking.buyer_id, booking.interpreter_id) == ("matched", buyer_id, interpreter_id)
    assert outbox_links(w["first_interpreter"].email) == []  # the interpreter not chosen hears nothing

    # The buyer opens the mailed accept link, not logged in, in another browser. Two tabs: the
    # second, left open on the decline link, is answered after the first accepted.
    buyer_ctx = browser.new_context(base_url=live_server, locale="en-US", timezone_id="America/New_York")
    buyer_page = buyer_ctx.new_page()
    buyer_page.set_default_timeout(10_000)
    accept_link = _respond_link(buyer_email, "accept")
    response = buyer_page.goto(accept_link)
    assert response.status == 200
    assert buyer_page.get_by_role("heading", level=1).inner_text() == "Proposed export consultation"
    local = starts_at.astimezone(NEW_YORK)
    assert local.strftime("%A") == "Tuesday" and local.hour in (20, 21)  # the evening before, New York time
    in_new_york = full_moment(starts_at, NEW_YORK, "en")
    in_seoul = full_moment(starts_at, SEOUL, "en")
    assert re.search(rf"\b{local.hour - 12}:00\sPM Eastern (Standard|Daylight) Time$", in_new_york), in_new_york
    when = buyer_page.locator("dt:text-is('Time') + dd").inner_text()
    assert when.splitlines()[0].strip() == in_new_york
    assert f"Time in Seoul: {in_seoul}" in when
    assert buyer_page.locator("dt:text-is('Company') + dd").inner_text().strip() == "Hanbit Cosmetics"

    stale_tab = buyer_ctx.new_page()
    stale_tab.set_default_timeout(10_000)
    stale_tab.goto(_respond_link(buyer_email, "decline"))
    expect(stale_tab.get_by_role("button", name="Decline")).to_be_visible()

    buyer_page.get_by_role("button", name="Accept").click()
    buyer_page.wait_for_url(accept_link.split("?", 1)[0])
    expect(buyer_page.get_by_text("Thank you: you accepted the consultation.")).to_be_visible()
    expect(buyer_page.get_by_text("You accepted this consultation.")).to_be_visible()

    # Negative: the stale tab now tries to decline; the answer stands and the page says so.
    with stale_tab.expect_response(lambda r: r.request.method == "POST") as posted:
        stale_tab.get_by_role("button", name="Decline").click()
    assert posted.value.status == 409
    assert stale_tab.get_by_role("heading", level=1).inner_text() == "This link cannot be used"
    message = stale_tab.locator("p.lead")
    assert message.get_attribute("data-status") == "409"
    assert message.inner_text() == "You have already answered this proposal; the answer cannot be changed here."
    db.session.rollback()
    booking = db.session.get(Booking, booking_id)
    assert (booking.status, booking.buyer_response, booking.interpreter_response) == ("matched", "accepted", "pending")

    # The interpreter accepts from a third browser; the times are Seoul's.
    interp_ctx = browser.new_context(base_url=live_server, locale="en-US", timezone_id="Asia/Seoul")
    interp_page = interp_ctx.new_page()
    interp_page.set_default_timeout(10_000)
    interp_link = _respond_link(interpreter_email, "accept")
    assert interp_page.goto(interp_link).status == 200
    assert interp_page.get_by_role("heading", level=1).inner_text() == "Interpreting request"
    assert interp_page.locator("dt:text-is('Time') + dd").inner_text().strip() == in_seoul
    assert interp_page.locator("dt:text-is('Buyer') + dd").inner_text().strip() == (
        "Hudson Beauty Imports (United States)"
    )
    interp_page.get_by_role("button", name="Accept").click()
    interp_page.wait_for_url(interp_link.split("?", 1)[0])
    expect(interp_page.get_by_text("The consultation is confirmed.")).to_be_visible()
    meeting = interp_page.locator("main a[rel~='noopener']").first
    meeting_url = meeting.get_attribute("href")
    assert re.match(r"https?://\S+$", meeting_url), meeting_url

    db.session.rollback()
    booking = db.session.get(Booking, booking_id)
    assert (booking.status, booking.buyer_response, booking.interpreter_response) == (
        "confirmed",
        "accepted",
        "accepted",
    )
    assert booking.meeting_url == meeting_url and recent(booking.confirmed_at)

    # The buyer's link now shows the confirmed consultation and the same video link.
    buyer_page.goto(accept_link)
    expect(buyer_page.get_by_text("The consultation is confirmed.")).to_be_visible()
    assert buyer_page.get_by_role("link", name=meeting_url).get_attribute("href") == meeting_url
    assert buyer_page.get_by_role("button", name="Decline").count() == 0

    # Negative: a tampered token is refused with a clear page (400), not a 500.
    token = _token(accept_link)
    middle = len(token) // 2
    while token[middle] == ".":
        middle += 1
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    response = buyer_page.goto(f"/respond/{tampered}")
    assert response.status == 400
    assert buyer_page.get_by_role("heading", level=1).inner_text() == "This link cannot be used"
    assert buyer_page.locator("p.lead").inner_text() == (
        "This link is not valid. Please use the link exactly as it was sent to you."
    )
    buyer_ctx.close()
    interp_ctx.close()

    # Staff see the booking confirmed.
    page.reload()
    assert page.locator("#match-state").inner_text().strip() == "Confirmed"
    assert page.locator("section[aria-labelledby='state-h'] dl dt:text-is('Buyer') + dd").inner_text().strip() == (
        "Hudson Beauty Imports · accepted"
    )

    # The SME sees it confirmed, with the buyer and the video link.
    sme_ctx = browser.new_context(base_url=live_server, locale="ko-KR", timezone_id="Asia/Seoul")
    sme_page = sme_ctx.new_page()
    sme_page.set_default_timeout(10_000)
    login(sme_page, w["sme"].email)
    sme_page.goto("/bookings")
    row = sme_page.get_by_role("row").filter(has_text=english_round_title(w["round"]))
    assert row.count() == 1
    status = row.locator("td").nth(3)
    assert status.inner_text().startswith("Confirmed")
    assert "Buyer: Hudson Beauty Imports (United States)" in status.inner_text()
    join = row.get_by_role("link", name="Join the video consultation")
    assert join.get_attribute("href") == meeting_url
    sme_ctx.close()

    db.session.rollback()
    assert db.session.scalar(select(Booking.status).where(Booking.id == booking_id)) == "confirmed"
