"""Booking rules (DESIGN rules 1 and 2). The database enforces them; these functions ask first so
that the usual refusal has a clear message, and translate a lost race into the same Conflict."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.bookings.models import Booking, BookingStatus, WaitlistEntry
from consultroom.bookings.schemas import BookingRequest, clean_request
from consultroom.companies.models import Company
from consultroom.db import utcnow
from consultroom.errors import Conflict, Invalid, NotAllowed
from consultroom.extensions import db
from consultroom.rounds.models import Round, RoundStatus, Slot

ACTIVE = Booking.status != BookingStatus.CANCELLED.value


def request_from_company(company: Company) -> BookingRequest:
    return BookingRequest(
        products=company.products,
        hs_codes=company.hs_codes,
        target_countries=company.target_countries,
        languages=company.languages,
    )


def cancel_deadline(booking_or_slot_start: datetime, rnd: Round) -> datetime:
    return booking_or_slot_start - timedelta(hours=rnd.cancel_hours_before)


def acting_for(actor: User | None, company: Company) -> None:
    if actor is None or actor.is_staff:
        return
    if not (actor.is_sme and actor.company_id == company.id):
        raise NotAllowed(_("You can only book for your own company."))


def check_bookable(*, rnd: Round, slot: Slot, actor: User | None, now: datetime) -> None:
    by_staff = actor is not None and actor.is_staff
    if by_staff or actor is None:
        if rnd.status not in (RoundStatus.OPEN, RoundStatus.CLOSED):
            raise Conflict(_("This round is not taking bookings."))
    else:
        if rnd.status != RoundStatus.OPEN or not rnd.booking_opens_at <= now < rnd.booking_closes_at:
            raise Conflict(_("Booking for this round is not open."))
    if slot.closed:
        raise Conflict(_("This slot is closed."))
    if slot.starts_at <= now:
        raise Conflict(_("This slot has already begun."))


class SlotTaken(Conflict):
    """The slot has an active booking (found first, or by the unique index in a race): another free
    booth at the same time may still do, which is how `book_at_time` picks one."""


def conflict_for(exc: IntegrityError) -> Conflict | None:
    """Map a violated constraint to the message the user should read; None for a seq collision."""
    orig = exc.orig
    name = getattr(getattr(orig, "diag", None), "constraint_name", None) or str(orig)
    if "uq_bookings_slot_active" in name or "bookings.slot_id" in name:
        return SlotTaken(_("Someone else has just booked this slot. Please choose another one."))
    if "ex_bookings_company_overlap" in name:
        return Conflict(_("Your company already has a booking at this time."))
    if "uq_bookings_company_round_seq_active" in name or "bookings.round_id, bookings.company_id, bookings.seq" in name:
        return None
    if "seq_within_cap" in name:
        return None
    raise exc


def _cap_message(rnd: Round) -> Conflict:
    return Conflict(
        ngettext(
            "Your company already holds %(num)d booking in this round, the most allowed.",
            "Your company already holds %(num)d bookings in this round, the most allowed.",
            rnd.company_cap,
        )
    )


def book_slot(
    *,
    company: Company,
    slot: Slot,
    request: Mapping[str, Any] | BookingRequest | None,
    actor: User | None,
    now: datetime | None = None,
    from_waitlist: bool = False,
) -> Booking:
    now = now or utcnow()
    acting_for(actor, company)
    rnd = slot.round
    check_bookable(rnd=rnd, slot=slot, actor=actor, now=now)
    req = clean_request(request)

    # The usual refusals, asked first for a clear answer. The constraints below decide a race.
    taken = db.session.scalar(select(Booking.id).where(Booking.slot_id == slot.id, ACTIVE))
    if taken is not None:
        raise SlotTaken(_("Someone else has just booked this slot. Please choose another one."))
    overlap = db.session.scalar(
        select(Booking.id).where(
            Booking.company_id == company.id, ACTIVE, Booking.starts_at < slot.ends_at, Booking.ends_at > slot.starts_at
        )
    )
    if overlap is not None:
        raise Conflict(_("Your company already has a booking at this time."))

    for _attempt in range(rnd.company_cap + 1):
        used = set(
            db.session.scalars(
                select(Booking.seq).where(Booking.round_id == rnd.id, Booking.company_id == company.id, ACTIVE)
            )
        )
        free = [n for n in range(1, rnd.company_cap + 1) if n not in used]
        if not free:
            raise _cap_message(rnd)
        booking = Booking(
            round_id=rnd.id,
            slot_id=slot.id,
            company_id=company.id,
            status=BookingStatus.REQUESTED.value,
            seq=free[0],
            cap=rnd.company_cap,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            created_by_id=actor.id if actor is not None else None,
            from_waitlist=from_waitlist,
            **req.as_dict(),
        )
        try:
            with db.session.begin_nested():
                db.session.add(booking)
                db.session.flush()
        except IntegrityError as exc:
            conflict = conflict_for(exc)
            if conflict is not None:
                raise conflict from exc
            continue  # another booking of this company took the same place: look again
        break
    else:
        raise _cap_message(rnd)

    record(actor=actor, action="booking.create", obj=booking, after=booking_snapshot(booking))
    if not from_waitlist:  # a promoted company gets its own mail (waitlist_promoted)
        from consultroom.bookings.notify import booking_received

        booking_received(booking)
    return booking


def book_at_time(
    *,
    company: Company,
    rnd: Round,
    starts_at: datetime,
    request: Mapping[str, Any] | BookingRequest | None,
    actor: User | None,
    now: datetime | None = None,
) -> Booking:
    """Book any free booth at a start time: SMEs choose a time, the system picks the booth.

    The lowest free booth first (deterministic). A race for it is decided by the same unique index
    as `book_slot`; the loser tries the next free booth, each attempt in its own savepoint, so two
    companies asking for the same time at once get two booths (or one gets "full"), never one slot.
    """
    from consultroom.rounds.grid import free_slots_at

    now = now or utcnow()
    acting_for(actor, company)
    tried: set[int] = set()
    for _attempt in range(3):
        candidates = [s for s in free_slots_at(rnd, at=starts_at, now=now, limit=len(tried) + 5) if s.id not in tried]
        for slot in candidates:
            tried.add(slot.id)
            try:
                with db.session.begin_nested():
                    return book_slot(company=company, slot=slot, request=request, actor=actor, now=now)
            except SlotTaken:
                continue
        if not candidates:
            break
    raise Conflict(_("No booth is free at this time any more. Please choose another time."))


def booking_snapshot(b: Booking) -> dict[str, Any]:
    return {
        "status": b.status,
        "slot_id": b.slot_id,
        "company_id": b.company_id,
        "starts_at": b.starts_at.isoformat(),
        "products": b.products,
        "hs_codes": list(b.hs_codes or []),
        "target_countries": list(b.target_countries or []),
        "languages": list(b.languages or []),
    }


def can_cancel_now(booking: Booking, actor: User, now: datetime | None = None) -> bool:
    now = now or utcnow()
    if not booking.active or booking.status in (BookingStatus.HELD, BookingStatus.NO_SHOW):
        return False
    if booking.starts_at <= now:
        return False
    if actor.is_staff:
        return True
    return now < cancel_deadline(booking.starts_at, booking.round)


REASON_MAX = 500


def clean_reason(reason: str | None) -> str:
    """A cancellation needs a reason: the other parties and staff read it (issue 13, item 2)."""
    reason = (reason or "").strip()
    if not reason:
        message = _("Give a reason for the cancellation.")
        raise Invalid(message, fields={"reason": [message]})
    if len(reason) > REASON_MAX:
        message = _("Use at most %(n)d characters.", n=REASON_MAX)
        raise Invalid(message, fields={"reason": [message]})
    return reason


def free_slot_count(rnd: Round, now: datetime | None = None) -> int:
    now = now or utcnow()
    taken = select(Booking.slot_id).where(Booking.round_id == rnd.id, ACTIVE)
    return (
        db.session.scalar(
            select(func.count(Slot.id)).where(
                Slot.round_id == rnd.id, Slot.closed.is_(False), Slot.starts_at > now, Slot.id.not_in(taken)
            )
        )
        or 0
    )


def join_waitlist(
    *, company: Company, rnd: Round, request: Mapping[str, Any] | BookingRequest | None, actor: User
) -> WaitlistEntry:
    acting_for(actor, company)
    if rnd.status != RoundStatus.OPEN:
        raise Conflict(_("Booking for this round is not open."))
    if free_slot_count(rnd) > 0:
        raise Conflict(_("There are still free slots in this round; please book one."))
    req = clean_request(request)
    entry = WaitlistEntry(round_id=rnd.id, company_id=company.id, created_by_id=actor.id, **req.as_dict())
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict(_("Your company is already on the waitlist of this round.")) from exc
    record(actor=actor, action="waitlist.join", obj=entry, after={"round_id": rnd.id, "company_id": company.id})
    return entry


def leave_waitlist(*, entry: WaitlistEntry, actor: User) -> None:
    acting_for(actor, entry.company)
    if entry.status != "waiting":
        raise Conflict(_("This waitlist entry is no longer waiting."))
    entry.status = "left"
    record(actor=actor, action="waitlist.leave", obj=entry, before={"status": "waiting"}, after={"status": "left"})


def waitlist_position(entry: WaitlistEntry) -> int:
    return (
        db.session.scalar(
            select(func.count(WaitlistEntry.id)).where(
                WaitlistEntry.round_id == entry.round_id,
                WaitlistEntry.status == "waiting",
                (WaitlistEntry.created_at < entry.created_at)
                | ((WaitlistEntry.created_at == entry.created_at) & (WaitlistEntry.id < entry.id)),
            )
        )
        or 0
    ) + 1


def promote_waitlist(*, slot: Slot, now: datetime | None = None) -> Booking | None:
    """Give a freed slot to the first waiting company that can take it (cap and overlaps permitting)."""
    now = now or utcnow()
    rnd = slot.round
    if rnd.status not in (RoundStatus.OPEN, RoundStatus.CLOSED) or slot.closed or slot.starts_at <= now:
        return None
    entries = db.session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.round_id == rnd.id, WaitlistEntry.status == "waiting")
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    ).all()
    for entry in entries:
        try:
            with db.session.begin_nested():
                booking = book_slot(
                    company=entry.company,
                    slot=slot,
                    request=BookingRequest(
                        products=entry.products or entry.company.products or "-",
                        hs_codes=list(entry.hs_codes or []),
                        target_countries=list(entry.target_countries or []),
                        languages=list(entry.languages or []),
                        buyer_profile=entry.buyer_profile,
                        notes=entry.notes,
                    ),
                    actor=None,
                    now=now,
                    from_waitlist=True,
                )
        except Conflict:
            continue  # this company cannot take this slot (overlap or cap); it keeps its place
        entry.status = "promoted"
        entry.booking_id = booking.id
        record(actor=None, action="waitlist.promote", obj=entry, after={"booking_id": booking.id})
        from consultroom.bookings.notify import waitlist_promoted

        waitlist_promoted(booking)
        return booking
    return None


def expire_waitlist(*, rnd: Round) -> int:
    entries = db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.round_id == rnd.id, WaitlistEntry.status == "waiting")
    ).all()
    for e in entries:
        e.status = "expired"
    return len(entries)


def round_cancellation_reach(rnd: Round) -> tuple[int, int]:
    """(active bookings, mails) that cancelling the round would cancel and send, counted in one query
    for the confirmation: each booking's buyer and interpreter if any, and its company's active users."""
    users = (
        select(User.company_id, func.count().label("n"))
        .where(User.active.is_(True), User.company_id.is_not(None))
        .where(User.company_id.in_(select(Booking.company_id).where(Booking.round_id == rnd.id, ACTIVE)))
        .group_by(User.company_id)
        .subquery()
    )
    row = db.session.execute(
        select(
            func.count(Booking.id),
            func.count(Booking.buyer_id) + func.count(Booking.interpreter_id) + func.coalesce(func.sum(users.c.n), 0),
        )
        .outerjoin(users, users.c.company_id == Booking.company_id)
        .where(Booking.round_id == rnd.id, ACTIVE)
    ).one()
    return int(row[0]), int(row[1] or 0)
