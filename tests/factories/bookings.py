"""Bookings, made through the real book_slot: seats, caps, overlaps and the audit entry are the
service's rules, so a booking row built by hand could hold a state the app never makes."""

from __future__ import annotations

from datetime import timedelta

import factory

from consultroom.bookings.models import Booking
from consultroom.bookings.services import book_slot
from consultroom.companies.models import Company
from consultroom.rounds.models import Slot
from tests.factories.base import BaseFactory
from tests.factories.buyers import BuyerFactory
from tests.factories.companies import CompanyFactory
from tests.factories.interpreters import InterpreterFactory
from tests.factories.rounds import RoundFactory


def matched(**more) -> factory.Trait:
    """Confirmed with a new buyer (and what `more` adds: the interpreter, the responses)."""
    return factory.Trait(status="confirmed", buyer=factory.SubFactory(BuyerFactory), **more)


class BookingFactory(BaseFactory):
    """A requested booking of the first slot of a new open round by a new company with a member.
    `confirmed`: with a buyer and an interpreter, booked five days before the slot (so a past
    round's slot can be booked too)."""

    class Meta:
        model = Booking

    class Params:
        confirmed = matched(
            interpreter=factory.SubFactory(InterpreterFactory),
            now=factory.LazyAttribute(lambda o: o.slot.starts_at - timedelta(days=5)),
        )

    company = factory.SubFactory(CompanyFactory, owned=True)
    # request, actor and now are book_slot's arguments, not columns (see _create).
    request = factory.Dict({"products": "Skin care serum"})
    actor = None
    now = None
    slot = factory.LazyFunction(lambda: RoundFactory().slots[0])

    @classmethod
    def _create(cls, model_class, *, company: Company, slot: Slot, request, actor, now, **state) -> Booking:
        booking = book_slot(company=company, slot=slot, request=request, actor=actor, now=now)
        for name, value in cls._by_id(model_class, state).items():  # set later by staff: buyer, status...
            setattr(booking, name, value)
        cls._meta.sqlalchemy_session.flush()
        return booking


def make_booking(slot: Slot, *, company: Company | None = None, languages: tuple[str, ...] = ("ko",)) -> Booking:
    """A requested booking for a company that speaks only Korean (so an interpreter is needed)."""
    if company is None:
        company = CompanyFactory(
            owned=True,
            member__locale="ko",
            languages=languages,
            name_en=factory.Sequence(lambda n: f"Seoul Cosmetics {n}"),
        )
    request = {"products": "Skin care serum", "hs_codes": ["330499"], "languages": list(languages)}
    return BookingFactory(slot=slot, company=company, request=request)


class BookingRowFactory(BaseFactory):
    """A booking written as a row, for a state book_slot rightly refuses to make: a slot that starts
    within the hour or has begun, a confirmed match with no mails behind it. Use BookingFactory
    wherever the state can be reached through the service."""

    class Meta:
        model = Booking

    class Params:
        confirmed = matched(
            interpreter=factory.SubFactory(InterpreterFactory, available=True),
            buyer_response="accepted",
            interpreter_response="accepted",
            meeting_url="https://meet.example/room",
        )

    company = factory.SubFactory(CompanyFactory, owned=True)
    slot = factory.LazyFunction(lambda: RoundFactory().slots[0])
    round = factory.SelfAttribute("slot.round")
    seq = 1
    cap = 3
    starts_at = factory.SelfAttribute("slot.starts_at")
    ends_at = factory.SelfAttribute("slot.ends_at")
    products = "김"

    @classmethod
    def _create(cls, model_class, *args, **kwargs) -> Booking:
        return super()._create(model_class, *args, **cls._by_id(model_class, kwargs))
