"""Buyer recommendations from the database, in a constant number of queries.

`load_world` reads everything the scoring and the rules need for a set of bookings at once (buyers
with languages and interests, interpreters with languages and hours, the matches already made
around those times, the pairs that met before, the weights); the rest is pure Python over that
snapshot, so a page with 2 buyers and one with 300 send the same queries. The rules mirror
`matching.services.check_proposal`, which still has the last word when a match is proposed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from consultroom.bookings.models import Booking, BookingStatus
from consultroom.buyers.models import Buyer
from consultroom.companies.models import Company
from consultroom.companies.validation import country_name, language_name
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter
from consultroom.matching.scoring import BuyerInfo, Reason, RequestInfo, Score, Weights, score_pair
from consultroom.matching.services import interpreter_available
from consultroom.matching.settings import get_weights
from consultroom.timeutil import SEOUL, seoul_to_utc

ACTIVE = Booking.status != BookingStatus.CANCELLED.value


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
class Candidate:
    """A buyer who may meet the booking's company at that time, scored, with the interpreters it needs."""

    buyer_id: int
    score: Score
    needs_interpreter: bool
    interpreter_ids: tuple[int, ...]  # available, right language, free then, under the daily cap
    load: int
    within_hours: bool


@dataclass(frozen=True)
class Recommendation:
    buyer: Buyer
    info: BuyerInfo
    score: Score
    needs_interpreter: bool
    interpreters: tuple[Interpreter, ...]
    load: int


def seoul_day(moment: datetime) -> date:
    return moment.astimezone(SEOUL).date()


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
    )


def company_languages(booking: Booking) -> tuple[str, ...]:
    """As `services.company_languages`: the request's languages and the company profile's."""
    codes = {c.lower() for c in (booking.languages or [])} | {c.lower() for c in booking.company.languages}
    return tuple(sorted(codes))


def request_info(booking: Booking) -> RequestInfo:
    return RequestInfo(
        booking_id=booking.id,
        company_id=booking.company_id,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        hs_codes=tuple(booking.hs_codes or booking.company.hs_codes),
        target_countries=tuple(c.upper() for c in (booking.target_countries or booking.company.target_countries)),
        languages=company_languages(booking),
    )


