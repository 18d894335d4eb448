"""Matching through the API (staff only): recommendations, match changes, meeting links and whole-round
proposals, over consultroom.matching's services and the same predicate as its pages (policies.can_match).

SMEs get 404 on all of these: they never see the buyer registry. An SME reads its booking's match state
through GET /bookings/{id} (serializers.match_json).
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request, url_for
from flask_babel import gettext as _

from consultroom.access import authorize, get_or_404
from consultroom.api import bp
from consultroom.api.auth import api_auth
from consultroom.api.http import json_object, query_int, text_problem, unit_of_work
from consultroom.api.registry_serializers import proposal_json, recommendation_json
from consultroom.api.serializers import booking_json
from consultroom.bookings.models import Booking
from consultroom.bookings.policies import can_edit_round_settings
from consultroom.bookings.services import can_cancel_now
from consultroom.buyers.models import Buyer
from consultroom.consultations import changes
from consultroom.errors import Invalid
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter
from consultroom.matching import policies, proposals, services
from consultroom.matching.models import ProposalLine, ProposalStatus, RoundProposal
from consultroom.matching.recommend import load_world, recommend
from consultroom.matching.settings import ALWAYS, POLICIES
from consultroom.privacy import access_log
from consultroom.rounds import services as round_services
from consultroom.rounds.models import Round, Slot

ID_MAX = 2**31 - 1
MAX_RECOMMENDATIONS = 100
# The UI cuts the reason for withdrawing a match at this length too (matching.views.unmatch).
REASON_MAX = 500


def _staff() -> None:
    authorize(policies.can_match(g.api_user))


def _invalid(errors: dict[str, list[str]]) -> None:
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)


def _unknown(data: dict[str, Any], allowed: tuple[str, ...], errors: dict[str, list[str]]) -> None:
    for name in sorted(set(data) - set(allowed)):
        errors[name] = [_("Unknown field.")]


def _body_id(data: dict[str, Any], name: str, errors: dict[str, list[str]], *, required: bool) -> int | None:
    value = data.get(name)
    if value is None:
        if required:
            errors[name] = [_("This field is required.")]
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= ID_MAX:
        errors[name] = [_("Use a whole number from %(low)d to %(high)d.", low=1, high=ID_MAX)]
        return None
    return value


def _booking(booking_id: int) -> Booking:
    _staff()
    return get_or_404(db.session, Booking, booking_id)


def _booking_body(booking: Booking) -> dict[str, Any]:
    return booking_json(booking, cancellable=can_cancel_now(booking, g.api_user), viewer=g.api_user)


# --- one booking ---------------------------------------------------------------------------------


@bp.get("/bookings/<int:booking_id>/recommendations")
@api_auth
def booking_recommendations(booking_id: int):
    booking = _booking(booking_id)
    errors: dict[str, list[str]] = {}
    limit = query_int("limit", 20, 1, MAX_RECOMMENDATIONS, errors)
    _invalid(errors)
    world = load_world([booking])
    items = recommend(booking=booking, limit=limit, world=world)
    response = jsonify(
        {
            "booking_id": booking.id,
            "open_for_matching": booking.active and booking.status in services.OPEN_FOR_MATCHING,
            "items": [recommendation_json(rec) for rec in items],
        }
    )
    # PIPA access log: the candidate interpreters named (see consultroom.privacy.access_log).
    subjects = [("interpreter", i) for i in sorted({i.id for rec in items for i in rec.interpreters})]
    return access_log.commit_logged(
        response, actor=g.api_user, subjects=subjects, what="api.booking_recommendations", via="api"
    )


@bp.put("/bookings/<int:booking_id>/match")
@api_auth
def set_booking_match(booking_id: int):
    """Propose a buyer (and an interpreter) for the booking, as the matching page's form does."""
    booking = _booking(booking_id)
    data = json_object()
    errors: dict[str, list[str]] = {}
    _unknown(data, ("buyer_id", "interpreter_id", "slot_id"), errors)
    buyer_id = _body_id(data, "buyer_id", errors, required=True)
    interpreter_id = _body_id(data, "interpreter_id", errors, required=False)
    slot_id = _body_id(data, "slot_id", errors, required=False)
    buyer = db.session.get(Buyer, buyer_id) if buyer_id is not None else None
    if buyer_id is not None and buyer is None:
        errors["buyer_id"] = [_("Choose an active buyer.")]
    interpreter = db.session.get(Interpreter, interpreter_id) if interpreter_id is not None else None
    if interpreter_id is not None and interpreter is None:
        errors["interpreter_id"] = [_("Choose an active interpreter.")]
    # Another time of the booking's own round only (the page offers those, as other_slot does here).
    slot = db.session.get(Slot, slot_id) if slot_id is not None else None
    if slot_id is not None and (slot is None or slot.round_id != booking.round_id):
        errors["slot_id"] = [_("Choose a slot of this booking's round.")]
    _invalid(errors)
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


@bp.get("/matching/settings")
@api_auth
def get_matching_settings():
    """Staff read them (they decide what a proposal needs); admins change them."""
    _staff()
    return jsonify(_matching_settings_body())


