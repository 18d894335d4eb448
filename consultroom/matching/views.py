"""Staff pages for matching: recommendations per booking, whole-round proposals, scoring weights."""

from __future__ import annotations

from dataclasses import asdict
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from consultroom.access import authorize, get_or_404
from consultroom.bookings.models import Booking
from consultroom.buyers.models import Buyer
from consultroom.consultations import changes
from consultroom.db import utcnow
from consultroom.errors import Conflict
from consultroom.extensions import db
from consultroom.forms_util import confirmed, small_int
from consultroom.interpreters.models import Interpreter
from consultroom.matching import policies, proposals, services, settings
from consultroom.matching import queries as match_queries
from consultroom.matching.forms import WeightsForm
from consultroom.matching.models import ProposalLine, ProposalStatus, RoundProposal
from consultroom.matching.recommend import describe, load_world, reasons_from_rows, recommend
from consultroom.pagination import count_of, paginate
from consultroom.request_transaction import attempt, log_access, rollback_on
from consultroom.rounds.models import Round, Slot

bp = Blueprint("matching", __name__, url_prefix="/staff/matching")


def _staff() -> None:
    authorize(policies.can_match(current_user))


def _int(name: str) -> int | None:
    return small_int(request.form.get(name))


@bp.app_template_global()
def match_reason(reason, buyer) -> str:
    return describe(reason, buyer)


@bp.app_template_filter("in_zone")
def in_zone(moment, zone: str) -> str:
    """A moment as the buyer lives it: weekday and time in the buyer's own zone (the page is Seoul's)."""
    if not moment:
        return ""
    return babel_dates.format_datetime(moment, "EEE HH:mm", tzinfo=ZoneInfo(zone), locale=str(get_locale() or "ko"))


# --- work lists ----------------------------------------------------------------------------------

WORK_PER_PAGE = 50


@bp.get("/work")
@login_required
def work():
    """Bookings waiting on staff, by need (the home's counts link here): answers about to lapse,
    bookings back to matching after a decline or a lapse, bookings never proposed."""
    _staff()
    need = request.args.get("need", "")
    if need not in match_queries.NEEDS:
        need = "match"
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    stmt = match_queries.work_stmt(need, utcnow())
    pagination = db.paginate(stmt, page=page, per_page=WORK_PER_PAGE, error_out=False)
    return render_template("matching/work.html", need=need, needs=match_queries.NEEDS, pagination=pagination)


# --- one booking -----------------------------------------------------------------------------------


def _render_booking(booking: Booking, *, error: str | None = None, error_for: int | None = None, status: int = 200):
    world = load_world([booking])
    recommendations = recommend(booking=booking, world=world)
    # PIPA access log: the company's request and the interpreters named on the page (their names).
    interpreter_ids = {i.id for r in recommendations for i in r.interpreters}
    if booking.interpreter_id is not None:
        interpreter_ids.add(booking.interpreter_id)
    subjects = [("company", booking.company_id), *(("interpreter", i) for i in sorted(interpreter_ids))]
    page = (
        render_template(
            "matching/booking.html",
            booking=booking,
            recommendations=recommendations,
            weights=world.weights,
            error=error,
            error_for=error_for,
            open_for_matching=booking.status in services.OPEN_FOR_MATCHING,
        ),
        status,
    )
    log_access(actor=current_user, subjects=subjects, what="matching.booking")
    return page


@bp.get("/bookings/<int:booking_id>")
@login_required
def booking(booking_id: int):
    _staff()
    return _render_booking(get_or_404(db.session, Booking, booking_id))