@dataclass
class World:
    """What the rules and the scores need to know about the bookings being matched and around them."""

    weights: Weights
    bookings: dict[int, Booking]
    requests: dict[int, RequestInfo]
    buyers: dict[int, Buyer]
    infos: dict[int, BuyerInfo]
    interpreters: dict[int, Interpreter]
    taken: list[Taken]
    first_met: dict[tuple[int, int], datetime]  # (company, buyer) -> earliest consultation outside the set
    companies: list[Company] = field(default_factory=list)
    _load: dict[tuple[int, int], int] = field(default_factory=dict)  # (round, buyer) -> matches
    _interp_day: dict[tuple[int, date], int] = field(default_factory=dict)  # (interpreter, day) -> sessions
    _free_interp: dict[int, tuple[int, ...]] = field(default_factory=dict)  # booking -> interpreter ids

    def __post_init__(self) -> None:
        for t in self.taken:
            if t.buyer_id is not None:
                self._load[(t.round_id, t.buyer_id)] = self._load.get((t.round_id, t.buyer_id), 0) + 1
            if t.interpreter_id is not None:
                key = (t.interpreter_id, seoul_day(t.starts_at))
                self._interp_day[key] = self._interp_day.get(key, 0) + 1

    # --- buyers ---------------------------------------------------------------------------------

    def buyer_busy(self, booking: Booking, buyer_id: int) -> bool:
        return any(t.buyer_id == buyer_id and t.overlaps(booking.starts_at, booking.ends_at) for t in self.taken)

    def buyer_met_this_round(self, booking: Booking, buyer_id: int) -> bool:
        return any(
            t.buyer_id == buyer_id and t.company_id == booking.company_id and t.round_id == booking.round_id
            for t in self.taken
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

    def interpreter_free(self, booking: Booking, interpreter_id: int) -> bool:
        """Available by the hours, not busy then, under the daily cap (matches outside the set only)."""
        interp = self.interpreters.get(interpreter_id)
        if interp is None:
            return False
        if not interpreter_available(interp, booking.starts_at, booking.ends_at):
            return False
        if any(
            t.interpreter_id == interpreter_id and t.overlaps(booking.starts_at, booking.ends_at) for t in self.taken
        ):
            return False
        return self.remaining_cap(interpreter_id, seoul_day(booking.starts_at)) > 0

    def free_interpreters(self, booking: Booking) -> tuple[int, ...]:
        if booking.id not in self._free_interp:
            self._free_interp[booking.id] = tuple(i for i in self.interpreters if self.interpreter_free(booking, i))
        return self._free_interp[booking.id]

    def interpreters_for(self, booking: Booking, languages: Iterable[str]) -> tuple[int, ...]:
        wanted = {c.lower() for c in languages}
        return tuple(
            i for i in self.free_interpreters(booking) if wanted & {c.lower() for c in self.interpreters[i].languages}
        )

    # --- scoring --------------------------------------------------------------------------------

    def needs_interpreter(self, booking: Booking, buyer_id: int) -> bool:
        return not set(self.requests[booking.id].languages) & set(self.infos[buyer_id].languages)

    def score(self, booking: Booking, buyer_id: int) -> Score:
        info = self.infos[buyer_id]
        covering = self.interpreters_for(booking, info.languages)
        langs = frozenset(c.lower() for i in covering for c in self.interpreters[i].languages)
        return score_pair(
            self.requests[booking.id],
            info,
            interpreter_languages=langs,
            met_before=self.met_before(booking, buyer_id),
            buyer_load=self.load(booking, buyer_id),
            weights=self.weights,
        )

    def candidates(self, booking: Booking, *, hours_rule: bool = False) -> list[Candidate]:
        """Buyers who may meet this booking: active (loaded), free then, not already meeting the
        company this round, with a language route; best first. `hours_rule` also drops buyers
        outside their hours, for proposals when the weights make that negative."""
        out = []
        for buyer_id in self.buyers:
            if self.buyer_busy(booking, buyer_id) or self.buyer_met_this_round(booking, buyer_id):
                continue
            score = self.score(booking, buyer_id)
            if not score.feasible:
                continue
            within = any(r.code == "within_hours" for r in score.reasons)
            if hours_rule and not within:
                continue
            needs = self.needs_interpreter(booking, buyer_id)
            interps = self.interpreters_for(booking, self.infos[buyer_id].languages) if needs else ()
            out.append(Candidate(buyer_id, score, needs, interps, self.load(booking, buyer_id), within))
        out.sort(key=lambda c: (-c.score.total, self.buyers[c.buyer_id].company_name.casefold(), c.buyer_id))
        return out


def load_world(bookings: Sequence[Booking], *, weights: Weights | None = None) -> World:
    """Everything about `bookings` and their surroundings, in a fixed number of queries."""
    bookings = list(bookings)
    ids = [b.id for b in bookings]
    weights = weights or get_weights()
    # Companies with their rows (languages, codes, countries) for every booking: selectin, 4 queries.
    company_ids = sorted({b.company_id for b in bookings})
    # Held in the World: the session's identity map is weak, and `booking.company` must find them there.
    companies = list(db.session.scalars(select(Company).where(Company.id.in_(company_ids)))) if company_ids else []
    buyers = {
        b.id: b
        for b in db.session.scalars(
            select(Buyer).where(Buyer.active.is_(True)).order_by(Buyer.id)
        )  # languages and interests come by selectin: 2 more queries, whatever the count
    }
    interpreters = {
        i.id: i
        for i in db.session.scalars(
            select(Interpreter)
            .where(Interpreter.active.is_(True))
            .options(
                selectinload(Interpreter.language_rows),
                selectinload(Interpreter.hours),
                selectinload(Interpreter.exceptions),
            )
            .order_by(Interpreter.id)
        )
    }
    taken: list[Taken] = []
    first_met: dict[tuple[int, int], datetime] = {}
    if bookings:
        # Whole Seoul days around the bookings: interpreter caps count sessions per day.
        lo = seoul_to_utc(min(seoul_day(b.starts_at) for b in bookings), datetime.min.time())
        hi = seoul_to_utc(max(seoul_day(b.starts_at) for b in bookings), datetime.min.time()) + timedelta(days=1)
        round_ids = sorted({b.round_id for b in bookings})
        rows = db.session.execute(
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
                Booking.id.not_in(ids),
                or_(Booking.buyer_id.is_not(None), Booking.interpreter_id.is_not(None)),
                or_(Booking.round_id.in_(round_ids), (Booking.starts_at < hi) & (Booking.ends_at > lo)),
            )
        ).all()
        taken = [Taken(*row) for row in rows]
        met_rows = db.session.execute(
            select(Booking.company_id, Booking.buyer_id, func.min(Booking.starts_at))
            .where(
                ACTIVE,
                Booking.id.not_in(ids),
                Booking.buyer_id.is_not(None),
                Booking.company_id.in_(company_ids),
            )
            .group_by(Booking.company_id, Booking.buyer_id)
        ).all()
        first_met = {(c, b): _aware(at) for c, b, at in met_rows}
    return World(
        weights=weights,
        bookings={b.id: b for b in bookings},
        requests={b.id: request_info(b) for b in bookings},
        buyers=buyers,
        infos={i: buyer_info(b) for i, b in buyers.items()},
        interpreters=interpreters,
        taken=taken,
        first_met=first_met,
        companies=companies,
    )


def _aware(value: Any) -> datetime:
    # An aggregate over a UTC column comes back through the column type on PostgreSQL, but as
    # text or a naive value on SQLite.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def recommend(*, booking: Booking, limit: int = 20, world: World | None = None) -> list[Recommendation]:
    """The best buyers for `booking`, ranked by score, each with its reasons and interpreter choices."""
    world = world or load_world([booking])
    out = []
    for c in world.candidates(booking)[:limit]:
        out.append(
            Recommendation(
                buyer=world.buyers[c.buyer_id],
                info=world.infos[c.buyer_id],
                score=c.score,
                needs_interpreter=c.needs_interpreter,
                interpreters=tuple(world.interpreters[i] for i in c.interpreter_ids),
                load=c.load,
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
        "within_hours": lambda: _("Buyer's hours %(start)s–%(end)s %(tz)s cover the slot", **hours),
        "outside_hours": lambda: _("Outside the buyer's hours %(start)s–%(end)s %(tz)s", **hours),
        "new_pair": lambda: _("First meeting with this company"),
        "follow_up": lambda: _("Met this company before: follow-up"),
        "load": lambda: _("Already has %(n)s consultations in this round", n=d),
    }
    text = texts.get(reason.code)
    return text() if text else reason.code
