"""The interpreter's own assignments: by signed link (no login), or at /interpreter/me for a linked account.

Only the interpreter's own bookings are listed; accepting or declining is done on the /respond pages.
"""

from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required

from consultroom.db import utcnow
from consultroom.interpreters import policies, services
from consultroom.interpreters.models import Interpreter
from consultroom.interpreters.queries import assignments, linked_interpreter
from consultroom.interpreters.views import seoul_time
from consultroom.privacy import notices
from consultroom.signing import LinkExpired, LinkInvalid

bp = Blueprint("interpreter_portal", __name__, url_prefix="/interpreter")


def _private(response):
    # The token is in the URL: never send it on as a Referer (e.g. to the video service), never cache the page.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _page(interpreter: Interpreter, *, via_link: bool):
    rows = assignments(interpreter.id, now=utcnow(), upcoming=True, include_cancelled=False)
    html = render_template(
        "interpreters/portal.html",
        interpreter=interpreter,
        rows=rows,
        seoul_time=seoul_time,
        via_link=via_link,
        notice=notices.view(notices.CONSULTATION_SHARING, subject_type="interpreter"),
    )
    return _private(make_response(html, 200))


@bp.get("/me")
@login_required
def me():
    interpreter = linked_interpreter(current_user.id)
    if not policies.is_linked_interpreter(current_user, interpreter):
        abort(404)
    return _page(interpreter, via_link=False)


@bp.get("/<token>")
def portal(token: str):
    try:
        interpreter = services.interpreter_from_token(token[:1000])
    except LinkExpired:
        message = _("This link has expired. Ask the consultation room staff to send you a new one.")
        return _private(make_response(render_template("interpreters/portal_problem.html", message=message), 410))
    except LinkInvalid:
        message = _("This link is not valid. Open the link exactly as it came in the mail, or ask for a new one.")
        return _private(make_response(render_template("interpreters/portal_problem.html", message=message), 400))
    return _page(interpreter, via_link=True)
