"""The parties' side of a match: signed response links, the mails that carry them, and the mails
and calendar updates of every later change (issue 13: cancel, move, unmatch, new party or link).

Buyers have no account: they read their `preferred_language` (English when it is not one of
consultroom.languages.PARTY_LOCALES) and see times in their own zone. Interpreters read their
`locale` (English likewise) and Seoul time; both read the company's English profile
(companies.profile), Korean fields marked untranslated. SME users read their account's locale
(Korean by default) and never see a buyer's contact details before the consultation is confirmed.
Every mail is queued in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from consultroom.accounts.models import Role, User
from consultroom.bookings.ics import EventText, booking_ics, organizer_address
from consultroom.bookings.models import Booking
from consultroom.bookings.notify import company_users
from consultroom.companies.profile import Shown, profile_for
from consultroom.companies.validation import country_name
from consultroom.extensions import db
from consultroom.i18n import datetime_pattern
from consultroom.languages import supported
from consultroom.notifications.services import external_url, queue_mail, queue_mail_to_user
from consultroom.signing import LinkInvalid, make_token, read_token

LINK_PURPOSE = "match-response"
SEOUL_ZONE = "Asia/Seoul"
DEFAULT_LINK_MAX_AGE = 14 * 24 * 3600

PartyRef = tuple[str, Any]  # ("buyer", Buyer) or ("interpreter", Interpreter)


# --- who, in which language and zone ----------------------------------------------------------


def parties_of(booking: Booking) -> list[PartyRef]:
    out: list[PartyRef] = []
    if booking.buyer is not None:
        out.append(("buyer", booking.buyer))
    if booking.interpreter is not None:
        out.append(("interpreter", booking.interpreter))
    return out


def party_locale(party: str, obj: Any) -> str:
    return supported(obj.preferred_language if party == "buyer" else obj.locale)


def party_zone(party: str, obj: Any) -> str:
    if party == "buyer" and getattr(obj, "timezone", None):
        try:
            ZoneInfo(obj.timezone)
        except (ValueError, KeyError):
            return SEOUL_ZONE
        return obj.timezone
    return SEOUL_ZONE


def when(moment: datetime | None, zone: str, locale: str) -> str:
    """A moment as the reader reads it: their language and zone, the zone named."""
    if moment is None:
        return ""
    return format_datetime(moment, datetime_pattern("full", locale, zone=True), tzinfo=ZoneInfo(zone), locale=locale)


def company_display(booking: Booking, locale: str) -> Shown:
    """The company's name for a reader in `locale`: English unless Korean, Korean marked untranslated."""
    return profile_for(booking.company, locale).name


# --- signed links ------------------------------------------------------------------------------


def link_max_age() -> int:
    return int(current_app.config.get("MATCH_LINK_MAX_AGE", DEFAULT_LINK_MAX_AGE))


def make_response_token(booking: Booking, party: str) -> str:
    party_id = booking.buyer_id if party == "buyer" else booking.interpreter_id
    return make_token(LINK_PURPOSE, {"b": booking.id, "p": party, "i": party_id, "v": booking.match_version})


def read_response_token(token: str) -> dict[str, Any]:
    """The payload of a genuine, unexpired token; raises LinkInvalid / LinkExpired otherwise."""
    data = read_token(LINK_PURPOSE, token, link_max_age())
    ok = (
        isinstance(data, dict)
        and isinstance(data.get("b"), int)
        and data.get("p") in ("buyer", "interpreter")
        and isinstance(data.get("i"), int)
        and isinstance(data.get("v"), int)
    )
    if not ok:
        raise LinkInvalid("malformed payload")
    return data


def links_for(booking: Booking, party: str) -> dict[str, str]:
    token = make_response_token(booking, party)
    return {
        "page": external_url("respond.page", token=token),
        "accept": external_url("respond.page", token=token, answer="accept"),
        "decline": external_url("respond.page", token=token, answer="decline"),
        "ics": external_url("respond.ics", token=token),
    }


# --- calendar text -------------------------------------------------------------------------------


