"""Every state a newcomer should find in the demo (issue 15, item 8), made through the services at
times relative to the moment the demo is loaded, so each is what the app itself would have made and
stays true whenever the demo is loaded:

- two recent rounds, held: one a few days ago (a consultation awaiting its log, a logged one with a
  pending SME survey and a buyer survey), one about six weeks ago (an overdue follow-up, a contracted
  and a dropped outcome);
- in the round open for booking: bookings awaiting a match, a proposal waiting for answers, a
  confirmed consultation, a declined and a lapsed proposal, a cancelled booking, a whole-round
  proposal in draft; a small round after it, full, with the demo SME on its waitlist;
- mails whose deadline passed before delivery, given up as the delivery run does.

The services take `now`; a step in the past passes the time it would have happened at.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from consultroom.accounts.models import User
from consultroom.bookings.models import Booking
from consultroom.companies.models import Company
from consultroom.errors import Conflict
from consultroom.extensions import db
from consultroom.rounds.models import Round, RoundStatus, Slot
from consultroom.timeutil import SEOUL, seoul_to_utc

# How far back the recent rounds lie: a log is missing only a day after the consultation, a survey
# link lives 21 days, and the first follow-up falls due a month after the consultation.
RECENT_DAYS_AGO = 4
EARLIER_DAYS_AGO = 45

BUYER_QUESTIONS = [
    ("scale5", "상담이 귀사에 유익했습니까?", "Was the consultation useful to your company?"),
    ("scale5", "통역과 화상 연결은 원활했습니까?", "Did interpretation and the video call work well?"),
    (
        "text",
        "다음에 만나고 싶은 제품이나 기업이 있으면 적어 주세요.",
        "Which products or companies would you like to meet next?",
    ),
]
CANCEL_REASON = "같은 시간에 다른 해외 바이어 미팅이 잡혀 취소합니다."


def _taken_months() -> set[tuple[int, int]]:
    return {(year, month) for year, month in db.session.execute(select(Round.year, Round.month))}


def _weekday_in_free_month(target: date, taken: set[tuple[int, int]]) -> date | None:
    """The latest weekday on or before `target` in a month without a round (one round a month)."""
    day = target
    for _n in range(400):
        if day.weekday() < 5 and (day.year, day.month) not in taken:
            return day
        day -= timedelta(days=1)
    return None


def _fits(buyer, booking: Booking) -> bool:
    chapters = {code[:2] for code in booking.hs_codes or booking.company.hs_codes}
    return bool(chapters & {code[:2] for code in buyer.interest_codes})


def propose_someone(*, booking: Booking, staff: User, now: datetime, skip: Iterable[int] = ()):
    """Propose the first buyer (product fit first) and interpreter the matching rules accept."""
    from consultroom.buyers.models import Buyer
    from consultroom.interpreters.models import Interpreter
    from consultroom.matching.services import check_proposal, propose_match

    buyers = db.session.scalars(select(Buyer).where(Buyer.active.is_(True)).order_by(Buyer.id)).all()
    interpreters = db.session.scalars(
        select(Interpreter).where(Interpreter.active.is_(True)).order_by(Interpreter.id)
    ).all()
    for buyer in sorted(buyers, key=lambda b: not _fits(b, booking)):
        if buyer.id in skip:
            continue
        for interpreter in interpreters:
            try:
                check_proposal(booking=booking, buyer=buyer, interpreter=interpreter)
            except Conflict:
                continue
            return propose_match(booking=booking, buyer=buyer, interpreter=interpreter, actor=staff, now=now)
    raise Conflict(f"no buyer and interpreter can be proposed for booking {booking.id}")


def _accept_both(booking: Booking, now: datetime) -> None:
    from consultroom.matching.services import respond

    for party in ("buyer", "interpreter"):
        respond(booking=booking, party=party, accept=True, version=booking.match_version, now=now)


def _free_slots(rnd: Round) -> list[Slot]:
    taken = set(
        db.session.scalars(select(Booking.slot_id).where(Booking.round_id == rnd.id, Booking.status != "cancelled"))
    )
    return sorted((s for s in rnd.slots if s.id not in taken and not s.closed), key=lambda s: (s.starts_at, s.booth))


def _slot_at_new_time(rnd: Round, company: Company) -> Slot:
    """A free slot at a time the company holds nothing yet (a company is never in two places)."""
    busy = set(
        db.session.scalars(
            select(Booking.starts_at).where(Booking.company_id == company.id, Booking.status != "cancelled")
        )
    )
    return next(s for s in _free_slots(rnd) if s.starts_at not in busy)


def _book(rnd: Round, company: Company, actor: User, now: datetime) -> Booking:
    from consultroom.bookings.services import book_slot, request_from_company

    slot = _slot_at_new_time(rnd, company)
    return book_slot(company=company, slot=slot, request=request_from_company(company), actor=actor, now=now)


def _held_round(*, day: date, staff: User) -> Round:
    """A round made by hand on `day`, opened and closed on its own booking window's dates."""
    from consultroom.rounds.services import create_round, open_round

    rnd = create_round(data={"day": day}, actor=staff)
    open_round(rnd=rnd, actor=staff, now=rnd.booking_opens_at)
    return rnd


