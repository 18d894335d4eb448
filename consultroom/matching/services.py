"""Match a booking with a buyer and an interpreter, and record their answers (issue 4, item 5).

The lifecycle: requested -> matched (proposed: both parties asked by signed link, answer by
`respond_by`) -> confirmed (both accepted; a meeting link is made). A decline, a lapse or staff
clearing the match sends the booking back to requested. The database decides races (exclusion
constraints / triggers on overlapping buyers and interpreters, one buyer per company and round);
these functions ask first so the usual refusal has a clear message, and map a lost race to the
same Conflict inside a SAVEPOINT so the caller's transaction survives.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from flask import current_app
from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.bookings.models import Booking, BookingStatus
from consultroom.buyers.models import Buyer
from consultroom.db import utcnow
from consultroom.errors import Conflict, Invalid
from consultroom.extensions import db
from consultroom.interpreters.availability import Exception_, WeeklyHours, is_available
from consultroom.interpreters.models import Interpreter
from consultroom.matching import confirmation as notify
from consultroom.matching.meeting import new_meeting_url, valid_meeting_url
from consultroom.matching.settings import ALWAYS, get_interpreter_policy
from consultroom.timeutil import SEOUL, seoul_to_utc

Party = Literal["buyer", "interpreter"]
PARTIES: tuple[Party, ...] = ("buyer", "interpreter")
PENDING, ACCEPTED, DECLINED = "pending", "accepted", "declined"
OPEN_FOR_MATCHING = (BookingStatus.REQUESTED.value, BookingStatus.MATCHED.value)
ACTIVE = Booking.status != BookingStatus.CANCELLED.value


def match_snapshot(b: Booking) -> dict[str, Any]:
    """The match columns, for audit entries (before/after)."""
    return {
        "status": b.status,
        "buyer_id": b.buyer_id,
        "interpreter_id": b.interpreter_id,
        "buyer_response": b.buyer_response,
        "interpreter_response": b.interpreter_response,
        "match_score": b.match_score,
        "match_version": b.match_version,
        "respond_by": b.respond_by.isoformat() if b.respond_by else None,
        "confirmed_at": b.confirmed_at.isoformat() if b.confirmed_at else None,
        "meeting_url": b.meeting_url,
    }


# --- checks --------------------------------------------------------------------------------------


def company_languages(booking: Booking) -> set[str]:
    """What the company speaks for this consultation: the request's languages and the profile's."""
    return {c.lower() for c in (booking.languages or [])} | {c.lower() for c in booking.company.languages}


def needs_interpreter(booking: Booking, buyer: Buyer) -> bool:
    return not (company_languages(booking) & {c.lower() for c in buyer.languages})


def interpreter_available(interpreter: Interpreter, starts_at: datetime, ends_at: datetime) -> bool:
    weekly = [WeeklyHours(h.weekday, h.start, h.end) for h in interpreter.hours]
    exceptions = [Exception_(e.day, e.available, e.start, e.end) for e in interpreter.exceptions]
    return is_available(weekly, exceptions, starts_at, ends_at)


def sessions_on_day(interpreter_id: int, moment: datetime, *, excluding: int | None = None) -> int:
    """Active bookings of the interpreter on the Seoul day of `moment`."""
    day = moment.astimezone(SEOUL).date()
    start = seoul_to_utc(day, datetime.min.time())
    stmt = select(func.count(Booking.id)).where(
        Booking.interpreter_id == interpreter_id,
        ACTIVE,
        Booking.starts_at >= start,
        Booking.starts_at < start + timedelta(days=1),
    )
    if excluding is not None:
        stmt = stmt.where(Booking.id != excluding)
    return db.session.scalar(stmt) or 0


def _lock_parties(buyer: Buyer, interpreter: Interpreter | None) -> None:
    """Row locks on the buyer, then the interpreter, before checking and writing.

    Two staff proposing the same interpreter for two bookings on one day would both pass the daily
    count; and two transactions each writing a booking for the same buyer at overlapping times
    would each wait on the other's row in the exclusion check, which PostgreSQL ends as a deadlock
    (a 500) rather than a conflict. With the locks the second waits, then sees the first's booking
    and gets a Conflict. Always buyer before interpreter, so two proposals cannot lock in a cycle.
    SQLite writers are already serialised (BEGIN IMMEDIATE), and SQLite has no FOR UPDATE.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.execute(select(Buyer.id).where(Buyer.id == buyer.id).with_for_update())
    if interpreter is not None:
        db.session.execute(select(Interpreter.id).where(Interpreter.id == interpreter.id).with_for_update())


def _overlapping(column, party_id: int, booking: Booking) -> Booking | None:
    return db.session.scalar(
        select(Booking)
        .where(
            column == party_id,
            ACTIVE,
            Booking.id != booking.id,
            Booking.starts_at < booking.ends_at,
            Booking.ends_at > booking.starts_at,
        )
        .limit(1)
    )


