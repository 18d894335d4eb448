"""Consultations (confirmed bookings with a buyer and an interpreter), their logs, outcomes,
contracts and the exchange rates that value them. Logs and contracts go through record_log and
record_contract: they set the booking's attendance, start the outcome and value the contract in KRW."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory

from consultroom.bookings.models import Booking
from consultroom.companies.models import Company
from consultroom.db import utcnow
from consultroom.interpreters.models import Interpreter
from consultroom.outcomes.models import ConsultationLog, Contract, ExchangeRate
from consultroom.outcomes.services import outcome_for, record_contract, record_log
from consultroom.rounds.models import Round
from consultroom.timeutil import seoul_date
from tests.factories.accounts import UserFactory
from tests.factories.base import BaseFactory
from tests.factories.bookings import BookingFactory
from tests.factories.rounds import RoundFactory, past_round

__all__ = ["ConsultationLogFactory", "ContractFactory", "ExchangeRateFactory", "make_consultation", "make_rate"]
__all__ += ["past_round"]


class ExchangeRateFactory(BaseFactory):
    class Meta:
        model = ExchangeRate

    currency = "USD"
    day = factory.LazyFunction(date.today)
    krw_per_unit = Decimal("1350.00")


class ConsultationLogFactory(BaseFactory):
    """The log of a consultation held in a past round, written by staff when it ended."""

    class Meta:
        model = ConsultationLog

    booking = factory.LazyFunction(lambda: BookingFactory(confirmed=True, slot=RoundFactory(past=True).slots[0]))
    data = factory.Dict({"attendance": "held", "buyer_interest": "high"})
    actor = factory.SubFactory(UserFactory, staff=True)
    now = factory.SelfAttribute("booking.ends_at")

    @classmethod
    def _create(cls, model_class, *, booking: Booking, data, actor, now) -> ConsultationLog:
        return record_log(booking=booking, data=data, actor=actor, now=now)


class ContractFactory(BaseFactory):
    """A contract on the outcome of a held consultation, valued at the rate of its signing day."""

    class Meta:
        model = Contract

    outcome = factory.LazyFunction(lambda: outcome_for(ConsultationLogFactory().booking))
    currency = "KRW"
    amount = "1000000"
    signed_on = factory.LazyAttribute(lambda o: seoul_date(o.now))  # no contract is signed in the future
    items = "500 units of serum"
    actor = factory.SubFactory(UserFactory, staff=True)
    now = factory.LazyFunction(utcnow)

    @classmethod
    def _create(cls, model_class, **kwargs) -> Contract:
        return record_contract(**kwargs)


def make_consultation(
    rnd: Round,
    index: int = 0,
    *,
    company: Company | None = None,
    interpreter: Interpreter | None = None,
    status: str = "confirmed",
) -> Booking:
    """A confirmed booking of the round's `index`-th slot, with a buyer and an interpreter."""
    given = {"company": company, "interpreter": interpreter}
    return BookingFactory(
        confirmed=True, slot=rnd.slots[index], status=status, **{k: v for k, v in given.items() if v is not None}
    )


def make_rate(currency: str, day: date, krw_per_unit: str) -> ExchangeRate:
    return ExchangeRateFactory(currency=currency, day=day, krw_per_unit=Decimal(krw_per_unit))
