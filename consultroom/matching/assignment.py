"""Whole-round assignment: buyers to bookings, then interpreters to consultations.

Both are 0/1 integer programs solved exactly with SciPy's MILP solver (HiGHS); a greedy pass is
computed beside them so staff see what the optimum gains. The rules are constraints, not
penalties: no party in two overlapping consultations, a buyer at most once per company and
round, an interpreter's daily cap. Overlap is expressed per interval clique: for each booking,
the bookings running at its start time share one unit of a party's time (for intervals, these
cliques cover every overlap).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix


@dataclass(frozen=True)
class Slot:
    booking_id: int
    company_id: int
    starts_at: datetime
    ends_at: datetime
    day: date  # the consultation day in Seoul, for daily caps


@dataclass(frozen=True)
class Pair:
    booking_id: int
    party_id: int  # a buyer or an interpreter
    score: int


@dataclass(frozen=True)
class Result:
    chosen: dict[int, Pair]  # booking_id -> pair
    total: int
    method: str

    @property
    def matched(self) -> int:
        return len(self.chosen)


def _overlaps(a: Slot, b: Slot) -> bool:
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def _groups(
    slots: dict[int, Slot], pairs: list[Pair], *, once_per_company: bool, daily_cap: dict[int, int] | None
) -> list[tuple[list[int], int]]:
    """Index groups of pairs with the most of each group that may be chosen."""
    groups: list[tuple[list[int], int]] = []
    by_booking: dict[int, list[int]] = defaultdict(list)
    by_party: dict[int, list[int]] = defaultdict(list)
    for i, p in enumerate(pairs):
        by_booking[p.booking_id].append(i)
        by_party[p.party_id].append(i)
    groups += [(idx, 1) for idx in by_booking.values()]
    for party, idx in by_party.items():
        seen: set[tuple[int, ...]] = set()
        for i in idx:
            point = slots[pairs[i].booking_id].starts_at
            clique = tuple(
                sorted(
                    j for j in idx
                    if slots[pairs[j].booking_id].starts_at <= point < slots[pairs[j].booking_id].ends_at
                )
            )  # fmt: skip
            if len(clique) > 1 and clique not in seen:
                seen.add(clique)
                groups.append((list(clique), 1))
        if once_per_company:
            per_company: dict[int, list[int]] = defaultdict(list)
            for i in idx:
                per_company[slots[pairs[i].booking_id].company_id].append(i)
            groups += [(g, 1) for g in per_company.values() if len(g) > 1]
        if daily_cap is not None and party in daily_cap:
            per_day: dict[date, list[int]] = defaultdict(list)
            for i in idx:
                per_day[slots[pairs[i].booking_id].day].append(i)
            groups += [(g, daily_cap[party]) for g in per_day.values() if len(g) > daily_cap[party]]
    return groups


def solve_exact(
    slots: dict[int, Slot],
    pairs: Iterable[Pair],
    *,
    once_per_company: bool = True,
    daily_cap: dict[int, int] | None = None,
) -> Result:
    """Most bookings matched, and among those the highest total score."""
    pairs = [p for p in pairs if p.booking_id in slots]
    if not pairs:
        return Result({}, 0, "exact")
    scores = np.array([p.score for p in pairs], dtype=float)
    # Matching one more booking always beats any gain in score among the others.
    big = float(scores.max() - min(scores.min(), 0) + 1) * len(slots) + 1
    c = -(scores + big)
    groups = _groups(slots, pairs, once_per_company=once_per_company, daily_cap=daily_cap)
    a = lil_matrix((len(groups), len(pairs)))
    ub = np.empty(len(groups))
    for row, (idx, limit) in enumerate(groups):
        for i in idx:
            a[row, i] = 1
        ub[row] = limit
    res = milp(
        c,
        constraints=LinearConstraint(a.tocsr(), -np.inf, ub),
        integrality=np.ones(len(pairs)),
        bounds=Bounds(0, 1),
    )
    if not res.success:  # pragma: no cover - a 0/1 packing problem always has x = 0 feasible
        raise RuntimeError(f"assignment solver failed: {res.message}")
    chosen = {pairs[i].booking_id: pairs[i] for i, x in enumerate(res.x) if x > 0.5}
    return Result(chosen, sum(p.score for p in chosen.values()), "exact")


def solve_greedy(
    slots: dict[int, Slot],
    pairs: Iterable[Pair],
    *,
    once_per_company: bool = True,
    daily_cap: dict[int, int] | None = None,
) -> Result:
    """Best pair first, skipping what breaks a rule: what a person would do by hand."""
    chosen: dict[int, Pair] = {}
    taken: dict[int, list[Slot]] = defaultdict(list)
    used_company: set[tuple[int, int]] = set()
    per_day: dict[tuple[int, date], int] = defaultdict(int)
    for p in sorted(pairs, key=lambda p: (-p.score, p.booking_id, p.party_id)):
        if p.booking_id in chosen or p.booking_id not in slots:
            continue
        s = slots[p.booking_id]
        if any(_overlaps(s, other) for other in taken[p.party_id]):
            continue
        if once_per_company and (s.company_id, p.party_id) in used_company:
            continue
        if daily_cap is not None and p.party_id in daily_cap and per_day[(p.party_id, s.day)] >= daily_cap[p.party_id]:
            continue
        chosen[p.booking_id] = p
        taken[p.party_id].append(s)
        used_company.add((s.company_id, p.party_id))
        per_day[(p.party_id, s.day)] += 1
    return Result(chosen, sum(p.score for p in chosen.values()), "greedy")


def violations(
    slots: dict[int, Slot], result: Result, *, once_per_company: bool = True, daily_cap: dict[int, int] | None = None
) -> list[str]:
    """Every rule a result breaks (empty for a valid one): used by tests and before saving edits."""
    out: list[str] = []
    by_party: dict[int, list[Slot]] = defaultdict(list)
    for booking_id, pair in result.chosen.items():
        by_party[pair.party_id].append(slots[booking_id])
    for party, taken in by_party.items():
        for i, a in enumerate(taken):
            for b in taken[i + 1 :]:
                if _overlaps(a, b):
                    out.append(f"party {party} in bookings {a.booking_id} and {b.booking_id} at overlapping times")
                if once_per_company and a.company_id == b.company_id:
                    out.append(f"party {party} twice with company {a.company_id}")
        if daily_cap is not None and party in daily_cap:
            days: dict[date, int] = defaultdict(int)
            for s in taken:
                days[s.day] += 1
            out += [f"party {party} has {n} sessions on {d}" for d, n in days.items() if n > daily_cap[party]]
    return out
