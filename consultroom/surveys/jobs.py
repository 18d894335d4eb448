"""Survey jobs: thin, hourly, safe to rerun (the unique rows and markers make reruns send nothing)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from consultroom.scheduler.registry import job


@job(
    "survey_invitations",
    title=_l("Survey invitations"),
    every_minutes=60,
    description=_l("Invite companies and buyers to the survey after each held consultation"),
)
def survey_invitations(now: datetime) -> str:
    from consultroom.surveys.services import invite_held

    made = invite_held(now=now)
    return ", ".join(f"{kind} {n}" for kind, n in made.items())


@job(
    "survey_reminders",
    title=_l("Survey reminders"),
    every_minutes=60,
    description=_l("Remind survey invitees after 3 and 7 days"),
)
def survey_reminders(now: datetime) -> str:
    from consultroom.surveys.services import send_reminders

    sent = send_reminders(now=now)
    return f"3 days {sent[3]}, 7 days {sent[7]}"
