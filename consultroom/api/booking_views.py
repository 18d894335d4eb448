"""Bookings through the API: the UI's services and permission predicates (consultroom.bookings)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import false, select
from sqlalchemy.orm import lazyload, selectinload

from consultroom.access import authorize, get_or_404
from consultroom.accounts.models import User
from consultroom.api import bp
from consultroom.api.auth import api_auth
from consultroom.api.http import check_storable, json_object, query_int, unit_of_work
from consultroom.api.serializers import booking_json
from consultroom.bookings import policies, services
from consultroom.bookings.downloads import ics_response
from consultroom.bookings.models import Booking
from consultroom.bookings.services import BookingRequest
from consultroom.companies.models import Company
from consultroom.consultations import changes
from consultroom.db import utcnow
from consultroom.errors import Invalid, NotAllowed
from consultroom.extensions import db
from consultroom.privacy import access_log
from consultroom.rounds.models import Slot

MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000
# Ids are 32-bit integer columns (as the path converter in consultroom/__init__.py assumes).
ID_MAX = 2**31 - 1
BODY_FIELDS = ("slot_id", "company_id", "request")
REQUEST_FIELDS = tuple(BookingRequest().as_dict())
# The UI cuts the cancellation reason at this length too (bookings.views.cancel).
REASON_MAX = 500


def _id_problem() -> str:
    return _("Use a whole number from %(low)d to %(high)d.", low=1, high=ID_MAX)


def _body_id(data: dict[str, Any], name: str, errors: dict[str, list[str]], *, required: bool) -> int | None:
    value = data.get(name)
    if value is None:
        if required:
            errors[name] = [_("This field is required.")]
        return None
    # bool is an int in Python, and 1.0 is not an id: only a JSON integer in range is.
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= ID_MAX:
        errors[name] = [_id_problem()]
        return None
    return value


def _nested(errors: dict[str, list[str]], prefix: str, exc: Invalid) -> None:
    for name, messages in exc.fields.items():
        errors[f"{prefix}.{name}"] = messages


def _booking_request(raw: Any, errors: dict[str, list[str]]) -> BookingRequest | None:
    """The request, checked by the UI's own validation (services.clean_request); errors named request.<field>."""
    if raw is None:
        errors["request"] = [_("This field is required.")]
        return None
    if not isinstance(raw, dict):
        errors["request"] = [_("Must be an object.")]
        return None
    for name in sorted(set(raw) - set(REQUEST_FIELDS)):
        errors[f"request.{name}"] = [_("Unknown field.")]
    try:
        check_storable(raw)
        return services.clean_request({name: raw[name] for name in REQUEST_FIELDS if name in raw})
    except Invalid as exc:
        _nested(errors, "request", exc)
        return None


def _company_for(user: User, company_id: int | None, errors: dict[str, list[str]]) -> Company | None:
    """Staff book for the company they name (the UI's staff grid); an SME only for its own."""
    if policies.can_manage_rounds(user):
        if company_id is None:
            if "company_id" not in errors:
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


@bp.post("/bookings")
@api_auth
def create_booking():
    user = g.api_user
    # The UI's rules for who books: an SME with a company on the round page, staff on the staff grid.
    authorize(True, policies.can_book(user) or policies.can_manage_rounds(user))
    data = json_object()
    errors: dict[str, list[str]] = {}
    for name in sorted(set(data) - set(BODY_FIELDS)):
        errors[name] = [_("Unknown field.")]
    slot_id = _body_id(data, "slot_id", errors, required=True)
    company_id = _body_id(data, "company_id", errors, required=False)
    req = _booking_request(data.get("request"), errors)
    company = _company_for(user, company_id, errors)
    slot = db.session.get(Slot, slot_id) if slot_id is not None else None
    # A slot of a round the caller may not see is answered like one that does not exist.
    if slot_id is not None and (slot is None or not policies.can_see_round(user, slot.round)):
        errors["slot_id"] = [_("No such slot.")]
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    with unit_of_work():
        booking = services.book_slot(company=company, slot=slot, request=req, actor=user)
        body = booking_json(booking, cancellable=services.can_cancel_now(booking, user))
    # body["id"], not booking.id: after the commit that would reload the row.
    return jsonify(body), 201, {"Location": url_for("api.get_booking", booking_id=body["id"])}


def _query_id(name: str, errors: dict[str, list[str]]) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdecimal() and len(raw) <= 10) or not 1 <= int(raw) <= ID_MAX:
        errors[name] = [_id_problem()]
        return None
    return int(raw)


@bp.get("/bookings")
@api_auth
def list_bookings():
    user = g.api_user
    errors: dict[str, list[str]] = {}
    round_id = _query_id("round_id", errors)
    page = query_int("page", 1, 1, MAX_PAGE, errors)
    default_per_page = min(current_app.config["COMPANIES_PER_PAGE"], MAX_PER_PAGE)
    per_page = query_int("per_page", default_per_page, 1, MAX_PER_PAGE, errors)
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
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
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)
    now = utcnow()
    response = jsonify(
        {
            "items": [booking_json(b, cancellable=services.can_cancel_now(b, user, now)) for b in pagination.items],
            "page": page,
            "per_page": per_page,
            "total": pagination.total,
            "pages": pagination.pages,
        }
    )
    # PIPA access log: staff reading the companies' requests (free text: notes, buyer profile).
    subjects = sorted({("company", b.company_id) for b in pagination.items})
    return access_log.commit_logged(response, actor=user, subjects=subjects, what="api.list_bookings", via="api")


def _visible_booking(booking_id: int) -> Booking:
    booking = get_or_404(db.session, Booking, booking_id)
    authorize(policies.can_see_booking(g.api_user, booking))
    return booking


@bp.get("/bookings/<int:booking_id>")
@api_auth
def get_booking(booking_id: int):
    booking = _visible_booking(booking_id)
    response = jsonify(booking_json(booking, cancellable=services.can_cancel_now(booking, g.api_user)))
    return access_log.commit_logged(
        response, actor=g.api_user, subjects=[("company", booking.company_id)], what="api.get_booking", via="api"
    )


@bp.delete("/bookings/<int:booking_id>")
@api_auth
def cancel_booking(booking_id: int):
    booking = _visible_booking(booking_id)
    # As the UI takes it; the API refused a NUL character in any query parameter before this (422).
    reason = request.args.get("reason", "")[:REASON_MAX]
    with unit_of_work():
        # The service applies the deadline (staff may cancel after it) and promotes the waitlist.
        changes.cancel_booking(booking=booking, actor=g.api_user, reason=reason)
    return Response(status=204)


@bp.get("/bookings/<int:booking_id>/ics")
@api_auth
def booking_ics(booking_id: int):
    # The very response the UI's .ics link gives.
    return ics_response(_visible_booking(booking_id), g.api_user)
