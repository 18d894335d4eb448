"""JSON shapes of consultations, outcomes, contracts, rates, survey responses and the program report.

Money is exact: KRW values are integers (whole won), amounts, rates, averages and percentages are
strings, so no client reads them through a float. consultroom/api/openapi.py documents the same shapes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from consultroom.api.http import iso
from consultroom.bookings.models import Booking
from consultroom.outcomes import services as outcome_services
from consultroom.outcomes.models import ConsultationLog, Contract, ExchangeRate, Outcome
from consultroom.outcomes.money import exponent
from consultroom.reports.figures import Figures, Report
from consultroom.reports.targets import WHOLE_METRICS, ScoreLine
from consultroom.surveys.models import SurveyResponse

RATE_PLACES = Decimal("0.000001")


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def log_json(log: ConsultationLog) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(log, name) for name in outcome_services.LOG_FIELDS}
    data["next_action_on"] = log.next_action_on.isoformat() if log.next_action_on else None
    data["recorded_at"] = iso(log.recorded_at)
    data["updated_at"] = iso(log.updated_at)
    return data


def amount_text(contract: Contract) -> str:
    """The amount with exactly the currency's decimals (12345.60 USD, 5000000 KRW)."""
    return f"{contract.amount:.{exponent(contract.currency)}f}"


def contract_json(contract: Contract) -> dict[str, Any]:
    return {
        "id": contract.id,
        "currency": contract.currency,
        "amount": amount_text(contract),
        "signed_on": contract.signed_on.isoformat(),
        "items": contract.items,
        "krw_value": contract.krw_value,
        "rate": str(Decimal(contract.rate).quantize(RATE_PLACES)),
        "rate_day": contract.rate_day.isoformat(),
        "created_at": iso(contract.created_at),
    }


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "stage": outcome.stage,
        "stage_on": outcome.stage_on.isoformat(),
        "is_open": outcome.is_open,
        "allowed_next": outcome_services.allowed_next(outcome.stage),
        "last_update_at": iso(outcome.last_update_at),
        "history": [
            {
                "changed_on": change.changed_on.isoformat(),
                "from_stage": change.from_stage,
                "to_stage": change.to_stage,
                "note": change.note,
                "at": iso(change.at),
            }
            for change in outcome.changes
        ],
        "contracts": [contract_json(c) for c in outcome.active_contracts],  # withdrawn ones count nowhere
        "contracts_total_krw": outcome_services.contracts_total_krw(outcome),
    }


def consultation_json(
    booking: Booking, *, log: ConsultationLog | None, outcome: Outcome | None, sees_outcome: bool
) -> dict[str, Any]:
    """`outcome` is null when there is none yet and also for the interpreter, who sees the log only
    (`outcome_visible` says which)."""
    return {
        "booking_id": booking.id,
        "round_id": booking.round_id,
        "company_id": booking.company_id,
        "status": booking.status,
        "starts_at": iso(booking.starts_at),
        "ends_at": iso(booking.ends_at),
        "log": log_json(log) if log is not None else None,
        "outcome_visible": sees_outcome,
        "outcome": outcome_json(outcome) if outcome is not None and sees_outcome else None,
    }


def rate_json(rate: ExchangeRate) -> dict[str, Any]:
    return {
        "id": rate.id,
        "currency": rate.currency,
        "day": rate.day.isoformat(),
        "krw_per_unit": str(Decimal(rate.krw_per_unit).quantize(RATE_PLACES)),
        "updated_at": iso(rate.updated_at),
    }


def survey_response_json(response: SurveyResponse) -> dict[str, Any]:
    invitation = response.invitation
    booking = invitation.booking
    answers = sorted(response.answers, key=lambda a: (a.question.position, a.question_id))
    return {
        "id": response.id,
        "booking_id": booking.id,
        "round_id": booking.round_id,
        "company_id": booking.company_id,
        "respondent": invitation.respondent,
        "version": response.version.number,
        "locale": response.locale,
        "submitted_at": iso(response.submitted_at),
        "answers": [
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
        ],
    }


def figures_json(figures: Figures) -> dict[str, Any]:
    return {
        "held": figures.held,
        "no_shows": figures.no_shows,
        "smes": figures.smes,
        "contracted": figures.contracted,
        "contracts": figures.contracts,
        "krw": figures.krw,
        "satisfaction": _decimal(figures.satisfaction),
        "conversion": _decimal(figures.conversion),
    }


def _whole_or_text(metric: str, value: int | Decimal | None) -> int | str | None:
    """Counts and won as JSON integers, the satisfaction score as a string."""
    if value is None:
        return None
    if metric in WHOLE_METRICS:
        return int(value)
    return str(value)


def report_json(report: Report, lines: list[ScoreLine], *, year: int | None) -> dict[str, Any]:
    return {
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "round_id": report.round_id,
        "year": year,
        "rounds_held": report.rounds_held,
        "total": figures_json(report.total),
        "breakdowns": {
            kind: [{"key": g.key, "figures": figures_json(g.figures)} for g in groups]
            for kind, groups in report.breakdowns()
        },
        "targets": [
            {
                "metric": line.metric,
                "target": _whole_or_text(line.metric, line.target),
                "result": _whole_or_text(line.metric, line.result),
                "achievement": _decimal(line.achievement),
                "published": line.published,
                "published_at": iso(line.published_at),
            }
            for line in lines
        ],
    }
