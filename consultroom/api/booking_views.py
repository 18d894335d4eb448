"""Bookings through the API: the UI's services and permission predicates (consultroom.bookings)."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, url_for
from flask_babel import gettext as _
from marshmallow import fields
from sqlalchemy import false, select
from sqlalchemy.orm import lazyload, selectinload

from consultroom.access import authorize, get_or_404
from consultroom.accounts.models import User
from consultroom.api import bp
from consultroom.api.auth import api_auth, api_requires
from consultroom.api.http import list_page, logged, unit_of_work
from consultroom.api.serializers import booking_json
from consultroom.api.spec import NUL_QUERY, errors
from consultroom.bookings import policies, services
from consultroom.bookings.downloads import ics_response
from consultroom.bookings.models import Booking
from consultroom.bookings.schemas import BookingInputSchema, BookingListArgs, BookingListSchema, BookingSchema
from consultroom.companies.models import Company
from consultroom.consultations import changes
from consultroom.db import utcnow
from consultroom.errors import Invalid, NotAllowed
from consultroom.extensions import db
from consultroom.rounds.models import Slot
from consultroom.schemas import InSchema

# The UI cuts the cancellation reason at this length too (bookings.views.cancel).
REASON_MAX = 500
_NOT_YOURS = "No such booking, or not one of your company's."


def _company_for(user: User, company_id: int | None, errors: dict[str, list[str]]) -> Company | None:
    """Staff book for the company they name (the UI's staff grid); an SME only for its own."""
    if policies.can_manage_rounds(user):
        if company_id is None:
            errors["company_id"] = [_("This field is required.")]
            return None
        company = db.session.get(Company, company_id)
        if company is None:
            errors["company_id"] = [_("No such company.")]
        return company
    if company_id is not None and company_id != user.company_id:
        raise NotAllowed(_("You can only book for your own company."))
    # Booking needs the company's id only: skip the code lists it loads eagerly (three queries a request).
    return db.session.get(Company, user.company_id, options=[lazyload("*")])


@bp.post("/bookings", tags=["bookings"])
@api_auth
# The UI's rules for who books: an SME with a company on the round page, staff on the staff grid.
@api_requires(lambda user: policies.can_book(user) or policies.can_manage_rounds(user))
@bp.doc(
    operationId="createBooking",
    summary="Book a slot with a request (an SME for its company; staff for a company they name)",
    description="The rules of the booking page apply: an SME books only while the round is open and "
    "inside its booking window; staff may also book into a closed round. A company holds at most "
    "`company_cap` bookings per round and never two at overlapping times; a slot has one booking.",
    responses=errors(
        401,
        415,
        e400="The body is not JSON or not a JSON object, or a query parameter holds a NUL.",
        e403="You cannot book: an SME without a company, or another company's id.",
        e409="Refused, the message says why: the slot is taken, closed or past; the company holds the "
        "most bookings allowed or has one at an overlapping time; booking is not open.",
        e422="Fields missing or not valid, each named in `fields` (request fields as `request.<name>`); "
        "an unknown slot or company is named too.",
    ),
)
@bp.arguments(BookingInputSchema)
@bp.response(
    201,
    BookingSchema,
    description="Booked; the company is told by mail.",
    headers={"Location": {"schema": {"type": "string"}}},
)
def create_booking(data: dict[str, Any]):
    user = g.api_user
    errors: dict[str, list[str]] = {}
    company = _company_for(user, data.get("company_id"), errors)
    slot = db.session.get(Slot, data["slot_id"])
    # A slot of a round the caller may not see is answered like one that does not exist.
    if slot is None or not policies.can_see_round(user, slot.round):
        errors["slot_id"] = [_("No such slot.")]
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    with unit_of_work():
        booking = services.book_slot(company=company, slot=slot, request=data["request"], actor=user)
        body = booking_json(booking, cancellable=services.can_cancel_now(booking, user))
    # body["id"], not booking.id: after the commit that would reload the row.
    return jsonify(body), 201, {"Location": url_for("api.get_booking", booking_id=body["id"])}


@bp.get("/bookings", tags=["bookings"])
@api_auth
@bp.doc(
    operationId="listBookings",
    summary="Bookings (an SME: its company's; staff: all), latest first, cancelled ones included",
    responses=errors(401, e422=NUL_QUERY + " Or `round_id` or a page number is not valid."),
)
@bp.arguments(BookingListArgs, location="query")
@bp.response(200, BookingListSchema, description="One page of bookings.")
def list_bookings(args: dict[str, Any]):
    user = g.api_user
    round_id = args.get("round_id")
    stmt = (
        select(Booking)
        .options(
            selectinload(Booking.round),
            selectinload(Booking.slot),
            # The match shows a few columns of the buyer and interpreter: not their languages, hours and days off.
            selectinload(Booking.buyer).lazyload("*"),
            selectinload(Booking.interpreter).lazyload("*"),
        )
        .order_by(Booking.starts_at.desc(), Booking.id.desc())
    )
    if not user.is_staff:
        # The SQL form of policies.can_see_booking: an SME sees its own company's bookings only.
        own = user.is_sme and user.company_id is not None
        stmt = stmt.where(Booking.company_id == user.company_id) if own else stmt.where(false())
    if round_id is not None:
        stmt = stmt.where(Booking.round_id == round_id)
    listed = list_page(stmt, args)
    now = utcnow()
    items = [booking_json(b, cancellable=services.can_cancel_now(b, user, now)) for b in listed.items]
    response = jsonify(listed.body(items))
    # PIPA access log: staff reading the companies' requests (free text: notes, buyer profile).
    subjects = sorted({("company", b.company_id) for b in listed.items})
    return logged(response, actor=user, subjects=subjects, what="api.list_bookings")


def _visible_booking(booking_id: int) -> Booking:
    booking = get_or_404(db.session, Booking, booking_id)
    authorize(policies.can_see_booking(g.api_user, booking))
    return booking


@bp.get("/bookings/<int:booking_id>", tags=["bookings"])
@api_auth
@bp.doc(operationId="getBooking", summary="One booking", responses=errors(401, e404=_NOT_YOURS, e422=NUL_QUERY))
@bp.response(200, BookingSchema, description="The booking.")
def get_booking(booking_id: int):
    booking = _visible_booking(booking_id)
    response = jsonify(booking_json(booking, cancellable=services.can_cancel_now(booking, g.api_user)))
    return logged(
        response,
        actor=g.api_user,
        subjects=[("company", booking.company_id)],
        what="api.get_booking",
    )


class CancelArgs(InSchema):
    # Not `required`: the service names a missing reason in the UI's words ("Give a reason ...").
    reason = fields.String(
        load_default="",
        metadata={"description": "Why (sent to the company and staff). Required. Cut at 500 characters."},
    )


@bp.delete("/bookings/<int:booking_id>", tags=["bookings"])
@api_auth
@bp.doc(
    operationId="cancelBooking",
    summary="Cancel a booking; the slot is free again and goes to the first company on the waitlist",
    description="A company can cancel until the round's cancellation deadline; staff also after it, "
    "until the slot begins. The company, staff (when the company cancels) and the buyer and interpreter "
    "of a match are told by mail, with a calendar cancellation.",
    responses=errors(
        401,
        e404=_NOT_YOURS,
        e409="Not cancelled, the message says why: already cancelled, past the deadline, or begun.",
        e422="No reason given, or a NUL character in a query parameter.",
    ),
)
@bp.arguments(CancelArgs, location="query")
@bp.response(204, description="Cancelled.")
def cancel_booking(args: dict[str, Any], booking_id: int):
    booking = _visible_booking(booking_id)
    # As the UI takes it; the API refused a NUL character in any query parameter before this (422).
    reason = args["reason"][:REASON_MAX]
    with unit_of_work():
        # The service applies the deadline (staff may cancel after it) and promotes the waitlist.
        changes.cancel_booking(booking=booking, actor=g.api_user, reason=reason)
    return Response(status=204)


@bp.get("/bookings/<int:booking_id>/ics", tags=["bookings"])
@api_auth
@bp.doc(
    operationId="getBookingIcs",
    summary="The booking as an iCalendar event, in Asia/Seoul (TZID with its VTIMEZONE)",
    responses={
        "200": {
            "description": "The same .ics file as the web page's calendar link.",
            "headers": {"Content-Disposition": {"schema": {"type": "string"}}},
            "content": {"text/calendar": {"schema": {"type": "string"}}},
        },
        **errors(401, e404=_NOT_YOURS, e422=NUL_QUERY),
    },
)
def booking_ics(booking_id: int):
    # The very response the UI's .ics link gives.
    return ics_response(_visible_booking(booking_id), g.api_user)
