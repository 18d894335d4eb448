"""Whole-round proposals: every requested booking gets the best buyer and interpreter at once.

Buyers are assigned first (exact, with the greedy total beside it), then interpreters to the
consultations that need one. When no interpreter is left for a chosen pair, that pair is dropped
and both steps run again, so the stored draft always satisfies every rule. Staff edit lines,
see what an edit breaks, and confirm: then each line is proposed through `propose_match`, all in
the caller's one transaction, and the parties are mailed only then.
"""

from __future__ import annotations

import gc
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _
from sqlalchemy import Select, insert, select
from sqlalchemy.orm import selectinload

from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.bookings.models import Booking, BookingStatus
from consultroom.buyers.models import Buyer
from consultroom.db import utcnow
from consultroom.errors import Conflict, DomainError, Invalid
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter
from consultroom.matching import services
from consultroom.matching.assignment import (
    Pair,
    Result,
    Slot,
    assign_interpreters,
    solve_by_slot,
    solve_greedy,
    time_clusters,
    violations,
)
from consultroom.matching.models import ProposalLine, ProposalStatus, RoundProposal
from consultroom.matching.recommend import Quick, World, load_world, reason_rows, seoul_day
from consultroom.matching.scoring import EXACT_FITS, PARTIAL_FITS
from consultroom.matching.settings import ALWAYS
from consultroom.rounds.models import Round, RoundStatus

PROPOSABLE_ROUNDS = (RoundStatus.OPEN.value, RoundStatus.CLOSED.value)
# Candidates per booking given to the solver: the best by fit and score. With a few thousand
# bookings in a handful of slot times, twenty each keeps every slot's assignment small and fast,
# and the per-slot upper bound shows what a longer list could still gain.
PROPOSAL_POOL = 20
# Beyond those, a few of every fit tier (the HS chapter too): what a booking falls back on when the
# better-fitting buyers go to other bookings or find no interpreter.
PROPOSAL_FALLBACKS = 5


class LineConflict(Conflict):
    """Confirming failed at one line; nothing of the proposal was applied."""

    def __init__(self, message: str, *, line_id: int):
        super().__init__(message)
        self.line_id = line_id


@dataclass(frozen=True)
class Issue:
    """A rule the proposal breaks, with the lines concerned (to mark them on the page)."""

    message: str
    line_ids: tuple[int, ...]


@dataclass(frozen=True)
class Plan:
    buyers: dict[int, Pair]  # booking -> (booking, buyer, value)
    interpreters: dict[int, int]  # booking -> interpreter
    total: int  # points of the chosen pairs (what the lines show)
    greedy_total: int
    greedy_matched: int
    stats: dict[str, Any]


def waiting_stmt(rnd: Round) -> Select:
    """The round's bookings still waiting for a buyer (the proposals page counts them in SQL)."""
    return select(Booking).where(
        Booking.round_id == rnd.id,
        Booking.status == BookingStatus.REQUESTED.value,
        Booking.buyer_id.is_(None),
    )


def waiting_bookings(rnd: Round) -> list[Booking]:
    """The round's bookings still waiting for a buyer."""
    return list(db.session.scalars(waiting_stmt(rnd).order_by(Booking.starts_at, Booking.id)))


def slot_of(booking: Booking) -> Slot:
    return Slot(booking.id, booking.company_id, booking.starts_at, booking.ends_at, seoul_day(booking.starts_at))


def hours_rule(world: World) -> bool:
    """Outside the buyer's hours is a rule, not a preference, when the weights count it against."""
    return world.weights.outside_hours < 0


def interpreter_caps(world: World, days: set[date]) -> dict[int, int]:
    # A round is one day; should bookings span several, the tightest day's cap holds for all.
    return {i: min(world.remaining_cap(i, d) for d in days) for i in world.interpreters} if days else {}


