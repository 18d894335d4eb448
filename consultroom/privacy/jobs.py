"""The retention job: daily, thin, safe to rerun (what is anonymised is no longer due)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from consultroom.scheduler.registry import job


@job(
    "privacy_retention",
    title=_l("Personal data retention"),
    every_minutes=24 * 60,
    description=_l("Anonymise personal data past its retention period"),
)
def privacy_retention(now: datetime) -> str:
    from consultroom.privacy.retention import apply

    done = apply(now=now)
    return ", ".join(f"{kind} {n}" for kind, n in done.counts().items())
