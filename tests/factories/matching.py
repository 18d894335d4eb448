"""Worlds for the matching tests: buyers with interests and meeting hours, bookings made by staff
through book_slot, interpreters working a round's day, and the program's interpreter policy."""

from __future__ import annotations

from datetime import time

import factory

from consultroom.bookings.models import Booking
from consultroom.bookings.services import book_slot
from consultroom.buyers.models import Buyer
from consultroom.extensions import db
from consultroom.matching.services import propose_match, respond
from tests.factories.accounts import UserFactory
from tests.factories.buyers import BuyerFactory
from tests.factories.companies import CompanyFactory
from tests.factories.interpreters import make_interpreter
from tests.factories.rounds import make_round


class MatchingBuyerFactory(BuyerFactory):
    """A buyer the recommender can score: interested in cosmetics, meeting on weekdays 09:00-18:00
    in Seoul time."""

    class Params:
        interests = ("330499",)

    company_name = factory.Sequence(lambda n: f"Buyer {n}")
    company_key = factory.LazyAttributeSequence(lambda o, n: f"{o.company_name.casefold()} {n}")
    email = factory.LazyAttributeSequence(lambda o, n: f"buyer{n}@{o.company_name.split()[0].lower()}.example.com")
    contact_name = ""
    phone = ""
    timezone = "Asia/Seoul"
    meet_from = time(9)
    meet_to = time(18)
    meet_days = factory.LazyFunction(lambda: [0, 1, 2, 3, 4])


def make_buyer(name: str | None = None, **fields) -> Buyer:
    """A matching buyer named `name` (fields as MatchingBuyerFactory takes them)."""
    if name is not None:
        fields["company_name"] = name
    return MatchingBuyerFactory(**fields)


def book(company, slot, **request) -> Booking:
    """A booking made by staff for `company`, with the request given (the company's profile otherwise)."""
    request.setdefault("products", "화장품")
    request.setdefault("hs_codes", company.hs_codes)
    request.setdefault("target_countries", company.target_countries)
    request.setdefault("languages", company.languages)
    return book_slot(company=company, slot=slot, request=request, actor=UserFactory(staff=True))


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


def propose(booking: Booking, *, buyer: Buyer | None = None, interpreter=None, actor=None) -> Booking:
    """A match proposed by staff through propose_match (it versions the match and writes the mails)."""
    return propose_match(
        booking=booking,
        buyer=buyer or BuyerFactory(),
        interpreter=interpreter or make_interpreter(),
        actor=actor or UserFactory(staff=True),
    )


def accept_both(booking: Booking) -> Booking:
    """The buyer and the interpreter accept the current proposal through respond: confirmed."""
    for party in ("buyer", "interpreter"):
        respond(booking=booking, party=party, accept=True, version=booking.match_version)
    return booking


def greedy_trap() -> dict:
    """Three bookings where taking the best pair first (greedy) leaves one without a buyer.

    C1 and C2 book 10:00, C3 (Korean only) 11:00. X suits C1 best (exact HS, 100) but also C2 (HS
    heading, 85); Y suits C1 (HS heading, 65) and has no product relation to C2 (sauces), so it is no
    candidate there; Z is the only buyer for C3 (80, through the one Vietnamese interpreter, who
    takes one session a day). Greedy: C1-X, C3-Z = 180, C2 unmatched. Optimal: C1-Y, C2-X, C3-Z = 230.
    Interpreters only where there is no common language (the policy has its own tests).
    """
    use_policy("needed")
    rnd = make_round(booths=3, slots_per_booth=2, status="closed")
    c1 = CompanyFactory(name_en="C1", hs_codes=("330499",), target_countries=("US",), languages=("ko", "en"))
    c2 = CompanyFactory(name_en="C2", hs_codes=("210390",), target_countries=("US",), languages=("ko", "en"))
    c3 = CompanyFactory(name_en="C3", hs_codes=("090111",), target_countries=("VN",), languages=("ko",))
    ten, eleven = slots_at(rnd, 0), slots_at(rnd, 1)
    rnd.status = "open"  # staff book for companies while the round is open, then close it for matching
    b1, b2, b3 = book(c1, ten[0]), book(c2, ten[1]), book(c3, eleven[0])
    rnd.status = "closed"
    x = make_buyer("Xport", country="US", interests=("330499", "2103"), timezone="Asia/Seoul")
    y = make_buyer("Yamato", country="JP", interests=("3304",), timezone="Asia/Seoul")
    z = make_buyer(
        "Zen Coffee", country="VN", interests=("0901",), languages=("vi",), timezone="Asia/Ho_Chi_Minh",
        meet_from=time(8), meet_to=time(17),
    )  # fmt: skip
    nguyen = interpreter_for(rnd, ("vi",), name="Nguyen", max_sessions_per_day=1)
    staff = UserFactory(staff=True)
    db.session.flush()
    return {"rnd": rnd, "b": (b1, b2, b3), "buyers": (x, y, z), "interp": nguyen, "staff": staff, "ten": ten}
