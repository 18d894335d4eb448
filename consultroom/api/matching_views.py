"""Matching through the API (staff only): recommendations, match changes, meeting links and whole-round
proposals, over consultroom.matching's services and the same predicate as its pages (policies.can_match).

SMEs get 404 on all of these: they never see the buyer registry. An SME reads its booking's match state
through GET /bookings/{id} (serializers.match_row).
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, url_for
from flask_babel import gettext as _

from consultroom.access import authorize, get_or_404
from consultroom.api import bp
from consultroom.api.auth import api_auth, api_requires
from consultroom.api.http import logged, unit_of_work
from consultroom.api.serializers import booking_json
from consultroom.api.spec import errors, read_body
from consultroom.bookings.models import Booking
from consultroom.bookings.policies import can_edit_round_settings
from consultroom.bookings.schemas import BookingSchema
from consultroom.bookings.services import can_cancel_now
from consultroom.buyers.models import Buyer
from consultroom.consultations import changes
from consultroom.errors import Invalid
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter
from consultroom.matching import policies, proposals, services
from consultroom.matching.models import ProposalLine, ProposalStatus, RoundProposal
from consultroom.matching.recommend import load_world, recommend
from consultroom.matching.schemas import (
    ClearMatchArgs,
    MatchingSettingsInputSchema,
    MatchingSettingsSchema,
    MatchInputSchema,
    MeetingUrlInputSchema,
    ProposalLineInputSchema,
    ProposalSchema,
    RecommendationArgs,
    RecommendationsSchema,
    windows_text,
)
from consultroom.matching.settings import ALWAYS
from consultroom.rounds import services as round_services
from consultroom.rounds.models import Round, Slot

# The UI cuts the reason for withdrawing a match at this length too (matching.views.unmatch).
REASON_MAX = 500
_STAFF_ONLY = "No such object, or you are not staff (SMEs never see the buyer registry)."
_FIELDS = "Fields missing or not valid, each named in `fields`."
# SMEs never learn matching exists: 404 before anything they sent is read.
_staff_only = api_requires(visible=policies.can_match)


def _staff() -> None:
    authorize(policies.can_match(g.api_user))


def _booking(booking_id: int) -> Booking:
    _staff()
    return get_or_404(db.session, Booking, booking_id)


def _booking_body(booking: Booking) -> dict[str, Any]:
    return booking_json(booking, cancellable=can_cancel_now(booking, g.api_user), viewer=g.api_user)


# --- one booking ---------------------------------------------------------------------------------


@bp.get("/bookings/<int:booking_id>/recommendations", tags=["matching"])
@api_auth
@_staff_only
@bp.doc(
    operationId="getBookingRecommendations",
    summary="The best buyers for a booking, with their score, reasons and candidate interpreters",
    responses=errors(401, 422, e404=_STAFF_ONLY),
)
@bp.arguments(RecommendationArgs, location="query")
@bp.response(200, RecommendationsSchema, description="Ranked buyers.")
def booking_recommendations(args: dict[str, Any], booking_id: int):
    booking = _booking(booking_id)
    limit = args["limit"]
    world = load_world([booking])
    items = recommend(booking=booking, limit=limit, world=world)
    answer = {
        "booking_id": booking.id,
        "open_for_matching": booking.active and booking.status in services.OPEN_FOR_MATCHING,
        "items": items,
    }
    # PIPA access log: the candidate interpreters named (see consultroom.privacy.access_log).
    subjects = [("interpreter", i) for i in sorted({i.id for rec in items for i in rec.interpreters})]
    return logged(
        answer,
        actor=g.api_user,
        subjects=subjects,
        what="api.booking_recommendations",
    )


@bp.put("/bookings/<int:booking_id>/match", tags=["matching"])
@api_auth
@_staff_only
@bp.doc(
    operationId="setBookingMatch",
    summary="Propose a buyer (and an interpreter) for a booking; both are asked to accept",
    description="Replaces an earlier proposal, whose links stop working. An interpreter is needed "
    "when the company and the buyer share no language.",
    responses=errors(
        400,
        401,
        415,
        e404=_STAFF_ONLY,
        e409="Refused, the message says why: the buyer or interpreter is busy then, inactive, already "
        "meets the company this round, speaks no common language; the booking cannot be matched.",
        e422=_FIELDS,
    ),
)
@bp.documents_body(MatchInputSchema)
@bp.response(200, BookingSchema, description="The booking, matched.")
def set_booking_match(booking_id: int):
    """Propose a buyer (and an interpreter) for the booking, as the matching page's form does."""
    booking = _booking(booking_id)
    data = read_body(MatchInputSchema)
    problems: dict[str, list[str]] = {}
    buyer_id, interpreter_id, slot_id = data["buyer_id"], data.get("interpreter_id"), data.get("slot_id")
    buyer = db.session.get(Buyer, buyer_id) if buyer_id is not None else None
    if buyer_id is not None and buyer is None:
        problems["buyer_id"] = [_("Choose an active buyer.")]
    interpreter = db.session.get(Interpreter, interpreter_id) if interpreter_id is not None else None
    if interpreter_id is not None and interpreter is None:
        problems["interpreter_id"] = [_("Choose an active interpreter.")]
    # Another time of the booking's own round only (the page offers those, as other_slot does here).
    slot = db.session.get(Slot, slot_id) if slot_id is not None else None
    if slot_id is not None and (slot is None or slot.round_id != booking.round_id):
        problems["slot_id"] = [_("Choose a slot of this booking's round.")]
    if problems:
        raise Invalid(_("Please correct the marked fields."), fields=problems)
    if buyer is None:  # pragma: no cover - a missing buyer is an error above; this tells the type checker
        raise Invalid(_("Choose an active buyer."), fields={"buyer_id": [_("Choose an active buyer.")]})
    with unit_of_work():
        if slot is not None and slot.id != booking.slot_id:
            # Move and propose in one transaction: the company is told of the move, the parties get
            # the proposal at the new time; any refusal undoes both.
            changes.propose_match_at(booking=booking, slot=slot, buyer=buyer, interpreter=interpreter, actor=g.api_user)
        else:
            # The score recorded with the match, as the page records it (none for a buyer matching leaves out).
            world = load_world([booking], extra_buyer_ids=[buyer.id])
            score = world.score(booking, buyer.id).total if buyer.id in world.buyers else None
            services.propose_match(booking=booking, buyer=buyer, interpreter=interpreter, actor=g.api_user, score=score)
        body = _booking_body(booking)
    return jsonify(body)


