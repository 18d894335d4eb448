"""JSON API /api/v1 with bearer tokens, on flask-smorest (consultroom/api/spec.py)."""

from flask import Flask

from consultroom.api.spec import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def _reject_nul_in_query() -> None:
    from consultroom.api.http import reject_nul_in_query

    reject_nul_in_query()


def init_api(app: Flask) -> None:
    """Register the API and its document on `app`; the bearer token, not a cookie, authenticates, so
    CSRF does not apply."""
    from consultroom.api.spec import make_api
    from consultroom.extensions import csrf

    csrf.exempt(bp)
    make_api(app, bp)


# Route modules register themselves on bp, so they are imported after it exists.
from consultroom.api import (  # noqa: E402, F401
    auth_views,
    booking_views,
    buyer_views,
    company_views,
    doc_views,
    interpreter_views,
    matching_views,
    outcome_views,
    privacy_views,
    report_views,
    round_views,
)
