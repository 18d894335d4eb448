"""The interpreter's own assignments: by signed link (no login), or at /interpreter/me for a linked account.

Only the interpreter's own bookings are listed; accepting or declining is done on the /respond pages.
"""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from consultroom.bookings import calendar
from consultroom.bookings.models import Booking
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.interpreters import policies, services
from consultroom.interpreters.blueprint import bp
from consultroom.interpreters.models import Interpreter
from consultroom.interpreters.queries import assignment_page, linked_interpreter
from consultroom.interpreters.views import seoul_time
from consultroom.languages import PARTY_LOCALES, supported
from consultroom.notifications.services import external_url
from consultroom.outcomes.forms import LogForm
from consultroom.outcomes.queries import log_of, logged_booking_ids
from consultroom.outcomes.services import LOGGABLE, record_log
from consultroom.pagination import page_number
from consultroom.privacy import notices
from consultroom.request_transaction import attempt
from consultroom.signing import LinkExpired, LinkInvalid


def _private(response):
    # The token is in the URL: never send it on as a Referer (e.g. to the video service), never cache the page.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _locale_for(interpreter: Interpreter) -> str:
    """A ?lang= or a language chosen in this browser, else the interpreter's own (not the Korean UI default)."""
    languages = PARTY_LOCALES
    for choice in (request.args.get("lang"), session.get("lang")):
        if choice in languages:
            return choice
    return supported(interpreter.locale)


def _page(interpreter: Interpreter, *, via_link: bool, token: str = "", feed_url: str | None = None):
    now = utcnow()
    rows = assignment_page(
        interpreter.id,
        now=now,
        upcoming=True,
        include_cancelled=False,
        page=page_number("upcoming_page"),
        buyer_languages=True,
    )
    # Past ones too (issue 13, item 7): the interpreter writes their logs here.
    past = assignment_page(
        interpreter.id, now=now, upcoming=False, include_cancelled=False, page=page_number("past_page")
    )
    with force_locale(_locale_for(interpreter)):
        html = _render_portal(
            interpreter, via_link=via_link, token=token, feed_url=feed_url, rows=rows, past=past, now=now
        )
    return _private(make_response(html, 200))


def _render_portal(interpreter, *, via_link, token, feed_url, rows, past, now):
    return render_template(
        "interpreters/portal.html",
        interpreter=interpreter,
        rows=rows,
        past=past,
        loggable={b.id for b in [*rows.items, *past.items] if b.status in LOGGABLE and b.starts_at <= now},
        logged=logged_booking_ids([b.id for b in past.items]),
        seoul_time=seoul_time,
        via_link=via_link,
        token=token,
        feed=calendar.active_feed(interpreter=interpreter),
        feed_url=feed_url,
        notice=notices.view(notices.CONSULTATION_SHARING, subject_type="interpreter"),
    )


@bp.get("/interpreter/me")
@login_required
def me():
    interpreter = linked_interpreter(current_user.id)
    if not policies.is_linked_interpreter(current_user, interpreter):
        abort(404)
    return _page(interpreter, via_link=False)


class _Problem(Exception):
    def __init__(self, response):
        super().__init__()
        self.response = response


def _from_token(token: str) -> Interpreter:
    try:
        return services.interpreter_from_token(token[:1000])
    except LinkExpired as exc:
        message = _("This link has expired. Ask the consultation room staff to send you a new one.")
        page = render_template("interpreters/portal_problem.html", message=message)
        raise _Problem(_private(make_response(page, 410))) from exc
    except LinkInvalid as exc:
        message = _("This link is not valid. Open the link exactly as it came in the mail, or ask for a new one.")
        page = render_template("interpreters/portal_problem.html", message=message)
        raise _Problem(_private(make_response(page, 400))) from exc


@bp.get("/interpreter/<token>")
def portal(token: str):
    try:
        interpreter = _from_token(token)
    except _Problem as problem:
        return problem.response
    return _page(interpreter, via_link=True, token=token)


# --- the interpreter's private calendar feed (issue 13, item 5) ----------------------------------


def _feed_action(interpreter: Interpreter, *, via_link: bool, token: str = "", on: bool):
    """Make a new feed address (shown once, in the page this answers with) or turn the feed off."""
    if on:
        _feed, raw = calendar.new_feed(interpreter=interpreter, actor=None if via_link else current_user)
        return _page(
            interpreter, via_link=via_link, token=token, feed_url=external_url("bookings.calendar_feed", token=raw)
        )
    calendar.revoke_feeds(interpreter=interpreter, actor=None if via_link else current_user)
    with force_locale(_locale_for(interpreter)):
        flash(_("Your calendar feed is turned off; its address no longer works."), "info")
    if via_link:
        return redirect(url_for("interpreters.portal", token=token))
    return redirect(url_for("interpreters.me"))


@bp.post("/interpreter/me/calendar")
@login_required
def me_calendar():
    interpreter = linked_interpreter(current_user.id)
    if not policies.is_linked_interpreter(current_user, interpreter):
        abort(404)
    return _feed_action(interpreter, via_link=False, on=request.form.get("feed") != "off")


@bp.post("/interpreter/<token>/calendar")
def portal_calendar(token: str):
    try:
        interpreter = _from_token(token)
    except _Problem as problem:
        return problem.response
    return _feed_action(interpreter, via_link=True, token=token, on=request.form.get("feed") != "off")


@bp.route("/interpreter/<token>/log/<int:booking_id>", methods=["GET", "POST"])
def portal_log(token: str, booking_id: int):
    """The consultation log, written by the interpreter who came by link: the staff's form and rules."""
    try:
        interpreter = _from_token(token)
    except _Problem as problem:
        return problem.response
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.interpreter_id != interpreter.id:
        abort(404)  # not theirs: as if it did not exist
    with force_locale(_locale_for(interpreter)):
        return _log_page(interpreter, booking, token)


def _log_page(interpreter: Interpreter, booking: Booking, token: str):
    existing = log_of(booking)
    form = LogForm(obj=existing)
    lang = {"lang": request.args["lang"]} if request.args.get("lang") in current_app.config["LANGUAGES"] else {}
    back = url_for("interpreters.portal", token=token, **lang)
    if form.validate_on_submit():
        with attempt(form) as done:  # a message no field holds is flashed
            record_log(booking=booking, data=form.payload(), actor=None, interpreter=interpreter, now=utcnow())
        if done:
            flash(_("The consultation log is saved."), "success")
            return redirect(back)
    html = render_template("outcomes/log.html", booking=booking, form=form, existing=existing, back_url=back)
    return _private(make_response(html, 200))
