"""Queue mails in the outbox, rendered in the recipient's language, in the caller's transaction."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urljoin

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from jinja2 import TemplateNotFound

from consultroom.accounts.models import User
from consultroom.extensions import db
from consultroom.notifications.models import OutboxMail


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for mails, built on BASE_URL, never on the request's Host header
    (a forged Host would otherwise send password-reset links to an attacker's site)."""
    with current_app.test_request_context("/"):
        path = url_for(endpoint, **values)
    return urljoin(current_app.config["BASE_URL"].rstrip("/") + "/", path.lstrip("/"))


def queue_mail(
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    locale: str = "ko",
    user: User | None = None,
    ics: tuple[str, bytes] | None = None,
) -> OutboxMail:
    """Render emails/<template>.{subject.txt,txt,html} in `locale` and add it to the outbox.

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
