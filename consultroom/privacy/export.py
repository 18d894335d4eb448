"""A person's own data, as PIPA's right of access asks: everything Consultroom holds about an SME user
and its company, as JSON and as a workbook.

Only the company's own records are read (every query is by the user's id or its company's id), and of
the other parties only what the company's own pages show: a buyer's company name and country, never
its contact person, e-mail or phone; the interpreter's name once the consultation is confirmed.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from consultroom import spreadsheets
from consultroom.accounts.models import User
from consultroom.bookings.models import Booking, WaitlistEntry
from consultroom.companies.models import Company
from consultroom.companies.schemas import company_export
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter
from consultroom.interpreters.schemas import interpreter_export
from consultroom.outcomes.models import ConsultationLog, Outcome
from consultroom.privacy.models import ConsentRecord, ErasureRequest
from consultroom.surveys.models import SurveyAnswer, SurveyInvitation, SurveyResponse
from consultroom.timeutil import SEOUL

# Once confirmed the company knows whom it meets (its bookings page shows the buyer's company then).
_PARTIES_KNOWN = ("confirmed", "held", "no_show")

# Section -> workbook sheet, in this order. Single-record sections make one-row sheets.
SECTIONS = (
    "account",
    "company",
    "interpreter_profile",
    "bookings",
    "waitlist",
    "consultation_logs",
    "outcomes",
    "outcome_changes",
    "contracts",
    "survey_responses",
    "survey_answers",
    "consents",
    "erasure_requests",
)
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LIST_SECTIONS = frozenset(SECTIONS) - {"account", "company", "interpreter_profile"}


def _seoul(moment: datetime | None) -> datetime | None:
    return moment.astimezone(SEOUL) if moment is not None else None


def _account(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "phone": user.phone or "",
        "role": user.role,
        "locale": user.locale,
        "timezone": user.timezone,
        "email_confirmed_at": _seoul(user.email_confirmed_at),
        "created_at": _seoul(user.created_at),
        "last_login_at": _seoul(user.last_login_at),
    }


def _company(company: Company) -> dict[str, Any]:
    # Every stored field, as the company schema writes it; dates in Seoul time as elsewhere here.
    data = company_export.dump(company)
    data.update(created_at=_seoul(company.created_at), updated_at=_seoul(company.updated_at))
    return data


def _interpreter(interpreter: Interpreter) -> dict[str, Any]:
    return interpreter_export.dump(interpreter)


def _booking(b: Booking) -> dict[str, Any]:
    known = b.status in _PARTIES_KNOWN
    buyer = b.buyer if b.buyer_id is not None else None
    interpreter = b.interpreter if b.interpreter_id is not None else None
    return {
        "id": b.id,
        "round": b.round.title,
        "starts_at": _seoul(b.starts_at),
        "ends_at": _seoul(b.ends_at),
        "status": b.status,
        "products": b.products,
        "hs_codes": list(b.hs_codes or []),
        "target_countries": list(b.target_countries or []),
        "languages": list(b.languages or []),
        "buyer_profile": b.buyer_profile,
        "notes": b.notes,
        "from_waitlist": b.from_waitlist,
        "created_at": _seoul(b.created_at),
        "cancelled_at": _seoul(b.cancelled_at),
        "buyer_company": buyer.company_name if buyer is not None and known else None,
        "buyer_country": buyer.country if buyer is not None else None,
        "interpreter_name": interpreter.name if interpreter is not None and known else None,
        "meeting_url": (b.meeting_url or None) if known else None,
    }


def _waitlist(w: WaitlistEntry) -> dict[str, Any]:
    return {
        "id": w.id,
        "round": w.round.title,
        "status": w.status,
        "created_at": _seoul(w.created_at),
        "booking_id": w.booking_id,
        "products": w.products,
        "hs_codes": list(w.hs_codes or []),
        "target_countries": list(w.target_countries or []),
        "languages": list(w.languages or []),
        "buyer_profile": w.buyer_profile,
        "notes": w.notes,
    }


def _log(log: ConsultationLog) -> dict[str, Any]:
    return {
        "booking_id": log.booking_id,
        "attendance": log.attendance,
        "absent_party": log.absent_party,
        "buyer_interest": log.buyer_interest,
        "products_discussed": log.products_discussed,
        "samples_requested": log.samples_requested,
        "samples_text": log.samples_text,
        "next_action": log.next_action,
        "next_action_on": log.next_action_on,
        "notes": log.notes,
        "recorded_at": _seoul(log.recorded_at),
    }


def _consent(c: ConsentRecord) -> dict[str, Any]:
    return {
        "id": c.id,
        "subject_type": c.subject_type,
        "purpose": c.purpose,
        "granted": c.granted,
        "notice_version": c.notice_version,
        "at": _seoul(c.at),
        "via": c.via,
    }


def _erasure(r: ErasureRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "subject_type": r.subject_type,
        "status": r.status,
        "requested_at": _seoul(r.requested_at),
        "note": r.note,
        "handled_at": _seoul(r.handled_at),
        "response": r.response,
    }


def _subjects(user: User, company_id: int | None):
    """(subject_type, subject_id) pairs that are this user's own: itself and its company."""
    clauses = [("user", user.id)]
    if company_id is not None:
        clauses.append(("company", company_id))
    return clauses