def fit_of(reasons) -> str:
    """The fit tier of a scored line, from its stored reasons."""
    codes = {r[0] if isinstance(r, list | tuple) else r.code for r in reasons}
    return next((tier for tier in ("hs6", "hs4", "hs2", "industry") if tier in codes), "none")


def fit_shares(fits: list[str]) -> dict[str, int]:
    """Lines with exact (HS6), partial (HS4, HS2, industry) and no product fit."""
    return {
        "exact": sum(f in EXACT_FITS for f in fits),
        "partial": sum(f in PARTIAL_FITS for f in fits),
        "none": sum(f not in EXACT_FITS | PARTIAL_FITS for f in fits),
    }


def weak_reasons(line: ProposalLine) -> list[str]:
    """Why a line deserves a second look before confirming (it breaks no rule)."""
    if line.buyer_id is None:
        return [_("No buyer for this booking.")]
    codes = {r[0] for r in line.reasons}
    out = []
    fit = fit_of(line.reasons)
    if fit == "hs2":
        out.append(_("Weak product fit: only the HS chapter matches."))
    elif fit == "industry":
        out.append(_("Weak product fit: only the declared industry matches, no HS code."))
    elif fit == "none":
        out.append(_("No product fit."))
    if "outside_hours" in codes:
        out.append(_("Outside the buyer's meeting hours."))
    if "country" not in codes:
        out.append(_("The buyer's country is not among the target countries."))
    return out


