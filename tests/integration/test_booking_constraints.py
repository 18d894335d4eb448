"""The database itself refuses double bookings, even when the service's checks are bypassed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from consultroom.bookings.models import Booking
from consultroom.extensions import db
from tests.factories import make_company, make_round


def _raw_booking(rnd, slot, company, *, seq=1, status="requested", starts=None, ends=None) -> Booking:
    b = Booking(
        round_id=rnd.id,
        slot_id=slot.id,
        company_id=company.id,
        status=status,
        seq=seq,
        cap=rnd.company_cap,
        starts_at=starts or slot.starts_at,
        ends_at=ends or slot.ends_at,
        products="x",
    )
    db.session.add(b)
    return b


def test_db_refuses_second_active_booking_of_a_slot():
    rnd = make_round(booths=1, slots_per_booth=1)
    slot = rnd.slots[0]
    _raw_booking(rnd, slot, make_company())
    db.session.flush()
    _raw_booking(rnd, slot, make_company())
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_db_allows_rebooking_a_slot_whose_booking_was_cancelled():
    rnd = make_round(booths=1, slots_per_booth=1)
    slot = rnd.slots[0]
    _raw_booking(rnd, slot, make_company(), status="cancelled")
    _raw_booking(rnd, slot, make_company())
    db.session.commit()  # the database's own checks run here; a refusal would raise

    assert db.session.scalars(select(Booking.status).where(Booking.slot_id == slot.id).order_by(Booking.id)).all() == [
        "cancelled",
        "requested",
    ]


def test_db_refuses_overlapping_active_bookings_of_a_company():
    rnd = make_round(booths=2, slots_per_booth=1)
    company = make_company()
    a, b = rnd.slots
    _raw_booking(rnd, a, company, seq=1)
    db.session.flush()
    # Partly overlapping times on another booth.
    _raw_booking(
        rnd, b, company, seq=2, starts=b.starts_at + timedelta(minutes=20), ends=b.ends_at + timedelta(minutes=20)
    )
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_db_allows_back_to_back_bookings_of_a_company():
    rnd = make_round(booths=1, slots_per_booth=2)
    company = make_company()
    first, second = rnd.slots
    _raw_booking(rnd, first, company, seq=1, ends=second.starts_at)
    _raw_booking(rnd, second, company, seq=2)
    db.session.commit()  # the database's own checks run here; a refusal would raise

    assert db.session.scalars(
        select(Booking.seq).where(Booking.company_id == company.id).order_by(Booking.seq)
    ).all() == [
        1,
        2,
    ]


def test_db_refuses_a_booking_beyond_the_cap():
    rnd = make_round(booths=1, slots_per_booth=3, cap=2)
    company = make_company()
    _raw_booking(rnd, rnd.slots[2], company, seq=3)
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_db_refuses_two_active_bookings_in_the_same_cap_place():
    rnd = make_round(booths=1, slots_per_booth=2, cap=2)
    company = make_company()
    _raw_booking(rnd, rnd.slots[0], company, seq=1)
    db.session.flush()
    _raw_booking(rnd, rnd.slots[1], company, seq=1)
    with pytest.raises(IntegrityError):
        db.session.flush()
