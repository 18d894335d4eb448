"""Last program year's consultations, from consultroom/demo/data/history.csv: one row per booking of
last year's rounds, in the order they were booked, written once from the generator the demo had
before (so the demo stays the same) and played here through the services staff and SMEs use.

There is no user-facing import for history: a program's past arrives through its rounds, not as a
file. What each row goes through:

- the booking and its match are rows, as they stood when the round was held: book_slot,
  propose_match and respond mail the SME, buyer and interpreter, and the demo's outbox would fill
  with last year's mails; booking_ids keep the order of the file;
- the consultation log (held), and with it the outcome: record_log, as staff write it after the call;
- a later stage: change_stage on its day; a contract: record_contract at its signing day's rate;
- the SME survey: the invitation is a row (invite_held mails every held consultation), the answers
  go through submit_response at the time they came in.

Dates are days after the consultation, so the file serves any past year: the rounds' days come from
the settings for that year. The last contract is written `KRW rest`: what makes the year's total the
published PAST_CONTRACT_KRW, whatever the rates of the signing days.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from consultroom.accounts.models import User
from consultroom.extensions import db
from consultroom.timeutil import SEOUL, seoul_date, seoul_to_utc

HISTORY_FILE = Path(__file__).parent / "data" / "history.csv"
# Last program year as published: 383 held consultations, 224 of them with contracts worth
# 8,569,000,000 KRW, SME satisfaction 4.50. The report computes these from what the file plays.
PAST_CONTRACT_KRW = 8_569_000_000
PAST_BOOTHS = 8  # last year's rounds ran 8 booths (the settings' default is 4)
REST = "rest"

SME_QUESTIONS = [
    ("scale5", "상담 준비와 진행에 만족하셨습니까?", "How satisfied were you with the consultation?"),
    ("scale5", "바이어가 귀사 제품에 적합했습니까?", "Did the buyer fit your products?"),
    ("scale5", "통역과 화상 연결은 원활했습니까?", "Did interpretation and the video call work well?"),
    ("text", "개선할 점이 있으면 적어 주세요.", "What could we do better?"),
]


def history_rows() -> list[dict[str, str]]:
    from consultroom.spreadsheets import csv_text

    return list(csv.DictReader(io.StringIO(csv_text(HISTORY_FILE.read_bytes()))))


def weekday_on_or_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _add_booths(rnd) -> None:
    """More booths than the settings' default: the year's real rounds were bigger."""
    from consultroom.rounds.models import Slot

    booths = {s.booth for s in rnd.slots}
    starts = sorted({(s.starts_at, s.ends_at) for s in rnd.slots})
    for booth in range(max(booths) + 1, PAST_BOOTHS + 1):
        for start, end in starts:
            rnd.slots.append(Slot(booth=booth, starts_at=start, ends_at=end))


def play_bookings(rows: list[dict[str, str]], rounds: list, staff: User) -> list[tuple[Any, dict[str, str]]]:
    """The bookings of the file's rows, matched as they were held (see the module's docstring), with
    their rows; a row of a month without a round is left out."""
    from consultroom.bookings.models import Booking
    from consultroom.bookings.services import request_from_company
    from consultroom.buyers.models import Buyer
    from consultroom.companies.models import Company
    from consultroom.interpreters.models import Interpreter

    for rnd in rounds:
        _add_booths(rnd)
    db.session.flush()
    by_month = {rnd.month: rnd for rnd in rounds}
    slots = {
        (rnd.month, s.starts_at.astimezone(SEOUL).strftime("%H:%M"), s.booth): s for rnd in rounds for s in rnd.slots
    }
    companies = {c.business_number: c for c in db.session.scalars(select(Company))}
    # Not dict(result): a Result has keys(), so dict() would read it as a mapping.
    buyers = {email: i for email, i in db.session.execute(select(Buyer.email, Buyer.id))}
    interpreters = {email: i for email, i in db.session.execute(select(Interpreter.email, Interpreter.id))}
    played = []
    for row in rows:
        month = int(row["round_month"])
        rnd = by_month.get(month)
        if rnd is None:
            continue
        slot = slots[(month, row["slot_time"], int(row["booth"]))]
        company = companies[row["company_business_number"]]
        held = row["attendance"] == "held"
        booking = Booking(
            buyer_id=buyers.get(row["buyer_email"]),
            interpreter_id=interpreters.get(row["interpreter_email"]),
            buyer_response="accepted" if row["buyer_email"] else None,
            interpreter_response="accepted" if row["interpreter_email"] else None,
            round_id=rnd.id,
            slot_id=slot.id,
            company_id=company.id,
            seq=1,
            cap=rnd.company_cap,
            # A held consultation is confirmed until its log says it was held; a no-show has no log.
            status="confirmed" if held else "no_show",
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            created_at=rnd.booking_opens_at + timedelta(minutes=int(row["booked_after_minutes"])),
            created_by_id=staff.id,
            **request_from_company(company).as_dict(),
        )
        db.session.add(booking)
        played.append((booking, row))
    db.session.flush()
    return played


def play_outcomes(held: list[tuple[Any, dict[str, str]]], staff: User, now: datetime) -> int:
    """Each held consultation's log (and so its outcome), later stage and contracts, through the
    services staff use; the last contract brings the year to PAST_CONTRACT_KRW."""
    from consultroom.outcomes.services import change_stage, outcome_for, record_contract, record_log

    today = seoul_date(now)
    made = total = 0
    for booking, row in held:
        day = seoul_date(booking.starts_at)
        after = row["next_action_after_days"]
        record_log(
            booking=booking,
            data={
                "attendance": "held",
                "buyer_interest": row["buyer_interest"],
                "products_discussed": booking.products.replace("\n", ", "),
                "samples_requested": row["samples_requested"] == "yes",
                "samples_text": row["samples_text"],
                "next_action": row["next_action"],
                "next_action_on": day + timedelta(days=int(after)) if after else None,
                "notes": "",
            },
            actor=staff,
            now=booking.ends_at + timedelta(hours=1),
        )
        made += 2
        if row["stage"] == "follow_up":
            continue  # where record_log's outcome starts, and stays
        outcome = outcome_for(booking)
        if row["stage"] != "contracted":
            on = min(day + timedelta(days=int(row["stage_after_days"])), today)
            change_stage(
                outcome=outcome, to_stage=row["stage"], on=on, note="", actor=staff, now=seoul_to_utc(on, time(10, 0))
            )
        for entry in filter(None, (e.strip() for e in row["contracts"].split(";"))):
            code, amount, days = entry.split()
            signed = weekday_on_or_before(min(day + timedelta(days=int(days)), date(day.year, 12, 31), today))
            contract = record_contract(
                outcome=outcome,
                currency=code,
                amount=Decimal(PAST_CONTRACT_KRW - total) if amount == REST else Decimal(amount),
                signed_on=max(signed, day),
                items=booking.products.split("\n")[0],
                actor=staff,
                now=now,
            )
            total += contract.krw_value
            made += 1
    return made


def play_surveys(held: list[tuple[Any, dict[str, str]]], staff: User) -> int:
    """The SME question set if there is none, and the answers of the rows that have them, submitted
    through submit_response when they came in (hours after the invitation)."""
    from consultroom.surveys.models import SurveyInvitation
    from consultroom.surveys.services import active_version, add_question, field_name, submit_response

    made = 0
    version = active_version("sme")
    if version is None or not any(q.kind == "scale5" for q in version.questions):
        for kind, ko, en in SME_QUESTIONS:
            data = {"kind": kind, "text_ko": ko, "text_en": en, "required": kind == "scale5"}
            add_question(audience="sme", data=data, actor=staff)
            made += 1
        version = active_version("sme")
    scale = [q for q in version.questions if q.kind == "scale5"]
    texts = [q for q in version.questions if q.kind == "text"]
    answered = [(booking, row) for booking, row in held if row["sme_scores"]]
    invitations = []
    for booking, _row in answered:
        invited = booking.ends_at + timedelta(hours=2)
        invitations.append(
            SurveyInvitation(
                booking_id=booking.id,
                respondent="sme",
                locale="ko",
                invited_at=invited,
                expires_at=invited + timedelta(days=14),
                mails_sent=1,
            )
        )
    db.session.add_all(invitations)
    db.session.flush()
    for invitation, (_booking, row) in zip(invitations, answered, strict=True):
        scores = [int(s) for s in row["sme_scores"].split()]
        if len(scores) != len(scale):  # a question set of another size: each gets the row's mean
            scores = [round(sum(scores) / len(scores))] * len(scale)
        answers = {field_name(q): str(s) for q, s in zip(scale, scores, strict=True)}
        if texts and row["sme_comment"]:
            answers[field_name(texts[0])] = row["sme_comment"]
        submitted = invitation.invited_at + timedelta(hours=int(row["sme_answered_after_hours"]))
        submit_response(invitation=invitation, version=version, answers=answers, locale="ko", user=None, now=submitted)
        made += 2
    db.session.flush()
    return made
