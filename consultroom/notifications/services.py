"""Queue mails in the outbox, rendered in the recipient's language, in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from jinja2 import TemplateNotFound
from sqlalchemy import Select, func, select

from consultroom import pagination
from consultroom.accounts.models import User
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.notifications.models import MailStatus, OutboxMail


def mails_stmt(status: str | None) -> Select:
    """The outbox's tab for one status (the admin's home counts the failed tab with it)."""
    stmt = select(OutboxMail)
    return stmt.where(OutboxMail.status == status) if status else stmt


def status_counts(cap: int | None = None) -> dict[str, int | None]:
    """Mails per status, each counted up to `cap` (pagination.COUNT_CAP) and None past it, in one
    statement: a national program sends a million mails, and a grouped count read them all."""
    cap = pagination.COUNT_CAP if cap is None else cap
    statuses = [s.value for s in MailStatus]
    capped = [
        select(func.count())
        .select_from(select(OutboxMail.id).where(OutboxMail.status == status).limit(cap + 1).subquery())
        .scalar_subquery()
        for status in statuses
    ]
    counted = db.session.execute(select(*capped)).one()
    return {status: None if n > cap else n for status, n in zip(statuses, counted, strict=True)}


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for mails, built on BASE_URL, never on the request's Host header
    (a forged Host would otherwise send password-reset links to an attacker's site)."""
    with current_app.test_request_context("/"):
        path = url_for(endpoint, **values)
    return urljoin(current_app.config["BASE_URL"].rstrip("/") + "/", path.lstrip("/"))


# Until when each kind of mail is worth sending (issue 17): later it would mislead or be moot.
# A proposal is answered by its respond_by; booking mails are moot once the meeting has begun;
# account links die with the link. Other kinds get MAIL_DEADLINE_HOURS.
UNTIL_ANSWER = frozenset({"match_proposed", "match_moved"})  # new answer links for a new time
UNTIL_MEETING = frozenset(
    {
        "match_proposed_company",
        "match_confirmed",
        "match_confirmed_company",
        "match_off",
        "match_off_company",
        "match_staff",
        "reminder_day",
        "reminder_hour",
        "booking_received",
        "booking_moved",
        "booking_cancelled",
        "waitlist_promoted",
        # Changes after a match (issue 13): useful until the meeting they change.
        "booking_cancelled_staff",
        "cancel_request_staff",
        "consultation_cancelled",
        "reminder_day_party",
        "reminder_hour_party",
    }
)
LINK_LIFETIME_SETTING = {"confirm_email": "CONFIRM_EMAIL_MAX_AGE", "reset_password": "RESET_PASSWORD_MAX_AGE"}


def mail_deadline(template: str, context: dict[str, Any], now: datetime) -> datetime:
    booking = context.get("booking")
    starts_at = getattr(booking, "starts_at", None)
    if template in UNTIL_ANSWER and booking is not None:
        respond_by = getattr(booking, "respond_by", None)
        if respond_by is not None or starts_at is not None:
            return respond_by or starts_at
    if template in UNTIL_MEETING and starts_at is not None:
        return starts_at
    if template in LINK_LIFETIME_SETTING:
        return now + timedelta(seconds=current_app.config[LINK_LIFETIME_SETTING[template]])
    return now + timedelta(hours=current_app.config["MAIL_DEADLINE_HOURS"])


def queue_mail(
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    locale: str = "ko",
    user: User | None = None,
    deadline: datetime | None = None,
    ics: tuple[str, bytes] | None = None,
) -> OutboxMail:
    """Render emails/<template>.{subject.txt,txt,html} in `locale` and add it to the outbox.

    `deadline`: retried until then; by default from the kind of mail (mail_deadline).
    `ics` is (METHOD, calendar object): sent with the mail as its text/calendar part (RFC 6047).
    Only flushes: the mail is committed with the change that caused it, or not at all.
    """
    ctx = {"recipient": user, **context}
    with force_locale(locale):
        subject = render_template(f"emails/{template}.subject.txt", **ctx).strip()
        body_text = render_template(f"emails/{template}.txt", **ctx)
        try:
            body_html = render_template(f"emails/{template}.html", **ctx)
        except TemplateNotFound:
            body_html = None
    domain = current_app.config["MAIL_DEFAULT_SENDER"].rsplit("@", 1)[-1].strip(">") or "consultroom.local"
    mail = OutboxMail(
        message_id=f"<{uuid.uuid4().hex}@{domain}>",
        to_addr=to,
        user_id=user.id if user is not None else None,
        template=template,
        locale=locale,
        subject=" ".join(subject.split()),
        body_text=body_text,
        body_html=body_html,
        deadline_at=deadline or mail_deadline(template, context, utcnow()),
        ics_method=ics[0] if ics else None,
        ics_body=ics[1].decode("utf-8") if ics else None,
    )
    db.session.add(mail)
    db.session.flush()
    return mail


def queue_mail_to_user(
    *, user: User, template: str, context: dict[str, Any], ics: tuple[str, bytes] | None = None
) -> OutboxMail:
    return queue_mail(to=user.email, template=template, context=context, locale=user.locale, user=user, ics=ics)