# --- matching settings: the interpreter policy and the region time windows -------------------------------


def _matching_settings_body() -> dict[str, Any]:
    settings = round_services.get_settings()
    return {
        "interpreter_policy": settings.interpreter_policy or ALWAYS,
        "region_windows": [dict(w) for w in settings.region_windows or []],
    }


@bp.get("/matching/settings", tags=["matching"])
@api_auth
@_staff_only
@bp.doc(
    operationId="getMatchingSettings",
    summary="The interpreter policy and the region time windows",
    responses=errors(401, e404=_STAFF_ONLY),
)
@bp.response(200, MatchingSettingsSchema, description="The settings.")
def get_matching_settings():
    """Staff read them (they decide what a proposal needs); admins change them."""
    _staff()
    return jsonify(_matching_settings_body())


@bp.put("/matching/settings", tags=["matching"])
@api_auth
# SMEs never learn matching exists (404); staff may read but only admins change (403).
@api_requires(can_edit_round_settings, visible=policies.can_match)
@bp.doc(
    operationId="setMatchingSettings",
    summary="Change the interpreter policy and/or the region windows (admins); a field left out is kept",
    responses=errors(400, 401, 415, e403="Only admins change the settings.", e404=_STAFF_ONLY, e422=_FIELDS),
)
@bp.arguments(MatchingSettingsInputSchema)
@bp.response(200, MatchingSettingsSchema, description="The settings as saved.")
def set_matching_settings(data: dict[str, Any]):
    """Replace the interpreter policy and/or the region windows (a field left out keeps its value).
    The windows apply to rounds generated from now on, as on the round settings page."""
    change = dict(data)
    if "region_windows" in change:
        # The page's own parser checks each window (times, order, how many): one set of rules.
        change["region_windows"] = windows_text(change["region_windows"])
    with unit_of_work():
        round_services.update_settings(data=change, actor=g.api_user)
        body = _matching_settings_body()
    return jsonify(body)


