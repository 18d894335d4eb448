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


def _assign(row: np.ndarray, party: np.ndarray, score: np.ndarray, n_rows: int) -> np.ndarray:
    """The best assignment of one cluster (each booking one party, each party one booking), over
    pairs given as arrays (booking row, party, score): the indexes of the chosen pairs."""
    from scipy.optimize import linear_sum_assignment  # scipy takes seconds to import: only here

    if not len(row):
        return np.empty(0, dtype=np.int64)
    parties, col = np.unique(party, return_inverse=True)
    value = np.zeros((n_rows, len(parties)))
    at = np.full((n_rows, len(parties)), -1, dtype=np.int64)
    value[row, col] = score
    at[row, col] = np.arange(len(row))
    r, c = linear_sum_assignment(value, maximize=True)
    picked = at[r, c]
    return picked[(picked >= 0) & (value[r, c] > 0)]


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
    used: set[int] = set()  # company * 2**32 + party: pairs met in an earlier cluster
    bound = 0
    for rows in time_clusters(slots):
        listed = [p for b in rows for p in by_booking.get(b, ())]
        if not listed:
            continue
        at_row = {b: i for i, b in enumerate(rows)}
        row = np.fromiter((at_row[p.booking_id] for p in listed), dtype=np.int64, count=len(listed))
        party = np.fromiter((p.party_id for p in listed), dtype=np.int64, count=len(listed))
        score = np.fromiter((p.score for p in listed), dtype=np.int64, count=len(listed))
        company = np.array([slots[b].company_id for b in rows], dtype=np.int64)[row]
        free = _assign(row, party, score, len(rows))
        best = int(score[free].sum())
        if cluster_limit is not None:
            # At most `limit` consultations can happen then (e.g. one per free interpreter when every
            # consultation needs one): no more than the `limit` best bookings' best pairs.
            limit = cluster_limit.get(rows[0], len(rows))
            tops = np.zeros(len(rows), dtype=np.int64)
            np.maximum.at(tops, row, score)
            best = min(best, int(np.sort(tops)[::-1][:limit].sum()))
        bound += best
        met = np.isin(company * 2**32 + party, np.fromiter(used, dtype=np.int64, count=len(used)))
        # The free optimum stands when it meets no one twice; else solve without the pairs met.
        if met[free].any():
            allowed = np.flatnonzero(~met)
            picked = allowed[_assign(row[allowed], party[allowed], score[allowed], len(rows))]
        else:
            picked = free
        for i in picked.tolist():
            p = listed[i]
            used.add(int(company[i]) * 2**32 + p.party_id)
            chosen[p.booking_id] = p
    return Decomposed(Result(chosen, sum(p.score for p in chosen.values()), "by_slot"), bound)


