"""Rounds and their slots as the API shows them: the one declaration of their JSON and its document."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from consultroom.db import utcnow
from consultroom.rounds.models import Round, RoundStatus
from consultroom.schemas import OutSchema, PageArgs, StrictBool, UtcDateTime, page_of

_UTC = "UTC, ISO 8601 with the Z offset."


class RoundSchema(OutSchema):
    id = fields.Integer()
    title = fields.String()
    year = fields.Integer()
    month = fields.Integer(metadata={"minimum": 1, "maximum": 12})
    day = fields.Date(metadata={"description": "The consultation day, in Asia/Seoul."})
    status = fields.String(
        validate=validate.OneOf([s.value for s in RoundStatus]), metadata={"description": "SMEs never see drafts."}
    )
    booking_opens_at = UtcDateTime()
    booking_closes_at = UtcDateTime()
    booking_open = fields.Method(
        "_booking_open",
        metadata={
            "type": "boolean",
            "description": "The round is open and now is inside its booking window: an SME can book.",
        },
    )
    cancel_hours_before = fields.Integer(
        metadata={"description": "A company can cancel until this many hours before the slot begins."}
    )
    company_cap = fields.Integer(metadata={"description": "Most active bookings a company may hold."})

    def _booking_open(self, rnd: Round) -> bool:
        # The UI's "bookable": an SME can book now (staff may also book into a closed round).
        return rnd.status == RoundStatus.OPEN and rnd.booking_opens_at <= utcnow() < rnd.booking_closes_at


class SlotSchema(OutSchema):
    """Dumps {"slot", "free", "booking_id"}: whether a slot is free and whose booking the viewer may see
    come from the list's query, not from the slot."""

    id = fields.Integer(attribute="slot.id")
    round_id = fields.Integer(attribute="slot.round_id")
    booth = fields.Integer(attribute="slot.booth", metadata={"minimum": 1})
    starts_at = UtcDateTime(attribute="slot.starts_at", metadata={"description": _UTC})
    ends_at = UtcDateTime(attribute="slot.ends_at", metadata={"description": _UTC})
    closed = fields.Boolean(attribute="slot.closed", metadata={"description": "Closed by staff: not bookable."})
    free = fields.Boolean(metadata={"description": "Nobody holds the slot, it is not closed and it has not begun."})
    booking_id = fields.Integer(
        allow_none=True,
        metadata={"description": "The active booking of the slot, when it is one you may see (your own; staff: all)."},
    )


RoundListSchema = page_of(RoundSchema)
SlotListSchema = page_of(SlotSchema, round_id=fields.Integer())


class SlotArgs(PageArgs):
    free = StrictBool(
        metadata={
            "description": "`true`: only free slots; `false`: only taken, closed or past ones; absent: all. "
            "Any other value is refused (422)."
        }
    )


def slot_row(slot: Any, *, taken: bool, visible_booking_id: int | None, now: Any) -> dict[str, Any]:
    """`taken`: the slot has an active booking, whose id is shown only to those who may see it."""
    # As the UI counts a slot free: nobody holds it, it is not closed and has not begun.
    free = not taken and not slot.closed and slot.starts_at > now
    return {"slot": slot, "free": free, "booking_id": visible_booking_id}
