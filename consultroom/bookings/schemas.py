"""Bookings as the API takes and shows them: the one declaration of their JSON and its document.

The request's own rules (clean_request) live here, below the services that build on them: the booking
form, the services and this schema run the same ones, the schema so that a body's every problem, unknown
fields included, is named in one answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from marshmallow import ValidationError, fields, post_load, validates_schema

from consultroom.companies import validation as v
from consultroom.errors import Invalid
from consultroom.schemas import (
    PERSONAL,
    Id,
    InSchema,
    OutSchema,
    PageArgs,
    UtcDateTime,
    check_storable,
    page_of,
    required_by_rules,
)

_RESPONSES = ["pending", "accepted", "declined", None]
_TEXT = {
    "products": (4000, "Products to present. Required (not empty)."),
    "buyer_profile": (2000, "The buyer the company would like to meet."),
    "notes": (4000, "Notes for the staff."),
}
_CODES = {
    "hs_codes": ("^[0-9]{6}$", "6-digit HS codes of the products to present."),
    "target_countries": ("^[A-Z]{2}$", "ISO 3166-1 alpha-2 codes of the target countries."),
    "languages": ("^[a-z]{2}$", "ISO 639-1 codes of the languages the company's staff speak."),
}
# Free text written about people is personal data (a request's notes, the wished-for buyer).
_PERSONAL_TEXT = {"notes", "buyer_profile"}


@dataclass
class BookingRequest:
    products: str = ""
    hs_codes: list[str] = field(default_factory=list)
    target_countries: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    buyer_profile: str = ""
    notes: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def clean_request(data: Mapping[str, Any] | BookingRequest | None) -> BookingRequest:
    """Validate a booking request; Invalid names every bad field."""
    if isinstance(data, BookingRequest):
        data = data.as_dict()
    data = data or {}
    errors: dict[str, list[str]] = {}
    clean = BookingRequest()
    for name, (limit, _description) in _TEXT.items():
        value = data.get(name) or ""
        if not isinstance(value, str):
            errors[name] = [_("Must be text.")]
        elif len(value.strip()) > limit:
            errors[name] = [_("Use at most %(n)d characters.", n=limit)]
        else:
            setattr(clean, name, value.strip())
    if not clean.products and "products" not in errors:
        errors["products"] = [_("Tell us which products you want to present.")]
    checks = {
        "hs_codes": (v.normalize_hs_code, v.hs_code_ok, _("Not a valid 6-digit HS code: %(codes)s")),
        "target_countries": (str.upper, v.country_ok, _("Not an ISO 3166 country code: %(codes)s")),
        "languages": (str.lower, v.language_ok, _("Not an ISO 639-1 language code: %(codes)s")),
    }
    for name, (norm, ok, message) in checks.items():
        raw = data.get(name)
        if (raw is not None and not isinstance(raw, str | list)) or (
            isinstance(raw, list) and not all(isinstance(x, str) for x in raw)
        ):
            errors[name] = [_("Must be a list of codes.")]
            continue
        codes = [norm(c) for c in v.split_codes(raw)][:30]
        bad = [c for c in codes if not ok(c)]
        if bad:
            errors[name] = [message % {"codes": ", ".join(bad)}]
        setattr(clean, name, list(dict.fromkeys(codes)))
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    return clean


def _text_in(name: str) -> fields.Raw:
    max_len, description = _TEXT[name]
    mark = PERSONAL if name in _PERSONAL_TEXT else {}
    return fields.Raw(
        allow_none=True,
        metadata={"type": "string", "maxLength": max_len, "description": description, **mark},
    )


def _codes_in(name: str) -> fields.Raw:
    return fields.Raw(
        allow_none=True,
        metadata={
            "description": _CODES[name][1] + " A list, or one string separated by commas or spaces; "
            "at most 30 are kept.",
            "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}, {"type": "null"}],
        },
    )


class BookingRequestInputSchema(InSchema):
    """What the company wants from the consultation; checked as the booking form checks it."""

    products = required_by_rules(_text_in("products"))
    hs_codes = _codes_in("hs_codes")
    target_countries = _codes_in("target_countries")
    buyer_profile = _text_in("buyer_profile")
    languages = _codes_in("languages")
    notes = _text_in("notes")

    @staticmethod
    def _clean(data: dict[str, Any]) -> Any:
        try:
            check_storable(data)
            return clean_request(data)
        except Invalid as exc:
            raise ValidationError(exc.fields) from exc

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _check(self, data: dict[str, Any], original: Any, **_kwargs: Any) -> None:
        if isinstance(original, dict):  # not an object at all: that alone is said ("Must be an object.")
            self._clean(data)

    @post_load
    def _cleaned(self, data: dict[str, Any], **_kwargs: Any) -> Any:
        return self._clean(data)


class BookingInputSchema(InSchema):
    slot_id = Id(json=True, required=True)
    company_id = Id(
        json=True,
        allow_none=True,
        metadata={
            "description": "Staff: the company to book for (required). An SME books for its own company; "
            "it may leave this out or send its own company's id."
        },
    )
    request = fields.Nested(BookingRequestInputSchema, required=True)


class BookingRequestSchema(OutSchema):
    products = fields.String(metadata={"description": _TEXT["products"][1]})
    hs_codes = fields.List(fields.String(metadata={"pattern": _CODES["hs_codes"][0]}))
    target_countries = fields.List(fields.String(metadata={"pattern": _CODES["target_countries"][0]}))
    buyer_profile = fields.String(metadata={"description": _TEXT["buyer_profile"][1], **PERSONAL})
    languages = fields.List(fields.String(metadata={"pattern": _CODES["languages"][0]}))
    notes = fields.String(metadata={"description": _TEXT["notes"][1], **PERSONAL})


class MatchBuyerSchema(OutSchema):
    inline = True
    optional = ("id",)
    id = fields.Integer(metadata={"description": "Staff only."})
    company_name = fields.String(allow_none=True, metadata={"description": "Company: once confirmed."})
    country = fields.String()


class InterpreterBriefSchema(OutSchema):
    inline = True
    id = fields.Integer()
    name = fields.String(metadata=PERSONAL)


class BookingMatchSchema(OutSchema):
    """The match. Staff see all of it. The company sees, while a buyer is proposed, only its country;
    once confirmed, its company name and the meeting link; never contact details."""

    optional = ("interpreter", "buyer_response", "interpreter_response", "score", "respond_by")
    buyer = fields.Nested(MatchBuyerSchema, allow_none=True)
    interpreter = fields.Nested(InterpreterBriefSchema, allow_none=True, metadata={"description": "Staff only."})
    buyer_response = fields.String(allow_none=True, metadata={"enum": _RESPONSES})
    interpreter_response = fields.String(allow_none=True, metadata={"enum": _RESPONSES})
    score = fields.Integer(allow_none=True)
    respond_by = UtcDateTime(allow_none=True, metadata={"description": "Staff only: the parties answer by then."})
    confirmed_at = UtcDateTime(allow_none=True)
    meeting_url = fields.String(allow_none=True, metadata={"description": "The company: only once confirmed."})


class BookingSchema(OutSchema):
    """Dumps a row from api.serializers.booking_row: the booking, and what depends on the viewer."""

    id = fields.Integer(attribute="booking.id")
    round_id = fields.Integer(attribute="booking.round_id")
    slot_id = fields.Integer(attribute="booking.slot_id")
    company_id = fields.Integer(attribute="booking.company_id")
    status = fields.String(
        attribute="booking.status",
        metadata={"enum": ["requested", "matched", "confirmed", "held", "no_show", "cancelled"]},
    )
    booth = fields.Integer(attribute="booking.slot.booth", metadata={"minimum": 1})
    starts_at = UtcDateTime(attribute="booking.starts_at")
    ends_at = UtcDateTime(attribute="booking.ends_at")
    request = fields.Nested(BookingRequestSchema)
    from_waitlist = fields.Boolean(
        attribute="booking.from_waitlist", metadata={"description": "Booked by promotion from the waitlist."}
    )
    created_at = UtcDateTime(attribute="booking.created_at")
    cancelled_at = UtcDateTime(attribute="booking.cancelled_at", allow_none=True)
    cancel_deadline = UtcDateTime(metadata={"description": "Until when the company can cancel (staff: later)."})
    cancellable = fields.Boolean(metadata={"description": "You can cancel it now (DELETE)."})
    match = fields.Nested(BookingMatchSchema)


BookingListSchema = page_of(BookingSchema)


class BookingListArgs(PageArgs):
    round_id = Id(metadata={"description": "Only bookings of this round."})
