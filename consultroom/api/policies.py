from __future__ import annotations

from consultroom.accounts.models import ApiToken, User


def can_manage_token(user: User, token: ApiToken) -> bool:
    """Users see and revoke only their own tokens; another user's token does not exist for them."""
    return token.user_id == user.id
