"""Retention settings, anonymisation dry run and erasure requests (staff, admins)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("retention", __name__, url_prefix="/staff/privacy")
