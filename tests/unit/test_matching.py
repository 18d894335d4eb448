from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest

from consultroom.matching.assignment import (
    Pair,
    Result,
    Slot,
    assign_interpreters,
    solve_by_slot,
    solve_exact,
    solve_greedy,
    violations,
)
from consultroom.matching.scoring import (
    BuyerInfo,
    RequestInfo,
    Weights,
    best_hs_match,
    score_pair,
    within_meeting_hours,
)

T1 = datetime(2027, 3, 10, 1, 0, tzinfo=UTC)  # 10:00 in Seoul
DAY = date(2027, 3, 10)


def slot(booking_id: int, company_id: int, start: datetime = T1, minutes: int = 50) -> Slot:
    return Slot(booking_id, company_id, start, start + timedelta(minutes=minutes), DAY)


def request(**kw) -> RequestInfo:
    base = dict(
        booking_id=1, company_id=1, starts_at=T1, ends_at=T1 + timedelta(minutes=50), hs_codes=("330499",),
        target_countries=("US",), languages=("ko", "en"),
    )  # fmt: skip
    base.update(kw)
    return RequestInfo(**base)


def buyer(**kw) -> BuyerInfo:
    base = dict(
        buyer_id=1, country="US", interest_codes=("330499",), languages=("en",), timezone="America/Los_Angeles",
        meet_from=time(8), meet_to=time(18),
    )  # fmt: skip
    base.update(kw)
    return BuyerInfo(**base)


@pytest.mark.parametrize(
    ("interests", "expected"),
    [(("330499",), (6, "330499")), (("3304",), (4, "3304")), (("33",), (2, "33")), (("8471",), None)],
)
def test_best_hs_match_levels(interests, expected):
    assert best_hs_match(("330499", "210390"), interests) == expected


def test_score_exact_hs_country_language_hours_new_pair():
    # 10:00 Wednesday in Seoul is 17:00 Tuesday in Los Angeles (PST, UTC-8): inside 08:00-18:00.
    s = score_pair(request(), buyer())
    w = Weights()
    assert [r.code for r in s.reasons] == ["hs6", "country", "shared_language", "within_hours", "new_pair"]
    assert s.total == w.hs6 + w.country + w.shared_language + w.within_hours + w.new_pair
    assert s.feasible and not s.follow_up


def test_score_interpreter_needed_and_missing():
    b = buyer(languages=("vi",), country="VN")
    with_interp = score_pair(request(), b, interpreter_languages=frozenset({"vi"}))
    without = score_pair(request(), b)
    assert "interpreter" in [r.code for r in with_interp.reasons] and with_interp.feasible
    assert "no_language" in [r.code for r in without.reasons] and not without.feasible


def test_score_outside_hours_follow_up_and_load_lower_the_score():
    night_buyer = buyer(timezone="Europe/Berlin", meet_from=time(9), meet_to=time(17))  # 02:00 in Berlin
    s = score_pair(request(), night_buyer, met_before=True, buyer_load=2)
    codes = [r.code for r in s.reasons]
    assert "outside_hours" in codes and "follow_up" in codes and "load" in codes
    assert s.follow_up is True
    assert s.total < score_pair(request(), buyer()).total


def test_within_meeting_hours_across_midnight_and_days():
    b = buyer(timezone="Asia/Seoul", meet_from=time(20), meet_to=time(2))
    late = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)  # 21:00 Seoul, Wednesday
    assert within_meeting_hours(b, late, late + timedelta(minutes=50))
    saturday = datetime(2027, 3, 13, 1, 0, tzinfo=UTC)
    assert not within_meeting_hours(buyer(timezone="Asia/Seoul"), saturday, saturday + timedelta(minutes=50))


def test_exact_beats_greedy_where_greedy_takes_the_best_pair_first():
    slots = {1: slot(1, company_id=1), 2: slot(2, company_id=2)}  # same time
    pairs = [Pair(1, 10, 100), Pair(1, 20, 90), Pair(2, 10, 95), Pair(2, 20, 10)]
    greedy = solve_greedy(slots, pairs)
    exact = solve_exact(slots, pairs)
    assert greedy.total == 110 and exact.total == 185
    assert {b: p.party_id for b, p in exact.chosen.items()} == {1: 20, 2: 10}
    assert violations(slots, exact) == []


