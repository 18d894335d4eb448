"""The factories make the states their names promise, through the services where rules apply."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from consultroom.audit.models import AuditEntry
from consultroom.bookings.models import Booking
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.outcomes.models import ConsultationLog
from consultroom.timeutil import seoul_date
from tests.factories import (
    BookingFactory,
    BookingRowFactory,
    BuyerFactory,
    CompanyFactory,
    ConsultationLogFactory,
    ContractFactory,
    RoundFactory,
    SlotFactory,
    SurveyQuestionFactory,
    UserFactory,
    make_interpreter,
    survey,
)


def test_user_traits_set_role_and_confirmation():
    staff, admin, pending = UserFactory(staff=True), UserFactory(admin=True), UserFactory(unconfirmed=True)
    assert (staff.role, admin.role, pending.role) == ("staff", "admin", "sme")
    assert staff.email_confirmed_at is not None and pending.email_confirmed_at is None
    assert len({staff.email, admin.email, pending.email}) == 3


def test_owned_company_has_a_member_and_its_profile_rows():
    company = CompanyFactory(owned=True, hs_codes=("330499", "850440"), languages=("ko",))
    db.session.expire_all()
    assert [u.company_id for u in company.users] == [company.id]
    assert (company.hs_codes, company.languages) == (["330499", "850440"], ["ko"])


def test_past_round_was_held_on_a_weekday_with_booking_closed():
    rnd = RoundFactory(past=True, days_ago=10, booths=2, slots_per_booth=2)
    assert rnd.status == "closed" and rnd.day.weekday() < 5
    assert rnd.day <= seoul_date(utcnow()) - timedelta(days=10)
    assert rnd.booking_closes_at < utcnow() and len(rnd.slots) == 4


def test_confirmed_booking_goes_through_book_slot_with_buyer_and_interpreter():
    booking = BookingFactory(confirmed=True, slot=RoundFactory(past=True).slots[0])
    assert booking.status == "confirmed" and booking.buyer_id and booking.interpreter_id
    created = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == booking.id)).all()
    assert created == ["booking.create"]


def test_booking_row_takes_objects_as_ids_so_a_later_id_is_read():
    booking = BookingRowFactory(confirmed=True, slot=SlotFactory(starts_at=utcnow() + timedelta(minutes=50)))
    other = BuyerFactory()
    booking.buyer_id = other.id
    db.session.flush()
    db.session.expire(booking)
    assert booking.buyer is other and booking.buyer_response == "accepted"


def test_log_and_contract_go_through_the_outcome_services():
    contract = ContractFactory(currency="KRW", amount="2500000")
    held = db.session.get(Booking, contract.outcome.booking_id)
    assert contract.krw_value == 2_500_000 and contract.outcome.stage == "contracted"
    logged = db.session.scalar(select(ConsultationLog.attendance).where(ConsultationLog.booking_id == held.id))
    assert (held.status, logged) == ("held", "held")


def test_survey_answers_the_active_questionnaire():
    question = SurveyQuestionFactory(text_ko="만족", text_en="Satisfied")
    booking = ConsultationLogFactory().booking
    invitation = survey(booking, "sme", {question: 4})
    db.session.expire(invitation)
    assert invitation.response is not None and invitation.booking_id == booking.id


def test_make_interpreter_takes_both_forms_of_hours():
    default = make_interpreter()
    weekly = make_interpreter(hours=((4, "10:00", "12:00"),))
    daily = make_interpreter(hours=((time(0, 0), time(23, 59)),), days=range(7), max_per_day=1)
    none = make_interpreter(hours=())
    assert sorted(h.weekday for h in default.hours) == [0, 1, 2, 3, 4]
    assert [(h.weekday, h.start, h.end) for h in weekly.hours] == [(4, time(10), time(12))]
    assert len(daily.hours) == 7 and daily.max_sessions_per_day == 1
    assert none.hours == []
