"""A person's own data: download (JSON, XLSX) and deletion request."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("mydata", __name__, url_prefix="/my-data")
