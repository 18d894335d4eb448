"""Buyer recommendations in a constant number of queries, without scanning the registry per request.

Candidates come from an index, not a scan: only buyers with a product relation to the requests are
eligible (DESIGN rule 10). The index (buyers by HS code at 6, 4 and 2 digits and by declared-industry
word, with arrays for country, zone and languages) is this process's copy of the registry, kept
consistent with the database by a version the database changes (consultroom.matching.registry).
What the rules and scores need is plain rows (no ORM objects for thousands of buyers); a vectorised
pre-rank keeps a bounded list per fit tier and booking, and only that list is scored. The rules
mirror `matching.services.check_proposal`, which still has the last word when a match is proposed.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

import numpy as np
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import Boolean, Date, Integer, bindparam, cast, func, null, or_, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY

from consultroom.bookings.models import Booking, BookingStatus
from consultroom.buyers.models import Buyer, BuyerInterest, BuyerLanguage
from consultroom.companies.models import Company, CompanyCountry, CompanyHsCode, CompanyLanguage
from consultroom.companies.validation import country_name, language_name
from consultroom.extensions import db
from consultroom.interpreters.availability import Exception_, WeeklyHours, is_available
from consultroom.interpreters.models import Interpreter, InterpreterException, InterpreterHours, InterpreterLanguage
from consultroom.matching import registry
from consultroom.matching.scoring import (
    FIT_RANK,
    FIT_STEP,
    BuyerInfo,
    Reason,
    RequestInfo,
    Score,
    Weights,
    score_pair,
    within_meeting_hours,
    words,
)
from consultroom.matching.settings import ALWAYS, get_interpreter_policy, get_weights
from consultroom.rounds.models import Slot
from consultroom.timeutil import SEOUL, seoul_to_utc

ACTIVE = Booking.status != BookingStatus.CANCELLED.value
FIT_BY_RANK = {rank: tier for tier, rank in FIT_RANK.items()}
# Buyers kept per booking when the caller names no limit.
POOL_SIZE = 60
# Interpreters offered per candidate: the least booked that day first. Every free one is a valid
# choice, but a hundred English interpreters in each of twenty lists made the page (and its
# access log, which names each one shown) most of its cost.
INTERPRETER_CHOICES = 10  # a few more than kept: some are busy then or already meet the company


@dataclass(frozen=True)
class Taken:
    """An active booking outside the set being matched that already holds a buyer or interpreter."""

    booking_id: int
    round_id: int
    company_id: int
    buyer_id: int | None
    interpreter_id: int | None
    starts_at: datetime
    ends_at: datetime

    def overlaps(self, starts_at: datetime, ends_at: datetime) -> bool:
        return self.starts_at < ends_at and starts_at < self.ends_at


@dataclass(frozen=True)
class InterpreterInfo:
    """What the rules need of an interpreter, read as plain rows."""

    id: int
    name: str
    languages: tuple[str, ...]
    max_sessions_per_day: int
    weekly: tuple[WeeklyHours, ...]
    exceptions: tuple[Exception_, ...]

    def available(self, starts_at: datetime, ends_at: datetime) -> bool:
        return is_available(list(self.weekly), list(self.exceptions), starts_at, ends_at)


@dataclass(frozen=True)
class Candidate:
    """A buyer who may meet the booking's company at that time, scored, with the interpreters it needs."""

    buyer_id: int
    score: Score
    needs_interpreter: bool
    interpreter_ids: tuple[int, ...]  # available, right language, free then, under the daily cap
    load: int
    within_hours: bool


@dataclass(frozen=True)
class SlotRow:
    """A slot of the rounds being matched, with the company of its active booking (if any)."""

    slot_id: int
    round_id: int
    starts_at: datetime
    ends_at: datetime
    closed: bool
    company_id: int | None


class Quick(NamedTuple):
    """A candidate scored as numbers only, for the whole-round solver (a tuple: a round makes tens of thousands)."""

    buyer_id: int
    value: int  # FIT_STEP * fit rank + total
    total: int
    fit: str
    needs_interpreter: bool
    interpreter_ids: tuple[int, ...]


@dataclass(frozen=True)
class Recommendation:
    buyer: BuyerInfo
    info: BuyerInfo
    score: Score
    needs_interpreter: bool
    interpreters: tuple[InterpreterInfo, ...]
    load: int
    # Outside the buyer's hours: a free slot of the round that suits both, and its interpreters.
    other_slot: SlotRow | None = None
    other_interpreters: tuple[InterpreterInfo, ...] = ()


def seoul_day(moment: datetime) -> date:
    return moment.astimezone(SEOUL).date()


def company_languages(booking: Booking) -> tuple[str, ...]:
    """As `services.company_languages`: the request's languages and the company profile's."""
    codes = {c.lower() for c in (booking.languages or [])} | {c.lower() for c in booking.company.languages}
    return tuple(sorted(codes))


def request_info(booking: Booking) -> RequestInfo:
    company = booking.company
    return RequestInfo(
        booking_id=booking.id,
        company_id=booking.company_id,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        hs_codes=tuple(booking.hs_codes or company.hs_codes),
        target_countries=tuple(c.upper() for c in (booking.target_countries or company.target_countries)),
        languages=company_languages(booking),
        industry_words=words(company.industry or ""),
    )


def buyer_info(buyer: Buyer) -> BuyerInfo:
    return BuyerInfo(
        buyer_id=buyer.id,
        country=buyer.country,
        interest_codes=tuple(buyer.interest_codes),
        languages=tuple(c.lower() for c in buyer.languages),
        timezone=buyer.timezone,
        meet_from=buyer.meet_from,
        meet_to=buyer.meet_to,
        meet_days=tuple(buyer.meet_days or ()),
        keywords=words(buyer.keywords or ""),
        company_name=buyer.company_name,
    )


# --- the candidate index ---------------------------------------------------------------------------


def _core(statement):
    """Run a column query through Core on the session's connection (same transaction): the ORM's
    per-statement machinery costs more than the rows themselves when a round reads tens of
    thousands of them."""
    return db.session.connection().execute(statement)


