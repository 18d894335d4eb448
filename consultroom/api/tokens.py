"""API bearer tokens: issued once, stored only as SHA-256, revocable, expiring."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from consultroom.accounts.models import ApiToken, User
from consultroom.accounts.schemas import TOKEN_NAME_MAX
from consultroom.api.policies import can_manage_token
from consultroom.audit.services import record
from consultroom.db import utcnow
from consultroom.errors import Invalid, NotFound
from consultroom.extensions import db

# Readable marker so a leaked token is recognisable (secret scanners, logs); not part of the secret.
TOKEN_MARKER = "crt_"  # noqa: S105 - a public marker, not a secret
# What is stored and listed to tell tokens apart: the marker and the first six secret characters.
PREFIX_LENGTH = len(TOKEN_MARKER) + 6
# Marker plus 43 characters of token_urlsafe(32); anything else is refused without a query.
_TOKEN_RE = re.compile(r"crt_[A-Za-z0-9_-]{43}")
NAME_MAX = TOKEN_NAME_MAX
# last_used_at is written at most this often, so reading the API is not a write per request.
TOUCH_INTERVAL = timedelta(minutes=1)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue_token(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token for `user`: returns the row and the raw token, which is never stored nor shown again."""
    if not isinstance(name, str):
        msg = _("Must be text.")
        raise Invalid(msg, fields={"name": [msg]})
    name = name.strip()
    if len(name) > NAME_MAX:
        msg = _("Use at most %(n)d characters.", n=NAME_MAX)
        raise Invalid(msg, fields={"name": [msg]})
    raw = TOKEN_MARKER + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        user_id=user.id,
        token_hash=hash_token(raw),
        prefix=raw[:PREFIX_LENGTH],
        name=name,
        created_at=now,
        expires_at=now + timedelta(days=current_app.config["API_TOKEN_TTL_DAYS"]),
    )
    db.session.add(token)
    db.session.flush()
    record(actor=user, action="api_token.issue", obj=token, after={"prefix": token.prefix, "name": name})
    return token, raw


def revoke_token(*, token: ApiToken, actor: User) -> None:
    """Revoke one of the actor's own tokens. Revoking twice is harmless."""
    if not can_manage_token(actor, token):
        raise NotFound(_("No such token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(actor=actor, action="api_token.revoke", obj=token, after={"prefix": token.prefix})
    db.session.flush()


def token_for_bearer(raw: str | None) -> ApiToken | None:
    """The live token for this raw value: None when unknown, revoked, expired, or its user may not log in."""
    if not raw or not _TOKEN_RE.fullmatch(raw):
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    if token is None or token.revoked_at is not None or token.expires_at <= utcnow():
        return None
    user = token.user
    if not user.active or not user.email_confirmed:
        return None
    return token


def needs_touch(token: ApiToken, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return token.last_used_at is None or token.last_used_at <= now - TOUCH_INTERVAL


def touch_token(token_id: int, now: datetime | None = None) -> None:
    """Record use, at most once a minute. Conditional, so concurrent requests write it once."""
    now = now or utcnow()
    db.session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOUCH_INTERVAL),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )


def user_for_bearer(raw: str | None) -> User | None:
    """The user a bearer token stands for, or None. Updates last_used_at at most once a minute (no commit)."""
    token = token_for_bearer(raw)
    if token is None:
        return None
    if needs_touch(token):
        touch_token(token.id)
    return token.user
