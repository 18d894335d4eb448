"""Video meeting links for confirmed consultations.

The default provider needs no account: a room on a Jitsi-like server whose name is unguessable
(`secrets.token_urlsafe`), so only the three parties who got the link can find the room. Staff may
replace it with a Zoom or Teams link of their own (`services.set_meeting_url`).
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import current_app

DEFAULT_MEETING_BASE_URL = "https://meet.jit.si/consultroom-"


def new_meeting_url() -> str:
    base = current_app.config.get("MEETING_BASE_URL") or DEFAULT_MEETING_BASE_URL
    # 18 random bytes: 24 URL-safe characters, far beyond guessing; '-' and '_' are valid in room names.
    return f"{base}{secrets.token_urlsafe(18)}"


def valid_meeting_url(url: str) -> bool:
    """An absolute http(s) URL with a host, without spaces or credentials, that fits the column."""
    if not url or len(url) > 500 or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and parts.username is None
