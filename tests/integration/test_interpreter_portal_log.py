"""Issue 13, item 7: the portal lists past assignments, and an interpreter who came by link writes the
consultation log there, with the staff's form and rules."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from consultroom.audit.models import AuditEntry
from consultroom.bookings.models import Booking
from consultroom.db import utcnow
from consultroom.errors import NotAllowed
from consultroom.extensions import db
from consultroom.interpreters.services import portal_token
from consultroom.outcomes.models import ConsultationLog, Outcome
from consultroom.outcomes.services import record_log
from tests.factories import make_consultation, make_interpreter, make_round, past_round

HELD = {"attendance": "held", "buyer_interest": "high", "products_discussed": "Serum", "notes": "Wants samples"}


@pytest.fixture(autouse=True)
def _english_messages(app):
    with force_locale("en"):
        yield


@pytest.fixture
def held(app):
    interpreter = make_interpreter(locale="en")
    booking = make_consultation(past_round(), interpreter=interpreter)
    upcoming = make_consultation(make_round(), interpreter=interpreter)
    token = portal_token(interpreter)
    db.session.commit()
    return {"interpreter": interpreter, "booking": booking, "upcoming": upcoming, "token": token}


def test_portal_lists_past_assignments_with_a_log_link(held, client):
    h = held
    html = client.get(f"/interpreter/{h['token']}").get_data(as_text=True)

    assert "Past assignments" in html
    assert f"/interpreter/{h['token']}/log/{h['booking'].id}" in html
    assert f"/log/{h['upcoming'].id}" not in html  # not started: nothing to log yet


def test_interpreter_writes_the_log_by_link_and_the_consultation_is_held(held, client):
    h = held
    path = f"/interpreter/{h['token']}/log/{h['booking'].id}"
    assert client.get(path).status_code == 200

    response = client.submit(path, HELD)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/interpreter/{h['token']}"
    booking = db.session.get(Booking, h["booking"].id)
    db.session.refresh(booking)
    log = db.session.scalar(select(ConsultationLog).where(ConsultationLog.booking_id == booking.id))
    assert (log.recorded_by_id, log.recorded_by_interpreter_id) == (None, h["interpreter"].id)
    assert (log.buyer_interest, log.notes) == ("high", "Wants samples")
    assert booking.status == "held"
    assert db.session.scalar(select(Outcome.stage).where(Outcome.booking_id == booking.id)) == "follow_up"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "consultation_log.save"))
    assert (entry.actor_id, entry.after["by_interpreter_id"]) == (None, h["interpreter"].id)
    html = client.get(f"/interpreter/{h['token']}").get_data(as_text=True)
    assert "Edit the log" in html


def test_log_form_errors_are_the_staff_forms(held, client):
    h = held
    response = client.submit(f"/interpreter/{h['token']}/log/{h['booking'].id}", {"notes": "x"})
    assert response.status_code == 200
    assert "Choose whether the consultation was held." in response.get_data(as_text=True)
    assert db.session.scalar(select(ConsultationLog.id)) is None


def test_another_interpreters_booking_is_404(held, client):
    h = held
    other = make_interpreter()
    other_token = portal_token(other)
    db.session.commit()
    assert client.get(f"/interpreter/{other_token}/log/{h['booking'].id}").status_code == 404
    assert client.submit(f"/interpreter/{other_token}/log/{h['booking'].id}", HELD).status_code == 404
    assert client.get(f"/interpreter/not-a-token/log/{h['booking'].id}").status_code == 400


def test_upcoming_consultation_cannot_be_logged_by_link(held, client):
    h = held
    response = client.submit(f"/interpreter/{h['token']}/log/{h['upcoming'].id}", HELD)
    assert response.status_code == 200
    assert "The consultation has not started yet; write the log after it." in response.get_data(as_text=True)


def test_record_log_without_actor_needs_the_bookings_interpreter(held):
    h = held
    with pytest.raises(NotAllowed):
        record_log(booking=h["booking"], data=HELD, actor=None, now=utcnow(), interpreter=make_interpreter())
    with pytest.raises(NotAllowed):
        record_log(booking=h["booking"], data=HELD, actor=None, now=utcnow())
