"""The round's proposals page (issue 16): every proposal ever made for the round, newest first, paged
in SQL with a stable order, the bookings waiting for a buyer counted in SQL; the same queries for one
proposal and for many."""

from __future__ import annotations

import re
from datetime import timedelta

from consultroom.extensions import db
from consultroom.matching.models import RoundProposal
from consultroom.matching.views import PROPOSALS_PER_PAGE
from tests.factories import make_company, make_round
from tests.factories.matching import book, slots_at


def _proposals(rnd, count: int) -> list[RoundProposal]:
    made = [RoundProposal(round_id=rnd.id, status="discarded", exact_matched=n) for n in range(count)]
    db.session.add_all(made)
    db.session.flush()
    return made


def _listed(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/staff/matching/proposals/(\d+)"', html)]


def _round_with_two_waiting():
    rnd = make_round(booths=2, slots_per_booth=1, status="open")
    ten = slots_at(rnd, 0)
    book(make_company(name_en="A"), ten[0])
    book(make_company(name_en="B"), ten[1])
    rnd.status = "closed"
    return rnd


def test_proposals_page_lists_every_proposal_newest_first_a_page_at_a_time(client, login_as):
    rnd = _round_with_two_waiting()
    made = _proposals(rnd, PROPOSALS_PER_PAGE + 3)
    other = _proposals(make_round(day=rnd.day + timedelta(days=62), booths=1, slots_per_booth=1, status="closed"), 1)
    db.session.commit()
    login_as("staff")

    first = client.get(f"/staff/matching/rounds/{rnd.id}").get_data(as_text=True)
    second = client.get(f"/staff/matching/rounds/{rnd.id}?page=2").get_data(as_text=True)

    newest_first = [p.id for p in reversed(made)]
    assert _listed(first) + _listed(second) == newest_first
    assert len(_listed(first)) == PROPOSALS_PER_PAGE
    assert other[0].id not in _listed(first) + _listed(second)
    assert "2 bookings are waiting for a buyer." in first


def test_proposals_page_runs_the_same_queries_for_one_and_many_proposals(client, login_as, count_queries):
    rnd = _round_with_two_waiting()
    _proposals(rnd, 1)
    db.session.commit()
    login_as("staff")
    url = f"/staff/matching/rounds/{rnd.id}"
    client.get(url)
    with count_queries() as one:
        assert len(_listed(client.get(url).get_data(as_text=True))) == 1
    _proposals(rnd, 40)
    db.session.commit()
    with count_queries() as many:
        assert len(_listed(client.get(url).get_data(as_text=True))) == PROPOSALS_PER_PAGE

    assert many.count == one.count