def in_ids(column, ids: Iterable[int]):
    """`column IN ids` as one array parameter on PostgreSQL: the statement text stays the same
    whatever the count, so the driver's statement cache holds and the server plans once."""
    ids = sorted(set(ids))
    if db.session.get_bind().dialect.name == "postgresql":
        return column == func.any(bindparam(None, ids or [-1], type_=ARRAY(Integer)))
    return column.in_(ids or [-1])


def not_in_ids(column, ids: Iterable[int]):
    ids = sorted(set(ids))
    if db.session.get_bind().dialect.name == "postgresql":
        return column != func.all(bindparam(None, ids or [-1], type_=ARRAY(Integer)))
    return column.not_in(ids or [-1])


class LazyInfos(Mapping[int, BuyerInfo]):
    """Buyer snapshots made on first use from the rows read: a round's index holds thousands of
    buyers, of which the pages and lines show a few."""

    def __init__(self, rows: dict[int, tuple]) -> None:
        self.rows = rows
        self._made: dict[int, BuyerInfo] = {}

    def __getitem__(self, buyer_id: int) -> BuyerInfo:
        info = self._made.get(buyer_id)
        if info is None:
            name, country, tz, meet_from, meet_to, days, keywords, codes, langs = self.rows[buyer_id]
            info = BuyerInfo(
                buyer_id=buyer_id, country=country, interest_codes=codes, languages=langs, timezone=tz,
                meet_from=meet_from, meet_to=meet_to, meet_days=days, keywords=words(keywords), company_name=name,
            )  # fmt: skip
            self._made[buyer_id] = info
        return info

    def __contains__(self, buyer_id: object) -> bool:
        return buyer_id in self.rows

    def __iter__(self) -> Iterator[int]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class BuyerIndex:
    """The active buyers, indexed by HS code at 6, 4 and 2 digits and by declared-industry word."""

    infos: Mapping[int, BuyerInfo]
    by6: dict[str, set[int]]
    by4: dict[str, set[int]]
    by2: dict[str, set[int]]
    by_word: dict[str, set[int]]

    ranker: Ranker | None = None


class Profile(NamedTuple):
    """A request profile's related buyers as arrays, in the order they rank before the slot's time and
    the round's own terms: fit tier, then points, then name (what the page and the solver order by)."""

    pos: np.ndarray  # positions in the ranker's arrays
    ids: np.ndarray
    rank: np.ndarray  # fit rank
    static: np.ndarray  # points of the fit, the country and the language route
    zone: np.ndarray
    langset: np.ndarray
    shared: np.ndarray  # a language in common with the company
    tiers: tuple[tuple[int, int, int], ...]  # (fit rank, start, end) in the arrays, best tier first


class Ranker:
    """The index as arrays, to rank a request's related buyers without a Python loop per buyer."""

    def __init__(self, index: BuyerIndex) -> None:
        self.index = index
        rows = index.infos.rows if isinstance(index.infos, LazyInfos) else _rows_of(index.infos)
        # Buyers in the order ties are listed in: by name, case-folded, then id. A tier's buyers found
        # by position are then in that order already, and a stable sort by points finishes the ranking.
        by_name = sorted(rows, key=lambda b: (rows[b][0].casefold(), b))
        self.ids = np.array(by_name, dtype=np.int64)
        self.pos_of = np.full(int(self.ids.max(initial=0)) + 1, -1, dtype=np.int64)  # buyer id -> position
        self.pos_of[self.ids] = np.arange(len(self.ids), dtype=np.int64)
        ordered = [rows[b] for b in by_name]
        countries = sorted({r[1] for r in ordered})
        self.country_code = {c: n for n, c in enumerate(countries)}
        self.country = np.array([self.country_code[r[1]] for r in ordered], dtype=np.int32)
        zones: dict[tuple, int] = {}
        self.zone = np.array([zones.setdefault(r[2:6], len(zones)) for r in ordered], dtype=np.int32)
        self.zones = list(zones)
        # Buyers share a few dozen sets of languages: what a language route needs is asked per set.
        langsets: dict[tuple[str, ...], int] = {}
        self.langset = np.array([langsets.setdefault(r[8], len(langsets)) for r in ordered], dtype=np.int32)
        self.langsets = list(langsets)
        self._tier: dict[tuple[str, str], np.ndarray] = {}
        self._tiers: dict[tuple, list[tuple[int, np.ndarray]]] = {}
        self._profiles: dict[tuple, Profile] = {}
        self._within: dict[tuple[datetime, datetime], np.ndarray] = {}

    def within(self, starts_at: datetime, ends_at: datetime) -> np.ndarray:
        """Per zone (and hours): whether the time is inside the buyer's hours."""
        key = (starts_at, ends_at)
        if key not in self._within:
            if len(self._within) > 1024:  # the ranker lives as long as the registry copy
                self._within.clear()
            by_zone = [within_meeting_hours(_ZoneProbe(*z), starts_at, ends_at) for z in self.zones]
            self._within[key] = np.array(by_zone, dtype=bool)
        return self._within[key]

    def tier(self, level: str, key: str) -> np.ndarray:
        if (level, key) not in self._tier:
            source = {"6": self.index.by6, "4": self.index.by4, "2": self.index.by2, "w": self.index.by_word}[level]
            found = source.get(key, ())
            # Every buyer in the index is among the ids (both come from the same rows).
            self._tier[(level, key)] = self.pos_of[np.fromiter(found, dtype=np.int64, count=len(found))]
        return self._tier[(level, key)]

    def profile(self, request: RequestInfo, w: Weights) -> Profile:
        """The request's related buyers, ranked as far as the request alone allows. Kept per request
        profile (codes, words, countries, languages) for the registry copy's life: a company's
        bookings share it, and so does every later proposal until the registry changes."""
        key = (request.hs_codes, request.industry_words, request.target_countries, request.languages, w)
        if key not in self._profiles:
            if len(self._profiles) > 8192:
                self._profiles.clear()
            targets = np.zeros(len(self.country_code), dtype=bool)
            targets[[self.country_code[c] for c in request.target_countries if c in self.country_code]] = True
            wanted = set(request.languages)
            shares = np.array([bool(wanted.intersection(ls)) for ls in self.langsets], dtype=bool)
            points = {FIT_RANK["hs6"]: w.hs6, FIT_RANK["hs4"]: w.hs4, FIT_RANK["hs2"]: w.hs2}
            points[FIT_RANK["industry"]] = w.industry
            parts, bounds, start = [], [], 0
            for rank, found in self.tiers(request.hs_codes, request.industry_words):
                shared = shares[self.langset[found]]
                pts = points[rank] + np.where(targets[self.country[found]], w.country, 0)
                pts = pts + np.where(shared, w.shared_language, w.interpreter)
                order = np.argsort(-pts, kind="stable")  # `found` is in name order
                parts.append((found[order], np.full(len(found), rank, dtype=np.int64), pts[order], shared[order]))
                bounds.append((rank, start, start + len(found)))
                start += len(found)
            if parts:
                pos = np.concatenate([p[0] for p in parts])
                rank_a = np.concatenate([p[1] for p in parts])
                static = np.concatenate([p[2] for p in parts]).astype(np.int64)
                shared_a = np.concatenate([p[3] for p in parts])
            else:
                pos = rank_a = static = np.empty(0, dtype=np.int64)
                shared_a = np.empty(0, dtype=bool)
            self._profiles[key] = Profile(
                pos, self.ids[pos], rank_a, static, self.zone[pos], self.langset[pos], shared_a, tuple(bounds)
            )
        return self._profiles[key]

    def tiers(self, codes: tuple[str, ...], industry_words: tuple[str, ...]) -> list[tuple[int, np.ndarray]]:
        """(fit rank, positions) per tier for these codes and words, a buyer in its best tier only.
        Kept per set of codes: a company's bookings, and companies of one trade, share them."""
        key = (codes, industry_words)
        if key not in self._tiers:
            if len(self._tiers) > 4096:
                self._tiers.clear()
            keys = (
                (FIT_RANK["hs6"], [("6", c) for c in codes if len(c) == 6]),
                (FIT_RANK["hs4"], [("4", c[:4]) for c in codes if len(c) >= 4]),
                (FIT_RANK["hs2"], [("2", c[:2]) for c in codes]),
                (FIT_RANK["industry"], [("w", word) for word in industry_words]),
            )
            # Masks over all buyers rather than set operations on arrays: a chapter holds thousands.
            seen = np.zeros(len(self.ids), dtype=bool)
            found_by_tier = []
            for rank, tier_keys in keys:
                if not tier_keys:
                    continue
                mask = np.zeros(len(self.ids), dtype=bool)
                for level, k in tier_keys:
                    mask[self.tier(level, k)] = True
                mask &= ~seen
                seen |= mask
                found = np.flatnonzero(mask)
                if len(found):
                    found_by_tier.append((rank, found))
            self._tiers[key] = found_by_tier
        return self._tiers[key]


