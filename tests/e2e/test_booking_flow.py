"""In Chromium: an SME books a slot, sees it, downloads its .ics, cancels it; a waitlisted SME is promoted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from icalendar import Calendar
from playwright.sync_api import expect
from sqlalchemy import select

from consultroom.bookings.models import Booking, WaitlistEntry
from consultroom.extensions import db
from tests.e2e.session import login
from tests.factories import make_round, make_sme_with_company
from tests.formatting import english_round_title

pytestmark = pytest.mark.e2e


def _logout(page) -> None:
    page.locator("#nav-account-button").click()  # the account menu holds the log-out button
    page.get_by_role("button", name="Log out").click()


def test_sme_books_downloads_ics_and_cancels_then_waitlisted_sme_is_promoted(page, browser, live_server):
    first_user, first = make_sme_with_company()
    waiting_user, waiting = make_sme_with_company()
    rnd = make_round(booths=1, slots_per_booth=1)
    round_id = rnd.id
    db.session.commit()

    # The first SME books the only slot.
    login(page, first_user.email)
    page.goto(f"/rounds/{round_id}")
    page.get_by_role("link", name=re.compile(r"^Book")).click()
    page.get_by_label("Products to present").fill("기초화장품, 마스크팩")
    page.get_by_role("button", name="Book this slot").click()
    page.wait_for_url("**/bookings")
    row = page.get_by_role("row").filter(has_text=english_round_title(rnd))
    assert row.count() == 1
    with page.expect_download() as download_info:
        row.get_by_role("link", name="Calendar (.ics)").click()
    cal = Calendar.from_ical(Path(download_info.value.path()).read_bytes())
    event = next(iter(cal.walk("VEVENT")))
    db.session.rollback()
    booking = db.session.scalar(select(Booking).where(Booking.company_id == first.id))
    assert event.decoded("DTSTART") == booking.starts_at
    assert event["DTSTART"].params["TZID"] == "Asia/Seoul"
    _logout(page)

    # The round is full: the second SME joins the waitlist.
    other = browser.new_context(base_url=live_server, locale="en-US")
    page2 = other.new_page()
    login(page2, waiting_user.email)
    page2.goto(f"/rounds/{round_id}")
    page2.get_by_role("link", name="Join the waitlist").click()
    page2.get_by_label("Products to present").fill("조미김")
    page2.get_by_role("button", name="Join the waitlist").click()
    page2.wait_for_url("**/bookings")
    expect(page2.get_by_text("position 1")).to_be_visible()

    # The first SME cancels; the slot goes to the waitlisted company at once.
    login(page, first_user.email)
    page.goto("/bookings")
    page.get_by_role("link", name=re.compile("^Cancel booking")).click()
    # A confirmation page that asks why (issue 13): nothing is cancelled before the second click.
    page.get_by_label("Reason").fill("전시회 일정과 겹침")
    page.get_by_role("button", name="Yes, cancel this consultation").click()
    expect(page.get_by_text("The booking is cancelled")).to_be_visible()

    page2.goto("/bookings")
    promoted_row = page2.get_by_role("row").filter(has_text=english_round_title(rnd))
    expect(promoted_row.get_by_text("from the waitlist")).to_be_visible()
    db.session.rollback()
    entry = db.session.scalar(select(WaitlistEntry).where(WaitlistEntry.company_id == waiting.id))
    assert entry.status == "promoted"
    other.close()
