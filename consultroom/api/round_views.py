"""Rounds and their slots through the API, as the UI's /rounds pages show them (bookings.policies)."""

from __future__ import annotations

from flask import current_app, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

from consultroom.access import authorize, get_or_404
from consultroom.api import bp
from consultroom.api.auth import api_auth
from consultroom.api.http import query_int
from consultroom.api.serializers import round_json, slot_json
from consultroom.bookings import policies, queries
from consultroom.db import utcnow
from consultroom.errors import Invalid
from consultroom.extensions import db
from consultroom.pagination import Window, count_of
from consultroom.rounds.models import Round, RoundStatus

MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000
BOOLEANS = {"true": True, "false": False}


def query_bool(name: str, errors: dict[str, list[str]]) -> bool | None:
    """A strict boolean: absent (None), `true` or `false`; anything else is named in `errors`."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if raw not in BOOLEANS:
        errors[name] = [_("Use true or false.")]
        return None
    return BOOLEANS[raw]


@bp.get("/rounds")
@api_auth
def list_rounds():
    user = g.api_user
    errors: dict[str, list[str]] = {}
    page = query_int("page", 1, 1, MAX_PAGE, errors)
    default_per_page = min(current_app.config["COMPANIES_PER_PAGE"], MAX_PER_PAGE)
    per_page = query_int("per_page", default_per_page, 1, MAX_PER_PAGE, errors)
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    stmt = select(Round).order_by(Round.day.desc(), Round.id.desc())
    if not user.is_staff:
        # The SQL form of policies.can_see_round, as queries.visible_rounds has it: no drafts for SMEs.
        stmt = stmt.where(Round.status != RoundStatus.DRAFT.value)
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)
    now = utcnow()
    return jsonify(
        {
            "items": [round_json(r, now=now) for r in pagination.items],
            "page": page,
            "per_page": per_page,
            "total": pagination.total,
            "pages": pagination.pages,
        }
    )


@bp.get("/rounds/<int:round_id>")
@api_auth
def get_round(round_id: int):
    rnd = get_or_404(db.session, Round, round_id)
    authorize(policies.can_see_round(g.api_user, rnd))
    return jsonify(round_json(rnd, now=utcnow()))


@bp.get("/rounds/<int:round_id>/slots")
@api_auth
def list_round_slots(round_id: int):
    user = g.api_user
    errors: dict[str, list[str]] = {}
    only_free = query_bool("free", errors)
    page = query_int("page", 1, 1, MAX_PAGE, errors)
    default_per_page = min(current_app.config["COMPANIES_PER_PAGE"], MAX_PER_PAGE)
    per_page = query_int("per_page", default_per_page, 1, MAX_PER_PAGE, errors)
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    rnd = get_or_404(db.session, Round, round_id)
    authorize(policies.can_see_round(user, rnd))
    now = utcnow()
    stmt = queries.round_slot_states(rnd.id, now=now, free=only_free)
    window = Window(page=page, per_page=per_page, total=db.session.scalar(count_of(stmt)))
    rows = db.session.execute(stmt.offset(window.offset).limit(per_page))
    items = []
    for slot, booking_id, company_id in rows:
        # The SQL form of policies.can_see_booking: staff, or the booking's own company.
        mine = user.is_staff or (user.is_sme and user.company_id is not None and user.company_id == company_id)
        visible_id = booking_id if booking_id is not None and mine else None
        items.append(slot_json(slot, taken=booking_id is not None, visible_booking_id=visible_id, now=now))
    return jsonify(
        {
            "round_id": rnd.id,
            "items": items,
            "page": page,
            "per_page": per_page,
            "total": window.total,
            "pages": window.pages if window.total else 0,
        }
    )