@bp.delete("/bookings/<int:booking_id>/match", tags=["matching"])
@api_auth
@_staff_only
@bp.doc(
    operationId="clearBookingMatch",
    summary="Withdraw the match; the booking waits for a buyer again",
    responses=errors(
        401,
        e404=_STAFF_ONLY,
        e409="The booking has no match to clear.",
        e422="`reason` holds characters that are not allowed.",
    ),
)
@bp.arguments(ClearMatchArgs, location="query")
@bp.response(204, description="Withdrawn; the parties are told.")
def clear_booking_match(args: dict[str, Any], booking_id: int):
    booking = _booking(booking_id)
    reason = args["reason"]
    with unit_of_work():
        services.clear_match(booking=booking, actor=g.api_user, reason=reason.strip()[:REASON_MAX])
    return Response(status=204)


@bp.put("/bookings/<int:booking_id>/meeting-url", tags=["matching"])
@api_auth
@_staff_only
@bp.doc(
    operationId="setBookingMeetingUrl",
    summary="Replace the generated video room with your own link",
    responses=errors(400, 401, 415, e404=_STAFF_ONLY, e409="The booking is cancelled.", e422=_FIELDS),
)
@bp.documents_body(MeetingUrlInputSchema)
@bp.response(200, BookingSchema, description="The booking.")
def set_booking_meeting_url(booking_id: int):
    booking = _booking(booking_id)
    url = read_body(MeetingUrlInputSchema)["url"]
    try:
        with unit_of_work():
            services.set_meeting_url(booking=booking, url=str(url), actor=g.api_user)
            body = _booking_body(booking)
    except Invalid as exc:
        # The service names the column (meeting_url); the body calls it url.
        raise Invalid(exc.message, fields={"url": exc.fields.get("meeting_url", [exc.message])}) from exc
    return jsonify(body)


# --- whole-round proposals -----------------------------------------------------------------------------


def _proposal_body(proposal: RoundProposal) -> dict[str, Any]:
    """What ProposalSchema dumps: the proposal, its lines and, while a draft, the rules it breaks.
    Read after unit_of_work, which expires every row: the schema dumps once the view has returned,
    and rows loaded before would each be loaded again. The lines first: the world the check loads
    then finds their rows in the session."""
    lines = proposals.proposal_lines(proposal.id)
    issues = []
    if proposal.status == ProposalStatus.DRAFT:
        issues = proposals.check(proposal, proposals.load_proposal_world(proposal))
    return {"proposal": proposal, "lines": lines, "violations": issues}


def _proposal(proposal_id: int) -> RoundProposal:
    _staff()
    return get_or_404(db.session, RoundProposal, proposal_id)


@bp.post("/rounds/<int:round_id>/proposals", tags=["matching"])
@api_auth
@_staff_only
@bp.doc(
    operationId="createRoundProposal",
    summary="A draft proposal for every booking of the round waiting for a buyer",
    description="Replaces the round's earlier draft. Nothing is sent before it is confirmed.",
    responses=errors(
        401, e404=_STAFF_ONLY, e409="The round is not open or closed, or no booking is waiting for a buyer."
    ),
)
@bp.response(
    201,
    ProposalSchema,
    description="The draft, with exact and greedy totals.",
    headers={"Location": {"schema": {"type": "string"}}},
)
def create_round_proposal(round_id: int):
    """A draft for every booking of the round waiting for a buyer (replacing any draft); nothing is sent."""
    _staff()
    rnd = get_or_404(db.session, Round, round_id)
    with unit_of_work():
        proposal = proposals.create_proposal(rnd=rnd, actor=g.api_user)
    return _proposal_body(proposal), 201, {"Location": url_for("api.get_proposal", proposal_id=proposal.id)}


