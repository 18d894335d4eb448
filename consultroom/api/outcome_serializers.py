"""JSON shapes of consultations, outcomes, contracts, rates, survey responses and the program report.

Money is exact: KRW values are integers (whole won), amounts, rates, averages and percentages are
strings, so no client reads them through a float. outcomes/schemas.py and surveys/schemas.py write and document them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from consultroom.bookings.models import Booking
from consultroom.outcomes import services as outcome_services
from consultroom.outcomes.models import ConsultationLog, Contract, Outcome
from consultroom.outcomes.schemas import ConsultationSchema, ContractSchema
from consultroom.surveys.models import SurveyResponse
from consultroom.surveys.schemas import SurveyResponseSchema

RATE_PLACES = Decimal("0.000001")


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


_CONSULTATION = ConsultationSchema()
_CONTRACT = ContractSchema()
_SURVEY_RESPONSE = SurveyResponseSchema()


def outcome_row(outcome: Outcome) -> dict[str, Any]:
    """What outcomes.schemas.OutcomeSchema dumps: the outcome, and what the rules say of it."""
    return {
        "outcome": outcome,
        "allowed_next": outcome_services.allowed_next(outcome.stage),
        "contracts_total_krw": outcome_services.contracts_total_krw(outcome),
    }


def consultation_json(
    booking: Booking, *, log: ConsultationLog | None, outcome: Outcome | None, sees_outcome: bool
) -> dict[str, Any]:
    """`outcome` is null when there is none yet and also for the interpreter, who sees the log only."""
    return _CONSULTATION.dump(
        {
            "booking": booking,
            "log": log,
            "outcome_visible": sees_outcome,
            "outcome": outcome_row(outcome) if outcome is not None and sees_outcome else None,
        }
    )


def contract_json(contract: Contract) -> dict[str, Any]:
    return _CONTRACT.dump(contract)


def survey_response_json(response: SurveyResponse) -> dict[str, Any]:
    booking = response.invitation.booking
    answers = sorted(response.answers, key=lambda a: (a.question.position, a.question_id))
    rows = [
        {
            "question_id": a.question_id,
            "position": a.question.position,
            "kind": a.question.kind,
            "text_ko": a.question.text_ko,
            "text_en": a.question.text_en,
            "score": a.score,
            "text": a.text,
        }
        for a in answers
    ]
    return _SURVEY_RESPONSE.dump({"response": response, "booking": booking, "answers": rows})
