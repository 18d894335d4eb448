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
from typing import NamedTuple

import numpy as np


@dataclass(frozen=True)
class Slot:
    booking_id: int
    company_id: int
    starts_at: datetime
    ends_at: datetime
    day: date  # the consultation day in Seoul, for daily caps


class Pair(NamedTuple):
    """A tuple, not a dataclass: a round makes tens of thousands."""

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
    from scipy.optimize import Bounds, LinearConstraint, milp  # scipy takes seconds to import: only here
    from scipy.sparse import lil_matrix

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


# --- at national scale: one assignment problem per time slot ------------------------------------------


def time_clusters(slots: dict[int, Slot]) -> list[list[int]]:
    """Bookings grouped by time, in time order: bookings whose times overlap (directly or through
    others) share a cluster, so a party takes at most one booking per cluster and never two
    overlapping ones. A round's slots share their times across booths, so a cluster is one slot time."""
    ordered = sorted(slots.values(), key=lambda s: (s.starts_at, s.ends_at, s.booking_id))
    clusters: list[list[int]] = []
    end: datetime | None = None
    for s in ordered:
        if end is None or s.starts_at >= end:
            clusters.append([])
            end = s.ends_at
        else:
            end = max(end, s.ends_at)
        clusters[-1].append(s.booking_id)
    return clusters


@dataclass(frozen=True)
class Decomposed:
    result: Result
    upper_bound: int  # the optimum without the once-per-company rule across slots: no solution beats it


def _assign(rows: list[int], by_booking: dict[int, list[Pair]], allowed) -> tuple[dict[int, Pair], int]:
    """The best assignment of one cluster (each booking one party, each party one booking)."""
    from scipy.optimize import linear_sum_assignment  # scipy takes seconds to import: only here

    parties = sorted({p.party_id for b in rows for p in by_booking.get(b, ()) if allowed(b, p)})
    if not parties:
        return {}, 0
    col = {party: j for j, party in enumerate(parties)}
    value = np.zeros((len(rows), len(parties)))
    pair_at: dict[tuple[int, int], Pair] = {}
    for i, b in enumerate(rows):
        for p in by_booking.get(b, ()):
            if allowed(b, p) and p.score > 0:
                value[i, col[p.party_id]] = p.score
                pair_at[(i, col[p.party_id])] = p
    r, c = linear_sum_assignment(value, maximize=True)
    chosen = {rows[i]: pair_at[(i, j)] for i, j in zip(r, c, strict=True) if (i, j) in pair_at}
    return chosen, int(sum(p.score for p in chosen.values()))


def solve_by_slot(
    slots: dict[int, Slot], pairs: Iterable[Pair], *, cluster_limit: dict[int, int] | None = None
) -> Decomposed:
    """Buyers to bookings at national scale: an exact assignment (Hungarian method) per time
    cluster, in time order, each one excluding the buyers already meeting that company in an earlier
    cluster. Scores must be positive (fit-tiered values are). Without the once-per-company rule
    the clusters are independent, so the sum of their optima bounds every solution from above."""
    by_booking: dict[int, list[Pair]] = defaultdict(list)
    for p in pairs:
        if p.booking_id in slots:
            by_booking[p.booking_id].append(p)
    chosen: dict[int, Pair] = {}
    used: set[tuple[int, int]] = set()
    bound = 0
    for rows in time_clusters(slots):
        _free, best = _assign(rows, by_booking, lambda b, p: True)
        if cluster_limit is not None and rows:
            # At most `limit` consultations can happen then (e.g. one per free interpreter when every
            # consultation needs one): no more than the `limit` best bookings' best pairs.
            limit = cluster_limit.get(rows[0], len(rows))
            tops = sorted((max((p.score for p in by_booking.get(b, ())), default=0) for b in rows), reverse=True)
            best = min(best, sum(tops[:limit]))
        bound += best
        picked, _total = _assign(rows, by_booking, lambda b, p: (slots[b].company_id, p.party_id) not in used)
        for b, p in picked.items():
            used.add((slots[b].company_id, p.party_id))
        chosen.update(picked)
    return Decomposed(Result(chosen, sum(p.score for p in chosen.values()), "by_slot"), bound)