def _log(booking: Booking, staff: User, *, interest: str, next_action: str) -> None:
    from consultroom.outcomes.services import record_log

    day = booking.starts_at.astimezone(SEOUL).date()
    record_log(
        booking=booking,
        data={
            "attendance": "held",
            "buyer_interest": interest,
            "products_discussed": booking.products.replace("\n", ", "),
            "samples_requested": interest == "high",
            "samples_text": "샘플 3종 발송 요청" if interest == "high" else "",
            "next_action": next_action,
            "next_action_on": day + timedelta(days=7),
            "notes": "",
        },
        actor=staff,
        now=booking.ends_at + timedelta(hours=2),
    )


def _consultations(rnd: Round, entries: list[tuple[Company, User]], staff: User) -> list[Booking]:
    """Each company books in the window, staff propose after it closes, both parties accept."""
    from consultroom.rounds.services import close_booking

    booked_at = rnd.booking_opens_at + timedelta(hours=2)
    bookings = [_book(rnd, company, actor, booked_at) for company, actor in entries]
    close_booking(rnd=rnd, actor=None)
    proposed_at = rnd.booking_closes_at + timedelta(hours=2)
    for booking in bookings:
        propose_someone(booking=booking, staff=staff, now=proposed_at)
        _accept_both(booking, proposed_at + timedelta(hours=3))
    return bookings


def _recent_round(*, day: date, staff: User, sme: User, others: list[Company], now: datetime) -> int:
    """Held a few days ago: the demo SME's consultation logged (its survey and the buyer's are
    mailed by invite_held), another confirmed one nobody has logged yet."""
    from consultroom.rounds.services import set_status
    from consultroom.surveys.services import active_version, add_question, invite_held

    rnd = _held_round(day=day, staff=staff)
    logged, _unlogged = _consultations(rnd, [(sme.company, sme), (others[0], staff)], staff)
    set_status(rnd=rnd, status=RoundStatus.HELD.value, actor=staff)
    _log(logged, staff, interest="high", next_action="견적서와 샘플 발송")
    if active_version("buyer") is None:
        for kind, ko, en in BUYER_QUESTIONS:
            add_question(
                audience="buyer",
                data={"kind": kind, "text_ko": ko, "text_en": en, "required": kind == "scale5"},
                actor=staff,
            )
    invited = invite_held(now=now)
    # the round, two bookings, a log and an outcome, the invitations
    return 1 + 2 + 2 + sum(invited.values())


def _earlier_round(*, day: date, staff: User, sme: User, others: list[Company], now: datetime) -> int:
    """Held about six weeks ago: the demo SME's outcome has not been updated since (its follow-up is
    overdue), one consultation led to a contract, one was dropped."""
    from consultroom.outcomes.services import change_stage, outcome_for, record_contract
    from consultroom.rounds.services import set_status

    rnd = _held_round(day=day, staff=staff)
    bookings = _consultations(rnd, [(sme.company, sme), (others[0], staff), (others[1], staff)], staff)
    set_status(rnd=rnd, status=RoundStatus.HELD.value, actor=staff)
    for booking in bookings:
        _log(booking, staff, interest="high", next_action="견적서 송부")
    _mine, won, lost = (outcome_for(b) for b in bookings)
    signed = day + timedelta(days=16)
    record_contract(
        outcome=won,
        currency="KRW",
        amount="48000000",
        signed_on=signed,
        items=won.booking.products.split("\n")[0],
        actor=staff,
        now=seoul_to_utc(signed, time(15, 0)),
    )
    dropped_on = day + timedelta(days=20)
    change_stage(
        outcome=lost,
        to_stage="dropped",
        on=dropped_on,
        note="바이어가 가격 조건을 맞추지 못해 협의 종료",
        actor=staff,
        now=seoul_to_utc(dropped_on, time(11, 0)),
    )
    # the round, three bookings with their logs and outcomes, a contract
    return 1 + 3 * 3 + 1


