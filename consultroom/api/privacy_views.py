"""API routes for personal data: the caller's own data export and deletion request, the access log."""

from __future__ import annotations

from consultroom.api import bp  # noqa: F401 - routes register on the API blueprint