@bp.post("/bookings/<int:booking_id>/match")
@login_required
def match(booking_id: int):
    _staff()
    b = get_or_404(db.session, Booking, booking_id)
    buyer_id, interpreter_id = _int("buyer_id"), _int("interpreter_id")
    buyer = db.session.get(Buyer, buyer_id) if buyer_id is not None else None
    if buyer is None:
        flash(_("Choose a buyer."), "danger")
        return redirect(url_for("matching.booking", booking_id=b.id))
    interpreter = db.session.get(Interpreter, interpreter_id) if interpreter_id is not None else None
    slot_id = _int("slot_id")
    slot = db.session.get(Slot, slot_id) if slot_id is not None else None
    with rollback_on() as done:
        if slot is not None:
            changes.propose_match_at(booking=b, slot=slot, buyer=buyer, interpreter=interpreter, actor=current_user)
        else:
            world = load_world([b], extra_buyer_ids=[buyer.id])
            score = world.score(b, buyer.id).total if buyer.id in world.buyers else None
            services.propose_match(booking=b, buyer=buyer, interpreter=interpreter, actor=current_user, score=score)
    if done.error is not None:
        # The message goes beside the form it answers, on the page as it now stands.
        booking = db.session.get(Booking, booking_id)
        return _render_booking(booking, error=done.error.message, error_for=buyer_id, status=409)
    flash(_("%(buyer)s is proposed; the buyer and the interpreter are asked to confirm.", buyer=buyer.company_name))
    return redirect(url_for("matching.booking", booking_id=b.id))


@bp.post("/bookings/<int:booking_id>/unmatch")
@login_required
def unmatch(booking_id: int):
    _staff()
    b = get_or_404(db.session, Booking, booking_id)
    if not confirmed():
        return redirect(url_for("matching.booking", booking_id=booking_id))
    with attempt() as done:
        services.clear_match(booking=b, actor=current_user, reason=(request.form.get("reason") or "").strip()[:500])
    if done:
        flash(_("The match is withdrawn; the booking is waiting for a buyer again."), "info")
    return redirect(url_for("matching.booking", booking_id=booking_id))


# --- whole-round proposals ----------------------------------------------------------------------------

PROPOSALS_PER_PAGE = 25


@bp.get("/rounds/<int:round_id>")
@login_required
def round_proposals(round_id: int):
    _staff()
    rnd = get_or_404(db.session, Round, round_id)
    # Every proposal ever made for the round, newest first, a page at a time; the waiting bookings counted.
    pagination = paginate(
        select(RoundProposal).where(RoundProposal.round_id == rnd.id).order_by(RoundProposal.id.desc()),
        per_page=PROPOSALS_PER_PAGE,
    )
    waiting = db.session.scalar(count_of(proposals.waiting_stmt(rnd)))
    return render_template(
        "matching/round.html",
        rnd=rnd,
        proposals=pagination.items,
        pagination=pagination,
        waiting=waiting,
        proposable=proposals.PROPOSABLE_ROUNDS,
    )


@bp.post("/rounds/<int:round_id>/proposals")
@login_required
def create_proposal(round_id: int):
    _staff()
    rnd = get_or_404(db.session, Round, round_id)
    with rollback_on() as done:
        proposal = proposals.create_proposal(rnd=rnd, actor=current_user)
    if done.error is not None:
        flash(done.error.message, "danger")
        return redirect(url_for("matching.round_proposals", round_id=round_id))
    flash(_("A draft proposal is ready. Nothing is sent before you confirm it."), "success")
    return redirect(url_for("matching.proposal", proposal_id=proposal.id))


def _load_proposal(proposal_id: int) -> RoundProposal:
    return get_or_404(db.session, RoundProposal, proposal_id)


