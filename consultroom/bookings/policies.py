from __future__ import annotations

from consultroom.accounts.models import User
from consultroom.bookings.models import Booking, WaitlistEntry
from consultroom.rounds.models import Round, RoundStatus


def can_see_round(user: User, rnd: Round) -> bool:
    """Staff see every round; SMEs see rounds from the moment booking opens (not drafts)."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return user.is_sme and rnd.status != RoundStatus.DRAFT


def can_book(user: User) -> bool:
    return bool(user.is_authenticated and user.is_sme and user.company_id is not None)


def can_see_booking(user: User, booking: Booking) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_staff or (user.is_sme and user.company_id == booking.company_id)


def can_manage_rounds(user: User) -> bool:
    return bool(user.is_authenticated and user.is_staff)


def can_edit_round_settings(user: User) -> bool:
    return bool(user.is_authenticated and user.is_admin)


def can_see_waitlist_entry(user: User, entry: WaitlistEntry) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_staff or (user.is_sme and user.company_id == entry.company_id)
