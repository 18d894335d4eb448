"""Changes to a consultation that keep every party in step (DESIGN rule 9, issue 13): cancelling,
asking to cancel, moving a booking, cancelling a whole round, and moving a booking to a time that
suits the buyer as part of proposing the match.

A consultation is a booking (bookings) with its match (matching): these changes sit above both, so
bookings never reaches up into matching and matching never calls back into bookings' changes.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.bookings.models import Booking, BookingStatus, ReminderSent
from consultroom.bookings.services import (
    ACTIVE,
    acting_for,
    booking_snapshot,
    can_cancel_now,
    check_bookable,
    clean_reason,
    conflict_for,
    expire_waitlist,
    promote_waitlist,
)
from consultroom.buyers.models import Buyer
from consultroom.db import utcnow
from consultroom.errors import Conflict, Invalid, NotAllowed
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter
from consultroom.matching import confirmation
from consultroom.matching.recommend import load_world
from consultroom.matching.services import (
    check_interpreter_can_move,
    check_parties_free,
    match_snapshot,
    propose_match,
    reask_parties,
)
from consultroom.rounds.models import Round, RoundStatus, Slot


def cancel_booking(*, booking: Booking, actor: User, reason: str, now: datetime | None = None) -> Booking:
    """Cancel a booking; everyone it concerns is told and their calendars drop it (DESIGN rule 9),
    and the freed slot goes to the waitlist."""

    now = now or utcnow()
    if not booking.active:
        raise Conflict(_("This booking is already cancelled."))
    if not can_cancel_now(booking, actor, now):
        if booking.starts_at > now and not actor.is_staff:
            raise Conflict(_("The cancellation deadline has passed. Please contact the program staff."))
        raise Conflict(_("This booking can no longer be cancelled."))
    reason = clean_reason(reason)
    before = booking_snapshot(booking)
    parties = confirmation.parties_of(booking)
    booking.status = BookingStatus.CANCELLED.value
    booking.cancelled_at = now
    booking.cancelled_by_id = actor.id
    booking.cancel_reason = reason
    db.session.flush()
    record(
        actor=actor,
        action="booking.cancel",
        obj=booking,
        before=before,
        after={**booking_snapshot(booking), "reason": reason},
    )
    confirmation.consultation_cancelled(booking, actor=actor, reason=reason, parties=parties)
    promote_waitlist(slot=booking.slot, now=now)
    return booking


def request_cancellation(*, booking: Booking, actor: User, reason: str, now: datetime | None = None) -> Booking:
    """After its deadline a company cannot cancel by itself: it asks, and staff decide (they may cancel)."""

    now = now or utcnow()
    acting_for(actor, booking.company)
    if not booking.active or booking.status in (BookingStatus.HELD, BookingStatus.NO_SHOW) or booking.starts_at <= now:
        raise Conflict(_("This booking can no longer be cancelled."))
    if can_cancel_now(booking, actor, now):
        raise Conflict(_("You can still cancel this booking yourself."))
    if booking.cancel_requested_at is not None:
        raise Conflict(_("You have already asked the staff to cancel this booking."))
    reason = clean_reason(reason)
    booking.cancel_requested_at = now
    booking.cancel_request_reason = reason
    booking.cancel_requested_by_id = actor.id
    db.session.flush()
    record(actor=actor, action="booking.cancel_request", obj=booking, after={"reason": reason})
    confirmation.cancel_requested(booking, actor=actor, reason=reason)
    return booking


def move_booking(*, booking: Booking, slot: Slot, actor: User, now: datetime | None = None) -> Booking:
    """Staff move a booking to another slot of the same round; the freed slot goes to the waitlist.

    An interpreter who does not work at the new time makes the move fail with a clear message
    (matching.services.check_interpreter_can_move says why it is refused rather than dropped).
    A proposed or confirmed buyer and interpreter agreed to the old time only: they are asked again
    (new links; the old ones stop working), and a decline sends the booking back to staff as any
    decline does (DESIGN rule 9). Reminders already sent were about the old time, so they go again.
    """

    now = now or utcnow()
    if not actor.is_staff:
        raise NotAllowed(_("Only staff can move bookings."))
    if not booking.active or booking.status in (BookingStatus.HELD, BookingStatus.NO_SHOW):
        raise Conflict(_("This booking can no longer be moved."))
    if slot.round_id != booking.round_id:
        raise Invalid(
            _("Choose a slot in the same round."), fields={"slot_id": [_("Choose a slot in the same round.")]}
        )
    if slot.id == booking.slot_id:
        return booking
    check_bookable(rnd=slot.round, slot=slot, actor=actor, now=now)
    check_parties_free(booking=booking, starts_at=slot.starts_at, ends_at=slot.ends_at)
    check_interpreter_can_move(booking=booking, starts_at=slot.starts_at, ends_at=slot.ends_at)
    old_slot = booking.slot
    old_starts_at = booking.starts_at
    # The match columns too: a move sends a confirmed match back to its parties (DESIGN rule 6).
    before = {**booking_snapshot(booking), **match_snapshot(booking)}
    parties = confirmation.parties_of(booking)
    try:
        with db.session.begin_nested():
            booking.slot_id = slot.id
            booking.slot = slot
            booking.starts_at = slot.starts_at
            booking.ends_at = slot.ends_at
            db.session.flush()
    except IntegrityError as exc:
        db.session.refresh(booking)
        conflict = _conflict_for_move(exc) or Conflict(_("This booking cannot be moved there."))
        raise conflict from exc
    if parties:
        reask_parties(booking=booking, now=now)
    db.session.execute(delete(ReminderSent).where(ReminderSent.booking_id == booking.id))
    db.session.flush()
    after = {**booking_snapshot(booking), **match_snapshot(booking)}
    record(actor=actor, action="booking.move", obj=booking, before=before, after=after)
    confirmation.consultation_moved(booking, old_starts_at=old_starts_at, parties=parties)
    promote_waitlist(slot=old_slot, now=now)
    return booking


def _conflict_for_move(exc: IntegrityError) -> Conflict | None:
    name = str(exc.orig)
    if "ex_bookings_buyer_overlap" in name or "ex_bookings_interpreter_overlap" in name:
        return Conflict(_("The buyer or the interpreter already has a consultation at that time."))
    return conflict_for(exc)


def cancel_for_round(*, rnd: Round, actor: User, reason: str) -> int:

    bookings = db.session.scalars(
        select(Booking).where(Booking.round_id == rnd.id, ACTIVE).order_by(Booking.starts_at, Booking.id)
    ).all()
    now = utcnow()
    told = []
    for b in bookings:
        told.append((b, confirmation.parties_of(b)))
        b.status = BookingStatus.CANCELLED.value
        b.cancelled_at = now
        b.cancelled_by_id = actor.id
        b.cancel_reason = reason
    expire_waitlist(rnd=rnd)
    db.session.flush()
    for b, parties in told:
        confirmation.consultation_cancelled(b, actor=actor, reason=reason, parties=parties, round_cancelled=True)
    return len(bookings)


# --- waitlist ----------------------------------------------------------------------------------


def cancel_round(*, rnd: Round, actor: User, reason: str) -> int:
    """Cancel a round and every active booking in it; every booker is told by mail. Returns bookings cancelled."""
    if rnd.status in (RoundStatus.CANCELLED, RoundStatus.HELD, RoundStatus.FINALIZED):
        raise Conflict(_("This round can no longer be cancelled."))
    before = {"status": rnd.status}
    rnd.status = RoundStatus.CANCELLED.value
    rnd.cancelled_at = utcnow()
    count = cancel_for_round(rnd=rnd, actor=actor, reason=reason)
    record(
        actor=actor,
        action="round.cancel",
        obj=rnd,
        before=before,
        after={"status": "cancelled", "reason": reason, "bookings_cancelled": count},
    )
    return count


def propose_match_at(
    *,
    booking: Booking,
    slot: Slot,
    buyer: Buyer,
    interpreter: Interpreter | None,
    actor: User,
    now: datetime | None = None,
) -> Booking:
    """Move a booking still waiting for a buyer to `slot` of its round (a time that suits the buyer)
    and propose the match there, in the caller's one transaction: the company hears of the move by
    the booking-moved mail, the parties get the proposal at the new time. Any refusal rolls back both."""
    if booking.status != BookingStatus.REQUESTED.value or booking.buyer_id is not None:
        raise Conflict(_("Only a booking still waiting for a buyer is moved as part of a proposal."))
    move_booking(booking=booking, slot=slot, actor=actor, now=now)

    world = load_world([booking], extra_buyer_ids=[buyer.id])
    score = world.score(booking, buyer.id).total if buyer.id in world.buyers else None
    return propose_match(booking=booking, buyer=buyer, interpreter=interpreter, actor=actor, score=score, now=now)
