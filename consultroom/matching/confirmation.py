"""The parties' side of a match: signed response links and the mails that carry them.

Buyers have no account: they read English (or their own locale, if the buyer registry ever stores
one) and see times in their own zone. Interpreters read their `locale` and Seoul time. SME users
read their account's locale (Korean by default) and never see a buyer's contact details before
the consultation is confirmed. Every mail is queued in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import current_app
from sqlalchemy import select

from consultroom.accounts.models import Role, User
from consultroom.bookings.models import Booking
from consultroom.bookings.notify import company_users
from consultroom.extensions import db
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


def _supported(locale: str | None, default: str) -> str:
    return locale if locale in current_app.config["LANGUAGES"] else default


def party_locale(party: str, obj: Any) -> str:
    # Buyers read English unless a locale is stored for them; interpreters choose theirs.
    return _supported(getattr(obj, "locale", None), "en")


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
    return format_datetime(moment, "full", tzinfo=ZoneInfo(zone), locale=locale)


def company_display(booking: Booking, locale: str) -> str:
    company = booking.company
    if locale == "ko":
        return company.name_ko or company.name_en
    return company.name_en or company.name_ko


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


# --- mails -------------------------------------------------------------------------------------


def _party_context(booking: Booking, party: str, obj: Any) -> dict[str, Any]:
    locale = party_locale(party, obj)
    zone = party_zone(party, obj)
    return {
        "booking": booking,
        "party": party,
        "name": (obj.contact_name or obj.company_name) if party == "buyer" else obj.name,
        "company_name": company_display(booking, locale),
        "company_address": booking.company.address,
        "buyer": booking.buyer,
        "interpreter": booking.interpreter,
        "when_local": when(booking.starts_at, zone, locale),
        "when_seoul": when(booking.starts_at, SEOUL_ZONE, locale),
        "respond_by": when(booking.respond_by, zone, locale),
        "local_is_seoul": zone == SEOUL_ZONE,
        "links": links_for(booking, party),
    }


def _to_party(booking: Booking, party: str, obj: Any, template: str, **extra) -> None:
    queue_mail(
        to=obj.email,
        template=template,
        context={**_party_context(booking, party, obj), **extra},
        locale=party_locale(party, obj),
    )


def _to_company(booking: Booking, template: str, **extra) -> int:
    users = company_users(booking.company_id)
    for user in users:
        queue_mail_to_user(
            user=user,
            template=template,
            context={
                "booking": booking,
                "buyer": booking.buyer,
                "interpreter": booking.interpreter,
                "when": when(booking.starts_at, user.timezone or SEOUL_ZONE, user.locale),
                "link": external_url("bookings.my_bookings"),
                **extra,
            },
        )
    return len(users)


def match_proposed(booking: Booking) -> None:
    for party, obj in parties_of(booking):
        _to_party(booking, party, obj, "match_proposed")
    _to_company(booking, "match_proposed_company")


def match_confirmed(booking: Booking, *, changed: bool = False) -> None:
    for party, obj in parties_of(booking):
        _to_party(booking, party, obj, "match_confirmed", changed=changed)
    _to_company(booking, "match_confirmed_company", changed=changed)


def match_off(booking: Booking, parties: Iterable[PartyRef], *, reason: str, company_too: bool = False) -> None:
    """Tell parties of an earlier proposal that it is off (declined by the other, lapsed, withdrawn)."""
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
        )
    if company_too:
        _to_company(booking, "match_off_company", reason=reason)


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
            },
        )
    return len(users)


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
