"""JSON of recommendations and round proposals (staff only), as matching.schemas declares them
(RecommendationsSchema, ProposalSchema; the interpreters' names marked as personal data there)."""

from __future__ import annotations

from typing import Any

from consultroom.api.http import iso
from consultroom.interpreters.models import Interpreter
from consultroom.matching.models import ProposalLine, RoundProposal
from consultroom.matching.proposals import Issue
from consultroom.matching.recommend import Recommendation, describe, reasons_from_rows
from consultroom.matching.scoring import Reason


def reason_json(reason: Reason, buyer: Any) -> dict[str, Any]:
    return {"code": reason.code, "points": reason.points, "detail": reason.detail, "text": describe(reason, buyer)}


def _interpreter_brief(interpreter: Interpreter) -> dict[str, Any]:
    return {"id": interpreter.id, "name": interpreter.name, "languages": list(interpreter.languages)}


def recommendation_json(rec: Recommendation) -> dict[str, Any]:
    buyer = rec.buyer
    return {
        "buyer": {
            "id": buyer.id,
            "company_name": buyer.company_name,
            "country": buyer.country,
            "timezone": buyer.timezone,
            "languages": list(buyer.languages),
        },
        "score": rec.score.total,
        "reasons": [reason_json(r, buyer) for r in rec.score.reasons],
        "needs_interpreter": rec.needs_interpreter,
        "interpreters": [_interpreter_brief(i) for i in rec.interpreters],
        "load": rec.load,
        "fit": rec.score.fit,
        # When the booked time is outside the buyer's hours: a free slot of the round that suits both,
        # to propose with the move (PUT /bookings/{id}/match with its slot_id).
        "other_slot": (
            {
                "id": rec.other_slot.slot_id,
                "starts_at": iso(rec.other_slot.starts_at),
                "ends_at": iso(rec.other_slot.ends_at),
                "interpreters": [_interpreter_brief(i) for i in rec.other_interpreters],
            }
            if rec.other_slot is not None
            else None
        ),
    }


def issue_json(issue: Issue) -> dict[str, Any]:
    return {"message": issue.message, "line_ids": list(issue.line_ids)}


def proposal_line_json(line: ProposalLine) -> dict[str, Any]:
    booking, buyer, interpreter = line.booking, line.buyer, line.interpreter
    return {
        "id": line.id,
        "booking": {
            "id": booking.id,
            "company_id": booking.company_id,
            "company_name": booking.company.display_name,
            "starts_at": iso(booking.starts_at),
            "ends_at": iso(booking.ends_at),
            "status": booking.status,
        },
        "buyer": {"id": buyer.id, "company_name": buyer.company_name, "country": buyer.country} if buyer else None,
        "interpreter": {"id": interpreter.id, "name": interpreter.name} if interpreter else None,
        "score": line.score,
        "reasons": [reason_json(r, buyer) for r in reasons_from_rows(line.reasons)] if buyer else [],
        "edited": line.edited,
    }


def proposal_json(proposal: RoundProposal, lines: list[ProposalLine], issues: list[Issue]) -> dict[str, Any]:
    return {
        "id": proposal.id,
        "round_id": proposal.round_id,
        "status": proposal.status,
        "exact": {"total": proposal.exact_total, "matched": proposal.exact_matched},
        "greedy": {"total": proposal.greedy_total, "matched": proposal.greedy_matched},
        "total": sum(line.score or 0 for line in lines if line.buyer_id is not None),
        "weights": dict(proposal.weights or {}),
        "created_at": iso(proposal.created_at),
        "decided_at": iso(proposal.decided_at),
        "lines": [proposal_line_json(line) for line in lines],
        "violations": [issue_json(issue) for issue in issues],
    }