def _rows_of(infos: Mapping[int, BuyerInfo]) -> dict[int, tuple]:
    return {
        b: (
            i.company_name,
            i.country,
            i.timezone,
            i.meet_from,
            i.meet_to,
            i.meet_days,
            "",
            i.interest_codes,
            i.languages,
        )
        for b, i in infos.items()
    }


@dataclass(frozen=True)
class _TimeProbe:
    """Another time for a booking: what the interpreter rules read of it."""

    id: int
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class _ZoneProbe:
    """The hours fields of a BuyerInfo, for asking `within_meeting_hours` once per zone and hours."""

    timezone: str
    meet_from: time
    meet_to: time
    meet_days: tuple[int, ...]


def load_index(version: int | None = None) -> BuyerIndex:
    """Every active buyer, indexed by HS code at 6, 4 and 2 digits and by the words of its declared
    interests, from this process's copy of the registry (consultroom.matching.registry): three
    queries when the copy is stale, none while `version` holds. Candidates are then found through
    the index and ranked with arrays (Ranker), never by scanning the registry per request."""
    return registry.cached("buyers", version, _build_index)


def _build_index() -> BuyerIndex:
    by6: dict[str, set[int]] = defaultdict(set)
    by4: dict[str, set[int]] = defaultdict(set)
    by2: dict[str, set[int]] = defaultdict(set)
    by_word: dict[str, set[int]] = defaultdict(set)
    codes: dict[int, list[str]] = defaultdict(list)
    langs: dict[int, list[str]] = defaultdict(list)
    # Inactive buyers' rows are dropped below (they have no entry in `rows`), not by joins here.
    # Rows fetched whole and unpacked as tuples: tens of thousands, one by one, cost a cold rebuild most.
    for buyer_id, code in _core(select(BuyerInterest.buyer_id, BuyerInterest.code)).all():
        codes[buyer_id].append(code)
    for buyer_id, code in _core(select(BuyerLanguage.buyer_id, BuyerLanguage.code)).all():
        langs[buyer_id].append(code.lower())
    rows: dict[int, tuple] = {}
    for buyer_id, name, country, tz, meet_from, meet_to, days, keywords in _core(
        select(
            Buyer.id, Buyer.company_name, Buyer.country, Buyer.timezone, Buyer.meet_from, Buyer.meet_to,
            Buyer.meet_days, Buyer.keywords,
        ).where(Buyer.active.is_(True))
    ).all():  # fmt: skip
        own = tuple(sorted(codes.get(buyer_id, ())))
        keywords = keywords or ""
        rows[buyer_id] = (
            name, country, tz, meet_from, meet_to, tuple(days or ()), keywords, own,
            tuple(sorted(langs.get(buyer_id, []))),
        )  # fmt: skip
        for code in own:
            by2[code[:2]].add(buyer_id)
            if len(code) >= 4:
                by4[code[:4]].add(buyer_id)
            if len(code) == 6:
                by6[code].add(buyer_id)
        if keywords:
            for w in words(keywords):
                by_word[w].add(buyer_id)
    index = BuyerIndex(infos=LazyInfos(rows), by6=dict(by6), by4=dict(by4), by2=dict(by2), by_word=dict(by_word))
    index.ranker = Ranker(index)  # built once per copy: its arrays serve every request until the next change
    return index


