"""@api_auth: bearer-token authentication. The cookie session is never read, so CSRF cannot apply."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError

from consultroom.access import authorize
from consultroom.accounts.models import User
from consultroom.api.http import unauthorized
from consultroom.api.tokens import needs_touch, token_for_bearer, touch_token
from consultroom.extensions import db


def bearer_from_header() -> str | None:
    """The token in `Authorization: Bearer <token>`, or None when no bearer credentials were sent."""
    scheme, _sep, value = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def _record_use(token_id: int) -> None:
    try:
        # End the read transaction first: on SQLite the UPDATE then starts a fresh one and waits for
        # the write lock, instead of failing on a snapshot that a concurrent writer made stale.
        db.session.commit()
        touch_token(token_id)
        db.session.commit()
    except OperationalError:
        # Recording the time of use is bookkeeping; a busy database must not fail the request.
        db.session.rollback()


def api_auth(view: Callable[..., Any]) -> Callable[..., Any]:
    """Authenticate with a bearer token; sets g.api_user and g.api_token, or answers 401 JSON."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        raw = bearer_from_header()
        if raw is None:
            return unauthorized(_("Send an access token in the Authorization header: Bearer <token>."))
        token = token_for_bearer(raw)
        if token is None:
            return unauthorized(_("The access token is not valid, has expired or was revoked."), invalid_token=True)
        if needs_touch(token):
            _record_use(token.id)
        g.api_token = token
        g.api_user = token.user
        return view(*args, **kwargs)

    return wrapper


def api_requires(
    allowed: Callable[[User], bool] | None = None, *, visible: Callable[[User], bool] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Refuse a caller who may not know of this (404) or not do it (403) before the body or query is read:
    whatever they sent, they are told that, not what is wrong with it. Placed under @api_auth."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = g.api_user
            authorize(visible is None or visible(user), allowed is None or allowed(user))
            return view(*args, **kwargs)

        return wrapper

    return decorator