def test_exact_matches_more_bookings_than_greedy():
    slots = {1: slot(1, 1), 2: slot(2, 2)}
    pairs = [Pair(1, 10, 100), Pair(1, 20, 1), Pair(2, 10, 99)]
    assert solve_greedy(slots, pairs).matched == 1
    exact = solve_exact(slots, pairs)
    assert exact.matched == 2 and exact.total == 100


def test_buyer_at_most_once_per_company_and_round():
    later = T1 + timedelta(hours=1)
    slots = {1: slot(1, 1), 2: slot(2, 1, start=later)}
    pairs = [Pair(1, 10, 100), Pair(2, 10, 100), Pair(2, 20, 30)]
    exact = solve_exact(slots, pairs)
    assert {b: p.party_id for b, p in exact.chosen.items()} == {1: 10, 2: 20}
    allowed_twice = solve_exact(slots, pairs, once_per_company=False)
    assert allowed_twice.total == 200


def test_daily_cap_holds():
    slots = {i: slot(i, i, start=T1 + timedelta(hours=i)) for i in range(1, 5)}
    pairs = [Pair(i, 7, 50) for i in slots] + [Pair(4, 8, 10)]
    exact = solve_exact(slots, pairs, once_per_company=False, daily_cap={7: 2, 8: 6})
    counts = sorted(p.party_id for p in exact.chosen.values())
    assert counts == [7, 7, 8]
    assert violations(slots, exact, once_per_company=False, daily_cap={7: 2, 8: 6}) == []


def test_partial_overlaps_are_respected():
    slots = {1: slot(1, 1, minutes=60), 2: slot(2, 2, start=T1 + timedelta(minutes=30))}
    pairs = [Pair(1, 10, 50), Pair(2, 10, 50)]
    assert solve_exact(slots, pairs).matched == 1


def test_random_cases_exact_is_valid_and_never_worse_than_greedy():
    rng = random.Random(7)
    for _ in range(40):
        slots = {
            b: slot(b, rng.randint(1, 5), start=T1 + timedelta(minutes=30 * rng.randint(0, 6)), minutes=50)
            for b in range(1, rng.randint(3, 12))
        }
        pairs = [Pair(b, party, rng.randint(-20, 100)) for b in slots for party in range(1, 6) if rng.random() < 0.6]
        cap = {party: rng.randint(1, 4) for party in range(1, 6)}
        exact = solve_exact(slots, pairs, daily_cap=cap)
        greedy = solve_greedy(slots, pairs, daily_cap=cap)
        assert violations(slots, exact, daily_cap=cap) == []
        assert violations(slots, greedy, daily_cap=cap) == []
        assert (exact.matched, exact.total) >= (greedy.matched, greedy.total)


def _round_slots(rng: random.Random, n: int) -> dict[int, Slot]:
    """Bookings at whole-hour slot times (a round's shape): up to 4 times, companies booking several."""
    return {b: slot(b, rng.randint(1, 6), start=T1 + timedelta(hours=rng.randint(0, 3))) for b in range(1, n + 1)}


def test_solve_by_slot_is_valid_and_its_bound_holds_above_the_exact_optimum():
    rng = random.Random(12)
    for _ in range(40):
        slots = _round_slots(rng, rng.randint(3, 14))
        pairs = [Pair(b, party, rng.randint(1, 100)) for b in slots for party in range(1, 7) if rng.random() < 0.5]
        exact = solve_exact(slots, pairs)
        by_slot = solve_by_slot(slots, pairs)

        assert violations(slots, by_slot.result) == []
        # The exact program ranks the number matched first; its total is still under the bound.
        assert exact.total <= by_slot.upper_bound
        assert by_slot.result.total <= by_slot.upper_bound


def test_solve_by_slot_with_a_cluster_limit_bounds_by_the_best_bookings():
    slots = {1: slot(1, 1), 2: slot(2, 2), 3: slot(3, 3)}
    pairs = [Pair(1, 10, 30), Pair(2, 11, 20), Pair(3, 12, 10)]

    assert solve_by_slot(slots, pairs).upper_bound == 60
    assert solve_by_slot(slots, pairs, cluster_limit={1: 2, 2: 2, 3: 2}).upper_bound == 50