@bp.put("/matching/settings")
@api_auth
def set_matching_settings():
    """Replace the interpreter policy and/or the region windows (a field left out keeps its value).
    The windows apply to rounds generated from now on, as on the round settings page."""
    # SMEs never learn matching exists (404); staff may read but only admins change (403).
    authorize(policies.can_match(g.api_user), can_edit_round_settings(g.api_user))
    data = json_object()
    errors: dict[str, list[str]] = {}
    _unknown(data, ("interpreter_policy", "region_windows"), errors)
    change: dict[str, Any] = {}
    if "interpreter_policy" in data:
        if data["interpreter_policy"] not in POLICIES:
            errors["interpreter_policy"] = [_("Choose one of the listed policies.")]
        else:
            change["interpreter_policy"] = data["interpreter_policy"]
    if "region_windows" in data:
        windows = data["region_windows"]
        shape_ok = isinstance(windows, list) and all(
            isinstance(w, dict) and set(w) <= {"label", "start", "end"} and all(isinstance(v, str) for v in w.values())
            for w in windows
        )
        if not shape_ok:
            errors["region_windows"] = [_("Give a list of windows, each with a label, a start and an end.")]
        else:
            # The page's own parser checks each window (times, order, how many): one set of rules.
            text = "\n".join(f"{w.get('label', '')} {w.get('start', '')}-{w.get('end', '')}" for w in windows)
            if any("\n" in v or "\r" in v for w in windows for v in w.values()):
                errors["region_windows"] = [_("Give a list of windows, each with a label, a start and an end.")]
            else:
                change["region_windows"] = text
    _invalid(errors)
    with unit_of_work():
        round_services.update_settings(data=change, actor=g.api_user)
        body = _matching_settings_body()
    return jsonify(body)


@bp.delete("/bookings/<int:booking_id>/match")
@api_auth
def clear_booking_match(booking_id: int):
    booking = _booking(booking_id)
    reason = request.args.get("reason", "")
    if text_problem(reason):
        raise Invalid(_("Please correct the marked fields."), fields={"reason": [text_problem(reason) or ""]})
    with unit_of_work():
        services.clear_match(booking=booking, actor=g.api_user, reason=reason.strip()[:REASON_MAX])
    return Response(status=204)


@bp.put("/bookings/<int:booking_id>/meeting-url")
@api_auth
def set_booking_meeting_url(booking_id: int):
    booking = _booking(booking_id)
    data = json_object()
    errors: dict[str, list[str]] = {}
    _unknown(data, ("url",), errors)
    url = data.get("url")
    if not isinstance(url, str):
        errors["url"] = [_("This field is required.") if url is None else _("Must be text.")]
    elif text_problem(url):
        errors["url"] = [text_problem(url) or ""]
    _invalid(errors)
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
    lines = proposals.proposal_lines(proposal.id)
    issues = []
    if proposal.status == ProposalStatus.DRAFT:
        issues = proposals.check(proposal, proposals.load_proposal_world(proposal))
    return proposal_json(proposal, lines, issues)


def _proposal(proposal_id: int) -> RoundProposal:
    _staff()
    return get_or_404(db.session, RoundProposal, proposal_id)


@bp.post("/rounds/<int:round_id>/proposals")
@api_auth
def create_round_proposal(round_id: int):
    """A draft for every booking of the round waiting for a buyer (replacing any draft); nothing is sent."""
    _staff()
    rnd = get_or_404(db.session, Round, round_id)
    with unit_of_work():
        proposal = proposals.create_proposal(rnd=rnd, actor=g.api_user)
        body = _proposal_body(proposal)
    return jsonify(body), 201, {"Location": url_for("api.get_proposal", proposal_id=body["id"])}


@bp.get("/proposals/<int:proposal_id>")
@api_auth
def get_proposal(proposal_id: int):
    body = _proposal_body(_proposal(proposal_id))
    # PIPA access log: the interpreters named on the lines.
    named = sorted({line["interpreter"]["id"] for line in body["lines"] if line.get("interpreter")})
    return access_log.commit_logged(
        jsonify(body),
        actor=g.api_user,
        subjects=[("interpreter", i) for i in named],
        what="api.get_proposal",
        via="api",
    )


@bp.patch("/proposals/<int:proposal_id>/lines/<int:line_id>")
@api_auth
def edit_proposal_line(proposal_id: int, line_id: int):
    """Another buyer or interpreter on a line (null: none). A field left out keeps its value.
    Broken rules are not refused here: the answer lists them under `violations`."""
    proposal = _proposal(proposal_id)
    line = get_or_404(db.session, ProposalLine, line_id)
    authorize(line.proposal_id == proposal.id)
    data = json_object()
    errors: dict[str, list[str]] = {}
    _unknown(data, ("buyer_id", "interpreter_id"), errors)
    buyer_id = _body_id(data, "buyer_id", errors, required=False) if "buyer_id" in data else line.buyer_id
    interpreter_id = (
        _body_id(data, "interpreter_id", errors, required=False) if "interpreter_id" in data else line.interpreter_id
    )
    _invalid(errors)
    with unit_of_work():
        proposals.edit_line(line=line, buyer_id=buyer_id, interpreter_id=interpreter_id, actor=g.api_user)
        body = _proposal_body(proposal)
    return jsonify(body)


@bp.post("/proposals/<int:proposal_id>/confirm")
@api_auth
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
    return jsonify(_proposal_body(db.session.get(RoundProposal, proposal_id)))


@bp.delete("/proposals/<int:proposal_id>")
@api_auth
def discard_proposal(proposal_id: int):
    proposal = _proposal(proposal_id)
    with unit_of_work():
        proposals.discard_proposal(proposal=proposal, actor=g.api_user)
    return Response(status=204)