def recent_rounds(*, staff: User, sme: User, companies: list[Company], now: datetime) -> int:
    """The two recent held rounds, each in a month that has none yet."""
    today = now.astimezone(SEOUL).date()
    made = 0
    day = _weekday_in_free_month(today - timedelta(days=EARLIER_DAYS_AGO), _taken_months())
    if day is not None:
        made += _earlier_round(day=day, staff=staff, sme=sme, others=companies[6:8], now=now)
    taken = _taken_months()
    # 4 to 20 days ago (a survey link lives 21); failing that (early January, when last year's
    # December round holds the month) 3 or 2 days ago: a log is missing only a day after.
    backs = [*range(RECENT_DAYS_AGO, 21), 3, 2]
    day = next(
        (d for d in (today - timedelta(days=b) for b in backs) if d.weekday() < 5 and (d.year, d.month) not in taken),
        None,
    )
    if day is not None:
        made += _recent_round(day=day, staff=staff, sme=sme, others=companies[8:9], now=now)
    return made


def full_round_with_waitlist(*, staff: User, sme: User, companies: list[Company], now: datetime) -> int:
    """A small special round a month or more ahead, open for booking and already full: the demo SME
    waits on its waitlist for a cancellation (join_waitlist refuses while a slot is free)."""
    from consultroom.bookings.services import join_waitlist, request_from_company
    from consultroom.rounds.services import create_round, open_round

    today = now.astimezone(SEOUL).date()
    taken = _taken_months()
    day = today + timedelta(days=35)
    while day.weekday() >= 5 or (day.year, day.month) in taken:
        day += timedelta(days=1)
    rnd = create_round(
        data={
            "day": day,
            "title": f"{day.year}년 {day.month}월 소규모 바이어 초청 상담회",
            "booths": 1,
            "day_start": time(14, 0),
            "day_end": time(16, 0),
            "booking_opens_at": now - timedelta(days=2),
            "booking_closes_at": now + timedelta(days=14),
        },
        actor=staff,
    )
    open_round(rnd=rnd, actor=staff, now=now - timedelta(days=2))
    booked = [_book(rnd, company, staff, now - timedelta(days=1)) for company in companies[: len(rnd.slots)]]
    join_waitlist(company=sme.company, rnd=rnd, request=request_from_company(sme.company), actor=sme)
    return 1 + len(booked) + 1


def open_round_states(*, rnd: Round, staff: User, sme: User, sme2: User, waiting: list[Booking], now: datetime) -> int:
    """The round open for booking in every state a booking goes through before the day.

    `waiting`: bookings other companies already made (awaiting a match); the first is declined by its
    buyer, the second lapses unanswered, the rest stay as they are for the whole-round proposal."""
    from consultroom.consultations.changes import cancel_booking
    from consultroom.matching.proposals import create_proposal
    from consultroom.matching.services import lapse_expired, respond
    from consultroom.notifications.delivery import expire_past_deadline

    # The demo SME: one proposal waiting for the buyer's and interpreter's answers, one confirmed,
    # one cancelled; it can still book a third time.
    awaiting = _book(rnd, sme.company, sme, now)
    confirmed = _book(rnd, sme.company, sme, now)
    cancelled = _book(rnd, sme.company, sme, now)
    propose_someone(booking=awaiting, staff=staff, now=now)
    propose_someone(booking=confirmed, staff=staff, now=now)
    _accept_both(confirmed, now)
    cancel_booking(booking=cancelled, actor=sme, reason=CANCEL_REASON, now=now)
    # The second SME waits for a match.
    _book(rnd, sme2.company, sme2, now)
    made = 4
    if len(waiting) >= 2:
        declined, lapsed = waiting[0], waiting[1]
        propose_someone(booking=declined, staff=staff, now=now)
        respond(booking=declined, party="buyer", accept=False, version=declined.match_version, now=now)
        # Proposed two days ago and never answered: the scheduler's lapse job sends it back to matching.
        propose_someone(booking=lapsed, staff=staff, now=now - timedelta(hours=49))
        lapse_expired(now=now)
    create_proposal(rnd=rnd, actor=staff)
    # The proposal mails of the lapsed match were never delivered before their answer deadline: the
    # delivery run gives them up (the demo delivers nothing, so it runs only that phase).
    expire_past_deadline(now)
    return made + 1