@bp.get("/proposals/<int:proposal_id>", tags=["matching"])
@api_auth
@_staff_only
@bp.doc(
    operationId="getProposal",
    summary="A proposal with its lines and the rules it breaks",
    responses=errors(401, e404=_STAFF_ONLY),
)
@bp.response(200, ProposalSchema, description="The proposal.")
def get_proposal(proposal_id: int):
    body = _proposal_body(_proposal(proposal_id))
    # PIPA access log: the interpreters named on the lines.
    named = sorted({line.interpreter.id for line in body["lines"] if line.interpreter is not None})
    return logged(
        body,
        actor=g.api_user,
        subjects=[("interpreter", i) for i in named],
        what="api.get_proposal",
    )


@bp.patch("/proposals/<int:proposal_id>/lines/<int:line_id>", tags=["matching"])
@api_auth
@_staff_only
@bp.doc(
    operationId="editProposalLine",
    summary="Put another buyer or interpreter on a line",
    description="Broken rules are not refused: the answer lists them under `violations`.",
    responses=errors(400, 401, 415, e404=_STAFF_ONLY, e409="It is no longer a draft.", e422=_FIELDS),
)
@bp.documents_body(ProposalLineInputSchema)
@bp.response(200, ProposalSchema, description="The proposal with the line changed, and its violations.")
def edit_proposal_line(proposal_id: int, line_id: int):
    """Another buyer or interpreter on a line (null: none). A field left out keeps its value.
    Broken rules are not refused here: the answer lists them under `violations`."""
    proposal = _proposal(proposal_id)
    line = get_or_404(db.session, ProposalLine, line_id)
    authorize(line.proposal_id == proposal.id)
    data = read_body(ProposalLineInputSchema)
    buyer_id = data.get("buyer_id", line.buyer_id)
    interpreter_id = data.get("interpreter_id", line.interpreter_id)
    with unit_of_work():
        proposals.edit_line(line=line, buyer_id=buyer_id, interpreter_id=interpreter_id, actor=g.api_user)
    return _proposal_body(proposal)


@bp.post("/proposals/<int:proposal_id>/confirm", tags=["matching"])
@api_auth
@_staff_only
@bp.doc(
    operationId="confirmProposal",
    summary="Propose every line's match at once, or none",
    responses=errors(
        401,
        e404=_STAFF_ONLY,
        e409="Not a draft, or a line could not be proposed (named in `fields` as lines.<line id>); "
        "nothing was applied.",
        e422="The draft breaks rules, each under `fields` as lines.<line id>.",
    ),
)
@bp.response(200, ProposalSchema, description="Confirmed; every buyer and interpreter is asked to accept.")
def confirm_proposal(proposal_id: int):
    """Propose every line's match at once, or nothing: 409 naming the line that failed, 422 while rules
    are broken (each broken rule under `fields`, as lines.<line id>)."""
    proposal = _proposal(proposal_id)
    try:
        with unit_of_work():
            proposals.confirm_proposal(proposal=proposal, actor=g.api_user)
    except proposals.LineConflict as exc:
        exc.fields = {f"lines.{exc.line_id}": [exc.message]}
        raise
    except Invalid as exc:
        proposal = db.session.get(RoundProposal, proposal_id)
        fields: dict[str, list[str]] = {}
        for issue in proposals.check(proposal, proposals.load_proposal_world(proposal)):
            for line_id in issue.line_ids or (0,):
                fields.setdefault(f"lines.{line_id}" if line_id else "proposal", []).append(issue.message)
        raise Invalid(exc.message, fields=fields) from exc
    return _proposal_body(db.session.get(RoundProposal, proposal_id))


@bp.delete("/proposals/<int:proposal_id>", tags=["matching"])
@api_auth
@_staff_only
@bp.doc(
    operationId="discardProposal",
    summary="Discard a draft proposal",
    responses=errors(401, e404=_STAFF_ONLY, e409="It is no longer a draft."),
)
@bp.response(204, description="Discarded.")
def discard_proposal(proposal_id: int):
    proposal = _proposal(proposal_id)
    with unit_of_work():
        proposals.discard_proposal(proposal=proposal, actor=g.api_user)
    return Response(status=204)
