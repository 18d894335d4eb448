"""Every kind of prepared file: importing this module registers them all (as scheduler.jobs does for
the jobs), so read KINDS from here."""

from consultroom.exports.kinds import KINDS
from consultroom.privacy import access_export as _access_exports  # noqa: F401 - access_log_csv, access_log_xlsx
from consultroom.surveys import export as _survey_exports  # noqa: F401 - survey_answers_csv, survey_results_xlsx

__all__ = ["KINDS"]