def _buyer_busy(buyer: Buyer) -> Conflict:
    return Conflict(_("The buyer %(name)s already has a consultation at this time.", name=buyer.company_name))


def _interpreter_busy(interpreter: Interpreter) -> Conflict:
    return Conflict(_("The interpreter %(name)s already has a consultation at this time.", name=interpreter.name))


def _buyer_met_company(buyer: Buyer) -> Conflict:
    return Conflict(_("The buyer %(name)s already meets this company in this round.", name=buyer.company_name))


def _conflict_for(exc: IntegrityError, buyer: Buyer, interpreter: Interpreter | None) -> Conflict:
    orig = exc.orig
    name = getattr(getattr(orig, "diag", None), "constraint_name", None) or str(orig)
    if "ex_bookings_buyer_overlap" in name:
        return _buyer_busy(buyer)
    if "ex_bookings_interpreter_overlap" in name and interpreter is not None:
        return _interpreter_busy(interpreter)
    if "uq_bookings_round_company_buyer_active" in name or "bookings.buyer_id" in name:
        return _buyer_met_company(buyer)
    raise exc


def check_proposal(*, booking: Booking, buyer: Buyer, interpreter: Interpreter | None) -> None:
    """Every rule of a proposal, asked in the order staff would fix them; raises Conflict."""
    if not booking.active or booking.status not in OPEN_FOR_MATCHING:
        raise Conflict(_("This booking can no longer be matched."))
    if not buyer.active:
        raise Conflict(_("The buyer %(name)s is not active.", name=buyer.company_name))
    if interpreter is None:
        if get_interpreter_policy() == ALWAYS:
            raise Conflict(
                _("The program puts an interpreter on every consultation: choose an interpreter (buyer: %(name)s).",
                  name=buyer.company_name)
            )  # fmt: skip
        if needs_interpreter(booking, buyer):
            raise Conflict(
                _("The company and the buyer %(name)s share no language: choose an interpreter.",
                  name=buyer.company_name)
            )  # fmt: skip
    else:
        if not interpreter.active:
            raise Conflict(_("The interpreter %(name)s is not active.", name=interpreter.name))
        if not {c.lower() for c in interpreter.languages} & {c.lower() for c in buyer.languages}:
            raise Conflict(
                _("The interpreter %(name)s does not speak the buyer's languages (%(languages)s).",
                  name=interpreter.name, languages=", ".join(buyer.languages) or "-")
            )  # fmt: skip
        if not interpreter_available(interpreter, booking.starts_at, booking.ends_at):
            raise Conflict(_("The interpreter %(name)s is not available at this time.", name=interpreter.name))
    if _overlapping(Booking.buyer_id, buyer.id, booking) is not None:
        raise _buyer_busy(buyer)
    met = db.session.scalar(
        select(Booking.id).where(
            Booking.buyer_id == buyer.id,
            Booking.company_id == booking.company_id,
            Booking.round_id == booking.round_id,
            Booking.id != booking.id,
            ACTIVE,
        )
    )
    if met is not None:
        raise _buyer_met_company(buyer)
    if interpreter is not None:
        if _overlapping(Booking.interpreter_id, interpreter.id, booking) is not None:
            raise _interpreter_busy(interpreter)
        if sessions_on_day(interpreter.id, booking.starts_at, excluding=booking.id) >= interpreter.max_sessions_per_day:
            raise Conflict(
                ngettext("The interpreter %(name)s already has %(num)d session that day, the most allowed.",
                         "The interpreter %(name)s already has %(num)d sessions that day, the most allowed.",
                         interpreter.max_sessions_per_day, name=interpreter.name)
            )  # fmt: skip


# --- proposing and clearing ------------------------------------------------------------------------


def respond_deadline(booking: Booking, now: datetime) -> datetime:
    hours = int(current_app.config.get("MATCH_RESPONSE_HOURS", 48))
    return min(now + timedelta(hours=hours), booking.starts_at)


