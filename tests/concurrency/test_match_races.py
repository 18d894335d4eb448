"""Rule 1 for buyers and interpreters under a race: two staff propose the same person for two
overlapping bookings at the same moment. Real threads, each with its own session, real database."""

from __future__ import annotations

import threading
from datetime import time

import pytest
from flask_babel import force_locale, gettext, ngettext
from sqlalchemy import func, select

from consultroom.accounts.models import User
from consultroom.bookings.models import Booking
from consultroom.buyers.models import Buyer
from consultroom.errors import Conflict
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter
from consultroom.matching.services import propose_match
from tests.factories import make_booking, make_buyer, make_interpreter, make_round, make_user


def _race(app, jobs: list[dict[str, int | None]]) -> dict[str, object]:
    """propose_match for each job in its own thread, all released at once; the outcomes counted."""
    barrier = threading.Barrier(len(jobs))
    outcome: dict[str, object] = {"ok": 0, "conflict": 0, "error": 0, "messages": []}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(job: dict[str, int | None]) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=60)
                booking = db.session.get(Booking, job["booking"])
                buyer = db.session.get(Buyer, job["buyer"])
                interpreter = db.session.get(Interpreter, job["interpreter"]) if job["interpreter"] else None
                actor = db.session.get(User, job["actor"])
                propose_match(booking=booking, buyer=buyer, interpreter=interpreter, actor=actor)
                db.session.commit()
                kind, message = "ok", None
            except Conflict as exc:
                db.session.rollback()
                kind, message = "conflict", exc.message
            except BaseException as exc:
                db.session.rollback()
                with lock:
                    errors.append(exc)
                kind, message = "error", None
            finally:
                db.session.remove()
            with lock:
                outcome[kind] += 1
                if message:
                    outcome["messages"].append(message)

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    db.session.rollback()  # the test's snapshot predates the threads' commits
    assert not errors, repr(errors[:3])
    return outcome


def _either(msgid: str, **values) -> tuple[str, str]:
    """The message in English or Korean: threads run outside a request, so in the default locale."""
    with force_locale("ko"):
        korean = gettext(msgid, **values)
    return msgid % values, korean


def _active(column, value) -> int:
    return db.session.scalar(select(func.count(Booking.id)).where(Booking.status != "cancelled", column == value))


@pytest.mark.parametrize("attempt", range(3))
def test_same_interpreter_for_two_overlapping_bookings_at_once_one_wins(app, attempt):
    rnd = make_round(booths=2, slots_per_booth=1)
    first, second = make_booking(rnd.slots[0]), make_booking(rnd.slots[1])
    interpreter = make_interpreter(hours=((time(9, 0), time(18, 0)),))
    staff_a, staff_b = make_user("staff"), make_user("staff")
    jobs = [
        {"booking": first.id, "buyer": make_buyer().id, "interpreter": interpreter.id, "actor": staff_a.id},
        {"booking": second.id, "buyer": make_buyer().id, "interpreter": interpreter.id, "actor": staff_b.id},
    ]
    name = interpreter.name
    db.session.commit()

    outcome = _race(app, jobs)

    assert (outcome["ok"], outcome["conflict"], outcome["error"]) == (1, 1, 0)
    assert outcome["messages"][0] in _either(
        "The interpreter %(name)s already has a consultation at this time.", name=name
    )
    assert _active(Booking.interpreter_id, jobs[0]["interpreter"]) == 1


@pytest.mark.parametrize("attempt", range(3))
def test_same_buyer_for_two_overlapping_bookings_at_once_one_wins(app, attempt):
    rnd = make_round(booths=2, slots_per_booth=1)
    first, second = make_booking(rnd.slots[0]), make_booking(rnd.slots[1])
    buyer = make_buyer()
    staff_a, staff_b = make_user("staff"), make_user("staff")
    jobs = [
        {"booking": first.id, "buyer": buyer.id, "interpreter": make_interpreter().id, "actor": staff_a.id},
        {"booking": second.id, "buyer": buyer.id, "interpreter": make_interpreter().id, "actor": staff_b.id},
    ]
    name = buyer.company_name
    db.session.commit()

    outcome = _race(app, jobs)

    assert (outcome["ok"], outcome["conflict"], outcome["error"]) == (1, 1, 0)
    assert outcome["messages"][0] in _either("The buyer %(name)s already has a consultation at this time.", name=name)
    assert _active(Booking.buyer_id, jobs[0]["buyer"]) == 1


def test_interpreter_daily_cap_holds_when_two_staff_propose_at_once(app):
    """Two bookings at different times the same day, an interpreter with a cap of one: the row lock
    (PostgreSQL) or the serialised writer (SQLite) makes the second proposal count the first."""
    rnd = make_round(booths=1, slots_per_booth=2)
    first, second = make_booking(rnd.slots[0]), make_booking(rnd.slots[1])
    interpreter = make_interpreter(max_per_day=1)
    name = interpreter.name
    staff_a, staff_b = make_user("staff"), make_user("staff")
    jobs = [
        {"booking": first.id, "buyer": make_buyer().id, "interpreter": interpreter.id, "actor": staff_a.id},
        {"booking": second.id, "buyer": make_buyer().id, "interpreter": interpreter.id, "actor": staff_b.id},
    ]
    db.session.commit()

    outcome = _race(app, jobs)

    assert (outcome["ok"], outcome["conflict"], outcome["error"]) == (1, 1, 0)
    singular = "The interpreter %(name)s already has %(num)d session that day, the most allowed."
    with force_locale("ko"):
        korean = ngettext(singular, singular.replace("session ", "sessions "), 1, name=name)
    assert outcome["messages"][0] in (singular % {"name": name, "num": 1}, korean)
    assert _active(Booking.interpreter_id, jobs[0]["interpreter"]) == 1
