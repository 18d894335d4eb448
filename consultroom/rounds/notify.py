"""Mails about rounds, queued in the caller's transaction."""

from __future__ import annotations

from sqlalchemy import func, select

from consultroom.accounts.models import User
from consultroom.extensions import db
from consultroom.notifications.services import external_url, queue_mail_to_user
from consultroom.rounds.models import Round

_ANNOUNCED = (User.role == "sme", User.active.is_(True), User.company_id.is_not(None))


def announce_open(rnd: Round) -> int:
    """Tell every active SME user with a company that booking is open."""
    users = db.session.scalars(select(User).where(*_ANNOUNCED)).all()
    link = external_url("bookings.round_detail", round_id=rnd.id)
    for user in users:
        queue_mail_to_user(user=user, template="round_open", context={"round": rnd, "link": link})
    return len(users)


def announce_open_count() -> int:
    """How many mails `announce_open` would queue, for the confirmation before opening a round."""
    return db.session.scalar(select(func.count(User.id)).where(*_ANNOUNCED)) or 0