def load_interpreters(days: set[date], *, extra_ids: Iterable[int] = ()) -> dict[int, InterpreterInfo]:
    """Active interpreters with weekly hours on the bookings' weekdays or an exception on their days,
    as plain rows: four queries, whatever their number."""
    if not days:
        return {}
    weekdays = sorted({d.weekday() for d in days})
    has_hours = select(InterpreterHours.interpreter_id).where(InterpreterHours.weekday.in_(weekdays))
    has_extra = select(InterpreterException.interpreter_id).where(
        InterpreterException.day.in_(sorted(days)), InterpreterException.available.is_(True)
    )
    rows = _core(
        select(Interpreter.id, Interpreter.name, Interpreter.max_sessions_per_day).where(
            Interpreter.active.is_(True),
            or_(
                Interpreter.id.in_(has_hours),
                Interpreter.id.in_(has_extra),
                in_ids(Interpreter.id, extra_ids),
            ),
        )
    ).all()
    ids = [r.id for r in rows]
    if not ids:
        return {}
    langs: dict[int, list[str]] = defaultdict(list)
    for iid, code in _core(
        select(InterpreterLanguage.interpreter_id, InterpreterLanguage.code).where(
            in_ids(InterpreterLanguage.interpreter_id, ids)
        )
    ):
        langs[iid].append(code.lower())
    weekly: dict[int, list[WeeklyHours]] = defaultdict(list)
    exceptions: dict[int, list[Exception_]] = defaultdict(list)
    # Weekly hours and dated exceptions in one round trip (typed NULLs pad each side).
    hours_and_exceptions = union_all(
        select(
            InterpreterHours.interpreter_id, InterpreterHours.weekday, cast(null(), Date).label("day"),
            cast(null(), Boolean).label("available"), InterpreterHours.start, InterpreterHours.end,
        ).where(in_ids(InterpreterHours.interpreter_id, ids), InterpreterHours.weekday.in_(weekdays)),
        select(
            InterpreterException.interpreter_id, cast(null(), Integer).label("weekday"), InterpreterException.day,
            InterpreterException.available, InterpreterException.start, InterpreterException.end,
        ).where(in_ids(InterpreterException.interpreter_id, ids), InterpreterException.day.in_(sorted(days))),
    )  # fmt: skip
    for iid, wd, day, available, a, b in _core(hours_and_exceptions):
        if day is None:
            weekly[iid].append(WeeklyHours(wd, a, b))
        else:
            exceptions[iid].append(Exception_(_as_date(day), bool(available), a, b))
    return {
        r.id: InterpreterInfo(
            id=r.id,
            name=r.name,
            languages=tuple(sorted(langs.get(r.id, []))),
            max_sessions_per_day=r.max_sessions_per_day,
            weekly=tuple(weekly.get(r.id, [])),
            exceptions=tuple(exceptions.get(r.id, [])),
        )
        for r in sorted(rows, key=lambda r: r.id)
    }


# --- the world -------------------------------------------------------------------------------------


