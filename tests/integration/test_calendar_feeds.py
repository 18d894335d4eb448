"""Issue 13, item 5: private, revocable calendar feeds for SME users, staff and interpreters."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale
from icalendar import Calendar
from sqlalchemy import select

from consultroom.bookings.models import CalendarFeed
from consultroom.consultations.changes import cancel_booking
from consultroom.extensions import db
from consultroom.interpreters.services import portal_token
from tests.factories import accept_both, make_booking, make_interpreter, make_round, make_user, propose

FEED_RE = re.compile(r'value="(http://localhost/calendar/[^"]+\.ics)"')


@pytest.fixture(autouse=True)
def _english_messages(app):
    with force_locale("en"):
        yield


@pytest.fixture
def world(app):
    rnd = make_round(booths=2, slots_per_booth=2)
    mine = make_booking(rnd.slots[0])
    theirs = make_booking(rnd.slots[1])
    interpreter = make_interpreter(locale="en")
    staff = make_user("staff", locale="en")
    accept_both(propose(mine, interpreter=interpreter, actor=staff))
    sme = mine.company.users[0]
    sme.locale = "en"
    db.session.commit()
    return {"mine": mine, "theirs": theirs, "sme": sme, "staff": staff, "interpreter": interpreter}


def _feed_url(response) -> str:
    match = FEED_RE.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:2000]
    return match.group(1).removeprefix("http://localhost")


def _uids(client, path: str) -> dict[str, int]:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.data)
    assert cal["method"] == "PUBLISH"
    return {str(e["uid"]): int(e["sequence"]) for e in cal.walk("VEVENT")}


def test_sme_feed_lists_its_company_bookings_with_their_uid_and_sequence(world, client, make_client, login_as):
    w = world
    login_as(w["sme"])
    page = client.submit("/calendar/new")
    assert page.headers["Cache-Control"] == "no-store"
    path = _feed_url(page)

    reader = make_client()  # a calendar client: no login
    assert _uids(reader, path) == {f"booking-{w['mine'].id}@consultroom": w["mine"].ics_sequence}
    # Only the hash is stored.
    stored = db.session.scalar(select(CalendarFeed.token_hash))
    assert stored not in path and len(stored) == 64


def test_new_address_ends_the_old_one_and_turning_off_ends_both(world, client, make_client, login_as):
    w = world
    login_as(w["sme"])
    first = _feed_url(client.submit("/calendar/new"))
    second = _feed_url(client.submit("/calendar/new"))
    reader = make_client()

    assert reader.get(first).status_code == 404
    assert reader.get(second).status_code == 200
    assert client.submit("/calendar/off", {"confirm": "1"}).status_code == 302
    assert reader.get(second).status_code == 404


def test_staff_feed_lists_every_active_booking_and_drops_a_cancelled_one(world, client, make_client, login_as):
    w = world
    login_as(w["staff"])
    path = _feed_url(client.submit("/calendar/new"))
    reader = make_client()
    assert set(_uids(reader, path)) == {f"booking-{b.id}@consultroom" for b in (w["mine"], w["theirs"])}

    cancel_booking(booking=w["theirs"], actor=w["staff"], reason="Typhoon")
    db.session.commit()

    assert set(_uids(reader, path)) == {f"booking-{w['mine'].id}@consultroom"}


def test_interpreter_feed_from_the_portal_link(world, client, make_client):
    w = world
    token = portal_token(w["interpreter"])
    db.session.commit()
    page = client.submit(f"/interpreter/{token}/calendar", {"feed": "new"})
    path = _feed_url(page)
    reader = make_client()

    assert _uids(reader, path) == {f"booking-{w['mine'].id}@consultroom": w["mine"].ics_sequence}
    event = next(iter(Calendar.from_ical(reader.get(path).data).walk("VEVENT")))
    assert str(event["location"]) == w["mine"].meeting_url
    assert w["mine"].buyer.company_name in str(event["description"])
    assert client.submit(f"/interpreter/{token}/calendar", {"feed": "off"}).status_code == 302
    assert reader.get(path).status_code == 404


def test_feed_of_a_deactivated_user_is_gone(world, client, make_client, login_as):
    w = world
    login_as(w["sme"])
    path = _feed_url(client.submit("/calendar/new"))
    w["sme"].active = False
    db.session.commit()
    assert make_client().get(path).status_code == 404


def test_unknown_feed_token_is_404(client):
    assert client.get("/calendar/not-a-token.ics").status_code == 404
