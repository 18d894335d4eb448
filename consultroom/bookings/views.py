from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from consultroom.access import authorize, get_or_404
from consultroom.bookings import calendar, policies, queries, services
from consultroom.bookings.downloads import ics_response
from consultroom.bookings.forms import BookingRequestForm, CancelBookingForm, WaitlistForm
from consultroom.bookings.models import Booking, WaitlistEntry
from consultroom.consultations import changes
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.forms_util import confirmed
from consultroom.notifications.services import external_url
from consultroom.outcomes.queries import company_overdue
from consultroom.request_transaction import attempt
from consultroom.rounds import grid as round_grid
from consultroom.rounds.models import Round, Slot

bp = Blueprint("bookings", __name__)


@bp.get("/rounds")
@login_required
def rounds():
    authorize(current_user.is_sme or current_user.is_staff)
    return render_template("bookings/rounds.html", rounds=queries.visible_rounds(current_user))


@bp.get("/rounds/<int:round_id>")
@login_required
def round_detail(round_id: int):
    """A round by time, as an SME books it: a time, not a booth (the system picks the booth), and only
    the actions that can succeed for this company now (issue 15 item 5)."""
    rnd = get_or_404(db.session, Round, round_id)
    authorize(policies.can_see_round(current_user, rnd))
    now = utcnow()
    company_id = current_user.company_id if current_user.is_sme else None
    times, held = round_grid.company_times(rnd, company_id=company_id, now=now)
    bookable = rnd.status == "open" and rnd.booking_opens_at <= now < rnd.booking_closes_at
    free = sum(t.free for t in times)
    can_book = bookable and company_id is not None
    waiting = can_book and free == 0 and held < rnd.company_cap and not queries.on_waitlist(rnd.id, company_id)
    return render_template(
        "bookings/round.html",
        rnd=rnd,
        times=times,
        free_count=free,
        held=held,
        now=now,
        bookable=bookable,
        can_book=can_book and held < rnd.company_cap,
        at_cap=can_book and held >= rnd.company_cap,
        offer_waitlist=waiting,
    )


@bp.route("/rounds/<int:round_id>/times/<int:at>/book", methods=["GET", "POST"])
@login_required
def book_time(round_id: int, at: int):
    """Book a time (seconds since the epoch): the request form, then any free booth at that time."""
    rnd = get_or_404(db.session, Round, round_id)
    authorize(policies.can_see_round(current_user, rnd), policies.can_book(current_user))
    starts_at = datetime.fromtimestamp(at, UTC)
    times = {t.starts_at: t for t in round_grid.time_rows(rnd, utcnow())}
    if starts_at not in times:
        abort(404)
    form = BookingRequestForm()
    if request.method == "GET":
        form.load(services.request_from_company(current_user.company))
    if form.validate_on_submit():
        with attempt(form) as done:
            services.book_at_time(
                company=current_user.company, rnd=rnd, starts_at=starts_at, request=form.payload(), actor=current_user
            )
        if done:
            flash(_("Your booking is made. We will match a buyer and an interpreter and let you know."), "success")
            return redirect(url_for("bookings.my_bookings"))
    return render_template(
        "bookings/book.html", rnd=rnd, time=times[starts_at], slot=None, form=form, kept_months=_free_text_months()
    )


@bp.route("/rounds/<int:round_id>/slots/<int:slot_id>/book", methods=["GET", "POST"])
@login_required
def book(round_id: int, slot_id: int):
    rnd = get_or_404(db.session, Round, round_id)
    authorize(policies.can_see_round(current_user, rnd), policies.can_book(current_user))
    slot = get_or_404(db.session, Slot, slot_id)
    if slot.round_id != rnd.id:
        abort(404)
    form = BookingRequestForm()
    if request.method == "GET":
        form.load(services.request_from_company(current_user.company))
    if form.validate_on_submit():
        with attempt(form) as done:
            services.book_slot(company=current_user.company, slot=slot, request=form.payload(), actor=current_user)
        if done:
            flash(_("Your booking is made. We will match a buyer and an interpreter and let you know."), "success")
            return redirect(url_for("bookings.my_bookings"))
    return render_template("bookings/book.html", rnd=rnd, slot=slot, form=form, kept_months=_free_text_months())


@bp.route("/rounds/<int:round_id>/waitlist", methods=["GET", "POST"])
@login_required
def join_waitlist(round_id: int):
    rnd = get_or_404(db.session, Round, round_id)
    authorize(policies.can_see_round(current_user, rnd), policies.can_book(current_user))
    form = WaitlistForm()
    if request.method == "GET":
        form.load(services.request_from_company(current_user.company))
    if form.validate_on_submit():
        with attempt(form) as done:
            services.join_waitlist(company=current_user.company, rnd=rnd, request=form.payload(), actor=current_user)
        if done:
            flash(_("Your company is on the waitlist. If a slot becomes free, it is booked for you."), "success")
            return redirect(url_for("bookings.my_bookings"))
    return render_template("bookings/waitlist.html", rnd=rnd, form=form, kept_months=_free_text_months())


def _free_text_months() -> int:
    """For the notice beside the request form (PIPA): how long its free text is kept."""
    from consultroom.privacy.models import RetentionKind
    from consultroom.privacy.retention import get_rules

    return get_rules()[RetentionKind.FREE_TEXT.value]


