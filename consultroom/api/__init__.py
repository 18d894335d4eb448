"""JSON API /api/v1 with bearer tokens."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Route modules register themselves on bp, so they are imported after it exists.
from consultroom.api import auth_views, company_views, doc_views  # noqa: E402, F401