def _subject_filter(model, pairs):
    return or_(*[(model.subject_type == t) & (model.subject_id == i) for t, i in pairs])


def collect_user_data(*, user: User) -> dict[str, Any]:
    """Everything held about `user` and (an SME) its company. Values are Python values (datetimes in
    Asia/Seoul, dates, Decimals); to_json and to_xlsx write them."""
    company = user.company if user.is_sme and user.company_id is not None else None
    company_id = company.id if company is not None else None
    data: dict[str, Any] = {
        "generated_at": _seoul(utcnow()),
        "account": _account(user),
        "company": _company(company) if company is not None else None,
    }
    interpreter = db.session.scalar(select(Interpreter).where(Interpreter.user_id == user.id))
    data["interpreter_profile"] = _interpreter(interpreter) if interpreter is not None else None
    for name in LIST_SECTIONS:
        data[name] = []
    if company_id is not None:
        bookings = db.session.scalars(
            select(Booking)
            .where(Booking.company_id == company_id)
            .options(selectinload(Booking.round), selectinload(Booking.buyer), selectinload(Booking.interpreter))
            .order_by(Booking.starts_at, Booking.id)
        ).all()
        data["bookings"] = [_booking(b) for b in bookings]
        waitlist = db.session.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.company_id == company_id)
            .options(selectinload(WaitlistEntry.round))
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        ).all()
        data["waitlist"] = [_waitlist(w) for w in waitlist]
        logs = db.session.scalars(
            select(ConsultationLog)
            .join(Booking, Booking.id == ConsultationLog.booking_id)
            .where(Booking.company_id == company_id)
            .order_by(ConsultationLog.booking_id)
        ).all()
        data["consultation_logs"] = [_log(log) for log in logs]
        _outcomes(data, company_id)
        _surveys(data, company_id, user)
    pairs = _subjects(user, company_id)
    consents = db.session.scalars(
        select(ConsentRecord).where(_subject_filter(ConsentRecord, pairs)).order_by(ConsentRecord.at, ConsentRecord.id)
    ).all()
    data["consents"] = [_consent(c) for c in consents]
    requests = db.session.scalars(
        select(ErasureRequest)
        .where(_subject_filter(ErasureRequest, pairs))
        .order_by(ErasureRequest.requested_at, ErasureRequest.id)
    ).all()
    data["erasure_requests"] = [_erasure(r) for r in requests]
    return data


