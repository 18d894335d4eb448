"""The personal-data access log for admins."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("access_log", __name__, url_prefix="/admin/access-log")
