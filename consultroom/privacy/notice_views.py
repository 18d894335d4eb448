"""Privacy notices and consent: the public privacy policy lists every notice as it reads now."""

from __future__ import annotations

from flask import Blueprint, render_template

from consultroom.privacy import notices

bp = Blueprint("privacy", __name__, url_prefix="/privacy")


@bp.get("/")
def policy():
    return render_template("privacy/policy.html", notices=notices.all_views())