def _outcomes(data: dict[str, Any], company_id: int) -> None:
    outcomes = db.session.scalars(
        select(Outcome)
        .join(Booking, Booking.id == Outcome.booking_id)
        .where(Booking.company_id == company_id)
        .options(selectinload(Outcome.changes), selectinload(Outcome.contracts))
        .order_by(Outcome.booking_id)
    ).all()
    for o in outcomes:
        data["outcomes"].append(
            {
                "id": o.id,
                "booking_id": o.booking_id,
                "stage": o.stage,
                "stage_on": o.stage_on,
                "created_at": _seoul(o.created_at),
                "last_update_at": _seoul(o.last_update_at),
            }
        )
        for ch in o.changes:
            data["outcome_changes"].append(
                {
                    "outcome_id": o.id,
                    "booking_id": o.booking_id,
                    "changed_on": ch.changed_on,
                    "from_stage": ch.from_stage,
                    "to_stage": ch.to_stage,
                    "note": ch.note,
                    "at": _seoul(ch.at),
                }
            )
        for c in o.contracts:
            data["contracts"].append(
                {
                    "id": c.id,
                    "booking_id": o.booking_id,
                    "signed_on": c.signed_on,
                    "currency": c.currency,
                    "amount": c.amount,
                    "krw_value": c.krw_value,
                    "rate": c.rate,
                    "rate_day": c.rate_day,
                    "items": c.items,
                }
            )


def _surveys(data: dict[str, Any], company_id: int, user: User) -> None:
    """The company's own SME survey answers (the buyer's answers about the company are the buyer's)."""
    responses = db.session.scalars(
        select(SurveyResponse)
        .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
        .join(Booking, Booking.id == SurveyInvitation.booking_id)
        .where(Booking.company_id == company_id, SurveyInvitation.respondent == "sme")
        .options(
            selectinload(SurveyResponse.invitation),
            selectinload(SurveyResponse.version),
            selectinload(SurveyResponse.answers).selectinload(SurveyAnswer.question),
        )
        .order_by(SurveyResponse.submitted_at, SurveyResponse.id)
    ).all()
    for r in responses:
        data["survey_responses"].append(
            {
                "id": r.id,
                "booking_id": r.invitation.booking_id,
                "version": r.version.number,
                "submitted_at": _seoul(r.submitted_at),
                "locale": r.locale,
                "submitted_by_you": r.user_id == user.id,
            }
        )
        for a in sorted(r.answers, key=lambda a: (a.question.position, a.question_id)):
            data["survey_answers"].append(
                {
                    "response_id": r.id,
                    "position": a.question.position,
                    "question": a.question.text_in(user.locale),
                    "score": a.score,
                    "text": a.text,
                }
            )


def summary(data: dict[str, Any]) -> dict[str, int]:
    """How many records of each list section: what the page tells the user we hold."""
    return {name: len(data[name]) for name in SECTIONS if name in LIST_SECTIONS}


# --- files -----------------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        # Exact, as text: a float would round amounts and rates.
        return format(value, "f")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=_json_default).encode("utf-8")


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        # Excel has no time zones: the wall-clock time in Asia/Seoul, as the sheet's heading says.
        return value.astimezone(SEOUL).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return spreadsheets.guard(value)


def _sheet_rows(data: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = data.get(name)
    if value is None:
        return []
    return [value] if isinstance(value, dict) else list(value)


def to_xlsx(data: dict[str, Any], sections: tuple[str, ...] = SECTIONS) -> bytes:
    """One sheet per section with a heading row; dates as dates, numbers as numbers. A section without
    records keeps its sheet, so the file always has the same sheets."""

    def sheet(name: str) -> spreadsheets.Sheet:
        rows = _sheet_rows(data, name)
        if not rows:
            return spreadsheets.Sheet(name, ["none"], [])
        headers = list(rows[0])
        return spreadsheets.Sheet(name, headers, ([_cell(row.get(h)) for h in headers] for row in rows))

    return spreadsheets.xlsx_bytes(sheet(name) for name in sections)
