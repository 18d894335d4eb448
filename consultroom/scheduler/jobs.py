"""Every scheduled job of the app. Each is declared beside its domain (a `jobs` module there) and
registers itself on import; importing this module registers them all. Each job looks at the state
now, so a run missed while the scheduler was down is done by the next run; each is idempotent, so
running it twice changes nothing the second time."""

# ruff: noqa: F401 - imported for the registration they do
from consultroom.consultations import jobs as _consultation_jobs  # send_reminders
from consultroom.exports import jobs as _export_jobs  # prepare_exports
from consultroom.matching import jobs as _matching_jobs  # match_lapse
from consultroom.notifications import jobs as _notification_jobs  # deliver_mail
from consultroom.outcomes import jobs as _outcome_jobs  # outcome_followups
from consultroom.privacy import jobs as _privacy_jobs  # privacy_retention
from consultroom.rounds import jobs as _round_jobs  # open_rounds, close_booking
from consultroom.scheduler import cleanup as _scheduler_jobs  # prune_job_runs
from consultroom.surveys import jobs as _survey_jobs  # survey_invitations, survey_reminders
