"""Buyer recommendations: a pure scoring function, explained reason by reason.

Nothing here touches the database: callers pass plain snapshots, so the rules are unit-tested
directly and the whole-round proposal scores thousands of pairs without a query each.

Product fit comes first (DESIGN rule 10): every score carries a fit tier (exact HS code, HS
heading, HS chapter, declared industry, none) and buyers are ranked by tier before points, so
language, hours or novelty can only order buyers within a tier. A buyer with no product
relation is not a candidate at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

# Fit tiers, best first, with their rank (higher is better).
FIT_TIERS = ("hs6", "hs4", "hs2", "industry", "none")
FIT_RANK = {"hs6": 4, "hs4": 3, "hs2": 2, "industry": 1, "none": 0}
EXACT_FITS, PARTIAL_FITS = frozenset({"hs6"}), frozenset({"hs4", "hs2", "industry"})
# Weights are validated to [-100, 100]; eleven of them can never move a total by this much, so
# `FIT_STEP * rank + total` orders by tier first and by points within a tier (the solver's value).
FIT_STEP = 10_000


@dataclass(frozen=True)
class Weights:
    hs6: int = 40
    hs4: int = 25
    hs2: int = 10
    industry: int = 5
    country: int = 20
    shared_language: int = 15
    interpreter: int = 10
    within_hours: int = 15
    outside_hours: int = -40
    new_pair: int = 10
    load_each: int = -5  # per consultation the buyer already has in the round


@dataclass(frozen=True)
class RequestInfo:
    booking_id: int
    company_id: int
    starts_at: datetime
    ends_at: datetime
    hs_codes: tuple[str, ...]
    target_countries: tuple[str, ...]
    languages: tuple[str, ...]  # languages the company's staff speak
    industry_words: tuple[str, ...] = ()  # words of the company's declared industry


@dataclass(frozen=True)
class BuyerInfo:
    buyer_id: int
    country: str
    interest_codes: tuple[str, ...]  # HS codes of 2, 4 or 6 digits
    languages: tuple[str, ...]
    timezone: str
    meet_from: time
    meet_to: time
    meet_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    keywords: tuple[str, ...] = ()  # words of the buyer's declared interests (the keywords field)
    company_name: str = ""

    @property
    def id(self) -> int:
        return self.buyer_id


@dataclass(frozen=True)
class Reason:
    code: str  # hs6 | hs4 | hs2 | country | shared_language | interpreter | no_language | within_hours |
    # outside_hours | new_pair | follow_up | load
    points: int
    detail: str = ""  # the HS code, country or language concerned


@dataclass(frozen=True)
class Score:
    total: int
    reasons: tuple[Reason, ...] = field(default_factory=tuple)
    follow_up: bool = False
    fit: str = "none"  # one of FIT_TIERS

    @property
    def fit_rank(self) -> int:
        return FIT_RANK[self.fit]

    @property
    def value(self) -> int:
        """What ranking and the whole-round solver maximise: the tier first, then the points."""
        return FIT_STEP * self.fit_rank + self.total

    @property
    def feasible(self) -> bool:
        """A consultation needs a common language or an interpreter for one of the buyer's."""
        return not any(r.code == "no_language" for r in self.reasons)


def best_hs_match(wanted: tuple[str, ...], interests: tuple[str, ...]) -> tuple[int, str] | None:
    """The longest common prefix level (6, 4 or 2 digits) between the company's codes and the buyer's."""
    best: tuple[int, str] | None = None
    for code in wanted:
        for interest in interests:
            for level in (6, 4, 2):
                if len(interest) >= level and len(code) >= level and code[:level] == interest[:level]:
                    if best is None or level > best[0]:
                        best = (level, code[:level])
                    break
    return best


_WORD = re.compile(r"[^\W_]{3,}")


def words(text: str) -> tuple[str, ...]:
    """Words of three letters or more, case-folded: what an industry and keywords are compared by."""
    return tuple(sorted({w.casefold() for w in _WORD.findall(text or "")}))


def industry_match(request_words: tuple[str, ...], keywords: tuple[str, ...]) -> str | None:
    shared = sorted(set(request_words) & set(keywords))
    return shared[0] if shared else None


@lru_cache(maxsize=4096)
def _within(
    tz: str, meet_from: time, meet_to: time, days: tuple[int, ...], starts_at: datetime, ends_at: datetime
) -> bool:
    zone = ZoneInfo(tz)
    local_start, local_end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if local_start.weekday() not in days or local_start.date() != local_end.date():
        return False
    if meet_from <= meet_to:
        return meet_from <= local_start.time() and local_end.time() <= meet_to
    # Hours across midnight (e.g. 20:00-02:00): inside if after the start or before the end.
    return local_start.time() >= meet_from or local_end.time() <= meet_to


def within_meeting_hours(buyer: BuyerInfo, starts_at: datetime, ends_at: datetime) -> bool:
    """Whether the slot falls inside the buyer's own meeting hours and days, in the buyer's zone.

    Cached: thousands of buyers share a few dozen zones and hours, and a round has a few slot times."""
    return _within(buyer.timezone, buyer.meet_from, buyer.meet_to, tuple(buyer.meet_days), starts_at, ends_at)


def score_pair(
    request: RequestInfo,
    buyer: BuyerInfo,
    *,
    interpreter_languages: frozenset[str] = frozenset(),
    met_before: bool = False,
    buyer_load: int = 0,
    weights: Weights = Weights(),
) -> Score:
    reasons: list[Reason] = []
    fit = "none"
    hs = best_hs_match(request.hs_codes, buyer.interest_codes)
    if hs is not None:
        level, prefix = hs
        fit = f"hs{level}"
        reasons.append(Reason(fit, getattr(weights, fit), prefix))
    elif (word := industry_match(request.industry_words, buyer.keywords)) is not None:
        fit = "industry"
        reasons.append(Reason("industry", weights.industry, word))
    if buyer.country in request.target_countries:
        reasons.append(Reason("country", weights.country, buyer.country))
    shared = sorted(set(request.languages) & set(buyer.languages))
    if shared:
        reasons.append(Reason("shared_language", weights.shared_language, shared[0]))
    else:
        covered = sorted(set(buyer.languages) & interpreter_languages)
        if covered:
            reasons.append(Reason("interpreter", weights.interpreter, covered[0]))
        else:
            reasons.append(Reason("no_language", 0, ",".join(buyer.languages)))
    if within_meeting_hours(buyer, request.starts_at, request.ends_at):
        reasons.append(Reason("within_hours", weights.within_hours))
    else:
        reasons.append(Reason("outside_hours", weights.outside_hours))
    if met_before:
        reasons.append(Reason("follow_up", 0))
    else:
        reasons.append(Reason("new_pair", weights.new_pair))
    if buyer_load:
        reasons.append(Reason("load", weights.load_each * buyer_load, str(buyer_load)))
    return Score(total=sum(r.points for r in reasons), reasons=tuple(reasons), follow_up=met_before, fit=fit)