@dataclass
class World:
    """What the rules and the scores need to know about the bookings being matched and around them."""

    weights: Weights
    bookings: dict[int, Booking]
    requests: dict[int, RequestInfo]
    index: BuyerIndex
    interpreters: dict[int, InterpreterInfo]
    taken: list[Taken]
    first_met: dict[tuple[int, int], datetime]  # (company, buyer) -> earliest consultation outside the set
    policy: str = ALWAYS
    pool_size: int = POOL_SIZE
    slots: list[SlotRow] = field(default_factory=list)
    companies: list[Company] = field(default_factory=list)
    _load: dict[tuple[int, int], int] = field(default_factory=dict)  # (round, buyer) -> matches
    _interp_day: dict[tuple[int, date], int] = field(default_factory=dict)  # (interpreter, day) -> sessions
    # (start, end) -> free interpreter ids: what frees an interpreter depends on the time only
    _free_interp: dict[tuple[datetime, datetime], tuple[int, ...]] = field(default_factory=dict)
    _busy: dict[int, list[Taken]] = field(default_factory=dict)  # buyer -> its taken bookings
    _interp_busy: dict[int, list[Taken]] = field(default_factory=dict)
    _routes_at: dict[tuple, tuple[np.ndarray, list[tuple[int, ...]]]] = field(default_factory=dict)
    _busy_at: dict[tuple, tuple[int, ...]] = field(default_factory=dict)
    _met_by_company: dict[int, list[tuple[int, datetime]]] = field(default_factory=dict)
    _round_load: dict[int, dict[int, int]] = field(default_factory=dict)  # round -> buyer -> matches
    _by_language: dict[tuple, tuple[tuple[int, ...], frozenset[str]]] = field(default_factory=dict)
    _choices: dict[tuple, tuple[InterpreterInfo, ...]] = field(default_factory=dict)
    registry_version: int | None = None  # what the interpreters were read at, for caching by time
    registry_key: tuple = ()

    def __post_init__(self) -> None:
        busy: dict[int, list[Taken]] = defaultdict(list)
        ibusy: dict[int, list[Taken]] = defaultdict(list)
        for t in self.taken:
            if t.buyer_id is not None:
                self._load[(t.round_id, t.buyer_id)] = self._load.get((t.round_id, t.buyer_id), 0) + 1
                busy[t.buyer_id].append(t)
            if t.interpreter_id is not None:
                key = (t.interpreter_id, seoul_day(t.starts_at))
                self._interp_day[key] = self._interp_day.get(key, 0) + 1
                ibusy[t.interpreter_id].append(t)
        self._busy, self._interp_busy = dict(busy), dict(ibusy)
        for (company_id, buyer_id), first in self.first_met.items():
            self._met_by_company.setdefault(company_id, []).append((buyer_id, first))
        for (round_id, buyer_id), load in self._load.items():
            self._round_load.setdefault(round_id, {})[buyer_id] = load

    @property
    def infos(self) -> Mapping[int, BuyerInfo]:
        return self.index.infos

    @property
    def buyers(self) -> Mapping[int, BuyerInfo]:
        return self.index.infos

    # --- buyers ---------------------------------------------------------------------------------

    def buyer_busy(self, booking: Booking, buyer_id: int) -> bool:
        return any(t.overlaps(booking.starts_at, booking.ends_at) for t in self._busy.get(buyer_id, ()))

    def buyer_met_this_round(self, booking: Booking, buyer_id: int) -> bool:
        return any(
            t.company_id == booking.company_id and t.round_id == booking.round_id for t in self._busy.get(buyer_id, ())
        )

    def met_before(self, booking: Booking, buyer_id: int) -> bool:
        first = self.first_met.get((booking.company_id, buyer_id))
        return first is not None and first < booking.starts_at

    def load(self, booking: Booking, buyer_id: int) -> int:
        return self._load.get((booking.round_id, buyer_id), 0)

    # --- interpreters ---------------------------------------------------------------------------

    def sessions_on_day(self, interpreter_id: int, day: date) -> int:
        return self._interp_day.get((interpreter_id, day), 0)

    def remaining_cap(self, interpreter_id: int, day: date) -> int:
        cap = self.interpreters[interpreter_id].max_sessions_per_day
        return max(cap - self.sessions_on_day(interpreter_id, day), 0)

    def available_then(self, starts_at: datetime, ends_at: datetime) -> frozenset[int]:
        """Interpreters whose hours cover the time: the same for every request until the registry
        changes, so kept with the process's copy of it."""
        return registry.cached(
            ("available", self.registry_key, starts_at, ends_at),
            self.registry_version,
            lambda: frozenset(i for i, info in self.interpreters.items() if info.available(starts_at, ends_at)),
        )

    def interpreter_free(self, booking: Booking, interpreter_id: int) -> bool:
        """Available by the hours, not busy then, under the daily cap (matches outside the set only)."""
        interp = self.interpreters.get(interpreter_id)
        if interp is None or interpreter_id not in self.available_then(booking.starts_at, booking.ends_at):
            return False
        if any(t.overlaps(booking.starts_at, booking.ends_at) for t in self._interp_busy.get(interpreter_id, ())):
            return False
        return self.remaining_cap(interpreter_id, seoul_day(booking.starts_at)) > 0

    def free_interpreters(self, booking: Booking) -> tuple[int, ...]:
        key = (booking.starts_at, booking.ends_at)
        if key not in self._free_interp:
            # As `interpreter_free` for each, with the hours looked up once for the time.
            starts_at, ends_at = key
            day, available = seoul_day(starts_at), self.available_then(starts_at, ends_at)
            self._free_interp[key] = tuple(
                i
                for i in self.interpreters
                if i in available
                and not any(t.overlaps(starts_at, ends_at) for t in self._interp_busy.get(i, ()))
                and self.remaining_cap(i, day) > 0
            )
        return self._free_interp[key]

    def choices(self, booking: Booking, ids: Iterable[int]) -> tuple[InterpreterInfo, ...]:
        """The interpreters to offer: least booked that day first, at most INTERPRETER_CHOICES."""
        ids = tuple(ids)
        key = (booking.starts_at, ids)
        if key not in self._choices:  # twenty candidates often share one language's interpreters
            day = seoul_day(booking.starts_at)
            best = heapq.nsmallest(
                INTERPRETER_CHOICES, ids, key=lambda i: (self.sessions_on_day(i, day), self.interpreters[i].name, i)
            )
            self._choices[key] = tuple(self.interpreters[i] for i in best)
        return self._choices[key]

    def interpreters_for(self, booking: Booking, languages: Iterable[str]) -> tuple[int, ...]:
        return self._covering(booking, frozenset(c.lower() for c in languages))[0]

    def _covering(self, booking: Booking, wanted: frozenset[str]) -> tuple[tuple[int, ...], frozenset[str]]:
        """Free interpreters for any of `wanted`, and the languages among them; cached per time."""
        key = (booking.starts_at, booking.ends_at, wanted)
        if key not in self._by_language:
            ids = tuple(
                i for i in self.free_interpreters(booking) if wanted.intersection(self.interpreters[i].languages)
            )
            self._by_language[key] = (ids, frozenset(c for i in ids for c in self.interpreters[i].languages))
        return self._by_language[key]

    # --- scoring --------------------------------------------------------------------------------

    def shares_language(self, booking: Booking, buyer_id: int) -> bool:
        return bool(set(self.requests[booking.id].languages) & set(self.infos[buyer_id].languages))

    def needs_interpreter(self, booking: Booking, buyer_id: int) -> bool:
        """By the program's policy: on every consultation, or only without a common language."""
        return self.policy == ALWAYS or not self.shares_language(booking, buyer_id)

    def score(self, booking: Booking, buyer_id: int) -> Score:
        info = self.infos[buyer_id]
        covering, langs = self._covering(booking, frozenset(info.languages))
        score = score_pair(
            self.requests[booking.id],
            info,
            interpreter_languages=langs,
            met_before=self.met_before(booking, buyer_id),
            buyer_load=self.load(booking, buyer_id),
            weights=self.weights,
        )
        if self.policy == ALWAYS and not covering and score.feasible:
            # The program promises an interpreter on every call: without one free, no consultation.
            reason = Reason("no_interpreter", 0, ",".join(info.languages))
            score = Score(score.total, (*score.reasons, reason), score.follow_up, score.fit)
        return score

    @property
    def ranker(self) -> Ranker:
        if self.index.ranker is None:
            self.index.ranker = Ranker(self.index)
        return self.index.ranker

    def _routes(self, booking: Booking) -> tuple[np.ndarray, list[tuple[int, ...]]]:
        """Per set of buyer languages: whether an interpreter for one of them is free at the
        booking's time, and which (a round has a few slot times and a few dozen sets)."""
        key = (booking.starts_at, booking.ends_at)
        if key not in self._routes_at:
            covering = [self._covering(booking, frozenset(ls))[0] for ls in self.ranker.langsets]
            self._routes_at[key] = (np.array([bool(c) for c in covering], dtype=bool), covering)
        return self._routes_at[key]

    def _exceptions(self, booking: Booking) -> dict[int, tuple[bool, bool, int]]:
        """Buyers whose value at this booking is not the plain one: buyer -> (out of reach: busy then
        or already meeting the company this round, met the company before, consultations this round).
        Few per booking (pair history and the round's matches), so they are scored one by one."""
        out: dict[int, tuple[bool, bool, int]] = {}
        starts_at, ends_at = booking.starts_at, booking.ends_at
        for buyer_id, first in self._met_by_company.get(booking.company_id, ()):
            if first < starts_at:
                out[buyer_id] = (False, True, 0)
        for buyer_id, load in self._round_load.get(booking.round_id, {}).items():
            out[buyer_id] = (False, out.get(buyer_id, (False, False, 0))[1], load)
        company_id, round_id = booking.company_id, booking.round_id
        for buyer_id in self._busy_near(booking):
            if any(
                t.overlaps(starts_at, ends_at) or (t.company_id == company_id and t.round_id == round_id)
                for t in self._busy[buyer_id]
            ):
                out[buyer_id] = (True, False, 0)
        return out

    def _busy_near(self, booking: Booking) -> tuple[int, ...]:
        """Buyers with a taken booking overlapping the time or in the booking's round (per time and round)."""
        key = (booking.starts_at, booking.ends_at, booking.round_id)
        if key not in self._busy_at:
            self._busy_at[key] = tuple(
                b
                for b, ts in self._busy.items()
                if any(t.overlaps(booking.starts_at, booking.ends_at) or t.round_id == booking.round_id for t in ts)
            )
        return self._busy_at[key]

    def other_time(self, booking: Booking, buyer_id: int) -> tuple[SlotRow, tuple[int, ...]] | None:
        """The earliest free slot of the booking's round that suits both sides: inside the buyer's
        hours, the buyer and the company free then, an interpreter free then when one is needed.
        Offered beside a buyer for whom the booked time is outside their hours."""
        info = self.infos[buyer_id]
        company_busy = [s for s in self.slots if s.company_id == booking.company_id and s.slot_id != booking.slot_id]
        for s in self.slots:
            if s.round_id != booking.round_id or s.closed or s.company_id is not None or s.slot_id == booking.slot_id:
                continue
            if not within_meeting_hours(info, s.starts_at, s.ends_at):
                continue
            if any(t.overlaps(s.starts_at, s.ends_at) for t in self._busy.get(buyer_id, ())):
                continue
            if any(c.starts_at < s.ends_at and s.starts_at < c.ends_at for c in company_busy):
                continue
            probe = _TimeProbe(booking.id, s.starts_at, s.ends_at)
            covering = self._covering(probe, frozenset(info.languages))[0]  # type: ignore[arg-type]
            if self.needs_interpreter(booking, buyer_id) and not covering:
                continue
            return s, covering if self.needs_interpreter(booking, buyer_id) else ()
        return None

    def quick_candidates(
        self,
        booking: Booking,
        *,
        hours_rule: bool = False,
        limit: int | None = None,
        strict: bool = True,
        per_tier: int = 0,
    ) -> list[Quick]:
        """As `candidates`, with the value and points computed as numbers (no reasons): what the
        whole-round solver needs for thousands of bookings, and what picks the few a page scores in
        full: the best `limit` by value (fit tier first), then name. `strict` leaves out buyers the
        policy's interpreter cannot be found for (the page shows them, with that reason). `per_tier`
        adds, beyond the best `limit`, the next best of each fit tier until it has that many: the
        solver's fallbacks when the better-fitting buyers go to other bookings.
        `test_quick_candidates_agree_with_scores` holds it to `score_pair`.

        Every related buyer is considered, with arrays: the request's profile lists them by tier,
        points and name; the slot's time only adds the hours points (inside or outside), so the
        buyers inside the hours and those outside are each still in value order, and the best of a
        tier are the first few of each. The round's own terms (pair history, load, busy) concern a
        few buyers per booking, taken apart and scored one by one."""
        w = self.weights
        limit = limit or self.pool_size
        request = self.requests[booking.id]
        ranker = self.ranker
        prof = ranker.profile(request, w)
        if not len(prof.pos):
            return []
        always = self.policy == ALWAYS
        routes, covering = self._routes(booking)
        within = ranker.within(booking.starts_at, booking.ends_at)[prof.zone]
        route = routes[prof.langset]
        ok = route if strict and always else prof.shared | route
        if hours_rule:
            ok = ok & within
        exceptions = self._exceptions(booking)
        if exceptions:
            flags = np.zeros(len(ranker.ids), dtype=bool)
            known = [b for b in exceptions if b < len(ranker.pos_of)]
            at = ranker.pos_of[np.array(known, dtype=np.int64)]
            flags[at[at >= 0]] = True
            odd = flags[prof.pos]
            plain = ok & ~odd
        else:
            odd, plain = np.zeros(len(prof.pos), dtype=bool), ok
        streams = [np.flatnonzero(plain & within)]
        if not hours_rule:
            streams.append(np.flatnonzero(plain & ~within))
        others = np.flatnonzero(ok & odd)
        # Per tier, how many each stream holds (a few numbers), then the slices taken, in one go.
        starts = [t[1] for t in prof.tiers]
        ends = [t[2] for t in prof.tiers]
        spans = [(np.searchsorted(st, starts).tolist(), np.searchsorted(st, ends).tolist()) for st in streams]
        odd_at: dict[int, list[tuple[int, int]]] = defaultdict(list)  # tier -> (position, round terms)
        for i in others.tolist():
            out_of_reach, met, load = exceptions[int(prof.ids[i])]
            if not out_of_reach:
                odd_at[bisect_right(starts, i) - 1].append((i, (0 if met else w.new_pair) + w.load_each * load))
        parts, extras, rooms, sizes = [], [], [], []  # extras: round terms beyond a first meeting's
        kept_before = 0  # eligible buyers in better tiers
        merge = len(streams) > 1
        for t in range(len(prof.tiers)):
            room = max(limit - kept_before, per_tier)
            if room <= 0:
                break
            size = 0
            for stream, (lo, hi) in zip(streams, spans, strict=True):
                part = stream[lo[t] : min(hi[t], lo[t] + room)]
                parts.append(part)
                extras.append(None)
                size += len(part)
                kept_before += hi[t] - lo[t]
            if t in odd_at:
                merge = True
                parts.append(np.array([i for i, _terms in odd_at[t]], dtype=np.int64))
                extras.append(np.array([terms - w.new_pair for _i, terms in odd_at[t]], dtype=np.int64))
                size += len(odd_at[t])
                kept_before += len(odd_at[t])
            rooms.append(room)
            sizes.append(size)
        if not parts:
            return []
        rows = np.concatenate(parts)
        hours = np.where(within[rows], w.within_hours, w.outside_hours)
        value = FIT_STEP * prof.rank[rows] + prof.static[rows] + hours + w.new_pair
        if odd_at:
            terms = [np.zeros(len(p), np.int64) if e is None else e for p, e in zip(parts, extras, strict=True)]
            value += np.concatenate(terms)
        if merge:  # streams (and the odd ones) merged within each tier: by value, then name
            order = np.lexsort((prof.pos[rows], -value, -prof.rank[rows]))  # positions are in name order
            rows, value = rows[order], value[order]
        # Each tier's first `room` (tiers follow one another in `rows`, best first).
        if any(size > room for size, room in zip(sizes, rooms, strict=True)):
            at = np.cumsum([0, *sizes[:-1]]).tolist()
            keep = np.concatenate([np.arange(a, a + min(n, r)) for a, n, r in zip(at, sizes, rooms, strict=True)])
            rows, value = rows[keep], value[keep]
        needs = np.ones(len(rows), dtype=bool) if always else ~prof.shared[rows]
        ranks = prof.rank[rows]
        return [
            Quick(b, v, v - FIT_STEP * r, FIT_BY_RANK[r], n, covering[ls] if n else ())
            for b, v, r, n, ls in zip(
                prof.ids[rows].tolist(),
                value.tolist(),
                ranks.tolist(),
                needs.tolist(),
                prof.langset[rows].tolist(),
                strict=True,
            )
        ]

    def candidates(self, booking: Booking, *, hours_rule: bool = False, limit: int | None = None) -> list[Candidate]:
        """Buyers who may meet this booking: eligible by product fit, free then, not already meeting
        the company this round, with a language route (and an interpreter when the policy wants one);
        best fit first, then best score. `hours_rule` also drops buyers outside their hours.
        Ranked by the quick values, then only the kept ones are scored with their reasons."""
        out = []
        for q in self.quick_candidates(booking, hours_rule=hours_rule, limit=limit, strict=False):
            score = self.score(booking, q.buyer_id)
            within = any(r.code == "within_hours" for r in score.reasons)
            interps = self.interpreters_for(booking, self.infos[q.buyer_id].languages) if q.needs_interpreter else ()
            load = self.load(booking, q.buyer_id)
            out.append(Candidate(q.buyer_id, score, q.needs_interpreter, interps, load, within))
        return out


