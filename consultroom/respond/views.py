"""Pages behind the signed links mailed to a proposed buyer or interpreter (no account needed).

The token names the booking, the party, the party's id and the proposal's version, so it answers
for that proposal only. Every page renders in the party's language (buyers: English unless they
choose otherwise; interpreters: their own locale) and shows only this consultation. A link that
is broken answers 400, one that no longer applies 410, a changed answer 409: never a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from consultroom.bookings.models import Booking
from consultroom.buyers.models import Buyer
from consultroom.companies.profile import profile_for
from consultroom.db import utcnow
from consultroom.errors import DomainError
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter
from consultroom.languages import PARTY_LOCALES
from consultroom.matching import confirmation as c
from consultroom.matching import services
from consultroom.notifications.services import external_url
from consultroom.privacy import notices
from consultroom.privacy.consent import record_consent
from consultroom.signing import LinkExpired, LinkInvalid

bp = Blueprint("respond", __name__, url_prefix="/respond")


class _Stop(Exception):
    """Ends a request with a plain page: status and message (already translated)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _chosen_locale(default: str) -> str:
    languages = PARTY_LOCALES
    for choice in (request.args.get("lang"), session.get("lang")):
        if choice in languages:
            return choice
    return default


@contextmanager
def _in_locale(default: str) -> Iterator[None]:
    with force_locale(_chosen_locale(default)):
        yield


def _gone_message(state: str) -> str:
    return {
        "cancelled": _("This consultation has been cancelled."),
        "replaced": _("This proposal has been replaced or withdrawn; this link no longer works."),
        "closed": _("This proposal is no longer open."),
        "too_late": _("The time to answer this proposal has passed."),
    }[state]


def _stop_page(exc: _Stop):
    return render_template("respond/stop.html", status=exc.status, message=exc.message), exc.status


def _load(token: str) -> tuple[dict[str, Any], Booking, Any]:
    try:
        data = c.read_response_token(token)
    except LinkExpired as exc:
        raise _Stop(410, _("This link has expired. Please ask the program staff for a new one.")) from exc
    except LinkInvalid as exc:
        raise _Stop(400, _("This link is not valid. Please use the link exactly as it was sent to you.")) from exc
    booking = db.session.get(Booking, data["b"])
    person = db.session.get(Buyer if data["p"] == "buyer" else Interpreter, data["i"])
    if booking is None or person is None:
        raise _Stop(410, _("This proposal is no longer open."))
    return data, booking, person


def _view_context(booking: Booking, data: dict[str, Any], person: Any, state: str, token: str) -> dict[str, Any]:
    party = data["p"]
    locale = c.party_locale(party, person)
    zone = c.party_zone(party, person)
    shown = str(get_locale() or locale)
    return {
        "booking": booking,
        "party": party,
        "person": person,
        "state": state,
        "token": token,
        "answer": request.args.get("answer"),
        "company_name": c.company_display(booking, shown),
        "company": profile_for(booking.company, shown, products=booking.products),
        "when_local": c.when(booking.starts_at, zone, shown),
        "when_seoul": c.when(booking.starts_at, c.SEOUL_ZONE, shown),
        "local_is_seoul": zone == c.SEOUL_ZONE,
        "respond_by": c.when(booking.respond_by, zone, shown),
        "zone": zone,
        "notice": notices.view(notices.CONSULTATION_SHARING, subject_type=party),
    }


def _default_locale(token: str) -> str:
    # Before the token is read we do not know the party: buyers are the default readers.
    try:
        data = c.read_response_token(token)
    except LinkInvalid:
        return "en"
    model = Buyer if data["p"] == "buyer" else Interpreter
    person = db.session.get(model, data["i"])
    return c.party_locale(data["p"], person) if person is not None else "en"


@bp.get("/<token>")
def page(token: str):
    with _in_locale(_default_locale(token)):
        try:
            data, booking, person = _load(token)
            state = c.link_state(booking, data, utcnow())
            if state in c.GONE_STATES:
                raise _Stop(410, _gone_message(state))
        except _Stop as exc:
            return _stop_page(exc)
        return render_template("respond/page.html", **_view_context(booking, data, person, state, token))


@bp.post("/<token>")
def answer(token: str):
    with _in_locale(_default_locale(token)):
        try:
            data, booking, _person = _load(token)
            choice = request.form.get("answer")
            if choice not in ("accept", "decline"):
                raise _Stop(400, _("Choose accept or decline."))
            accept = choice == "accept"
            state = c.link_state(booking, data, utcnow())
            if state in c.GONE_STATES:
                raise _Stop(410, _gone_message(state))
            same = (state in ("accepted", "confirmed") and accept) or (state == "declined" and not accept)
            if state != "open" and not same:
                raise _Stop(409, _("You have already answered this proposal; the answer cannot be changed here."))
            if not same:
                try:
                    services.respond(
                        booking=booking, party=data["p"], accept=accept, version=data["v"], party_id=data["i"]
                    )
                    if accept:
                        # Accepting is agreeing to the sharing notice shown beside the button.
                        record_consent(
                            subject_type=data["p"],
                            subject_id=data["i"],
                            user=None,
                            purpose=notices.CONSULTATION_SHARING,
                            granted=True,
                            via="link",
                        )
                except DomainError as exc:  # a 409 answer: the boundary rolls back
                    raise _Stop(409, exc.message) from exc
        except _Stop as exc:
            return _stop_page(exc)
        if accept:
            flash(_("Thank you: you accepted the consultation."), "success")
        else:
            flash(_("Thank you: you declined the consultation. We will not contact you about it again."), "info")
        return redirect(
            url_for("respond.page", token=token, **({"lang": request.args["lang"]} if "lang" in request.args else {}))
        )


@bp.get("/<token>/ics")
def ics(token: str):
    with _in_locale(_default_locale(token)):
        try:
            data, booking, person = _load(token)
            state = c.link_state(booking, data, utcnow())
            if state not in ("open", "accepted", "confirmed"):
                raise _Stop(
                    410, _gone_message(state) if state in c.GONE_STATES else _("This proposal is no longer open.")
                )
        except _Stop as exc:
            return _stop_page(exc)
        # The party's own view (zone, language) with the UID and SEQUENCE of every mail they got.
        body = c.party_ics(
            booking, data["p"], person, method="PUBLISH", page_url=external_url("respond.page", token=token)
        )
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="consultation-{booking.id}.ics"'},
    )
