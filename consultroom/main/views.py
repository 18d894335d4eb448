from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from consultroom.accounts import services as account_services
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.languages import PARTY_LOCALES
from consultroom.main.todo import LABELS, sme_todo, staff_items
from consultroom.security import safe_next

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    if current_user.is_authenticated and current_user.is_sme and current_user.company_id is None:
        return redirect(url_for("companies.new"))
    todo = {}
    if current_user.is_authenticated:
        now = utcnow()
        if current_user.is_staff:
            todo["staff"] = staff_items(now, admin=current_user.is_admin)
        elif current_user.is_sme and current_user.company_id is not None:
            todo["sme"] = sme_todo(current_user.company_id, now)
    return render_template(
        "main/home.html",
        mail_alert=_mail_alert() if current_user.is_authenticated else None,
        todo=todo,
        labels=LABELS,
    )


def _mail_alert() -> dict | None:
    """For admins: mail delivery failing for longer than MAIL_ALERT_AFTER_MINUTES, or mails in doubt."""
    from consultroom.accounts.policies import can_see_outbox
    from consultroom.notifications.delivery import delivery_health

    if not can_see_outbox(current_user):
        return None
    health = delivery_health()
    limit = timedelta(minutes=current_app.config["MAIL_ALERT_AFTER_MINUTES"])
    failing = health.failing_since is not None and utcnow() - health.failing_since >= limit
    if not failing and not health.in_doubt:
        return None
    minutes = int((utcnow() - health.failing_since).total_seconds() // 60) if failing else 0
    return {
        "failing": failing,
        "minutes": minutes,
        "waiting": health.waiting,
        "in_doubt": health.in_doubt,
        "last_error": health.last_error,
    }


@bp.post("/language")
def set_language():
    lang = request.form.get("lang", "")
    # A buyer or interpreter may pick any party language on their pages; the staff/SME interface
    # reads only its own two from the session, and only those are stored on an account.
    if lang in current_app.config["LANGUAGES"] or lang in PARTY_LOCALES:
        session["lang"] = lang
        if current_user.is_authenticated and lang in current_app.config["LANGUAGES"]:
            account_services.set_preferences(user=current_user, locale=lang)
    return redirect(safe_next(request.form.get("next"), default=url_for("main.home")))


@bp.get("/healthz")
def health():
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