def load_world(
    bookings: Sequence[Booking],
    *,
    weights: Weights | None = None,
    extra_buyer_ids: Iterable[int] = (),
    extra_interpreter_ids: Iterable[int] = (),
    pool_size: int = POOL_SIZE,
    with_companies: bool = True,
) -> World:
    """Everything about `bookings` and their surroundings, in a fixed number of queries. Every active
    buyer is in the index, so `extra_buyer_ids` (buyers on proposal lines) need no look-up of their own."""
    bookings = list(bookings)
    ids = [b.id for b in bookings]
    weights = weights or get_weights()
    policy = get_interpreter_policy()
    company_ids = sorted({b.company_id for b in bookings})
    # Held in the World: the session's identity map is weak, and `booking.company` must find them there.
    # Only companies not already on their bookings (a page has loaded its booking's): a round's
    # thousands come in one query (and three for their rows) instead of one each.
    unloaded = sorted({b.company_id for b in bookings if "company" not in b.__dict__})
    if with_companies or not unloaded:
        companies = list(db.session.scalars(select(Company).where(in_ids(Company.id, unloaded)))) if unloaded else []
        requests = {b.id: request_info(b) for b in bookings}
    else:
        companies, requests = [], _requests_from_rows(bookings, unloaded)
    # One number says whether this process's copy of the registries still holds (see .registry).
    version = registry.version()
    index = load_index(version)
    days = frozenset(seoul_day(b.starts_at) for b in bookings)
    extra_interpreters = tuple(sorted(set(extra_interpreter_ids)))
    interpreters = registry.cached(
        ("interpreters", days, extra_interpreters),
        version,
        lambda: load_interpreters(set(days), extra_ids=extra_interpreters),
    )
    taken: list[Taken] = []
    first_met: dict[tuple[int, int], datetime] = {}
    slots: list[SlotRow] = []
    if bookings:
        # Whole Seoul days around the bookings: interpreter caps count sessions per day.
        lo = seoul_to_utc(min(seoul_day(b.starts_at) for b in bookings), time.min)
        hi = seoul_to_utc(max(seoul_day(b.starts_at) for b in bookings), time.min) + timedelta(days=1)
        round_ids = sorted({b.round_id for b in bookings})
        rows = _core(
            select(
                Booking.id,
                Booking.round_id,
                Booking.company_id,
                Booking.buyer_id,
                Booking.interpreter_id,
                Booking.starts_at,
                Booking.ends_at,
            ).where(
                ACTIVE,
                not_in_ids(Booking.id, ids),
                or_(Booking.buyer_id.is_not(None), Booking.interpreter_id.is_not(None)),
                or_(Booking.round_id.in_(round_ids), (Booking.starts_at < hi) & (Booking.ends_at > lo)),
            )
        ).all()
        taken = [Taken(*row) for row in rows]
        met_rows = _core(
            select(Booking.company_id, Booking.buyer_id, func.min(Booking.starts_at))
            .where(
                ACTIVE,
                not_in_ids(Booking.id, ids),
                Booking.buyer_id.is_not(None),
                in_ids(Booking.company_id, company_ids),
            )
            .group_by(Booking.company_id, Booking.buyer_id)
        ).all()
        first_met = {(c, b): _aware(at) for c, b, at in met_rows}
        # The rounds' slots with the company of each active booking: free times to offer when the
        # booked one is night for the buyer, and the company's own times to keep clear.
        slot_rows = _core(
            select(Slot.id, Slot.round_id, Slot.starts_at, Slot.ends_at, Slot.closed, Booking.company_id)
            .outerjoin(Booking, (Booking.slot_id == Slot.id) & ACTIVE)
            .where(
                in_ids(Slot.round_id, round_ids),
                Slot.closed.is_(False),
                or_(Booking.id.is_(None), in_ids(Booking.company_id, company_ids)),
            )
            .order_by(Slot.starts_at, Slot.booth)
        ).all()
        slots = [SlotRow(*row) for row in slot_rows]
    return World(
        weights=weights,
        bookings={b.id: b for b in bookings},
        requests=requests,
        index=index,
        interpreters=interpreters,
        taken=taken,
        first_met=first_met,
        policy=policy,
        pool_size=pool_size,
        slots=slots,
        companies=companies,
        registry_version=version,
        registry_key=(days, extra_interpreters),
    )


