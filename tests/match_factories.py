"""Factories for match tests: buyers, interpreters and booked consultations as real rows."""

from __future__ import annotations

import itertools
from datetime import time

from consultroom.bookings.models import Booking
from consultroom.bookings.services import book_slot
from consultroom.buyers.models import Buyer, BuyerLanguage
from consultroom.companies.models import Company
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter, InterpreterHours, InterpreterLanguage
from consultroom.rounds.models import Slot
from tests.factories import make_company, make_user

_seq = itertools.count(1)
WORKDAYS = range(5)


def make_buyer(
    *,
    country: str = "US",
    timezone: str = "America/New_York",
    languages: tuple[str, ...] = ("en",),
    active: bool = True,
    **fields,
) -> Buyer:
    n = next(_seq)
    name = fields.pop("company_name", f"Match Buyer {n}")
    buyer = Buyer(
        company_name=name,
        company_key=name.casefold(),
        country=country,
        contact_name=fields.pop("contact_name", f"Contact {n}"),
        email=fields.pop("email", f"mbuyer{n}@buyers.example.com"),
        phone=fields.pop("phone", "+1 212 555 0100"),
        timezone=timezone,
        active=active,
        **fields,
    )
    buyer.language_rows = [BuyerLanguage(code=c) for c in languages]
    db.session.add(buyer)
    db.session.flush()
    return buyer


def make_interpreter(
    *,
    languages: tuple[str, ...] = ("en",),
    locale: str = "ko",
    max_per_day: int = 4,
    hours: tuple[tuple[time, time], ...] = ((time(9, 0), time(18, 0)),),
    days=WORKDAYS,
    active: bool = True,
) -> Interpreter:
    n = next(_seq)
    interpreter = Interpreter(
        name=f"Interpreter {n}",
        email=f"interp{n}@interpreters.example.com",
        locale=locale,
        max_sessions_per_day=max_per_day,
        active=active,
    )
    interpreter.language_rows = [InterpreterLanguage(code=c) for c in languages]
    interpreter.hours = [InterpreterHours(weekday=d, start=a, end=b) for d in days for a, b in hours]
    db.session.add(interpreter)
    db.session.flush()
    return interpreter


def make_booking(slot: Slot, *, company: Company | None = None, languages: tuple[str, ...] = ("ko",)) -> Booking:
    """A requested booking for a company that speaks only Korean (so an interpreter is needed)."""
    if company is None:
        owner = make_user("sme", locale="ko")
        company = make_company(owner=owner, languages=languages, name_en=f"Seoul Cosmetics {next(_seq)}")
    return book_slot(
        company=company,
        slot=slot,
        request={"products": "Skin care serum", "hs_codes": ["330499"], "languages": list(languages)},
        actor=None,
    )
