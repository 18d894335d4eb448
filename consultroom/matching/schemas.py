"""Matching as the API takes it (match changes, meeting links, proposal lines, the settings) and shows
its settings. Recommendations and proposals are still written by api/registry_serializers, documented
beside it until the registries have their schemas."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate

from consultroom.matching.settings import POLICIES
from consultroom.schemas import Id, InSchema, OutSchema, Text, WholeNumber

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
