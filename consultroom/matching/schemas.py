"""Matching as the API takes it (match changes, meeting links, proposal lines, the settings) and what it
answers: the settings, recommendations and proposals."""

from __future__ import annotations

from typing import Any, NamedTuple

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, missing, validate

from consultroom.matching.recommend import describe, reasons_from_rows
from consultroom.matching.settings import POLICIES
from consultroom.schemas import PERSONAL, FromParent, Id, InSchema, OutSchema, Text, UtcDateTime, WholeNumber

MAX_RECOMMENDATIONS = 100
_HHMM = {"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}$"}
_NOT_WINDOWS = _l("Give a list of windows, each with a label, a start and an end.")


class MatchInputSchema(InSchema):
    buyer_id = Id(json=True, required=True)
    interpreter_id = Id(json=True, allow_none=True)
    slot_id = Id(
        json=True,
        allow_none=True,
        metadata={
            "description": "Move a booking still waiting for a buyer to this free slot of its round and "
            "propose there, in one step (the company is told of the move)."
        },
    )


class MeetingUrlInputSchema(InSchema):
    # The service checks that it is a link (and its length) and names the field.
    url = Text(None, required=True, metadata={"maxLength": 500})


class ProposalLineInputSchema(InSchema):
    """A field left out keeps its value."""

    buyer_id = Id(json=True, allow_none=True, metadata={"description": "null: no buyer."})
    interpreter_id = Id(json=True, allow_none=True, metadata={"description": "null: none."})


class RecommendationArgs(InSchema):
    limit = WholeNumber(1, MAX_RECOMMENDATIONS, load_default=20, metadata={"description": "How many.", "default": 20})


class ClearMatchArgs(InSchema):
    reason = Text(None, load_default="", metadata={"description": "Why, for the audit log. Cut at 500."})


def _windows_shape(windows: Any) -> None:
    shape_ok = isinstance(windows, list) and all(
        isinstance(w, dict)
        and set(w) <= {"label", "start", "end"}
        and all(isinstance(v, str) and "\n" not in v and "\r" not in v for v in w.values())
        for w in windows
    )
    if not shape_ok:
        raise ValidationError(str(_NOT_WINDOWS))


class MatchingSettingsInputSchema(InSchema):
    """A field left out keeps its value. The windows are checked by the round settings page's own parser."""

    _policy = _l("Choose one of the listed policies.")
    interpreter_policy = fields.String(
        validate=validate.OneOf(POLICIES, error=_policy),
        error_messages={"null": _policy, "invalid": _policy},
        metadata={"enum": list(POLICIES)},
    )
    region_windows = fields.Raw(
        validate=_windows_shape,
        error_messages={"null": _NOT_WINDOWS},
        metadata={
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["start", "end"],
                "properties": {"label": {"type": "string"}, "start": {"type": "string"}, "end": {"type": "string"}},
            },
        },
    )


def windows_text(windows: list[dict[str, str]]) -> str:
    """The windows as the settings page's text box holds them, one "label HH:MM-HH:MM" a line."""
    return "\n".join(f"{w.get('label', '')} {w.get('start', '')}-{w.get('end', '')}" for w in windows)


class RegionWindowSchema(OutSchema):
    inline = True
    label = fields.String(metadata={"maxLength": 40})
    start = fields.String(metadata=_HHMM)
    end = fields.String(metadata=_HHMM)


class MatchingSettingsSchema(OutSchema):
    interpreter_policy = fields.String(
        metadata={
            "enum": list(POLICIES),
            "description": "`always`: every consultation has an interpreter (the program's promise); "
            "`needed`: only those without a common language.",
        }
    )
    region_windows = fields.List(
        fields.Nested(RegionWindowSchema),
        metadata={
            "maxItems": 4,
            "description": "Extra time windows in Seoul hours aimed at regions (e.g. Europe 17:00-21:00); "
            "rounds generated from now on get slots in them.",
        },
    )


# --- the answers: recommendations and proposals, dumped through these fields ---------------------------


class Worded(NamedTuple):
    """A scoring reason with its words for the buyer concerned, as ReasonSchema writes it."""

    code: str
    points: int
    detail: str
    text: str


class ReasonSchema(OutSchema):
    inline = True
    code = fields.String(metadata={"examples": ["hs6", "country", "shared_language", "interpreter", "within_hours"]})
    points = fields.Integer()
    detail = fields.String(metadata={"description": "The HS code, country or language concerned."})
    text = fields.String(metadata={"description": "The reason in words, in your language."})


class WordedReasons(fields.List):
    """The reasons at `attribute`, each in words for the dumped object's `buyer` (describe reads their hours):
    none without a buyer. `stored`: kept as rows (a proposal line's), not as Reason objects."""

    def __init__(self, *, stored: bool = False, **kwargs: Any) -> None:
        super().__init__(fields.Nested(ReasonSchema), **kwargs)
        self.stored = stored

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        buyer = obj.buyer
        if buyer is None:
            return []
        reasons = super().get_value(obj, attr, accessor, default)
        if self.stored:
            reasons = reasons_from_rows(reasons)
        return [Worded(r.code, r.points, r.detail, describe(r, buyer)) for r in reasons]