def test_assign_interpreters_covers_as_many_as_the_exact_program():
    rng = random.Random(5)
    for _ in range(40):
        slots = _round_slots(rng, rng.randint(2, 12))
        eligible = {b: [i for i in range(1, 5) if rng.random() < 0.5] for b in slots}
        caps = {i: rng.randint(1, 3) for i in range(1, 5)}
        exact = solve_exact(
            slots, [Pair(b, i, 1) for b, its in eligible.items() for i in its], once_per_company=False, daily_cap=caps
        )

        flow = assign_interpreters(slots, eligible, caps)

        assert len(flow) == exact.matched
        assert all(i in eligible[b] for b, i in flow.items())
        chosen = Result({b: Pair(b, i, 1) for b, i in flow.items()}, 0, "flow")
        assert violations(slots, chosen, once_per_company=False, daily_cap=caps) == []


def test_assign_interpreters_extends_a_kept_flow_by_moving_its_interpreters():
    # One slot time: interpreter 1 speaks both languages, 2 only one; booking 1 holds 1 and could use
    # 2, booking 2 can only use 1. The extension moves booking 1 to 2 rather than leave booking 2 out.
    slots = {1: slot(1, 1), 2: slot(2, 2)}

    flow = assign_interpreters(slots, {1: (1, 2), 2: (1,)}, {1: 1, 2: 1}, keep={1: 1})

    assert flow == {1: 2, 2: 1}


def test_assign_interpreters_keeps_every_kept_booking_and_reaches_the_maximum():
    rng = random.Random(8)
    for _ in range(40):
        slots = _round_slots(rng, rng.randint(2, 12))
        eligible = {b: [i for i in range(1, 5) if rng.random() < 0.5] for b in slots}
        caps = {i: rng.randint(1, 3) for i in range(1, 5)}
        # A valid flow to start from: best first by booking, as the repair step leaves one.
        keep: dict[int, int] = {}
        for b in sorted(slots):
            for i in eligible[b]:
                trial = Result({k: Pair(k, v, 1) for k, v in {**keep, b: i}.items()}, 0, "")
                if violations(slots, trial, once_per_company=False, daily_cap=caps) == []:
                    keep[b] = i
                    break

        flow = assign_interpreters(slots, eligible, caps, keep=keep)

        assert set(keep) <= set(flow)
        assert len(flow) == len(assign_interpreters(slots, eligible, caps))
        assert all(i in eligible[b] for b, i in flow.items())
        chosen = Result({b: Pair(b, i, 1) for b, i in flow.items()}, 0, "flow")
        assert violations(slots, chosen, once_per_company=False, daily_cap=caps) == []


def test_every_reason_code_reads_as_words_with_its_stored_detail(app):
    """Reasons are stored with a proposal line as text ([code, points, detail]); each must read back
    as words, the buyer's load (a count kept as text) included."""
    from types import SimpleNamespace

    from flask_babel import force_locale

    from consultroom.matching.recommend import describe, reasons_from_rows

    buyer = SimpleNamespace(meet_from=time(9), meet_to=time(17), timezone="Europe/Warsaw")
    rows = [
        ["hs6", 40, "847989"],
        ["hs4", 30, "8479"],
        ["hs2", 20, "84"],
        ["country", 10, "PL"],
        ["shared_language", 10, "en"],
        ["interpreter", 5, "pl"],
        ["no_language", 0, ""],
        ["no_interpreter", 0, "pl"],
        ["industry", 5, "machinery"],
        ["within_hours", 5, ""],
        ["outside_hours", -5, ""],
        ["new_pair", 5, ""],
        ["follow_up", 0, ""],
        ["load", -6, "2"],
    ]
    with app.test_request_context("/"), force_locale("en"):
        texts = [describe(r, buyer) for r in reasons_from_rows(rows)]
    assert texts[-1] == "Already has 2 consultations in this round"
    assert all(text and text != code for text, (code, _p, _d) in zip(texts, rows, strict=True))
