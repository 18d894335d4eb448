"""Overseas buyers with their languages and HS-code interests."""

from __future__ import annotations

import factory

from consultroom.buyers.models import Buyer, BuyerInterest, BuyerLanguage
from tests.factories.base import BaseFactory


class BuyerFactory(BaseFactory):
    class Meta:
        model = Buyer

    class Params:
        languages = ("en",)
        interests = ()

    company_name = factory.Sequence(lambda n: f"Match Buyer {n}")
    company_key = factory.LazyAttribute(lambda o: o.company_name.casefold())
    country = "US"
    contact_name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"mbuyer{n}@buyers.example.com")
    phone = "+1 212 555 0100"
    timezone = "America/New_York"
    active = True
    language_rows = factory.LazyAttribute(lambda o: [BuyerLanguage(code=c) for c in o.languages])
    interest_rows = factory.LazyAttribute(lambda o: [BuyerInterest(code=c) for c in o.interests])


def make_buyer(**fields) -> Buyer:
    """A buyer in New York who speaks English; fields as BuyerFactory takes them."""
    return BuyerFactory(**fields)
