"""The program report through the API: the staff report page's selection, figures and targets as JSON."""

from __future__ import annotations

from flask import g, jsonify, request
from flask_babel import gettext as _

from consultroom.access import authorize
from consultroom.api import bp
from consultroom.api.auth import api_auth
from consultroom.api.outcome_serializers import report_json
from consultroom.errors import Invalid
from consultroom.reports import policies, selection
from consultroom.reports.services import MAX_YEAR, MIN_YEAR
from consultroom.schemas import ID_MAX


def _refuse_non_ascii_numbers() -> None:
    """A round_id or year that is not plain ASCII digits ("²", "٣") is a 422 naming the field, in the
    API's error format, before the page's selection rules see it."""
    for name, low, high in (("round_id", 1, ID_MAX), ("year", MIN_YEAR, MAX_YEAR)):
        if not request.args.get(name, "").isascii():
            message = _("Use a whole number from %(low)d to %(high)d.", low=low, high=high)
            raise Invalid(_("Please correct the marked fields."), fields={name: [message]})


@bp.get("/reports/program")
@api_auth
def program_report():
    authorize(policies.can_see_reports(g.api_user))
    _refuse_non_ascii_numbers()
    # The report page's own reading of ?year=, ?start=&end= or ?round_id= (this year when none).
    chosen, errors = selection.read(request.args)
    if chosen is None:
        raise Invalid(_("Please correct the marked fields."), fields={k: [v] for k, v in errors.items()})
    report, lines = selection.compute(chosen)
    return jsonify(report_json(report, lines, year=chosen.year))
