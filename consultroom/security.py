"""Security headers and on-site redirects."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, abort, request
from flask_babel import gettext as _

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)


def set_security_headers(response: Response) -> Response:
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if response.mimetype == "text/html" or response.mimetype == "application/json":
        # Pages show personal data; keep them out of shared caches.
        h.setdefault("Cache-Control", "no-store")
    return response


def reject_nul_characters() -> None:
    """No form field or query value may hold a NUL character: PostgreSQL cannot store one in text
    (it would fail deep in a write as a 500), and no honest input contains it. The API checks its
    own input and answers 422 naming the field, in its JSON error format."""
    if request.blueprint == "api":
        return
    for values in (request.args, request.form):
        for name, value in values.items(multi=True):
            if "\x00" in value or "\x00" in name:
                abort(400, description=_("The field %(name)s contains a NUL character.", name=name.replace("\x00", "")))


def init_security(app: Flask) -> None:
    app.after_request(set_security_headers)
    app.before_request(reject_nul_characters)
    if app.config.get("SESSION_COOKIE_SECURE"):

        @app.after_request
        def _hsts(response: Response) -> Response:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
            return response


def safe_next(target: str | None, default: str = "/") -> str:
    """Return target if it is a path on this site, else default.

    Browsers treat backslashes as slashes and ignore tabs and newlines in URLs, so '/\\evil.com'
    and '////evil.com' lead off-site; only a single leading slash followed by a non-slash is kept.
    """
    if not target:
        return default
    if any(ord(c) < 0x20 or c.isspace() for c in target):
        return default
    cleaned = target.replace("\\", "/")
    if not cleaned.startswith("/") or cleaned.startswith("//"):
        return default
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc:
        return default
    return cleaned