def _requests_from_rows(bookings: Sequence[Booking], company_ids: list[int]) -> dict[int, RequestInfo]:
    """As `request_info` for each booking, from the companies' rows instead of their objects: what
    the whole-round proposal reads of a thousand companies, when nothing after it needs them."""
    industry = dict(_core(select(Company.id, Company.industry).where(in_ids(Company.id, company_ids))).all())
    codes: dict[int, list[str]] = defaultdict(list)
    targets: dict[int, list[str]] = defaultdict(list)
    langs: dict[int, list[str]] = defaultdict(list)
    rows = _core(
        select(CompanyHsCode.company_id, CompanyHsCode.code)
        .where(in_ids(CompanyHsCode.company_id, company_ids))
        .order_by(CompanyHsCode.company_id, CompanyHsCode.code)
    ).all()
    for company_id, code in rows:
        codes[company_id].append(code)
    rows = _core(
        select(CompanyCountry.company_id, CompanyCountry.code)
        .where(in_ids(CompanyCountry.company_id, company_ids), CompanyCountry.kind == "target")
        .order_by(CompanyCountry.company_id, CompanyCountry.code)
    ).all()
    for company_id, code in rows:
        targets[company_id].append(code)
    for company_id, code in _core(
        select(CompanyLanguage.company_id, CompanyLanguage.code).where(in_ids(CompanyLanguage.company_id, company_ids))
    ).all():
        langs[company_id].append(code)
    out = {}
    for b in bookings:
        c = b.company_id
        own_languages = {x.lower() for x in (b.languages or [])} | {x.lower() for x in langs.get(c, ())}
        out[b.id] = RequestInfo(
            booking_id=b.id,
            company_id=c,
            starts_at=b.starts_at,
            ends_at=b.ends_at,
            hs_codes=tuple(b.hs_codes or codes.get(c, ())),
            target_countries=tuple(x.upper() for x in (b.target_countries or targets.get(c, ()))),
            languages=tuple(sorted(own_languages)),
            industry_words=words(industry.get(c) or ""),
        )
    return out


