"""Rounds and their slots through the API, as the UI's /rounds pages show them (bookings.policies)."""

from __future__ import annotations

from typing import Any

from flask import g
from sqlalchemy import select

from consultroom.access import authorize, get_or_404
from consultroom.api import bp
from consultroom.api.auth import api_auth
from consultroom.api.http import list_page
from consultroom.api.spec import NUL_QUERY, errors
from consultroom.bookings import policies, queries
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.pagination import Window, count_of
from consultroom.rounds.models import Round, RoundStatus
from consultroom.rounds.schemas import RoundListSchema, RoundSchema, SlotArgs, SlotListSchema, slot_row
from consultroom.schemas import PageArgs, page_body

_NOT_VISIBLE = "No such round, or one you may not see (SMEs: a draft)."


@bp.get("/rounds", tags=["rounds"])
@api_auth
@bp.doc(
    operationId="listRounds",
    summary="Rounds you may see (staff: all; an SME: all but drafts), latest consultation day first",
    responses=errors(401, e422=NUL_QUERY + " Or a page number is out of range."),
)
@bp.arguments(PageArgs, location="query")
@bp.response(200, RoundListSchema, description="One page of rounds.")
def list_rounds(args: dict[str, Any]):
    stmt = select(Round).order_by(Round.day.desc(), Round.id.desc())
    if not g.api_user.is_staff:
        # The SQL form of policies.can_see_round, as queries.visible_rounds has it: no drafts for SMEs.
        stmt = stmt.where(Round.status != RoundStatus.DRAFT.value)
    listed = list_page(stmt, args)
    return listed.body(listed.items)


@bp.get("/rounds/<int:round_id>", tags=["rounds"])
@api_auth
@bp.doc(operationId="getRound", summary="One round", responses=errors(401, e404=_NOT_VISIBLE, e422=NUL_QUERY))
@bp.response(200, RoundSchema, description="The round.")
def get_round(round_id: int):
    rnd = get_or_404(db.session, Round, round_id)
    authorize(policies.can_see_round(g.api_user, rnd))
    return rnd


@bp.get("/rounds/<int:round_id>/slots", tags=["rounds"])
@api_auth
@bp.doc(
    operationId="listRoundSlots",
    summary="The slots of a round, each with whether it is free",
    responses=errors(
        401,
        e404=_NOT_VISIBLE,
        e422="`free` is not true or false, a page number is out of range, or a query parameter holds a NUL character.",
    ),
)
@bp.arguments(SlotArgs, location="query")
@bp.response(200, SlotListSchema, description="One page of the slots, by start time and booth.")
def list_round_slots(args: dict[str, Any], round_id: int):
    user = g.api_user
    page, per_page = args["page"], args["per_page"]
    rnd = get_or_404(db.session, Round, round_id)
    authorize(policies.can_see_round(user, rnd))
    now = utcnow()
    stmt = queries.round_slot_states(rnd.id, now=now, free=args.get("free"))
    window = Window(page=page, per_page=per_page, total=db.session.scalar(count_of(stmt)))
    rows = db.session.execute(stmt.offset(window.offset).limit(per_page))
    items = []
    for slot, booking_id, company_id in rows:
        # The SQL form of policies.can_see_booking: staff, or the booking's own company.
        mine = user.is_staff or (user.is_sme and user.company_id is not None and user.company_id == company_id)
        visible_id = booking_id if booking_id is not None and mine else None
        items.append(slot_row(slot, taken=booking_id is not None, visible_booking_id=visible_id, now=now))
    pages = window.pages if window.total else 0
    return page_body(items, page=page, per_page=per_page, total=window.total, pages=pages, round_id=rnd.id)