def revise(booking: Booking) -> None:
    """One more revision of the calendar event: every .ics made after this outranks the earlier ones."""
    booking.ics_sequence = (booking.ics_sequence or 0) + 1


def company_page(booking: Booking) -> str:
    return external_url("bookings.detail", booking_id=booking.id)


def staff_page(booking: Booking) -> str:
    return external_url("matching.booking", booking_id=booking.id)


def event_text(booking: Booking, *, locale: str, reader: str, page_url: str) -> EventText:
    """The event as `reader` ('company', 'buyer', 'interpreter' or 'staff') reads it, in `locale`.

    The company learns the buyer's name only once the consultation is confirmed (as on its pages).
    """
    buyer, interpreter = booking.buyer, booking.interpreter
    with force_locale(locale):
        company = company_display(booking, locale)
        lines = [_("Company: %(company)s", company=company)]
        buyer_named = buyer is not None and (reader != "company" or booking.status in ("confirmed", "held"))
        if buyer_named:
            country = country_name(buyer.country, locale)  # by name, in the reader's language
            lines.append(_("Buyer: %(buyer)s (%(country)s)", buyer=buyer.company_name, country=country))
            summary = _("Export consultation: %(company)s and %(buyer)s", company=company, buyer=buyer.company_name)
        else:
            summary = _("Export consultation: %(company)s", company=company)
        if interpreter is not None:
            lines.append(_("Interpreter: %(name)s", name=interpreter.name))
        # The company and staff read the request's own words; buyers and interpreters the English profile.
        products = (
            booking.products
            if reader in ("company", "staff")
            else profile_for(booking.company, locale, products=booking.products).products
        )
        lines.append(_("Products: %(products)s", products=products))
        if booking.meeting_url:
            lines.append(_("Video link: %(url)s", url=booking.meeting_url))
        if page_url:
            lines.append(_("Your consultation page: %(url)s", url=page_url))
    return EventText(
        summary=summary,
        description="\n".join(lines),
        url=booking.meeting_url or page_url,
        location=booking.meeting_url,
    )


def _organizer() -> str:
    return organizer_address(current_app.config["MAIL_DEFAULT_SENDER"])


def party_ics(booking: Booking, party: str, obj: Any, *, method: str, page_url: str = "") -> bytes:
    return booking_ics(
        booking,
        zone=party_zone(party, obj),
        text=event_text(booking, locale=party_locale(party, obj), reader=party, page_url=page_url),
        method=method,
        organizer=_organizer(),
        attendee=obj.email,
    )


def user_ics(booking: Booking, user: User, *, method: str) -> bytes:
    reader = "staff" if user.is_staff else "company"
    return booking_ics(
        booking,
        zone=user.timezone or SEOUL_ZONE,
        text=event_text(
            booking,
            locale=user.locale,
            reader=reader,
            page_url=staff_page(booking) if user.is_staff else company_page(booking),
        ),
        method=method,
        organizer=_organizer(),
        attendee=user.email,
    )


# --- mails -------------------------------------------------------------------------------------


def _party_context(booking: Booking, party: str, obj: Any) -> dict[str, Any]:
    locale = party_locale(party, obj)
    zone = party_zone(party, obj)
    return {
        "booking": booking,
        "party": party,
        "name": (obj.contact_name or obj.company_name) if party == "buyer" else obj.name,
        "company_name": company_display(booking, locale),
        "company": profile_for(booking.company, locale, products=booking.products),
        "buyer": booking.buyer,
        "interpreter": booking.interpreter,
        "when_local": when(booking.starts_at, zone, locale),
        "when_seoul": when(booking.starts_at, SEOUL_ZONE, locale),
        "respond_by": when(booking.respond_by, zone, locale),
        "local_is_seoul": zone == SEOUL_ZONE,
        "links": links_for(booking, party),
    }


