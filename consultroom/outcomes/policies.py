"""Who may see and change consultation logs, outcomes, contracts and rates."""

from __future__ import annotations

from consultroom.accounts.models import User
from consultroom.bookings.models import Booking


def _company_user(user: User, booking: Booking) -> bool:
    return bool(user.is_sme and user.company_id is not None and user.company_id == booking.company_id)


def is_booking_interpreter(user: User, booking: Booking) -> bool:
    """The account linked to the interpreter assigned to this booking."""
    interpreter = booking.interpreter
    return bool(user.is_authenticated and interpreter is not None and interpreter.user_id == user.id)


def can_see_consultation(user: User, booking: Booking) -> bool:
    """The log, outcome and contracts: staff, the company itself, and (the log only) its interpreter."""
    if not user.is_authenticated:
        return False
    return user.is_staff or _company_user(user, booking) or is_booking_interpreter(user, booking)


def can_record_log(user: User, booking: Booking) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_staff or is_booking_interpreter(user, booking)


def can_see_outcome(user: User, booking: Booking) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_staff or _company_user(user, booking)


def can_update_outcome(user: User, booking: Booking) -> bool:
    """The SME (its own consultations) or staff move the pipeline and record contracts."""
    return can_see_outcome(user, booking)


def can_reopen_outcome(user: User, booking: Booking) -> bool:
    return bool(user.is_authenticated and user.is_staff)


def can_amend_contract(user: User, booking: Booking) -> bool:
    """Correcting or withdrawing a recorded contract is staff's (issue 15 item 7): the SME records its
    contracts, but a recorded figure counts in the program's results and changes only with a reason."""
    return bool(user.is_authenticated and user.is_staff)


def can_review_outcomes(user: User) -> bool:
    """Staff lists: consultations missing a log, overdue follow-ups."""
    return bool(user.is_authenticated and user.is_staff)


def can_manage_rates(user: User) -> bool:
    return bool(user.is_authenticated and user.is_admin)
