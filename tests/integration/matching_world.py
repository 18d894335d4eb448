"""Buyers and bookings for the matching tests: real rows, built the way the registry and booking services build them."""

from __future__ import annotations

import itertools
from datetime import time

from consultroom.bookings.models import Booking
from consultroom.bookings.services import book_slot
from consultroom.buyers.models import Buyer, BuyerInterest, BuyerLanguage
from consultroom.extensions import db
from tests.factories import make_interpreter, make_user

_seq = itertools.count(1)


def make_buyer(
    name: str | None = None,
    *,
    country: str = "US",
    interests: tuple[str, ...] = ("330499",),
    languages: tuple[str, ...] = ("en",),
    timezone: str = "Asia/Seoul",
    meet_from: time = time(9),
    meet_to: time = time(18),
    active: bool = True,
) -> Buyer:
    n = next(_seq)
    name = name or f"Buyer {n}"
    buyer = Buyer(
        company_name=name,
        company_key=f"{name.casefold()} {n}",
        country=country,
        email=f"buyer{n}@{name.split()[0].lower()}.example.com",
        timezone=timezone,
        meet_from=meet_from,
        meet_to=meet_to,
        meet_days=[0, 1, 2, 3, 4],
        active=active,
    )
    buyer.language_rows = [BuyerLanguage(code=c) for c in languages]
    buyer.interest_rows = [BuyerInterest(code=c) for c in interests]
    db.session.add(buyer)
    db.session.flush()
    return buyer


def book(company, slot, **request) -> Booking:
    """A booking made by staff for `company`, with the request given (the company's profile otherwise)."""
    request.setdefault("products", "화장품")
    request.setdefault("hs_codes", company.hs_codes)
    request.setdefault("target_countries", company.target_countries)
    request.setdefault("languages", company.languages)
    staff = make_user("staff")
    return book_slot(company=company, slot=slot, request=request, actor=staff)


def interpreter_for(rnd, languages: tuple[str, ...] = ("vi",), **kw):
    """An interpreter working all the round's day (Seoul time)."""
    return make_interpreter(languages=languages, hours=((rnd.day.weekday(), "08:00", "20:00"),), **kw)


def slots_at(rnd, hour_index: int) -> list:
    """The round's slots at its hour_index-th start time (10:00, 11:00, ... Seoul), by booth."""
    starts = sorted({s.starts_at for s in rnd.slots})
    return sorted((s for s in rnd.slots if s.starts_at == starts[hour_index]), key=lambda s: s.booth)


def use_policy(policy: str) -> None:
    """The program's interpreter policy ("always" by default, or "needed")."""
    from consultroom.rounds.models import RoundSettings

    settings = db.session.get(RoundSettings, 1)
    if settings is None:
        settings = RoundSettings(id=1)
        db.session.add(settings)
    settings.interpreter_policy = policy
    db.session.flush()
