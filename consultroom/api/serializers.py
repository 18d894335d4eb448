"""JSON shapes of API objects; the domains' schemas.py declare the same shapes for the document."""

from __future__ import annotations

from typing import Any

from flask import g

from consultroom.accounts.models import User
from consultroom.bookings.models import Booking
from consultroom.bookings.schemas import BookingSchema
from consultroom.bookings.services import cancel_deadline
from consultroom.companies.models import Company
from consultroom.companies.schemas import dump_company


def company_json(company: Company) -> dict[str, Any]:
    # Declared once, in companies.schemas (issue 14).
    return dump_company(company)


def booking_row(booking: Booking, *, cancellable: bool, viewer: User | None = None) -> dict[str, Any]:
    """What bookings.schemas.BookingSchema dumps. `viewer` (default: the API caller) decides how much of
    the match is shown: see match_row."""
    return {
        "booking": booking,
        "request": {
            "products": booking.products,
            "hs_codes": list(booking.hs_codes or []),
            "target_countries": list(booking.target_countries or []),
            "buyer_profile": booking.buyer_profile,
            "languages": list(booking.languages or []),
            "notes": booking.notes,
        },
        "cancel_deadline": cancel_deadline(booking.starts_at, booking.round),
        "cancellable": cancellable,
        "match": match_row(booking, viewer=viewer if viewer is not None else g.get("api_user")),
    }


_BOOKING = BookingSchema()


def booking_json(booking: Booking, *, cancellable: bool, viewer: User | None = None) -> dict[str, Any]:
    return _BOOKING.dump(booking_row(booking, cancellable=cancellable, viewer=viewer))


def match_row(booking: Booking, *, viewer: User | None) -> dict[str, Any]:
    """The match state of a booking, as much as `viewer` may know.

    Staff see the whole state. The company sees what its bookings page shows (templates/bookings/mine.html):
    while proposed only the buyer's country, once confirmed its company name and the meeting link;
    never the buyer's contact person, e-mail or phone, nor the interpreter's. No viewer: the company's view.
    """
    buyer = booking.buyer if booking.buyer_id is not None else None
    confirmed = booking.status == "confirmed"
    if viewer is not None and viewer.is_staff:
        interpreter = booking.interpreter if booking.interpreter_id is not None else None
        return {
            "buyer": {"id": buyer.id, "company_name": buyer.company_name, "country": buyer.country} if buyer else None,
            "interpreter": {"id": interpreter.id, "name": interpreter.name} if interpreter else None,
            "buyer_response": booking.buyer_response,
            "interpreter_response": booking.interpreter_response,
            "score": booking.match_score,
            "respond_by": booking.respond_by,
            "confirmed_at": booking.confirmed_at,
            "meeting_url": booking.meeting_url or None,
        }
    return {
        "buyer": {"company_name": buyer.company_name if confirmed else None, "country": buyer.country}
        if buyer
        else None,
        "confirmed_at": booking.confirmed_at if confirmed else None,
        "meeting_url": (booking.meeting_url or None) if confirmed else None,
    }
