"""Mail delivery as a scheduled job."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from consultroom.notifications.delivery import deliver_due
from consultroom.scheduler.registry import job


@job("deliver_mail", title=_l("Mail delivery"), every_minutes=1, description=_l("Deliver the mail outbox"))
def deliver_mail(now: datetime) -> str:
    result = deliver_due(now=now)
    return f"sent {result.sent}, retry {result.retry}, failed {result.failed}"