def _as_date(value: Any) -> date:
    # SQLite hands a date back as text through a union.
    return date.fromisoformat(value) if isinstance(value, str) else value


def _aware(value: Any) -> datetime:
    # An aggregate over a UTC column comes back through the column type on PostgreSQL, but as
    # text or a naive value on SQLite.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def recommend(*, booking: Booking, limit: int = 20, world: World | None = None) -> list[Recommendation]:
    """The best buyers for `booking`: best product fit first, then score, each with its reasons and
    interpreter choices. Empty when no buyer fits the request."""
    world = world or load_world([booking])
    out = []
    for c in world.candidates(booking, limit=limit):
        info = world.infos[c.buyer_id]
        other = None if c.within_hours else world.other_time(booking, c.buyer_id)
        out.append(
            Recommendation(
                buyer=info,
                info=info,
                score=c.score,
                needs_interpreter=c.needs_interpreter,
                interpreters=world.choices(booking, c.interpreter_ids),
                load=c.load,
                other_slot=other[0] if other else None,
                other_interpreters=world.choices(booking, other[1]) if other else (),
            )
        )
    return out


# --- explaining -------------------------------------------------------------------------------------


def reason_rows(score: Score) -> list[list[Any]]:
    """Reasons as JSON-friendly rows, for storing with a proposal line."""
    return [[r.code, r.points, r.detail] for r in score.reasons]


def reasons_from_rows(rows: Iterable[Sequence[Any]]) -> list[Reason]:
    return [Reason(str(code), int(points), str(detail)) for code, points, detail in rows]


def describe(reason: Reason, buyer: Any) -> str:
    """A reason in words, in the current locale. `buyer` is a Buyer or a BuyerInfo."""
    locale = str(get_locale() or "ko")
    d = reason.detail
    hours = {
        "start": buyer.meet_from.strftime("%H:%M"),
        "end": buyer.meet_to.strftime("%H:%M"),
        "tz": buyer.timezone,
    }
    texts = {
        "hs6": lambda: _("HS %(code)s matches exactly", code=d),
        "hs4": lambda: _("HS heading %(code)s matches", code=d),
        "hs2": lambda: _("HS chapter %(code)s matches", code=d),
        "country": lambda: _("Target country: %(country)s", country=country_name(d, locale)),
        "shared_language": lambda: _("Shared language: %(language)s", language=language_name(d, locale)),
        "interpreter": lambda: _("Interpreter available for %(language)s", language=language_name(d, locale)),
        "no_language": lambda: _("No shared language and no interpreter available"),
        "no_interpreter": lambda: _("No interpreter free for %(languages)s", languages=d),
        "industry": lambda: _("Declared interests mention %(word)s", word=d),
        "within_hours": lambda: _("Buyer's hours %(start)s–%(end)s %(tz)s cover the slot", **hours),
        "outside_hours": lambda: _("Outside the buyer's hours %(start)s–%(end)s %(tz)s", **hours),
        "new_pair": lambda: _("First meeting with this company"),
        "follow_up": lambda: _("Met this company before: follow-up"),
        "load": lambda: ngettext(
            "Already has %(num)d consultation in this round",
            "Already has %(num)d consultations in this round",
            int(d),  # a reason's detail is text (stored with a proposal line); the count is a number in it
        ),
    }
    text = texts.get(reason.code)
    return text() if text else reason.code