def plan(world: World, bookings: list[Booking]) -> Plan:
    """Buyers by exact assignment per time slot over bounded candidate lists, and greedy beside it;
    then interpreters for each by maximum flow (pairs left without the interpreter they need go);
    then a repair step fills the bookings left without a line with the best candidate still free
    that has an interpreter still free then. The better of the two repaired results is kept, so the
    total is never below greedy's, and the draft keeps every rule."""
    slots = {b.id: slot_of(b) for b in bookings}
    cands: dict[int, dict[int, Quick]] = {
        b.id: {
            c.buyer_id: c for c in world.quick_candidates(b, hours_rule=hours_rule(world), per_tier=PROPOSAL_FALLBACKS)
        }
        for b in bookings
    }
    pairs = [Pair(bid, c.buyer_id, c.value) for bid, by_buyer in cands.items() for c in by_buyer.values()]
    caps = interpreter_caps(world, {s.day for s in slots.values()})
    clusters = time_clusters(slots)
    cluster_of = {b: k for k, rows in enumerate(clusters) for b in rows}

    def staffed(result: Result) -> tuple[dict[int, Pair], dict[int, int], int]:
        """The result's pairs that get the interpreter they need (the most possible, by maximum
        flow), those interpreters, and how many pairs needed one."""
        # Best lines first: where bookings share interpreters, those are covered first.
        need = {bid: cands[bid][p.party_id] for bid, p in sorted(result.chosen.items(), key=lambda x: -x[1].score)}
        need = {bid: c for bid, c in need.items() if c.needs_interpreter}
        interp = assign_interpreters(slots, {bid: c.interpreter_ids for bid, c in need.items()}, caps)
        kept = {bid: p for bid, p in result.chosen.items() if bid not in need or bid in interp}
        return kept, interp, len(need)

    def repaired(kept: dict[int, Pair], interp: dict[int, int]) -> tuple[dict[int, Pair], dict[int, int]]:
        """Fill the bookings without a line, best candidate value first, with buyers still free in
        that time cluster (and not meeting the company yet) and, where needed, an interpreter still
        free then and under the day's cap (the one with most of the cap left, to spare the others)."""
        kept, interp = dict(kept), dict(interp)
        buyer_at = {(p.party_id, cluster_of[b]) for b, p in kept.items()}
        met = {(slots[b].company_id, p.party_id) for b, p in kept.items()}
        used: dict[int, int] = defaultdict(int)
        for i in interp.values():
            used[i] += 1
        # Per time cluster, the interpreters still free then and under their cap.
        open_at = [{i for i in caps if used[i] < caps[i]} for _rows in clusters]
        for b, i in interp.items():
            open_at[cluster_of[b]].discard(i)
        options = sorted(
            ((c.value, b, c) for b, by_buyer in cands.items() if b not in kept for c in by_buyer.values()),
            key=lambda o: (-o[0], o[1], o[2].buyer_id),
        )
        for _value, b, c in options:
            k = cluster_of[b]
            if b in kept or (c.buyer_id, k) in buyer_at or (slots[b].company_id, c.buyer_id) in met:
                continue
            chosen = None
            if c.needs_interpreter:
                free = open_at[k].intersection(c.interpreter_ids)
                if not free:
                    continue
                chosen = max(free, key=lambda i: (caps[i] - used[i], -i))
                interp[b] = chosen
                used[chosen] += 1
                open_at[k].discard(chosen)
                if used[chosen] >= caps[chosen]:
                    for others in open_at:
                        others.discard(chosen)
            kept[b] = Pair(b, c.buyer_id, c.value)
            buyer_at.add((c.buyer_id, k))
            met.add((slots[b].company_id, c.buyer_id))
        return kept, interp

    def extended(kept: dict[int, Pair], interp: dict[int, int]) -> tuple[dict[int, Pair], dict[int, int]]:
        """More lines where interpreters allow. The repair takes an interpreter still free, but
        covering one more booking may need lines to move: a line whose buyer another interpreter
        can serve, or that has an equally fitting buyer with another language, frees the only
        interpreter of a booking left without one. A maximum flow that keeps every covered line
        covered (each through its own buyer's interpreters or those of a buyer free then) finds
        those moves; a line whose interpreter changes to one its buyer cannot use takes its best
        candidate who can, and each newly covered booking its best candidate the interpreter serves
        (buyer free then, not meeting the company yet), best first. Kept only if the total grows."""
        if not caps:
            return kept, interp
        buyer_at = {(p.party_id, cluster_of[b]) for b, p in kept.items()}
        met = {(slots[b].company_id, p.party_id) for b, p in kept.items()}

        def free(b: int) -> list[Quick]:
            k, company = cluster_of[b], slots[b].company_id
            return [
                c
                for c in cands[b].values()
                if c.needs_interpreter and (c.buyer_id, k) not in buyer_at and (company, c.buyer_id) not in met
            ]

        keep = {b: i for b, i in interp.items() if b in kept}
        options = {b: cs for b in cands if b not in kept and (cs := free(b))}
        if not options:
            return kept, interp
        memo: dict[frozenset[int], tuple[int, ...]] = {}
        eligible = {
            b: _union_of([cands[b][kept[b].party_id].interpreter_ids, *(c.interpreter_ids for c in free(b))], memo)
            for b in keep
        }
        best_first = sorted(options, key=lambda b: (-max(c.value for c in options[b]), b))
        eligible.update({b: _union_of((c.interpreter_ids for c in options[b]), memo) for b in best_first})
        flow = assign_interpreters(slots, eligible, caps, keep=keep)
        if len(flow) <= len(keep):
            return kept, interp
        new_kept, new_interp = dict(kept), {**interp, **{b: i for b, i in flow.items() if b in keep}}

        def take(b: int, i: int) -> bool:
            fits = [c for c in free(b) if i in c.interpreter_ids]
            if not fits:
                return False
            best = max(fits, key=lambda c: (c.value, -c.buyer_id))
            new_kept[b], new_interp[b] = Pair(b, best.buyer_id, best.value), i
            buyer_at.add((best.buyer_id, cluster_of[b]))
            met.add((slots[b].company_id, best.buyer_id))
            return True

        # Lines whose new interpreter their buyer cannot use change buyer first (their old buyer freed).
        moved = [b for b in keep if flow[b] not in cands[b][kept[b].party_id].interpreter_ids]
        for b in moved:
            buyer_at.discard((kept[b].party_id, cluster_of[b]))
            met.discard((slots[b].company_id, kept[b].party_id))
        for b in moved:
            if not take(b, flow[b]):
                return kept, interp  # another line took the only buyer it could move to
        for b in best_first:
            if b in flow:
                take(b, flow[b])
        if sum(p.score for p in new_kept.values()) <= sum(p.score for p in kept.values()):
            return kept, interp
        return new_kept, new_interp

    limits: dict[int, int] | None = None
    if world.policy == ALWAYS:
        # Every consultation needs an interpreter: a slot time holds no more consultations than
        # interpreters free then, which keeps the upper bound honest when interpreters are short.
        limits = {}
        for rows in clusters:
            tuples = {id(c.interpreter_ids): c.interpreter_ids for b in rows for c in cands[b].values()}
            free = set().union(*tuples.values()) if tuples else set()
            limits.update({b: len(free) for b in rows})
    solved = solve_by_slot(slots, pairs, cluster_limit=limits)
    bound = solved.upper_bound  # of the buyer assignment alone: a relaxation, so it bounds the draft too
    if world.policy == ALWAYS and cands:
        # Every line needs an interpreter, so there are no more lines than the interpreters' hours
        # and caps allow for all these bookings together (a maximum flow), each worth at most its best pair.
        memo: dict[frozenset[int], tuple[int, ...]] = {}
        everyone = {b: _union_of((c.interpreter_ids for c in by.values()), memo) for b, by in cands.items() if by}
        most = len(assign_interpreters(slots, everyone, caps))
        best = sorted((max(c.value for c in by.values()) for by in cands.values() if by), reverse=True)
        bound = min(bound, sum(best[:most]))
    s_kept, s_interp, _s_needing = staffed(solved.result)
    greedy = solve_greedy(slots, pairs)
    # Greedy as a person would run it: best pair first, then interpreters; pairs left without one go.
    g_kept, g_interp, _g_needing = staffed(greedy)
    solver_objective = sum(p.score for p in s_kept.values())
    greedy_objective = sum(p.score for p in g_kept.values())
    r_kept, r_interp = repaired(s_kept, s_interp)
    rg_kept, rg_interp = repaired(g_kept, g_interp)
    if sum(p.score for p in rg_kept.values()) > sum(p.score for p in r_kept.values()):
        buyers, interp, method, base, first = rg_kept, rg_interp, "greedy+repair", g_kept, greedy
    else:
        buyers, interp, method, base, first = r_kept, r_interp, solved.result.method + "+repair", s_kept, solved.result
    repaired_lines = len(buyers) - len(base)
    buyers, interp = extended(buyers, interp)
    # Bookings whose buyer found no interpreter, and no other buyer with one was found for them.
    dropped = [b for b in first.chosen if b not in base and b not in buyers]

    def points(result_pairs) -> int:
        return sum(cands[p.booking_id][p.party_id].total for p in result_pairs)

    stats = {
        "method": method,
        "objective": sum(p.score for p in buyers.values()),
        "solver_objective": solver_objective,  # the per-slot solver's after interpreters, before repair
        "greedy_objective": greedy_objective,
        "upper_bound": bound,
        "fits": fit_shares([cands[b][p.party_id].fit for b, p in buyers.items()]),
        "greedy_fits": fit_shares([cands[b][p.party_id].fit for b, p in g_kept.items()]),
        "needing_interpreter": len([b for b, p in buyers.items() if cands[b][p.party_id].needs_interpreter]),
        "with_interpreter": len([b for b in interp if b in buyers]),
        "dropped_for_interpreter": len(dropped),
        "repaired": repaired_lines,  # lines the repair step added
        "extended": len(buyers) - len(base) - repaired_lines,  # lines added by moving interpreters
        "policy": world.policy,
    }
    return Plan(
        buyers=buyers,
        interpreters={bid: i for bid, i in interp.items() if bid in buyers},
        total=points(buyers.values()),
        greedy_total=points(g_kept.values()),
        greedy_matched=len(g_kept),
        stats=stats,
    )


