"""Rules 1 and 2 under a rush: real threads, each with its own session, against the real database."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from consultroom.bookings.models import Booking
from consultroom.bookings.services import book_at_time, book_slot
from consultroom.companies.models import Company
from consultroom.errors import Conflict
from consultroom.extensions import db
from consultroom.rounds.models import Slot
from tests.factories import make_company, make_round

REQUEST = {"products": "기초화장품", "hs_codes": ["330499"], "target_countries": ["US"]}


def _race(app, jobs: list[tuple[int, int]], book=None) -> dict[str, int]:
    """Run book_slot(company, slot) (or `book(company, slot)`) for each job in its own thread, all released at once."""
    barrier = threading.Barrier(len(jobs))
    outcome = {"ok": 0, "conflict": 0, "error": 0}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(company_id: int, slot_id: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=60)
                company = db.session.get(Company, company_id)
                slot = db.session.get(Slot, slot_id)
                if book is None:
                    book_slot(company=company, slot=slot, request=REQUEST, actor=None)
                else:
                    book(company, slot)
                db.session.commit()
                kind = "ok"
            except Conflict:
                db.session.rollback()
                kind = "conflict"
            except BaseException as exc:
                db.session.rollback()
                with lock:
                    errors.append(exc)
                kind = "error"
            finally:
                db.session.remove()
            with lock:
                outcome[kind] += 1

    threads = [threading.Thread(target=worker, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    db.session.rollback()  # end the test's own transaction: its snapshot predates the threads' commits
    assert not errors, repr(errors[:3])
    return outcome


def _active_bookings(**where) -> int:
    stmt = select(func.count(Booking.id)).where(Booking.status != "cancelled")
    for key, value in where.items():
        stmt = stmt.where(getattr(Booking, key) == value)
    return db.session.scalar(stmt)


@pytest.mark.parametrize("clients", [50, 200])
def test_rush_on_one_slot_gives_exactly_one_booking(app, clients):
    rnd = make_round(booths=1, slots_per_booth=1)
    companies = [make_company() for _ in range(clients)]
    slot_id = rnd.slots[0].id
    db.session.commit()
    jobs = [(c.id, slot_id) for c in companies]
    outcome = _race(app, jobs)
    assert outcome == {"ok": 1, "conflict": clients - 1, "error": 0}
    assert _active_bookings(slot_id=slot_id) == 1


def test_one_company_rushing_past_its_cap_gets_no_extra(app):
    rnd = make_round(booths=4, slots_per_booth=3, cap=3)  # 12 slots at 3 times
    company = make_company()
    # One slot per time and booth 1..4 at distinct times would overlap; use different times only.
    by_time: dict = {}
    for s in rnd.slots:
        by_time.setdefault(s.starts_at, s)
    extra_round = make_round(
        day=date(rnd.day.year + 1, rnd.day.month, min(rnd.day.day, 28)), booths=1, slots_per_booth=1, cap=3
    )
    db.session.commit()
    # 3 distinct times in this round, each tried by 4 threads on 4 booths: 12 attempts, cap 3.
    jobs = [(company.id, s.id) for s in rnd.slots]
    outcome = _race(app, jobs)
    assert outcome["error"] == 0
    assert _active_bookings(company_id=company.id, round_id=rnd.id) == 3
    assert outcome["ok"] == 3
    # The cap is per round: another round is still open to the company.
    db.session.expire_all()
    book_slot(company=db.session.get(Company, company.id), slot=extra_round.slots[0], request=REQUEST, actor=None)
    db.session.commit()


def test_one_company_rushing_overlapping_slots_gets_one(app):
    rnd = make_round(booths=10, slots_per_booth=1, cap=5)  # ten booths, all at the same time
    company = make_company()
    db.session.commit()
    outcome = _race(app, [(company.id, s.id) for s in rnd.slots])
    assert outcome == {"ok": 1, "conflict": 9, "error": 0}
    assert _active_bookings(company_id=company.id) == 1


def test_cap_holds_with_distinct_times_under_rush(app):
    rnd = make_round(booths=1, slots_per_booth=6, cap=2)  # six times, one booth
    company = make_company()
    db.session.commit()
    outcome = _race(app, [(company.id, s.id) for s in rnd.slots])
    assert outcome == {"ok": 2, "conflict": 4, "error": 0}
    assert _active_bookings(company_id=company.id, round_id=rnd.id) == 2


@pytest.mark.parametrize("clients", [20, 60])
def test_rush_on_one_time_gives_each_free_booth_once(app, clients):
    """SMEs book a time and the system picks the booth: a rush on one time fills every booth exactly
    once (the losers of a booth move on to the next) and refuses the rest."""
    rnd = make_round(booths=5, slots_per_booth=2)
    companies = [make_company() for _ in range(clients)]
    first = rnd.slots[0]
    db.session.commit()

    def book(company, slot):
        book_at_time(company=company, rnd=slot.round, starts_at=slot.starts_at, request=REQUEST, actor=None)

    outcome = _race(app, [(c.id, first.id) for c in companies], book=book)

    assert outcome == {"ok": 5, "conflict": clients - 5, "error": 0}
    booked = db.session.scalars(
        select(Booking.slot_id).where(Booking.round_id == rnd.id, Booking.status != "cancelled")
    ).all()
    assert sorted(booked) == sorted(s.id for s in rnd.slots[:5])
