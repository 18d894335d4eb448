"""The program report through the API: the staff report page's selection, figures and targets as JSON."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from consultroom.api import bp
from consultroom.api.auth import api_auth, api_requires
from consultroom.api.spec import errors
from consultroom.errors import Invalid
from consultroom.reports import policies, selection
from consultroom.reports.schemas import ProgramReportSchema, ReportArgs, report_row


@bp.get("/reports/program", tags=["reports"])
@api_auth
@api_requires(visible=policies.can_see_reports)
@bp.doc(
    operationId="getProgramReport",
    summary="The program report's figures, breakdowns and targets (staff)",
    description="One of ?year=, ?start=&end= or ?round_id=; this year when none is given. "
    "Money is whole won; averages and percentages are strings, exact.",
    responses=errors(401, e404="You are not staff.", e422="The selection is not valid; `fields` names the parameter."),
)
@bp.arguments(ReportArgs, location="query")
@bp.response(200, ProgramReportSchema, description="The report.")
def program_report(args: dict[str, Any]):
    # The report page's own reading of ?year=, ?start=&end= or ?round_id= (this year when none).
    chosen, problems = selection.read(args)
    if chosen is None:
        raise Invalid(_("Please correct the marked fields."), fields={k: [v] for k, v in problems.items()})
    report, lines = selection.compute(chosen)
    return report_row(report, lines, year=chosen.year)
