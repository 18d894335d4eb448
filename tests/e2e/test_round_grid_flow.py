"""In Chromium: the round pages of issue 15 — a destructive step asks in a native <dialog>, and going
back does nothing; an SME books a time and the system picks the booth."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from consultroom.bookings.models import Booking
from consultroom.extensions import db
from consultroom.rounds.models import Round
from tests.e2e.session import login
from tests.factories import make_round, make_sme_with_company, make_user

pytestmark = pytest.mark.e2e


def test_closing_booking_asks_in_a_dialog_and_going_back_does_nothing(page, live_server):
    rnd = make_round(booths=2, slots_per_booth=2)
    staff = make_user("staff", locale="en")
    round_id = rnd.id
    db.session.commit()
    login(page, staff.email)
    page.goto(f"/staff/rounds/{round_id}")

    # With JavaScript the confirmation box is hidden: the dialog asks instead.
    expect(page.locator("#confirm-close")).to_be_hidden()
    page.get_by_role("button", name="Close booking").click()
    dialog = page.locator("#confirm-close-dialog")
    expect(dialog).to_be_visible()
    assert "SMEs can no longer book" in dialog.inner_text()
    dialog.get_by_role("button", name="Go back").click()
    expect(dialog).to_be_hidden()
    db.session.expire_all()
    assert db.session.get(Round, round_id).status == "open"

    page.get_by_role("button", name="Close booking").click()
    dialog.get_by_role("button", name="Close booking").click()
    # The dialog's button submits the form: wait for the page it leads to (a bare is_visible() right
    # after the click looked at the old page once on a loaded machine).
    expect(page.get_by_text("The round status is changed.")).to_be_visible()
    db.session.expire_all()
    assert db.session.get(Round, round_id).status == "closed"


def test_sme_books_a_time_and_gets_a_free_booth(page, live_server):
    rnd = make_round(booths=2, slots_per_booth=2)
    other_user, other = make_sme_with_company()
    user, company = make_sme_with_company()
    from consultroom.bookings.services import book_slot

    book_slot(company=other, slot=rnd.slots[0], request={"products": "김"}, actor=other_user)
    round_id, second_booth = rnd.id, rnd.slots[1].id
    user.locale = "en"
    db.session.commit()
    login(page, user.email)
    page.goto(f"/rounds/{round_id}")

    page.get_by_role("link", name=re.compile("^Book")).first.click()
    page.get_by_label("Products to present").fill("기초화장품")
    page.get_by_role("button", name="Book this slot").click()
    page.wait_for_url("**/bookings")

    db.session.rollback()
    booking = db.session.scalar(select(Booking).where(Booking.company_id == company.id))
    assert booking.slot_id == second_booth  # booth 1 at that time was taken; booth 2 was given
    page.goto(f"/rounds/{round_id}")
    expect(page.get_by_text("Your booking")).to_be_visible()
