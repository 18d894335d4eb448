"""The process's copy of the matching registry (consultroom.matching.registry): reused while the
database's version holds, rebuilt after any change, never reused for a rolled-back state; and the
chapter tier always considered, however many better-fitting buyers there are."""

from __future__ import annotations

from datetime import time

import pytest
from flask import current_app

from consultroom.extensions import db
from consultroom.matching import registry
from consultroom.matching.recommend import load_world, recommend
from tests.factories import make_company, make_round
from tests.factories.matching import book, make_buyer, slots_at, use_policy

SEOUL_9_TO_6 = {"timezone": "Asia/Seoul", "meet_from": time(9), "meet_to": time(18)}


@pytest.fixture
def cache_on(monkeypatch):
    monkeypatch.setitem(current_app.config, "MATCHING_REGISTRY_CACHE", True)
    registry.clear()
    yield
    registry.clear()


def _booking():
    use_policy("needed")
    rnd = make_round(booths=2, slots_per_booth=2)
    company = make_company(hs_codes=("330499",), target_countries=("US",), languages=("ko", "en"))
    return book(company, slots_at(rnd, 0)[0])


def _names(booking) -> list[str]:
    return [r.buyer.company_name for r in recommend(booking=booking)]


def test_registry_copy_is_reused_until_a_buyer_changes(cache_on, count_queries):
    booking = _booking()
    first = make_buyer("First", interests=("330499",), **SEOUL_9_TO_6)
    assert _names(booking) == ["First"]

    with count_queries() as q:
        assert _names(booking) == ["First"]
    assert not [s for s in q.statements if "buyer_interests" in s]  # the copy served it

    make_buyer("Second", interests=("3304",), **SEOUL_9_TO_6)
    assert _names(booking) == ["First", "Second"]
    first.active = False
    db.session.flush()
    assert _names(booking) == ["Second"]
    first.active = True
    first.interest_rows[0].code = "847130"  # no longer related
    db.session.flush()
    assert _names(booking) == ["Second"]


def test_registry_copy_of_a_rolled_back_change_is_never_reused(cache_on):
    booking = _booking()
    make_buyer("Kept", interests=("330499",), **SEOUL_9_TO_6)
    db.session.commit()
    assert _names(booking) == ["Kept"]

    nested = db.session.begin_nested()
    make_buyer("Gone", interests=("330499",), **SEOUL_9_TO_6)
    assert _names(booking) == ["Gone", "Kept"]
    nested.rollback()

    assert _names(booking) == ["Kept"]


def test_chapter_tier_is_considered_when_every_better_fit_is_out_of_reach():
    booking = _booking()
    # More exact matches than a pool holds, none with a language route (German only, no interpreter).
    for n in range(12):
        make_buyer(f"Mute {n}", country="DE", interests=("330499",), languages=("de",), **SEOUL_9_TO_6)
    chapter = make_buyer("Chapter", country="US", interests=("33",), **SEOUL_9_TO_6)

    world = load_world([booking], pool_size=1)  # one kept per booking

    assert [c.buyer_id for c in world.candidates(booking)] == [chapter.id]
