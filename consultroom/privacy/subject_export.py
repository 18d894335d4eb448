"""A buyer's or an interpreter's data, for staff answering that person's access request (PIPA art. 35).

Buyers and interpreters have no account of their own to download from, so staff export for them
and send the file; the export is in the access log. The files have the same form as an SME user's
own download (consultroom.privacy.export): one section per sheet.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consultroom.bookings.models import Booking
from consultroom.buyers.models import Buyer
from consultroom.buyers.schemas import buyer_export
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter, InterpreterException, InterpreterHours
from consultroom.privacy.export import _consent, _erasure, _interpreter, _seoul, _subject_filter
from consultroom.privacy.models import ConsentRecord, ErasureRequest
from consultroom.surveys.models import SurveyAnswer, SurveyInvitation, SurveyResponse

BUYER_SECTIONS = ("buyer", "consultations", "survey_responses", "survey_answers", "consents", "erasure_requests")
INTERPRETER_SECTIONS = (
    "interpreter",
    "weekly_hours",
    "exceptions",
    "consultations",
    "consents",
    "erasure_requests",
)


def _consultations(column, ident: int, *, own_response: str) -> list[dict[str, Any]]:
    """The person's consultations: when, with which company, and its own answer to the proposal.
    The other party's contact data are theirs, not this person's, and are left out."""
    bookings = db.session.scalars(
        select(Booking)
        .where(column == ident)
        .options(selectinload(Booking.round), selectinload(Booking.company))
        .order_by(Booking.starts_at, Booking.id)
    ).all()
    return [
        {
            "id": b.id,
            "round": b.round.title,
            "starts_at": _seoul(b.starts_at),
            "ends_at": _seoul(b.ends_at),
            "status": b.status,
            "company": b.company.name_en or b.company.name_ko,
            "your_response": getattr(b, own_response),
            "meeting_url": b.meeting_url or None,
        }
        for b in bookings
    ]


def _records(subject_type: str, subject_id: int) -> dict[str, list[dict[str, Any]]]:
    pairs = [(subject_type, subject_id)]
    consents = db.session.scalars(
        select(ConsentRecord).where(_subject_filter(ConsentRecord, pairs)).order_by(ConsentRecord.at, ConsentRecord.id)
    ).all()
    requests = db.session.scalars(
        select(ErasureRequest)
        .where(_subject_filter(ErasureRequest, pairs))
        .order_by(ErasureRequest.requested_at, ErasureRequest.id)
    ).all()
    return {"consents": [_consent(c) for c in consents], "erasure_requests": [_erasure(r) for r in requests]}


def collect_buyer_data(*, buyer: Buyer) -> dict[str, Any]:
    data: dict[str, Any] = {
        "generated_at": _seoul(utcnow()),
        # As the buyer schema writes it (the API's names), dated in Seoul time like the rest here.
        "buyer": {**buyer_export.dump(buyer), "created_at": _seoul(buyer.created_at)},
        "consultations": _consultations(Booking.buyer_id, buyer.id, own_response="buyer_response"),
        "survey_responses": [],
        "survey_answers": [],
    }
    responses = db.session.scalars(
        select(SurveyResponse)
        .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
        .where(SurveyInvitation.respondent == "buyer", SurveyInvitation.buyer_id == buyer.id)
        .options(
            selectinload(SurveyResponse.invitation),
            selectinload(SurveyResponse.answers).selectinload(SurveyAnswer.question),
        )
        .order_by(SurveyResponse.submitted_at, SurveyResponse.id)
    ).all()
    for r in responses:
        data["survey_responses"].append(
            {"id": r.id, "booking_id": r.invitation.booking_id, "submitted_at": _seoul(r.submitted_at)}
        )
        for a in sorted(r.answers, key=lambda a: (a.question.position, a.question_id)):
            data["survey_answers"].append(
                {"response_id": r.id, "question": a.question.text_en, "score": a.score, "text": a.text}
            )
    data.update(_records("buyer", buyer.id))
    return data


def collect_interpreter_data(*, interpreter: Interpreter) -> dict[str, Any]:
    hours = db.session.scalars(
        select(InterpreterHours)
        .where(InterpreterHours.interpreter_id == interpreter.id)
        .order_by(InterpreterHours.weekday, InterpreterHours.start)
    ).all()
    exceptions = db.session.scalars(
        select(InterpreterException)
        .where(InterpreterException.interpreter_id == interpreter.id)
        .order_by(InterpreterException.day)
    ).all()
    data: dict[str, Any] = {
        "generated_at": _seoul(utcnow()),
        "interpreter": {
            **_interpreter(interpreter),
            "active": interpreter.active,
            "created_at": _seoul(interpreter.created_at),
        },
        "weekly_hours": [{"weekday": h.weekday, "start": h.start.isoformat(), "end": h.end.isoformat()} for h in hours],
        "exceptions": [
            {
                "day": e.day,
                "available": e.available,
                "start": e.start.isoformat() if e.start else None,
                "end": e.end.isoformat() if e.end else None,
                "note": e.note,
            }
            for e in exceptions
        ],
        "consultations": _consultations(Booking.interpreter_id, interpreter.id, own_response="interpreter_response"),
    }
    data.update(_records("interpreter", interpreter.id))
    return data