@bp.post("/waitlist/<int:entry_id>/leave")
@login_required
def leave_waitlist(entry_id: int):
    entry = get_or_404(db.session, WaitlistEntry, entry_id)
    authorize(policies.can_see_waitlist_entry(current_user, entry))
    with attempt() as done:
        services.leave_waitlist(entry=entry, actor=current_user)
    if done:
        flash(_("You have left the waitlist."), "info")
    return redirect(url_for("bookings.my_bookings"))


MINE_PER_PAGE = 50


@bp.get("/bookings")
@login_required
def my_bookings():
    authorize(policies.can_book(current_user))
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    pagination = db.paginate(
        queries.company_bookings_stmt(current_user.company_id), page=page, per_page=MINE_PER_PAGE, error_out=False
    )
    items = pagination.items
    now = utcnow()
    return render_template(
        "bookings/mine.html",
        bookings=items,
        pagination=pagination,
        waitlist=[(e, services.waitlist_position(e)) for e in queries.company_waitlist(current_user.company_id)],
        cancellable={b.id for b in items if services.can_cancel_now(b, current_user, now)},
        followups=company_overdue(now, current_user.company_id),
        now=now,
    )


@bp.get("/bookings/<int:booking_id>")
@login_required
def detail(booking_id: int):
    """The company's page for one consultation (issue 13, item 4): its time in Seoul and in the
    user's zone, the join link, what to prepare, and once confirmed the buyer's profile and the
    interpreter (before that, only the buyer's country: DESIGN rule 8 and the sharing notice)."""
    from consultroom.matching.confirmation import SEOUL_ZONE, when

    booking = get_or_404(db.session, Booking, booking_id)
    authorize(policies.can_see_booking(current_user, booking))
    zone = current_user.timezone or SEOUL_ZONE
    locale = str(get_locale() or "ko")
    return render_template(
        "bookings/detail.html",
        booking=booking,
        confirmed=booking.status in ("confirmed", "held"),
        when_local=when(booking.starts_at, zone, locale),
        when_seoul=when(booking.starts_at, SEOUL_ZONE, locale),
        local_is_seoul=zone == SEOUL_ZONE,
        can_cancel=services.can_cancel_now(booking, current_user),
    )


def _after_cancel(booking: Booking):
    if current_user.is_staff:
        return redirect(url_for("rounds.grid", round_id=booking.round_id))
    return redirect(url_for("bookings.my_bookings"))


@bp.route("/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(booking_id: int):
    """Cancel after a confirmation page that asks for the reason; after the deadline an SME asks staff."""
    booking = get_or_404(db.session, Booking, booking_id)
    authorize(policies.can_see_booking(current_user, booking))
    now = utcnow()
    can_cancel = services.can_cancel_now(booking, current_user, now)
    can_request = (
        not can_cancel
        and current_user.is_sme
        and booking.active
        and booking.status not in ("held", "no_show")
        and booking.starts_at > now
        and booking.cancel_requested_at is None
    )
    form = CancelBookingForm()
    if form.validate_on_submit():
        with attempt(form) as done:
            if can_request:
                changes.request_cancellation(booking=booking, actor=current_user, reason=form.reason.data, now=now)
            else:
                changes.cancel_booking(booking=booking, actor=current_user, reason=form.reason.data, now=now)
        if done:
            if can_request:
                flash(_("Your request is with the staff. They will tell you what they decide."), "info")
            else:
                flash(_("The booking is cancelled and the slot is free again."), "info")
            return _after_cancel(booking)
        if not done.error.fields:  # flashed: nothing on the form to correct
            return _after_cancel(booking)
    return render_template(
        "bookings/cancel.html",
        booking=booking,
        form=form,
        can_cancel=can_cancel,
        can_request=can_request,
        deadline=services.cancel_deadline(booking.starts_at, booking.round),
        back=url_for("rounds.grid", round_id=booking.round_id)
        if current_user.is_staff
        else url_for("bookings.my_bookings"),
    )


@bp.get("/bookings/<int:booking_id>.ics")
@login_required
def ics(booking_id: int):
    booking = get_or_404(db.session, Booking, booking_id)
    authorize(policies.can_see_booking(current_user, booking))
    return ics_response(booking, current_user)


# --- private calendar feed (issue 13, item 5) ------------------------------------------------------


def _feed_page(url: str | None = None):
    feed = calendar.active_feed(user=current_user)
    response = make_response(render_template("bookings/calendar.html", feed=feed, url=url))
    # The page may show the private address: never cache it, never pass it on as a Referer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/calendar")
@login_required
def calendar_page():
    authorize(calendar.can_have_feed(current_user))
    return _feed_page()


@bp.post("/calendar/new")
@login_required
def calendar_new():
    authorize(calendar.can_have_feed(current_user))
    _feed, raw = calendar.new_feed(user=current_user, actor=current_user)
    # Shown this once: only its hash is kept.
    return _feed_page(external_url("bookings.calendar_feed", token=raw))


@bp.post("/calendar/off")
@login_required
def calendar_off():
    authorize(calendar.can_have_feed(current_user))
    if not confirmed():
        return redirect(url_for("bookings.calendar_page"))
    calendar.revoke_feeds(user=current_user, actor=current_user)
    flash(_("Your calendar feed is turned off; its address no longer works."), "info")
    return redirect(url_for("bookings.calendar_page"))


@bp.get("/calendar/<token>.ics")
def calendar_feed(token: str):
    """The feed a calendar client polls, without a login: the token is the key (404 once revoked)."""
    feed = calendar.feed_for_token(token)
    if feed is None:
        abort(404)
    body = calendar.feed_ics(feed)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"},
    )
