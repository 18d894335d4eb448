"""Privacy notices and consent: the public privacy policy lists every notice as it reads now."""

from __future__ import annotations

from flask import render_template

from consultroom.privacy import notices
from consultroom.privacy.blueprint import bp


@bp.get("/privacy/")
def policy():
    return render_template("privacy/policy.html", notices=notices.all_views())