def _to_party(booking: Booking, party: str, obj: Any, template: str, *, method: str | None = None, **extra) -> None:
    context = {**_party_context(booking, party, obj), **extra}
    ics = None
    if method is not None:
        ics = (method, party_ics(booking, party, obj, method=method, page_url=context["links"]["page"]))
    queue_mail(to=obj.email, template=template, context=context, locale=party_locale(party, obj), ics=ics)


def _to_company(
    booking: Booking, template: str, *, method: str | None = None, old_starts_at: datetime | None = None, **extra
) -> int:
    users = company_users(booking.company_id)
    for user in users:
        zone = user.timezone or SEOUL_ZONE
        queue_mail_to_user(
            user=user,
            template=template,
            context={
                "booking": booking,
                "round": booking.round,
                "buyer": booking.buyer,
                "interpreter": booking.interpreter,
                "when": when(booking.starts_at, zone, user.locale),
                "old_when": when(old_starts_at, zone, user.locale),
                "link": company_page(booking),
                **extra,
            },
            ics=(method, user_ics(booking, user, method=method)) if method is not None else None,
        )
    return len(users)


def match_proposed(booking: Booking) -> None:
    revise(booking)
    for party, obj in parties_of(booking):
        _to_party(booking, party, obj, "match_proposed")
    _to_company(booking, "match_proposed_company")


def match_confirmed(booking: Booking, *, changed: bool = False) -> None:
    """Confirmed, or (changed) its video link replaced: every calendar takes the event over."""
    revise(booking)
    for party, obj in parties_of(booking):
        _to_party(booking, party, obj, "match_confirmed", method="REQUEST", changed=changed)
    _to_company(booking, "match_confirmed_company", method="REQUEST", changed=changed)


def match_off(booking: Booking, parties: Iterable[PartyRef], *, reason: str, company_too: bool = False) -> None:
    """Tell parties of an earlier proposal that it is off (declined by the other, lapsed, withdrawn);
    their calendars drop the event (METHOD:CANCEL). The company's booking stays, back in matching."""
    revise(booking)
    for party, obj in parties:
        locale = party_locale(party, obj)
        queue_mail(
            to=obj.email,
            template="match_off",
            context={
                "party": party,
                "reason": reason,
                "name": (obj.contact_name or obj.company_name) if party == "buyer" else obj.name,
                "company_name": company_display(booking, locale),
                "when_local": when(booking.starts_at, party_zone(party, obj), locale),
            },
            locale=locale,
            ics=("CANCEL", party_ics(booking, party, obj, method="CANCEL")),
        )
    if company_too:
        _to_company(booking, "match_off_company", method="REQUEST", reason=reason)


def staff_users() -> list[User]:
    return list(
        db.session.scalars(select(User).where(User.role == Role.STAFF.value, User.active.is_(True)).order_by(User.id))
    )


def staff_told(booking: Booking, *, reason: str, parties: Iterable[PartyRef], party: str | None) -> int:
    """Mail staff that a booking is back to matching (a decline or a lapse)."""
    named = dict(parties)
    users = staff_users()
    for user in users:
        queue_mail_to_user(
            user=user,
            template="match_staff",
            context={
                "booking": booking,
                "reason": reason,
                "party": party,
                "buyer": named.get("buyer"),
                "interpreter": named.get("interpreter"),
                "company_name": booking.company.display_name,
                "when": when(booking.starts_at, user.timezone or SEOUL_ZONE, user.locale),
                "link": staff_page(booking),
            },
        )
    return len(users)


def _tell_staff(booking: Booking, template: str, **extra) -> int:
    users = staff_users()
    for user in users:
        queue_mail_to_user(
            user=user,
            template=template,
            context={
                "booking": booking,
                "company_name": booking.company.display_name,
                "when": when(booking.starts_at, user.timezone or SEOUL_ZONE, user.locale),
                "link": staff_page(booking),
                **extra,
            },
        )
    return len(users)


# --- changes after a match (issue 13) ---------------------------------------------------------------


