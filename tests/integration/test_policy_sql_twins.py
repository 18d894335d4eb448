"""Every "can see" predicate of policies.py and its SQL twin in queries.py pick the same objects, for
every kind of user (issue 14, item 4): lists and the API filter in SQL with the twin, single pages
authorize with the predicate, and neither may drift from the other."""

from __future__ import annotations

from datetime import date

from flask_login import AnonymousUserMixin
from sqlalchemy import select

from consultroom.bookings import policies as booking_policies
from consultroom.bookings import queries as booking_queries
from consultroom.bookings.models import Booking, WaitlistEntry
from consultroom.buyers import policies as buyer_policies
from consultroom.buyers.models import Buyer
from consultroom.buyers.queries import buyer_visible_to
from consultroom.companies import policies as company_policies
from consultroom.companies.models import Company
from consultroom.companies.queries import company_visible_to
from consultroom.extensions import db
from consultroom.interpreters import policies as interpreter_policies
from consultroom.interpreters.models import Interpreter
from consultroom.interpreters.queries import interpreter_visible_to
from consultroom.outcomes import policies as outcome_policies
from consultroom.outcomes import queries as outcome_queries
from consultroom.rounds.models import Round, RoundStatus
from tests.factories import (
    make_buyer,
    make_company,
    make_consultation,
    make_interpreter,
    make_round,
    make_user,
    past_round,
)

TWINS = [
    ("can_see_round", booking_policies.can_see_round, booking_queries.round_visible_to, Round),
    ("can_see_booking", booking_policies.can_see_booking, booking_queries.booking_visible_to, Booking),
    (
        "can_see_waitlist_entry",
        booking_policies.can_see_waitlist_entry,
        booking_queries.waitlist_entry_visible_to,
        WaitlistEntry,
    ),
    (
        "can_see_consultation",
        outcome_policies.can_see_consultation,
        outcome_queries.consultation_visible_to,
        Booking,
    ),
    ("can_see_outcome", outcome_policies.can_see_outcome, outcome_queries.outcome_visible_to, Booking),
    ("can_view_company", company_policies.can_view_company, company_visible_to, Company),
    ("can_view_buyer", buyer_policies.can_view_buyer, buyer_visible_to, Buyer),
    ("can_view_interpreter", interpreter_policies.can_view_interpreter, interpreter_visible_to, Interpreter),
]


def _world() -> dict[str, object]:
    """Two companies with consultations and waitlist entries, rounds in every status, and an
    interpreter whose account sees the consultations assigned to it."""
    sme_a, sme_b = make_user("sme"), make_user("sme")
    company_a, company_b = make_company(owner=sme_a), make_company(owner=sme_b)
    interpreter_account = make_user("sme")  # an interpreter's login: no company
    linked = make_interpreter()
    linked.user_id = interpreter_account.id
    held = past_round(booths=2, slots_per_booth=2)
    # The linked interpreter works two different hours (one consultation at a time).
    first, *others = range(len(held.slots))
    later = next(i for i in others if held.slots[i].starts_at != held.slots[first].starts_at)
    rest = [i for i in others if i != later]
    make_consultation(held, first, company=company_a, interpreter=linked)
    make_consultation(held, later, company=company_b, interpreter=linked)
    # An account may be a company's and an interpreter's at once: it sees both kinds of consultation.
    also_interpreting = make_interpreter()
    also_interpreting.user_id = sme_a.id
    make_consultation(held, rest[0], company=company_b, interpreter=also_interpreting)
    make_consultation(held, rest[1], company=company_a)
    for month, status in enumerate(RoundStatus, start=1):  # one round a month
        make_round(day=date(2031, month, 7), status=status.value, booths=1, slots_per_booth=1)
    open_round = db.session.scalar(select(Round).where(Round.status == "open"))
    for company in (company_a, company_b):
        db.session.add(WaitlistEntry(round_id=open_round.id, company_id=company.id, products="Serum"))
    make_buyer()
    db.session.flush()
    return {
        "anonymous": AnonymousUserMixin(),
        "staff": make_user("staff"),
        "admin": make_user("admin"),
        "sme of company A": sme_a,
        "sme of company B": sme_b,
        "sme without a company": make_user("sme"),
        "interpreter's account": interpreter_account,
        "inactive staff": make_user("staff", active=False),
    }


def test_every_can_see_predicate_and_its_sql_twin_pick_the_same_objects():
    users = _world()
    checked = 0
    for name, predicate, twin, model in TWINS:
        objects = list(db.session.scalars(select(model)))
        assert len({o.id for o in objects}) >= 2, name
        for who, user in users.items():
            by_predicate = {o.id for o in objects if predicate(user, o)}
            by_sql = set(db.session.scalars(select(model.id).where(twin(user))))
            assert by_sql == by_predicate, (name, who)
            checked += 1
    assert checked == len(TWINS) * len(users)


def test_the_world_has_both_answers_for_each_twin():
    """A twin that always says yes (or no) to everyone would pass the comparison vacuously."""
    users = _world()
    for name, predicate, _twin, model in TWINS:
        answers = {predicate(user, o) for user in users.values() for o in db.session.scalars(select(model))}
        assert answers == {True, False}, name