def propose_match(
    *,
    booking: Booking,
    buyer: Buyer,
    interpreter: Interpreter | None,
    actor: User,
    score: int | None = None,
    now: datetime | None = None,
) -> Booking:
    """Propose `buyer` (and `interpreter`, unless the company and the buyer share a language) for
    `booking`; both are asked by mail to accept before `respond_by`. A booking already matched gets
    the new proposal, and the links of the earlier one stop working (match_version)."""
    now = now or utcnow()
    if booking.starts_at <= now:
        raise Conflict(_("This consultation has already begun."))
    _lock_parties(buyer, interpreter)
    check_proposal(booking=booking, buyer=buyer, interpreter=interpreter)
    before = match_snapshot(booking)
    replaced = notify.parties_of(booking)
    try:
        with db.session.begin_nested():
            booking.buyer_id = buyer.id
            booking.buyer = buyer
            booking.interpreter_id = interpreter.id if interpreter is not None else None
            booking.interpreter = interpreter
            booking.buyer_response = PENDING
            booking.interpreter_response = PENDING if interpreter is not None else None
            booking.match_score = score
            booking.match_version = (booking.match_version or 0) + 1
            booking.proposed_at = now
            booking.respond_by = respond_deadline(booking, now)
            booking.confirmed_at = None
            booking.meeting_url = ""
            booking.status = BookingStatus.MATCHED.value
            db.session.flush()
    except IntegrityError as exc:
        db.session.refresh(booking)
        raise _conflict_for(exc, buyer, interpreter) from exc
    record(actor=actor, action="booking.match.propose", obj=booking, before=before, after=match_snapshot(booking))
    # Someone from the earlier proposal who is not in this one hears that it is off.
    kept = set(notify.parties_of(booking))
    notify.match_off(booking, [p for p in replaced if p not in kept], reason="replaced")
    notify.match_proposed(booking)
    return booking


def _reset(booking: Booking, *, keep_decline: Party | None = None) -> None:
    booking.status = BookingStatus.REQUESTED.value
    booking.buyer_id = None
    booking.buyer = None
    booking.interpreter_id = None
    booking.interpreter = None
    # A decline is kept on the row so that the same answer sent again is recognised (idempotent).
    booking.buyer_response = DECLINED if keep_decline == "buyer" else None
    booking.interpreter_response = DECLINED if keep_decline == "interpreter" else None
    booking.match_score = None
    booking.proposed_at = None
    booking.respond_by = None
    booking.confirmed_at = None
    booking.meeting_url = ""


def clear_match(*, booking: Booking, actor: User, reason: str = "") -> Booking:
    """Staff withdraw the proposal (or the confirmed match) and the booking goes back to matching."""
    if not booking.active or booking.status not in (BookingStatus.MATCHED.value, BookingStatus.CONFIRMED.value):
        raise Conflict(_("This booking has no match to clear."))
    before = match_snapshot(booking)
    parties = notify.parties_of(booking)
    _reset(booking)
    # Links of the withdrawn proposal must not answer anything any more.
    booking.match_version = (booking.match_version or 0) + 1
    db.session.flush()
    record(
        actor=actor,
        action="booking.match.clear",
        obj=booking,
        before=before,
        after={**match_snapshot(booking), "reason": reason},
    )
    # The company heard of the proposal (and of a confirmation): it hears that it is withdrawn.
    notify.match_off(booking, parties, reason="withdrawn", company_too=True)
    return booking


# --- answers -------------------------------------------------------------------------------------


def _current_party_id(booking: Booking, party: Party) -> int | None:
    return booking.buyer_id if party == "buyer" else booking.interpreter_id


def respond(
    *,
    booking: Booking,
    party: Party,
    accept: bool,
    version: int,
    party_id: int | None = None,
    now: datetime | None = None,
) -> Booking:
    """Record a party's answer from a signed link. The same answer twice is accepted (idempotent);
    a different second answer, an answer to a replaced proposal or after `respond_by` is a Conflict."""
    now = now or utcnow()
    if party not in PARTIES:
        raise Invalid(_("Unknown party."))
    answer = ACCEPTED if accept else DECLINED
    column = f"{party}_response"
    if not booking.active:
        raise Conflict(_("This consultation has been cancelled."))
    if version != booking.match_version:
        raise Conflict(_("This proposal has been replaced or withdrawn; this link no longer works."))
    current = getattr(booking, column)
    if current in (ACCEPTED, DECLINED):
        if current == answer:
            return booking
        raise Conflict(_("You have already answered this proposal."))
    if booking.status != BookingStatus.MATCHED.value or current != PENDING:
        raise Conflict(_("This proposal is no longer open."))
    if party_id is not None and party_id != _current_party_id(booking, party):
        raise Conflict(_("This proposal is no longer open."))
    if booking.respond_by is not None and booking.respond_by <= now:
        raise Conflict(_("The time to answer this proposal has passed."))

    before = match_snapshot(booking)
    setattr(booking, column, answer)
    if not accept:
        parties = notify.parties_of(booking)
        others = [p for p in parties if p[0] != party]
        _reset(booking, keep_decline=party)
        db.session.flush()
        record(
            actor=None,
            action="booking.match.decline",
            obj=booking,
            before=before,
            after={**match_snapshot(booking), "party": party},
        )
        notify.match_off(booking, others, reason="declined", company_too=True)
        notify.staff_told(booking, reason="declined", parties=parties, party=party)
        return booking

    both = booking.buyer_response == ACCEPTED and (
        booking.interpreter_id is None or booking.interpreter_response == ACCEPTED
    )
    if both:
        booking.status = BookingStatus.CONFIRMED.value
        booking.confirmed_at = now
        if not booking.meeting_url:
            booking.meeting_url = new_meeting_url()
    db.session.flush()
    record(
        actor=None,
        action="booking.match.accept",
        obj=booking,
        before=before,
        after={**match_snapshot(booking), "party": party},
    )
    if both:
        notify.match_confirmed(booking)
    return booking