def consultation_cancelled(
    booking: Booking, *, actor: User | None, reason: str, parties: Iterable[PartyRef], round_cancelled: bool = False
) -> None:
    """A cancelled booking: its buyer and interpreter (if any), its company and, when someone other
    than staff cancelled it, staff hear of it; every calendar drops the event (METHOD:CANCEL).

    The reason goes to the company and staff; buyers and interpreters get a neutral notice, since
    a company's reason may be internal (and in Korean).
    """
    parties = list(parties)
    revise(booking)
    for party, obj in parties:
        locale = party_locale(party, obj)
        zone = party_zone(party, obj)
        queue_mail(
            to=obj.email,
            template="consultation_cancelled",
            context={
                "party": party,
                "name": (obj.contact_name or obj.company_name) if party == "buyer" else obj.name,
                "company_name": company_display(booking, locale),
                "when_local": when(booking.starts_at, zone, locale),
                "when_seoul": when(booking.starts_at, SEOUL_ZONE, locale),
                "local_is_seoul": zone == SEOUL_ZONE,
            },
            locale=locale,
            ics=("CANCEL", party_ics(booking, party, obj, method="CANCEL")),
        )
    by_staff = actor is not None and actor.is_staff
    _to_company(
        booking,
        "round_cancelled" if round_cancelled else "booking_cancelled",
        method="CANCEL",
        reason=reason,
        by_staff=by_staff,
        actor_name=actor.name if actor is not None else "",
    )
    if not by_staff:
        _tell_staff(booking, "booking_cancelled_staff", reason=reason, parties=dict(parties))


def consultation_moved(booking: Booking, *, old_starts_at: datetime, parties: Iterable[PartyRef]) -> None:
    """Staff moved a booking. The company gets the new time; a proposed or confirmed buyer and
    interpreter are asked to accept the new time with fresh links (the caller bumped match_version,
    so the old links answer 'replaced'); every calendar updates the event (METHOD:REQUEST)."""
    parties = list(parties)
    revise(booking)
    for party, obj in parties:
        locale = party_locale(party, obj)
        zone = party_zone(party, obj)
        _to_party(
            booking,
            party,
            obj,
            "match_moved",
            method="REQUEST",
            old_when_local=when(old_starts_at, zone, locale),
        )
    _to_company(booking, "booking_moved", method="REQUEST", old_starts_at=old_starts_at, reconfirm=bool(parties))


def party_reminder(booking: Booking, party: str, obj: Any, kind: str) -> None:
    """The day-before or hour-before reminder to a buyer or interpreter, with the join link."""
    _to_party(booking, party, obj, f"reminder_{kind}_party")


def cancel_requested(booking: Booking, *, actor: User, reason: str) -> int:
    """A company asks staff to cancel after its deadline has passed."""
    return _tell_staff(booking, "cancel_request_staff", reason=reason, actor_name=actor.name)


# --- what a link may still do --------------------------------------------------------------------

# States of a response link, for the signed-link pages. The first group answers 410 (gone).
GONE_STATES = ("cancelled", "replaced", "closed", "too_late")


def link_state(booking: Booking, data: dict[str, Any], now: datetime) -> str:
    """What the link in `data` may still do for `booking`.

    cancelled: the booking was cancelled; replaced: a newer proposal (or a withdrawal) superseded
    this one; closed: this proposal ended (the other party declined, it lapsed, or the consultation
    took place); too_late: respond_by passed without this party's answer; declined / accepted /
    confirmed: this party's answer stands; open: waiting for this party's answer.
    """
    party = data["p"]
    response = getattr(booking, f"{party}_response")
    current_id = booking.buyer_id if party == "buyer" else booking.interpreter_id
    if not booking.active:
        return "cancelled"
    if data["v"] != booking.match_version:
        return "replaced"
    if response == "declined" and booking.status == "requested" and current_id is None:
        return "declined"
    if current_id != data["i"]:
        return "closed"
    if booking.status == "confirmed" and response == "accepted":
        return "confirmed"
    if booking.status != "matched":
        return "closed"
    if response == "accepted":
        return "accepted"
    if response != "pending":
        return "closed"
    if booking.respond_by is not None and booking.respond_by <= now:
        return "too_late"
    return "open"