class InterpreterBriefSchema(OutSchema):
    inline = True
    id = fields.Integer()
    name = fields.String(metadata=PERSONAL)
    languages = fields.List(fields.String())


class RecommendedBuyerSchema(OutSchema):
    inline = True
    id = fields.Integer()
    company_name = fields.String()
    country = fields.String()
    timezone = fields.String()
    languages = fields.List(fields.String())


class OtherSlotSchema(OutSchema):
    """Dumped from the recommendation: its other_slot, and the interpreters free then."""

    inline = True
    id = fields.Integer(attribute="other_slot.slot_id")
    starts_at = UtcDateTime(attribute="other_slot.starts_at")
    ends_at = UtcDateTime(attribute="other_slot.ends_at")
    interpreters = fields.List(fields.Nested(InterpreterBriefSchema), attribute="other_interpreters")


class RecommendationSchema(OutSchema):
    """Dumps a matching.recommend.Recommendation."""

    inline = True
    buyer = fields.Nested(RecommendedBuyerSchema)
    score = fields.Integer(attribute="score.total")
    reasons = WordedReasons(attribute="score.reasons")
    needs_interpreter = fields.Boolean()
    interpreters = fields.List(
        fields.Nested(InterpreterBriefSchema),
        metadata={"description": "Free then, in the buyer's language, under their daily cap."},
    )
    load = fields.Integer(metadata={"description": "The buyer's matches in this round."})
    fit = fields.String(
        attribute="score.fit",
        metadata={
            "enum": ["hs6", "hs4", "hs2", "industry"],
            "description": "Product fit, which ranks before points: exact HS code, HS heading, HS chapter, "
            "declared industry.",
        },
    )
    other_slot = FromParent(
        OtherSlotSchema,
        unless_none="other_slot",
        metadata={
            "description": "When the booked time is outside the buyer's hours: the earliest free slot of the "
            "round that suits both, with its interpreters. Propose there with `slot_id` "
            "(PUT /bookings/{booking_id}/match)."
        },
    )


class RecommendationsSchema(OutSchema):
    """Dumps {"booking_id", "open_for_matching", "items": [Recommendation, ...]}."""

    booking_id = fields.Integer()
    open_for_matching = fields.Boolean(metadata={"description": "A match can be proposed now."})
    items = fields.List(fields.Nested(RecommendationSchema), metadata={"description": "Best first."})


class ExactTotalsSchema(OutSchema):
    inline = True
    total = fields.Integer(attribute="proposal.exact_total")
    matched = fields.Integer(attribute="proposal.exact_matched", metadata={"minimum": 0})


class GreedyTotalsSchema(OutSchema):
    inline = True
    total = fields.Integer(attribute="proposal.greedy_total")
    matched = fields.Integer(attribute="proposal.greedy_matched", metadata={"minimum": 0})


class ViolationSchema(OutSchema):
    message = fields.String()
    line_ids = fields.List(fields.Integer(), metadata={"description": "The lines concerned."})


class ProposalBookingSchema(OutSchema):
    inline = True
    id = fields.Integer()
    company_id = fields.Integer()
    company_name = fields.String(attribute="company.display_name")
    starts_at = UtcDateTime()
    ends_at = UtcDateTime()
    status = fields.String()


class ProposalBuyerSchema(OutSchema):
    inline = True
    id = fields.Integer()
    company_name = fields.String()
    country = fields.String()


class ProposalInterpreterSchema(OutSchema):
    inline = True
    id = fields.Integer()
    name = fields.String(metadata=PERSONAL)


class ProposalLineSchema(OutSchema):
    """Dumps a ProposalLine, its booking, company, buyer and interpreter loaded (proposals.proposal_lines)."""

    id = fields.Integer()
    booking = fields.Nested(ProposalBookingSchema)
    buyer = fields.Nested(ProposalBuyerSchema, allow_none=True)
    interpreter = fields.Nested(ProposalInterpreterSchema, allow_none=True)
    score = fields.Integer(allow_none=True)
    reasons = WordedReasons(stored=True)
    edited = fields.Boolean()


class ProposalSchema(OutSchema):
    """Dumps {"proposal": RoundProposal, "lines": its lines, "violations": the rules it breaks (proposals.check)}."""

    id = fields.Integer(attribute="proposal.id")
    round_id = fields.Integer(attribute="proposal.round_id")
    status = fields.String(attribute="proposal.status", metadata={"enum": ["draft", "confirmed", "discarded"]})
    exact = FromParent(ExactTotalsSchema, metadata={"description": "The optimal assignment as proposed."})
    greedy = FromParent(GreedyTotalsSchema, metadata={"description": "Best pair first, for comparison."})
    total = fields.Integer(
        attribute="proposal.total", metadata={"description": "The lines' scores as they stand, after edits."}
    )
    weights = fields.Dict(attribute="proposal.weights", keys=fields.String(), values=fields.Integer())
    created_at = UtcDateTime(attribute="proposal.created_at")
    decided_at = UtcDateTime(attribute="proposal.decided_at", allow_none=True)
    lines = fields.List(fields.Nested(ProposalLineSchema))
    violations = fields.List(
        fields.Nested(ViolationSchema),
        metadata={"description": "Rules the draft breaks; confirming is refused (422) until empty."},
    )