@bp.get("/proposals/<int:proposal_id>")
@login_required
def proposal(proposal_id: int):
    _staff()
    p = _load_proposal(proposal_id)
    lines = proposals.proposal_lines(p.id)
    draft = p.status == ProposalStatus.DRAFT
    world = proposals.load_proposal_world(p) if draft else None
    issues = proposals.check(p, world) if world is not None else []
    options = {}
    if world is not None:
        for line in lines:
            booking = world.bookings[line.booking_id]
            cands = world.quick_candidates(booking, hours_rule=proposals.hours_rule(world))
            options[line.id] = {
                "buyers": [(world.buyers[c.buyer_id], c.total) for c in cands],
                "interpreters": list(
                    world.choices(
                        booking,
                        world.interpreters_for(booking, world.infos[line.buyer_id].languages)
                        if line.buyer_id in world.infos
                        else world.free_interpreters(booking),
                    )
                ),
            }
    failed = request.args.get("failed", type=int)
    # PIPA access log: the interpreters named on the lines and in their choices.
    interpreter_ids = {line.interpreter_id for line in lines if line.interpreter_id is not None}
    interpreter_ids |= {i.id for option in options.values() for i in option["interpreters"]}
    page_html = render_template(
        "matching/proposal.html",
        proposal=p,
        lines=lines,
        issues=issues,
        flagged={i for issue in issues for i in issue.line_ids},
        options=options,
        draft=draft,
        failed=failed,
        reasons_of=lambda line: reasons_from_rows(line.reasons),
        fit_of=_fit_of,
        weak_of=proposals.weak_reasons,
        fits=proposals.fit_shares([_fit_of(line) for line in lines]),
    )
    subjects = [("interpreter", i) for i in sorted(interpreter_ids)]
    log_access(actor=current_user, subjects=subjects, what="matching.proposal")
    return page_html


def _fit_of(line: ProposalLine) -> str:
    return proposals.fit_of(line.reasons) if line.buyer_id is not None else "none"


def _line(proposal_id: int, line_id: int) -> ProposalLine:
    line = get_or_404(db.session, ProposalLine, line_id)
    authorize(line.proposal_id == proposal_id)
    return line


@bp.post("/proposals/<int:proposal_id>/lines/<int:line_id>")
@login_required
def edit_line(proposal_id: int, line_id: int):
    _staff()
    line = _line(proposal_id, line_id)
    with attempt() as done:
        proposals.edit_line(
            line=line, buyer_id=_int("buyer_id"), interpreter_id=_int("interpreter_id"), actor=current_user
        )
    if done:
        flash(_("The line is changed."), "info")
    return redirect(url_for("matching.proposal", proposal_id=proposal_id) + f"#line-{line_id}")


@bp.post("/proposals/<int:proposal_id>/confirm")
@login_required
def confirm(proposal_id: int):
    _staff()
    p = _load_proposal(proposal_id)
    if not confirmed():
        return redirect(url_for("matching.proposal", proposal_id=proposal_id))
    with rollback_on() as done:
        proposals.confirm_proposal(proposal=p, actor=current_user)
    if done.error is not None:
        flash(done.error.message, "danger")
        # The line that failed is marked on the page (url_for leaves out a None).
        failed = done.error.line_id if isinstance(done.error, proposals.LineConflict) else None
        return redirect(url_for("matching.proposal", proposal_id=proposal_id, failed=failed))
    flash(_("The proposal is confirmed: every buyer and interpreter is asked to accept."), "success")
    return redirect(url_for("matching.round_proposals", round_id=p.round_id))


@bp.post("/proposals/<int:proposal_id>/discard")
@login_required
def discard(proposal_id: int):
    _staff()
    p = _load_proposal(proposal_id)
    if not confirmed():
        return redirect(url_for("matching.proposal", proposal_id=proposal_id))
    with rollback_on(Conflict) as done:
        proposals.discard_proposal(proposal=p, actor=current_user)
    if done.error is not None:
        flash(done.error.message, "danger")
        return redirect(url_for("matching.proposal", proposal_id=proposal_id))
    flash(_("The draft proposal is discarded."), "info")
    return redirect(url_for("matching.round_proposals", round_id=p.round_id))


# --- weights -------------------------------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def weights():
    authorize(policies.can_edit_weights(current_user))
    form = WeightsForm(data=asdict(settings.get_weights()) if request.method == "GET" else None)
    if form.validate_on_submit():
        with attempt(form) as done:
            settings.update_weights(data={n: form[n].data for n in settings.WEIGHT_NAMES}, actor=current_user)
        if done:
            flash(_("The scoring weights are saved. They apply to recommendations from now on."), "success")
            return redirect(url_for("matching.weights"))
    return render_template("matching/settings.html", form=form, names=settings.WEIGHT_NAMES)
