"""Staff pages for rounds: list, create, edit, the grid (booths by time), settings, closed dates."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from consultroom.access import authorize, get_or_404
from consultroom.bookings import policies
from consultroom.bookings import services as bookings
from consultroom.bookings.models import Booking
from consultroom.companies.models import Company
from consultroom.companies.validation import normalize_business_number
from consultroom.consultations import changes
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.forms_util import confirmed, small_int
from consultroom.request_transaction import attempt
from consultroom.rounds import grid as round_grid
from consultroom.rounds import services
from consultroom.rounds.forms import (
    AddSlotForm,
    CancelRoundForm,
    ClosedDateForm,
    RoundCreateForm,
    RoundEditForm,
    RoundSettingsForm,
    StaffBookForm,
)
from consultroom.rounds.models import ClosedDate, Round, Slot
from consultroom.rounds.notify import announce_open_count
from consultroom.timeutil import SEOUL

bp = Blueprint("rounds", __name__, url_prefix="/staff")
CANCELLABLE = ("draft", "open", "closed")
GRID_PAGE = 400  # cells shown at once when no filter is chosen; a bigger round is shown one time at a time


def _staff() -> None:
    authorize(policies.can_manage_rounds(current_user))


def _seoul_naive(moment: datetime) -> datetime:
    return moment.astimezone(SEOUL).replace(tzinfo=None)


def _from_seoul(naive: datetime) -> datetime:
    return naive.replace(tzinfo=SEOUL)


@bp.get("/rounds")
@login_required
def index():
    _staff()
    rounds = db.session.scalars(select(Round).order_by(Round.day.desc())).all()
    return render_template("staff/rounds.html", rounds=rounds)


@bp.route("/rounds/new", methods=["GET", "POST"])
@login_required
def new():
    _staff()
    settings = services.get_settings()
    form = RoundCreateForm()
    if request.method == "GET":
        for name in (
            "day_start",
            "day_end",
            "slot_minutes",
            "break_minutes",
            "booths",
            "company_cap",
            "cancel_hours_before",
        ):
            getattr(form, name).data = getattr(settings, name)
    if form.validate_on_submit():
        data = {k: v for k, v in form.data.items() if k not in ("csrf_token", "submit")}
        data["notes"] = data.get("notes") or ""
        with attempt(form) as done:
            rnd = services.create_round(data=data, actor=current_user)
        if done:
            flash(_("The round is created as a draft."), "success")
            return redirect(url_for("rounds.grid", round_id=rnd.id))
    return render_template("staff/round_new.html", form=form)


@bp.post("/rounds/generate")
@login_required
def generate():
    _staff()
    made = 0
    for year, month in services.upcoming_program_months(utcnow(), count=3):
        _rnd, created = services.ensure_round(year=year, month=month, actor=current_user, not_after=utcnow())
        made += created
    flash(
        ngettext("%(num)d round generated from the settings.", "%(num)d rounds generated from the settings.", made),
        "info",
    )
    return redirect(url_for("rounds.index"))


@bp.route("/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@login_required
def edit(round_id: int):
    _staff()
    rnd = get_or_404(db.session, Round, round_id)
    form = RoundEditForm()
    if request.method == "GET":
        form.title.data = rnd.title
        form.booking_opens_at.data = _seoul_naive(rnd.booking_opens_at)
        form.booking_closes_at.data = _seoul_naive(rnd.booking_closes_at)
        form.cancel_hours_before.data = rnd.cancel_hours_before
        form.company_cap.data = rnd.company_cap
        form.notes.data = rnd.notes
    if form.validate_on_submit():
        data = {
            "title": form.title.data,
            "booking_opens_at": _from_seoul(form.booking_opens_at.data),
            "booking_closes_at": _from_seoul(form.booking_closes_at.data),
            "cancel_hours_before": form.cancel_hours_before.data,
            "company_cap": form.company_cap.data,
            "notes": form.notes.data or "",
        }
        with attempt(form) as done:
            services.update_round(rnd=rnd, data=data, actor=current_user)
        if done:
            flash(_("The round is saved."), "success")
            return redirect(url_for("rounds.grid", round_id=rnd.id))
    return render_template("staff/round_edit.html", form=form, rnd=rnd)


def _epoch(value: str | None) -> datetime | None:
    """A start time from a filter or link: seconds since the epoch (short, and the same in every zone)."""
    seconds = small_int(value or "", max_digits=10)
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


@bp.get("/rounds/<int:round_id>")
@login_required
def grid(round_id: int):
    """The round's slots by time, compact: one link per cell to the booking's or the slot's page, where
    the actions are; filtered by state and by time in SQL, so a big round stays a few queries."""
    _staff()
    rnd = get_or_404(db.session, Round, round_id)
    now = utcnow()
    state = request.args.get("status") or None
    if state not in round_grid.FILTERS:
        state = None
    at = _epoch(request.args.get("at"))
    times = round_grid.time_rows(rnd, now)
    shown = [t for t in times if round_grid.matching(t, state)]
    paged = at is None and sum(round_grid.matching(t, state) for t in shown) > GRID_PAGE
    if paged:
        at = shown[0].starts_at  # a big round opens on its first time; the others are a link away
    view = round_grid.staff_grid(rnd, now=now, state=state, at=at, times=times)
    # One format per kind of link, filled per cell: url_for and gettext for each of 2,000 cells
    # took most of the page's time.
    placeholder = 2**31 - 1
    return render_template(
        "staff/grid.html",
        rnd=rnd,
        view=view,
        state=state,
        at=at,
        paged=paged,
        booking_href=url_for("matching.booking", booking_id=placeholder).replace(str(placeholder), "%d"),
        slot_href=url_for("rounds.slot", slot_id=placeholder).replace(str(placeholder), "%d"),
        booth_label=_("Booth %(n)s"),
        filters=round_grid.FILTERS,
        now=now,
        waiting=round_grid.waiting_list(rnd),
        add_form=AddSlotForm(),
        cancel_form=CancelRoundForm(),
        reach=bookings.round_cancellation_reach(rnd) if rnd.status in CANCELLABLE else (0, 0),
        announce=announce_open_count() if rnd.status == "draft" else 0,
    )


@bp.post("/rounds/<int:round_id>/status")
@login_required
def set_status(round_id: int):
    _staff()
    rnd = get_or_404(db.session, Round, round_id)
    status = request.form.get("status", "")
    # Every step but reopening booking mails people or cannot be undone, so it needs a confirmation.
    if (status != "open" or rnd.status == "draft") and not confirmed():
        return redirect(url_for("rounds.grid", round_id=round_id))
    with attempt() as done:
        services.set_status(rnd=rnd, status=status, actor=current_user)
    if done:
        flash(_("The round status is changed."), "success")
    return redirect(url_for("rounds.grid", round_id=round_id))


@bp.post("/rounds/<int:round_id>/cancel")
@login_required
def cancel(round_id: int):
    _staff()
    rnd = get_or_404(db.session, Round, round_id)
    form = CancelRoundForm()
    if not form.validate_on_submit():
        flash(_("Give a reason for cancelling the round."), "danger")
        return redirect(url_for("rounds.grid", round_id=round_id))
    if not confirmed():
        return redirect(url_for("rounds.grid", round_id=round_id))
    with attempt() as done:
        count = changes.cancel_round(rnd=rnd, actor=current_user, reason=form.reason.data)
    if done:
        flash(
            ngettext(
                "The round is cancelled; %(num)d booking was cancelled and everyone concerned told.",
                "The round is cancelled; %(num)d bookings were cancelled and everyone concerned told.",
                count,
            ),
            "info",
        )
    return redirect(url_for("rounds.grid", round_id=round_id))


@bp.post("/rounds/<int:round_id>/slots")
@login_required
def add_slot(round_id: int):
    _staff()
    rnd = get_or_404(db.session, Round, round_id)
    form = AddSlotForm()
    if form.validate_on_submit():
        with attempt() as done:
            services.add_slot(
                rnd=rnd,
                booth=form.booth.data,
                start_local=form.start.data,
                minutes=form.minutes.data,
                actor=current_user,
            )
        if done:
            flash(_("The slot is added."), "success")
    else:
        flash(_("Please correct the marked fields."), "danger")
    return redirect(url_for("rounds.grid", round_id=round_id))


@bp.get("/slots/<int:slot_id>")
@login_required
def slot(slot_id: int):
    """A slot's own page: book it for a company, or close or reopen it. A booked slot is its booking's page."""
    _staff()
    slot = get_or_404(db.session, Slot, slot_id)
    active = db.session.scalar(select(Booking.id).where(Booking.slot_id == slot.id, Booking.status != "cancelled"))
    if active is not None:
        return redirect(url_for("matching.booking", booking_id=active))
    return render_template("staff/slot.html", slot=slot, rnd=slot.round, now=utcnow(), book_form=StaffBookForm())


@bp.post("/slots/<int:slot_id>/closed")
@login_required
def close_slot(slot_id: int):
    _staff()
    slot = get_or_404(db.session, Slot, slot_id)
    with attempt():
        services.set_slot_closed(slot=slot, closed=request.form.get("closed") == "1", actor=current_user)
    return redirect(url_for("rounds.grid", round_id=slot.round_id))


def _find_company(key: str) -> Company | None:
    key = key.strip()
    number = normalize_business_number(key)
    conds = [Company.business_number == number]
    if (company_id := small_int(key)) is not None:
        conds.append(Company.id == company_id)
    return db.session.scalar(select(Company).where(or_(*conds)))


@bp.post("/slots/<int:slot_id>/book")
@login_required
def book_for(slot_id: int):
    _staff()
    slot = get_or_404(db.session, Slot, slot_id)
    form = StaffBookForm()
    if not form.validate_on_submit():
        flash(_("Enter the company's business registration number."), "danger")
        return redirect(url_for("rounds.grid", round_id=slot.round_id))
    company = _find_company(form.company.data)
    if company is None:
        flash(_("No company has this number."), "danger")
        return redirect(url_for("rounds.grid", round_id=slot.round_id))
    request_data = bookings.request_from_company(company).as_dict()
    if form.products.data:
        request_data["products"] = form.products.data
    request_data["products"] = request_data["products"] or company.display_name
    with attempt() as done:
        bookings.book_slot(company=company, slot=slot, request=request_data, actor=current_user)
    if done:
        flash(_("Booked (company: %(name)s).", name=company.display_name), "success")
    return redirect(url_for("rounds.grid", round_id=slot.round_id))


@bp.get("/bookings/<int:booking_id>/move")
@login_required
def move_page(booking_id: int):
    """Where a booking can go: the round's times with their free booths counted, and the free booths
    of the chosen time (one time at a time, so the page stays small however big the round)."""
    _staff()
    booking = get_or_404(db.session, Booking, booking_id)
    now = utcnow()
    times = [t for t in round_grid.time_rows(booking.round, now) if t.free]
    at = _epoch(request.args.get("at"))
    if at is None and times:
        at = times[0].starts_at
    free = round_grid.free_slots_at(booking.round, at=at, now=now) if at is not None else []
    return render_template("staff/move.html", booking=booking, times=times, at=at, free=free)


@bp.post("/bookings/<int:booking_id>/move")
@login_required
def move(booking_id: int):
    _staff()
    booking = get_or_404(db.session, Booking, booking_id)
    slot = db.session.get(Slot, request.form.get("slot_id", type=int) or 0)
    if slot is None:
        abort(404)
    with attempt() as done:
        changes.move_booking(booking=booking, slot=slot, actor=current_user)
    if done:
        flash(_("The booking is moved; the company, the buyer and the interpreter are told."), "success")
    return redirect(url_for("rounds.grid", round_id=booking.round_id))


@bp.route("/settings/rounds", methods=["GET", "POST"])
@login_required
def settings():
    authorize(policies.can_edit_round_settings(current_user))
    current = services.get_settings()
    form = RoundSettingsForm(obj=current)
    if request.method == "GET":
        form.region_windows.data = services.format_windows(current.region_windows)
    if form.validate_on_submit():
        with attempt(form) as done:
            services.update_settings(data=form.payload(), actor=current_user)
        if done:
            flash(_("The round settings are saved. They apply to rounds generated from now on."), "success")
            return redirect(url_for("rounds.settings"))
    return render_template("staff/settings.html", form=form)


@bp.route("/closed-dates", methods=["GET", "POST"])
@login_required
def closed_dates():
    _staff()
    form = ClosedDateForm()
    if form.validate_on_submit():
        with attempt(form) as done:
            services.add_closed_date(day=form.day.data, reason=form.reason.data or "", actor=current_user)
        if done:
            flash(_("The date is closed for rounds."), "success")
            return redirect(url_for("rounds.closed_dates"))
    rows = db.session.scalars(select(ClosedDate).order_by(ClosedDate.day.desc())).all()
    return render_template("staff/closed_dates.html", form=form, rows=rows)


@bp.post("/closed-dates/<int:row_id>/delete")
@login_required
def delete_closed_date(row_id: int):
    _staff()
    row = get_or_404(db.session, ClosedDate, row_id)
    services.remove_closed_date(row=row, actor=current_user)
    flash(_("The date is open again."), "info")
    return redirect(url_for("rounds.closed_dates"))
