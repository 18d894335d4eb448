from __future__ import annotations

from consultroom.accounts.models import User
from consultroom.surveys.models import SurveyInvitation


def can_edit_questions(user: User) -> bool:
    return bool(user.is_authenticated and user.is_admin)


def can_see_results(user: User) -> bool:
    return bool(user.is_authenticated and user.is_staff)


def can_open_invitation(user: User, invitation: SurveyInvitation) -> bool:
    """The signed link is the credential; but a logged-in SME holding another company's link (or a
    buyer's) is refused, so an SME never reaches another party's survey by account."""
    if not getattr(user, "is_authenticated", False) or not user.is_sme:
        return True
    return invitation.respondent == "sme" and user.company_id == invitation.booking.company_id


def can_list_own_surveys(user: User) -> bool:
    return bool(user.is_authenticated and user.is_sme and user.company_id is not None)