def check_parties_free(*, booking: Booking, starts_at: datetime, ends_at: datetime) -> None:
    """Before a booking moves: its buyer and interpreter must be free at the new time (rule 1).
    The database decides a race; this gives the usual refusal a clear message."""
    for column, party in ((Booking.buyer_id, booking.buyer), (Booking.interpreter_id, booking.interpreter)):
        if party is None:
            continue
        clash = db.session.scalar(
            select(Booking.id)
            .where(
                column == party.id,
                ACTIVE,
                Booking.id != booking.id,
                Booking.starts_at < ends_at,
                Booking.ends_at > starts_at,
            )
            .limit(1)
        )
        if clash is not None:
            raise _buyer_busy(party) if isinstance(party, Buyer) else _interpreter_busy(party)


def check_interpreter_can_move(*, booking: Booking, starts_at: datetime, ends_at: datetime) -> None:
    """Before a booking moves: its interpreter must work at the new time, by the same rules matching
    applies (weekly hours and dated exceptions, at most max_sessions_per_day that Seoul day).

    The move is refused, naming the interpreter, rather than dropping them: the program may require
    an interpreter on every consultation, and a silent drop would turn an interpreted, confirmed
    consultation into one nobody is assigned to. Staff choose another time, or assign another
    interpreter (who is then asked by mail) and move after that.
    """
    interpreter = booking.interpreter
    if interpreter is None:
        return
    when = format_datetime(starts_at, "short")
    if not interpreter_available(interpreter, starts_at, ends_at):
        raise Conflict(
            _(
                "The interpreter %(name)s does not work at the new time (%(when)s). Choose another time, "
                "or assign another interpreter first and then move the consultation.",
                name=interpreter.name,
                when=when,
            )
        )
    same_day = booking.starts_at.astimezone(SEOUL).date() == starts_at.astimezone(SEOUL).date()
    if not same_day and sessions_on_day(interpreter.id, starts_at) >= interpreter.max_sessions_per_day:
        raise Conflict(
            _(
                "The interpreter %(name)s already has %(n)d sessions on the day of the new time (%(when)s), "
                "the most allowed. Choose another time, or assign another interpreter first.",
                name=interpreter.name,
                n=interpreter.max_sessions_per_day,
                when=when,
            )
        )


def reask_parties(*, booking: Booking, now: datetime) -> None:
    """A matched or confirmed booking got a new time: its buyer and interpreter answer again.

    A new match_version makes the links of the earlier mails answer 'replaced'; the booking is
    'matched' until both accept the new time. The meeting link stays: it does not depend on the time.
    """
    booking.status = BookingStatus.MATCHED.value
    booking.buyer_response = PENDING
    booking.interpreter_response = PENDING if booking.interpreter_id is not None else None
    booking.match_version = (booking.match_version or 0) + 1
    booking.proposed_at = now
    booking.respond_by = respond_deadline(booking, now)
    booking.confirmed_at = None


def lapse_expired(*, now: datetime | None = None) -> list[int]:
    """Send every proposal whose time to answer has passed back to matching; returns booking ids."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Booking)
        .where(Booking.status == BookingStatus.MATCHED.value, Booking.respond_by <= now)
        .order_by(Booking.id)
    ).all()
    done = []
    for booking in due:
        before = match_snapshot(booking)
        parties = notify.parties_of(booking)
        _reset(booking)
        db.session.flush()
        record(actor=None, action="booking.match.lapse", obj=booking, before=before, after=match_snapshot(booking))
        notify.match_off(booking, parties, reason="lapsed", company_too=True)
        notify.staff_told(booking, reason="lapsed", parties=parties, party=None)
        done.append(booking.id)
    return done


def set_meeting_url(*, booking: Booking, url: str, actor: User) -> Booking:
    """Staff replace the generated room with their own (e.g. Zoom or Teams) link."""
    url = (url or "").strip()
    if not valid_meeting_url(url):
        message = _("Enter a full http:// or https:// link.")
        raise Invalid(message, fields={"meeting_url": [message]})
    if not booking.active:
        raise Conflict(_("This booking is cancelled."))
    before = match_snapshot(booking)
    booking.meeting_url = url
    db.session.flush()
    record(actor=actor, action="booking.meeting_url", obj=booking, before=before, after=match_snapshot(booking))
    if booking.status == BookingStatus.CONFIRMED.value and before["meeting_url"] != url:
        notify.match_confirmed(booking, changed=True)
    return booking