def _union_of(tuples, memo: dict[frozenset[int], tuple[int, ...]] | None = None) -> tuple[int, ...]:
    """The interpreters of several candidates together. With `memo`, equal unions of the same
    tuples are one object, so bookings sharing them share a node in `assign_interpreters`."""
    seen: dict[int, tuple[int, ...]] = {}
    for t in tuples:
        seen.setdefault(id(t), t)
    if memo is None:
        return tuple(sorted(set().union(*seen.values()))) if seen else ()
    key = frozenset(seen)
    if key not in memo:
        memo[key] = tuple(sorted(set().union(*seen.values()))) if seen else ()
    return memo[key]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a round is planned: planning makes a few hundred
    thousand short-lived tuples and no cycles, and every collection it triggers walks the whole
    registry copy too (a third of a warm proposal's time at 20,000 buyers)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _discard_drafts(rnd: Round, actor: User) -> None:
    for old in db.session.scalars(
        select(RoundProposal).where(RoundProposal.round_id == rnd.id, RoundProposal.status == ProposalStatus.DRAFT)
    ):
        old.status = ProposalStatus.DISCARDED
        old.decided_at = utcnow()
        old.decided_by_id = actor.id
    db.session.flush()


def create_proposal(*, rnd: Round, actor: User) -> RoundProposal:
    """A draft proposal for every booking of the round still waiting for a buyer (replacing any draft)."""
    if rnd.status not in PROPOSABLE_ROUNDS:
        raise Conflict(_("Proposals are made for rounds that are open or closed for booking."))
    with _gc_paused():  # from the bookings read to the lines written: thousands of rows each
        bookings = waiting_bookings(rnd)
        if not bookings:
            raise Conflict(_("No booking of this round is waiting for a buyer."))
        _discard_drafts(rnd, actor)
        # The lines need no company object: their rows are enough for the requests.
        world = load_world(bookings, pool_size=PROPOSAL_POOL, with_companies=False)
        result = plan(world, bookings)
        proposal = RoundProposal(
            round_id=rnd.id,
            status=ProposalStatus.DRAFT,
            exact_total=result.total,
            exact_matched=len(result.buyers),
            greedy_total=result.greedy_total,
            greedy_matched=result.greedy_matched,
            weights=asdict(world.weights),
            stats=result.stats,
            created_by_id=actor.id,
        )
        db.session.add(proposal)
        db.session.flush()
        rows = []
        for b in bookings:
            row: dict[str, Any] = {"proposal_id": proposal.id, "booking_id": b.id, "buyer_id": None,
                                   "interpreter_id": None, "score": None, "reasons": [], "edited": False}  # fmt: skip
            pair = result.buyers.get(b.id)
            if pair is not None:
                score = world.score(b, pair.party_id)
                row.update(
                    buyer_id=pair.party_id,
                    interpreter_id=result.interpreters.get(b.id),
                    score=score.total,
                    reasons=reason_rows(score),
                )
            rows.append(row)
        # With RETURNING, SQLAlchemy sends the rows as a few multi-row INSERTs ("insertmanyvalues",
        # one compiled statement); without it, psycopg 3 sends one statement per row, and the unit of
        # work or `.values(rows)` cost more than solving the round. The lines load on first use.
        lines = ProposalLine.__table__
        db.session.connection().execute(insert(lines).returning(lines.c.id), rows).all()
    db.session.expire(proposal, ["lines"])
    record(
        actor=actor,
        action="matching.proposal.create",
        obj=proposal,
        after={
            "round_id": rnd.id,
            "lines": len(bookings),
            "matched": len(result.buyers),
            "exact_total": result.total,
            "greedy_total": result.greedy_total,
        },
    )
    return proposal


def load_proposal_world(proposal: RoundProposal) -> World:
    bookings = list(
        db.session.scalars(
            select(Booking).where(Booking.id.in_([line.booking_id for line in proposal.lines])).order_by(Booking.id)
        )
    )
    # The buyers on the lines are loaded even when an edit put one outside the candidate pools.
    return load_world(
        bookings,
        extra_buyer_ids=[ln.buyer_id for ln in proposal.lines if ln.buyer_id is not None],
        extra_interpreter_ids=[ln.interpreter_id for ln in proposal.lines if ln.interpreter_id is not None],
    )


def _require_draft(proposal: RoundProposal) -> None:
    if proposal.status != ProposalStatus.DRAFT:
        raise Conflict(_("This proposal is no longer a draft."))


def edit_line(
    *, line: ProposalLine, buyer_id: int | None, interpreter_id: int | None, actor: User, world: World | None = None
) -> ProposalLine:
    """Put another buyer or interpreter on a line (or none). Rules are not refused here but shown by
    `check`, which blocks confirmation while anything is broken."""
    _require_draft(line.proposal)
    errors: dict[str, list[str]] = {}
    buyer = db.session.get(Buyer, buyer_id) if buyer_id is not None else None
    if buyer_id is not None and (buyer is None or not buyer.active):
        errors["buyer_id"] = [_("Choose an active buyer.")]
    interpreter = db.session.get(Interpreter, interpreter_id) if interpreter_id is not None else None
    if interpreter_id is not None and (interpreter is None or not interpreter.active):
        errors["interpreter_id"] = [_("Choose an active interpreter.")]
    if buyer is None and interpreter is not None:
        errors["interpreter_id"] = [_("Choose a buyer before an interpreter.")]
    if errors:
        raise Invalid(next(iter(errors.values()))[0], fields=errors)
    before = {"buyer_id": line.buyer_id, "interpreter_id": line.interpreter_id, "score": line.score}
    line.buyer_id = buyer_id
    line.interpreter_id = interpreter_id
    if buyer is not None:
        world = world or load_proposal_world(line.proposal)
        score = world.score(line.booking, buyer.id)
        line.score, line.reasons = score.total, reason_rows(score)
    else:
        line.score, line.reasons = None, []
    line.edited = True
    db.session.flush()
    after = {"buyer_id": line.buyer_id, "interpreter_id": line.interpreter_id, "score": line.score}
    record(actor=actor, action="matching.proposal.edit_line", obj=line, before=before, after=after)
    return line


# --- checking ----------------------------------------------------------------------------------------

_OVERLAP = re.compile(r"party (\d+) in bookings (\d+) and (\d+) at overlapping times")
_TWICE = re.compile(r"party (\d+) twice with company (\d+)")
_DAILY = re.compile(r"party (\d+) has (\d+) sessions on (\S+)")


def _when(booking: Booking) -> str:
    return format_datetime(booking.starts_at, "short")


def check(proposal: RoundProposal, world: World) -> list[Issue]:
    """Every rule the proposal as it stands breaks; empty when it may be confirmed.

    Among the lines: the assignment rule checker (`violations`) for buyers and for interpreters.
    Per line: a language route, the interpreter's language and hours, the buyer's hours when they
    count as a rule. What changed outside the proposal since it was made is `propose_match`'s to
    find at confirmation.
    """
    issues: list[Issue] = []
    by_booking = {line.booking_id: line for line in proposal.lines}
    matched = [line for line in proposal.lines if line.buyer_id is not None]
    slots = {line.booking_id: slot_of(world.bookings[line.booking_id]) for line in matched}
    buyer_result = Result({ln.booking_id: Pair(ln.booking_id, ln.buyer_id, ln.score or 0) for ln in matched}, 0, "")
    with_interp = [line for line in matched if line.interpreter_id is not None]
    interp_result = Result({ln.booking_id: Pair(ln.booking_id, ln.interpreter_id, 1) for ln in with_interp}, 0, "")
    caps = interpreter_caps(world, {s.day for s in slots.values()})
    for text in violations(slots, buyer_result, once_per_company=True):
        issues.append(_explain(text, "buyer", world, by_booking))
    for text in violations(slots, interp_result, once_per_company=False, daily_cap=caps):
        issues.append(_explain(text, "interpreter", world, by_booking))
    for line in matched:
        booking = world.bookings[line.booking_id]
        issues += _line_issues(line, booking, world)
    return issues


def _party_name(kind: str, party_id: int, world: World) -> str:
    if kind == "buyer":
        buyer = world.buyers.get(party_id) or db.session.get(Buyer, party_id)
        return buyer.company_name if buyer else str(party_id)
    interp = world.interpreters.get(party_id) or db.session.get(Interpreter, party_id)
    return interp.name if interp else str(party_id)


def _explain(text: str, kind: str, world: World, lines: dict[int, ProposalLine]) -> Issue:
    if m := _OVERLAP.fullmatch(text):
        party, a, b = (int(x) for x in m.groups())
        ba, bb = world.bookings[a], world.bookings[b]
        args = {
            "name": _party_name(kind, party, world),
            "first": f"{ba.company.display_name} {_when(ba)}",
            "second": f"{bb.company.display_name} {_when(bb)}",
        }
        message = (
            _("Buyer %(name)s is in two consultations at overlapping times: %(first)s and %(second)s.", **args)
            if kind == "buyer"
            else _(
                "Interpreter %(name)s is in two consultations at overlapping times: %(first)s and %(second)s.", **args
            )
        )
        return Issue(message, (lines[a].id, lines[b].id))
    if m := _TWICE.fullmatch(text):
        party, company_id = (int(x) for x in m.groups())
        concerned = [
            ln
            for ln in lines.values()
            if ln.buyer_id == party and world.bookings[ln.booking_id].company_id == company_id
        ]
        company = world.bookings[concerned[0].booking_id].company.display_name if concerned else str(company_id)
        message = _(
            "Buyer %(name)s meets %(company)s more than once in this round.",
            name=_party_name(kind, party, world),
            company=company,
        )
        return Issue(message, tuple(ln.id for ln in concerned))
    if m := _DAILY.fullmatch(text):
        party, n, day = int(m.group(1)), int(m.group(2)), date.fromisoformat(m.group(3))
        concerned = [ln for ln in lines.values() if ln.interpreter_id == party]
        message = _(
            "Interpreter %(name)s would have %(n)d sessions that day, more than the %(cap)d still allowed.",
            name=_party_name(kind, party, world),
            n=n,
            cap=world.remaining_cap(party, day),
        )
        return Issue(message, tuple(ln.id for ln in concerned))
    return Issue(text, ())  # pragma: no cover - a rule the checker learns later still blocks, in its words


def _line_issues(line: ProposalLine, booking: Booking, world: World) -> list[Issue]:
    out: list[str] = []
    buyer = world.buyers.get(line.buyer_id)
    if buyer is None:
        return [Issue(_("The buyer on this line is no longer active."), (line.id,))]
    needs = world.needs_interpreter(booking, buyer.id)
    interp = world.interpreters.get(line.interpreter_id) if line.interpreter_id is not None else None
    if line.interpreter_id is not None and interp is None:
        out.append(_("The interpreter on this line is no longer active."))
    if needs and line.interpreter_id is None and world.shares_language(booking, buyer.id):
        out.append(
            _(
                "The program puts an interpreter on every consultation: "
                "choose one (company: %(company)s; buyer: %(buyer)s).",
                company=booking.company.display_name,
                buyer=buyer.company_name,
            )
        )
    elif needs and line.interpreter_id is None:
        out.append(
            _(
                "%(company)s and %(buyer)s share no language: choose an interpreter.",
                company=booking.company.display_name,
                buyer=buyer.company_name,
            )
        )
    if interp is not None:
        if not set(interp.languages) & set(world.infos[buyer.id].languages):
            out.append(
                _(
                    "Interpreter %(name)s does not speak %(buyer)s's languages.",
                    name=interp.name,
                    buyer=buyer.company_name,
                )
            )
        if not interp.available(booking.starts_at, booking.ends_at):
            out.append(_("Interpreter %(name)s is not available at %(time)s.", name=interp.name, time=_when(booking)))
    if hours_rule(world) and not any(r[0] == "within_hours" for r in line.reasons):
        out.append(_("The slot is outside %(buyer)s's meeting hours.", buyer=buyer.company_name))
    return [Issue(m, (line.id,)) for m in out]


# --- confirming and discarding -----------------------------------------------------------------------


def confirm_proposal(*, proposal: RoundProposal, actor: User) -> RoundProposal:
    """Propose every line's match, in the caller's one transaction: on any failure the caller rolls
    back and nothing is applied (and no mail leaves, since mails are queued in that transaction)."""
    _require_draft(proposal)
    world = load_proposal_world(proposal)
    issues = check(proposal, world)
    if issues:
        raise Invalid(
            ngettext(
                "The proposal breaks %(num)d rule: fix it before confirming.",
                "The proposal breaks %(num)d rules: fix them before confirming.",
                len(issues),
            )
        )
    ordered = sorted(proposal.lines, key=lambda ln: (world.bookings[ln.booking_id].starts_at, ln.booking_id))
    applied = 0
    for number, line in enumerate(ordered, start=1):
        if line.buyer_id is None:
            continue
        booking = world.bookings[line.booking_id]
        try:
            services.propose_match(
                booking=booking,
                buyer=db.session.get(Buyer, line.buyer_id),
                interpreter=db.session.get(Interpreter, line.interpreter_id) if line.interpreter_id else None,
                actor=actor,
                score=line.score,
            )
        except DomainError as exc:
            raise LineConflict(
                _(
                    "Line %(n)d (%(company)s, %(time)s) could not be proposed: %(reason)s Nothing was applied.",
                    n=number,
                    company=booking.company.display_name,
                    time=_when(booking),
                    reason=exc.message,
                ),
                line_id=line.id,
            ) from exc
        applied += 1
    proposal.status = ProposalStatus.CONFIRMED
    proposal.decided_at = utcnow()
    proposal.decided_by_id = actor.id
    db.session.flush()
    record(
        actor=actor,
        action="matching.proposal.confirm",
        obj=proposal,
        before={"status": ProposalStatus.DRAFT},
        after={"status": ProposalStatus.CONFIRMED, "applied": applied, "total": proposal.total},
    )
    return proposal


def discard_proposal(*, proposal: RoundProposal, actor: User) -> RoundProposal:
    _require_draft(proposal)
    proposal.status = ProposalStatus.DISCARDED
    proposal.decided_at = utcnow()
    proposal.decided_by_id = actor.id
    db.session.flush()
    record(
        actor=actor,
        action="matching.proposal.discard",
        obj=proposal,
        before={"status": ProposalStatus.DRAFT},
        after={"status": ProposalStatus.DISCARDED},
    )
    return proposal


def proposal_lines(proposal_id: int) -> list[ProposalLine]:
    """The lines with their booking, company, buyer and interpreter, for the page."""
    return list(
        db.session.scalars(
            select(ProposalLine)
            .where(ProposalLine.proposal_id == proposal_id)
            .options(
                selectinload(ProposalLine.booking).selectinload(Booking.company),
                selectinload(ProposalLine.buyer),
                selectinload(ProposalLine.interpreter),
            )
            .order_by(ProposalLine.id)
        )
    )
