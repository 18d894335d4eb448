"""Staff pages for rounds: list, create, edit, the grid (booths by time), settings, closed dates."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from consultroom.access import authorize, get_or_404
from consultroom.bookings import policies
from consultroom.bookings import services as bookings
from consultroom.bookings.models import Booking
from consultroom.bookings.queries import group_by_time, round_slots_with_bookings
from consultroom.companies.models import Company
from consultroom.companies.validation import normalize_business_number
from consultroom.db import utcnow
from consultroom.errors import DomainError
from consultroom.extensions import db
from consultroom.forms_util import apply_domain_error, small_int
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
from consultroom.timeutil import SEOUL

bp = Blueprint("staff_rounds", __name__, url_prefix="/staff")


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
        try:
            rnd = services.create_round(data=data, actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("The round is created as a draft."), "success")
            return redirect(url_for("staff_rounds.grid", round_id=rnd.id))
    return render_template("staff/round_new.html", form=form)


@bp.post("/rounds/generate")
@login_required
def generate():
    _staff()
    made = 0
    for year, month in services.upcoming_program_months(utcnow(), count=3):
        _rnd, created = services.ensure_round(year=year, month=month, actor=current_user, not_after=utcnow())
        made += created
    db.session.commit()
    flash(_("%(n)d rounds generated from the settings.", n=made), "info")
    return redirect(url_for("staff_rounds.index"))


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
        try:
            services.update_round(rnd=rnd, data=data, actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("The round is saved."), "success")
            return redirect(url_for("staff_rounds.grid", round_id=rnd.id))
    return render_template("staff/round_edit.html", form=form, rnd=rnd)


@bp.get("/rounds/<int:round_id>")
@login_required
def grid(round_id: int):
    _staff()
    rnd = get_or_404(db.session, Round, round_id)
    slots, booked = round_slots_with_bookings(rnd)
    now = utcnow()
    free = [s for s in slots if s.id not in booked and not s.closed and s.starts_at > now]
    from consultroom.bookings.models import WaitlistEntry

    waiting = db.session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.round_id == rnd.id, WaitlistEntry.status == "waiting")
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    ).all()
    return render_template(
        "staff/grid.html",
        rnd=rnd,
        rows=group_by_time(slots),
        booked=booked,
        free=free,
        now=now,
        waiting=waiting,
        add_form=AddSlotForm(),
        cancel_form=CancelRoundForm(),
        book_form=StaffBookForm(),
    )


@bp.post("/rounds/<int:round_id>/status")
@login_required
def set_status(round_id: int):
    _staff()
    rnd = get_or_404(db.session, Round, round_id)
    try:
        services.set_status(rnd=rnd, status=request.form.get("status", ""), actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(_("The round status is changed."), "success")
    return redirect(url_for("staff_rounds.grid", round_id=round_id))


@bp.post("/rounds/<int:round_id>/cancel")
@login_required
def cancel(round_id: int):
    _staff()
    rnd = get_or_404(db.session, Round, round_id)
    form = CancelRoundForm()
    if not form.validate_on_submit():
        flash(_("Give a reason for cancelling the round."), "danger")
        return redirect(url_for("staff_rounds.grid", round_id=round_id))
    try:
        count = services.cancel_round(rnd=rnd, actor=current_user, reason=form.reason.data)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(_("The round is cancelled; %(n)d bookings were cancelled and everyone concerned told.", n=count), "info")
    return redirect(url_for("staff_rounds.grid", round_id=round_id))


@bp.post("/rounds/<int:round_id>/slots")
@login_required
def add_slot(round_id: int):
    _staff()
    rnd = get_or_404(db.session, Round, round_id)
    form = AddSlotForm()
    if form.validate_on_submit():
        try:
            services.add_slot(
                rnd=rnd,
                booth=form.booth.data,
                start_local=form.start.data,
                minutes=form.minutes.data,
                actor=current_user,
            )
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("The slot is added."), "success")
    else:
        flash(_("Please correct the marked fields."), "danger")
    return redirect(url_for("staff_rounds.grid", round_id=round_id))


@bp.post("/slots/<int:slot_id>/closed")
@login_required
def close_slot(slot_id: int):
    _staff()
    slot = get_or_404(db.session, Slot, slot_id)
    try:
        services.set_slot_closed(slot=slot, closed=request.form.get("closed") == "1", actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
    return redirect(url_for("staff_rounds.grid", round_id=slot.round_id))


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
        return redirect(url_for("staff_rounds.grid", round_id=slot.round_id))
    company = _find_company(form.company.data)
    if company is None:
        flash(_("No company has this number."), "danger")
        return redirect(url_for("staff_rounds.grid", round_id=slot.round_id))
    request_data = bookings.request_from_company(company).as_dict()
    if form.products.data:
        request_data["products"] = form.products.data
    request_data["products"] = request_data["products"] or company.display_name
    try:
        bookings.book_slot(company=company, slot=slot, request=request_data, actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(_("Booked (company: %(name)s).", name=company.display_name), "success")
    return redirect(url_for("staff_rounds.grid", round_id=slot.round_id))


@bp.post("/bookings/<int:booking_id>/move")
@login_required
def move(booking_id: int):
    _staff()
    booking = get_or_404(db.session, Booking, booking_id)
    slot = db.session.get(Slot, request.form.get("slot_id", type=int) or 0)
    if slot is None:
        abort(404)
    try:
        bookings.move_booking(booking=booking, slot=slot, actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(_("The booking is moved; the company, the buyer and the interpreter are told."), "success")
    return redirect(url_for("staff_rounds.grid", round_id=booking.round_id))


@bp.route("/settings/rounds", methods=["GET", "POST"])
@login_required
def settings():
    authorize(policies.can_edit_round_settings(current_user))
    current = services.get_settings()
    form = RoundSettingsForm(obj=current)
    if request.method == "GET":
        form.region_windows.data = services.format_windows(current.region_windows)
    if form.validate_on_submit():
        try:
            services.update_settings(data=form.payload(), actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("The round settings are saved. They apply to rounds generated from now on."), "success")
            return redirect(url_for("staff_rounds.settings"))
    return render_template("staff/settings.html", form=form)


@bp.route("/closed-dates", methods=["GET", "POST"])
@login_required
def closed_dates():
    _staff()
    form = ClosedDateForm()
    if form.validate_on_submit():
        try:
            services.add_closed_date(day=form.day.data, reason=form.reason.data or "", actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("The date is closed for rounds."), "success")
            return redirect(url_for("staff_rounds.closed_dates"))
    rows = db.session.scalars(select(ClosedDate).order_by(ClosedDate.day.desc())).all()
    return render_template("staff/closed_dates.html", form=form, rows=rows)


@bp.post("/closed-dates/<int:row_id>/delete")
@login_required
def delete_closed_date(row_id: int):
    _staff()
    row = get_or_404(db.session, ClosedDate, row_id)
    services.remove_closed_date(row=row, actor=current_user)
    db.session.commit()
    flash(_("The date is open again."), "info")
    return redirect(url_for("staff_rounds.closed_dates"))
