"""Buyer recommendations: a pure scoring function, explained reason by reason.

Nothing here touches the database: callers pass plain snapshots, so the rules are unit-tested
directly and the whole-round proposal scores thousands of pairs without a query each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Weights:
    hs6: int = 40
    hs4: int = 25
    hs2: int = 10
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


def within_meeting_hours(buyer: BuyerInfo, starts_at: datetime, ends_at: datetime) -> bool:
    """Whether the slot falls inside the buyer's own meeting hours and days, in the buyer's zone."""
    tz = ZoneInfo(buyer.timezone)
    local_start, local_end = starts_at.astimezone(tz), ends_at.astimezone(tz)
    if local_start.weekday() not in buyer.meet_days or local_start.date() != local_end.date():
        return False
    if buyer.meet_from <= buyer.meet_to:
        return buyer.meet_from <= local_start.time() and local_end.time() <= buyer.meet_to
    # Hours across midnight (e.g. 20:00-02:00): inside if after the start or before the end.
    return local_start.time() >= buyer.meet_from or local_end.time() <= buyer.meet_to


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
    hs = best_hs_match(request.hs_codes, buyer.interest_codes)
    if hs is not None:
        level, prefix = hs
        reasons.append(Reason(f"hs{level}", getattr(weights, f"hs{level}"), prefix))
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
    return Score(total=sum(r.points for r in reasons), reasons=tuple(reasons), follow_up=met_before)