def assign_interpreters(
    slots: dict[int, Slot],
    eligible: dict[int, Iterable[int]],
    caps: dict[int, int],
    *,
    keep: dict[int, int] | None = None,
) -> dict[int, int]:
    """The most consultations covered: booking -> interpreter, as a maximum flow
    (source -> booking -> interpreter in that time cluster -> interpreter's day, capped -> sink),
    so no interpreter is in two overlapping consultations or over the daily cap. The graph is built
    with arrays: a round has thousands of bookings with a hundred eligible interpreters each.

    `keep` (booking -> interpreter, a valid assignment among `eligible`) is a flow to extend: the
    maximum flow is sought in its residual graph, so every booking it covers stays covered (perhaps
    by another of its interpreters) while augmenting paths cover as many more as possible."""
    from scipy.sparse import csr_matrix  # scipy takes seconds to import: only here
    from scipy.sparse.csgraph import maximum_flow

    cluster_of = {b: k for k, rows in enumerate(time_clusters(slots)) for b in rows}
    days = {d: n for n, d in enumerate(sorted({s.day for s in slots.values()}))}
    bookings = [b for b in eligible if b in slots]
    # Bookings at one time share their tuples of interpreters (one per language set): each distinct
    # tuple becomes an array once, and the edges are their concatenation.
    arrays: dict[int, np.ndarray] = {}
    per_booking = []
    for b in bookings:
        its = eligible[b]
        key = id(its)
        if key not in arrays:
            arrays[key] = np.fromiter(its, dtype=np.int64)
        per_booking.append(arrays[key])
    lengths = np.array([len(a) for a in per_booking], dtype=np.int64)
    all_i = np.concatenate(per_booking) if per_booking else np.empty(0, dtype=np.int64)
    all_b = np.repeat(np.arange(len(bookings), dtype=np.int64), lengths)
    capped = np.array([i for i in np.unique(all_i).tolist() if caps.get(i, 0) > 0], dtype=np.int64)
    with_cap = np.isin(all_i, capped)
    all_i, all_b = all_i[with_cap], all_b[with_cap]
    if len(all_i) == 0:
        return {}
    interp_ids = capped.tolist()
    n_b, n_i, n_k, n_d = len(bookings), len(interp_ids), max(cluster_of.values(), default=0) + 1, len(days)
    # Node numbers: 0 source, 1 sink, then bookings, (interpreter, cluster), (interpreter, day).
    b0, ik0 = 2, 2 + n_b
    id0 = ik0 + n_i * n_k
    n = id0 + n_i * n_d
    pb, pi = all_b, np.searchsorted(capped, all_i)
    k_of = np.array([cluster_of[b] for b in bookings], dtype=np.int64)
    d_of = np.array([days[slots[b].day] for b in bookings], dtype=np.int64)
    ik = ik0 + pi * n_k + k_of[pb]
    idn = id0 + pi * n_d + d_of[pb]
    ik_unique, first = np.unique(ik, return_index=True)
    id_unique = np.unique(idn)
    cap_of = np.array([caps[i] for i in interp_ids], dtype=np.int64)
    src = np.concatenate([np.zeros(n_b, np.int64), b0 + pb, ik_unique, id_unique])
    dst = np.concatenate([b0 + np.arange(n_b), ik, idn[first], np.ones(len(id_unique), np.int64)])
    cap = np.concatenate(
        [np.ones(n_b, np.int64), np.ones(len(pb), np.int64), np.ones(len(ik_unique), np.int64),
         cap_of[(id_unique - id0) // n_d]]
    )  # fmt: skip
    start = np.zeros(len(src), dtype=np.int64)  # the flow `keep` puts on each edge
    if keep:
        at = {b: n for n, b in enumerate(bookings)}
        kb = np.array([at[b] for b in keep], dtype=np.int64)
        ki = np.searchsorted(capped, np.array(list(keep.values()), dtype=np.int64))
        k_ik = ik0 + ki * n_k + k_of[kb]
        k_id = id0 + ki * n_d + d_of[kb]
        # Each kept consultation's path, edge by edge, found among the edges by their (from, to) key.
        keys = src * n + dst
        order = np.argsort(keys)
        path = np.concatenate([b0 + kb, (b0 + kb) * n + k_ik, k_ik * n + k_id, k_id * n + 1])
        np.add.at(start, order[np.searchsorted(keys[order], path)], 1)
    # The residual graph of that flow (all of each edge's capacity when there is none).
    r_src = np.concatenate([src, dst[start > 0]])
    r_dst = np.concatenate([dst, src[start > 0]])
    r_cap = np.concatenate([cap - start, start[start > 0]])
    open_ = r_cap > 0
    graph = csr_matrix(
        (r_cap[open_].astype(np.int32), (r_src[open_].astype(np.int32), r_dst[open_].astype(np.int32))), shape=(n, n)
    )
    flow = maximum_flow(graph, 0, 1).flow.tocoo()
    net: dict[tuple[int, int], int] = {}
    added = (flow.row >= b0) & (flow.row < ik0) & (flow.col >= ik0) & (flow.col < id0)
    for u, v, f in zip(flow.row[added].tolist(), flow.col[added].tolist(), flow.data[added].tolist(), strict=True):
        net[(u, v)] = f
    for e in np.flatnonzero(start[: n_b + len(pb)] > 0).tolist():
        if e >= n_b:  # booking -> interpreter edges kept by `keep`
            net[(int(src[e]), int(dst[e]))] = net.get((int(src[e]), int(dst[e])), 0) + 1
    return {bookings[u - b0]: interp_ids[(v - ik0) // n_k] for (u, v), f in net.items() if f > 0}


def lp_upper_bound(slots: dict[int, Slot], pairs: Iterable[Pair], *, time_limit: float = 60.0) -> float | None:
    """The LP relaxation of the whole-round program (every rule, fractions allowed): an upper bound
    on the exact optimum, for benchmarks and tests on instances where the MILP itself is too big."""
    from scipy.optimize import Bounds, LinearConstraint, milp  # scipy takes seconds to import: only here
    from scipy.sparse import csr_matrix

    pairs = [p for p in pairs if p.booking_id in slots]
    if not pairs:
        return 0.0
    groups = _groups(slots, pairs, once_per_company=True, daily_cap=None)
    rows, cols = [], []
    for row, (idx, _limit) in enumerate(groups):
        rows += [row] * len(idx)
        cols += idx
    a = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(groups), len(pairs)))
    ub = np.array([limit for _idx, limit in groups], dtype=float)
    res = milp(
        -np.array([p.score for p in pairs], dtype=float),
        constraints=LinearConstraint(a, -np.inf, ub),
        bounds=Bounds(0, 1),
        options={"time_limit": time_limit},
    )
    return float(-res.fun) if res.status == 0 else None