def assign_interpreters(
    slots: dict[int, Slot],
    eligible: dict[int, Iterable[int]],
    caps: dict[int, int],
    *,
    keep: dict[int, int] | None = None,
) -> dict[int, int]:
    """The most consultations covered: booking -> interpreter, as a maximum flow
    (source -> bookings -> interpreter in that time cluster -> interpreter's day, capped -> sink),
    so no interpreter is in two overlapping consultations or over the daily cap.

    Bookings of one time cluster that share their tuple of interpreters (the same object: one per
    language set and time) are one node whose capacity is their number, and interpreters are given
    to them in `eligible`'s order: callers list the more valuable bookings first. A round's
    thousands of bookings with a hundred interpreters each make a few hundred such nodes.

    `keep` (booking -> interpreter, a valid assignment among `eligible`) is a flow to extend: the
    maximum flow is sought in its residual graph, so every booking it covers stays covered (perhaps
    by another of its interpreters) while augmenting paths cover as many more as possible."""
    from scipy.sparse import csr_matrix  # scipy takes seconds to import: only here
    from scipy.sparse.csgraph import maximum_flow

    keep = keep or {}
    cluster_of = {b: k for k, rows in enumerate(time_clusters(slots)) for b in rows}
    days = {d: n for n, d in enumerate(sorted({s.day for s in slots.values()}))}
    group_at: dict[tuple[int, int, int], int] = {}
    members: list[list[int]] = []
    tuples, g_k, g_d = [], [], []
    for b, its in eligible.items():
        if b not in slots:
            continue
        key = (cluster_of[b], days[slots[b].day], id(its))
        g = group_at.get(key)
        if g is None:
            g = group_at[key] = len(members)
            members.append([])
            tuples.append(np.fromiter(its, dtype=np.int64))
            g_k.append(key[0])
            g_d.append(key[1])
        members[g].append(b)
    if not members:
        return {}
    lengths = np.array([len(t) for t in tuples], dtype=np.int64)
    all_i = np.concatenate(tuples)
    all_g = np.repeat(np.arange(len(members), dtype=np.int64), lengths)
    capped = np.array([i for i in np.unique(all_i).tolist() if caps.get(i, 0) > 0], dtype=np.int64)
    with_cap = np.isin(all_i, capped)
    all_i, all_g = all_i[with_cap], all_g[with_cap]
    if len(all_i) == 0:
        return {}
    interp_ids = capped.tolist()
    n_g, n_i, n_k, n_d = len(members), len(interp_ids), max(cluster_of.values(), default=0) + 1, len(days)
    # Node numbers: 0 source, 1 sink, then groups, (interpreter, cluster), (interpreter, day).
    g0, ik0 = 2, 2 + n_g
    id0 = ik0 + n_i * n_k
    n = id0 + n_i * n_d
    k_of, d_of = np.array(g_k, dtype=np.int64), np.array(g_d, dtype=np.int64)
    pi = np.searchsorted(capped, all_i)
    ik = ik0 + pi * n_k + k_of[all_g]
    idn = id0 + pi * n_d + d_of[all_g]
    ik_unique, first = np.unique(ik, return_index=True)
    id_unique = np.unique(idn)
    cap_of = np.array([caps[i] for i in interp_ids], dtype=np.int64)
    src = np.concatenate([np.zeros(n_g, np.int64), g0 + all_g, ik_unique, id_unique])
    dst = np.concatenate([g0 + np.arange(n_g), ik, idn[first], np.ones(len(id_unique), np.int64)])
    cap = np.concatenate(
        [np.array([len(m) for m in members], np.int64), np.ones(len(all_g), np.int64),
         np.ones(len(ik_unique), np.int64), cap_of[(id_unique - id0) // n_d]]
    )  # fmt: skip
    start = np.zeros(len(src), dtype=np.int64)  # the flow `keep` puts on each edge
    group_of = {b: g for g, bs in enumerate(members) for b in bs}
    kept = [b for b in keep if b in group_of]
    if kept:
        kg = np.array([group_of[b] for b in kept], dtype=np.int64)
        ki = np.searchsorted(capped, np.array([keep[b] for b in kept], dtype=np.int64))
        k_ik = ik0 + ki * n_k + k_of[kg]
        k_id = id0 + ki * n_d + d_of[kg]
        # Each kept consultation's path, edge by edge, found among the edges by their (from, to) key.
        keys = src * n + dst
        order = np.argsort(keys)
        path = np.concatenate([g0 + kg, (g0 + kg) * n + k_ik, k_ik * n + k_id, k_id * n + 1])
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
    # Group -> interpreter edges: the flow found (net of reverse edges) plus what `keep` put there.
    on = (flow.data != 0) & (flow.row >= g0) & (flow.row < ik0) & (flow.col >= ik0) & (flow.col < id0)
    kept_edges = np.flatnonzero(start[n_g : n_g + len(all_g)] > 0) + n_g
    keys = np.concatenate([flow.row[on].astype(np.int64) * n + flow.col[on], src[kept_edges] * n + dst[kept_edges]])
    values = np.concatenate([flow.data[on].astype(np.int64), start[kept_edges]])
    unique, inverse = np.unique(keys, return_inverse=True)
    net = np.bincount(inverse, weights=values, minlength=len(unique))
    used = unique[net > 0]
    given: dict[int, list[int]] = defaultdict(list)  # group -> its interpreters
    for u, v in zip((used // n).tolist(), (used % n).tolist(), strict=True):
        given[u - g0].append(interp_ids[(v - ik0) // n_k])
    out: dict[int, int] = {}
    for g, its in given.items():
        free = set(its)
        # Kept bookings keep their interpreter where it is still the group's, then take the others.
        for b in members[g]:
            if b in keep and keep[b] in free:
                out[b] = keep[b]
                free.discard(keep[b])
        rest = sorted(free)
        for b in [b for b in members[g] if b in keep and b not in out] + [b for b in members[g] if b not in keep]:
            if not rest:
                break
            out[b] = rest.pop(0)
    return out


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
