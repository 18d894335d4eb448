"""Expiring signed links (e-mail confirmation, password reset, later buyer and survey links)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class LinkInvalid(Exception):
    """The token was tampered with, belongs to another purpose, or was already used."""


class LinkExpired(LinkInvalid):
    """The token was genuine but is older than its purpose allows."""


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    # The purpose is the salt, so a token for one purpose never verifies for another.
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"consultroom.{purpose}")


def make_token(purpose: str, payload: Any) -> str:
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str, max_age: int) -> Any:
    try:
        return _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise LinkExpired(str(exc)) from exc
    except BadSignature as exc:
        raise LinkInvalid(str(exc)) from exc
