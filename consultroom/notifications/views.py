"""Admin outbox: what was sent, what waits, what failed (and a retry for it); the demo's mail view."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import func, select

from consultroom.access import authorize, get_or_404
from consultroom.accounts.policies import can_see_outbox
from consultroom.extensions import db
from consultroom.notifications.delivery import deliver_due, requeue_all_failed, requeue_failed
from consultroom.notifications.models import MailStatus, OutboxMail
from consultroom.notifications.services import mails_stmt, status_counts
from consultroom.pagination import capped_paginate
from consultroom.privacy import access_log
from consultroom.request_transaction import attempt, log_access

bp = Blueprint("notifications", __name__, url_prefix="/admin/outbox")

PER_PAGE = 50
STATUS_LABELS = {
    MailStatus.PENDING.value: _l("Waiting"),
    MailStatus.SENDING.value: _l("Sending"),
    MailStatus.SENT.value: _l("Sent"),
    MailStatus.FAILED.value: _l("Failed"),
    MailStatus.IN_DOUBT.value: _l("In doubt"),
}


@bp.get("")
@login_required
def outbox():
    authorize(can_see_outbox(current_user))
    status = request.args.get("status", "")
    if status not in STATUS_LABELS:
        status = ""
    stmt = mails_stmt(status or None).order_by(OutboxMail.created_at.desc(), OutboxMail.id.desc())
    pagination = capped_paginate(stmt, per_page=PER_PAGE)
    counts = status_counts()
    page_html = render_template(
        "notifications/outbox.html",
        pagination=pagination,
        status=status,
        counts=counts,
        total=None if None in counts.values() else sum(counts.values()),
        labels=STATUS_LABELS,
        delivery_enabled=current_app.config["MAIL_DELIVERY_ENABLED"],
    )
    # PIPA access log: the recipients whose addresses the page shows.
    subjects = access_log.mail_recipients(pagination.items)
    log_access(actor=current_user, subjects=subjects, what="notifications.outbox")
    return page_html


@bp.get("/<int:mail_id>")
@login_required
def detail(mail_id: int):
    authorize(can_see_outbox(current_user))
    mail = get_or_404(db.session, OutboxMail, mail_id)
    page_html = render_template(
        "notifications/detail.html",
        mail=mail,
        labels=STATUS_LABELS,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
    )
    subjects = access_log.mail_recipients([mail])
    log_access(actor=current_user, subjects=subjects, what="notifications.detail")
    return page_html


@bp.post("/<int:mail_id>/retry")
@login_required
def retry(mail_id: int):
    authorize(can_see_outbox(current_user))
    mail = get_or_404(db.session, OutboxMail, mail_id)
    with attempt() as done:
        requeue_failed(mail=mail, actor=current_user)
    if done:
        flash(_("The mail is back in the queue; it goes out with the next delivery."), "success")
    return redirect(url_for("notifications.detail", mail_id=mail_id))


@bp.route("/retry-failed", methods=["GET", "POST"])
@login_required
def retry_failed():
    """Every failed mail back in the queue, after a confirmation page (it may send many mails)."""
    authorize(can_see_outbox(current_user))
    if request.method == "POST":
        if request.form.get("confirm") != "1":
            flash(_("Tick the box to confirm."), "danger")
            return redirect(url_for("notifications.retry_failed"))
        n = requeue_all_failed(actor=current_user, include_in_doubt=request.form.get("in_doubt") == "1")
        flash(
            ngettext(
                "%(num)d mail is back in the queue; it goes out with the next delivery.",
                "%(num)d mails are back in the queue; they go out with the next delivery.",
                n,
            ),
            "success",
        )
        return redirect(url_for("notifications.outbox"))
    failed = db.session.scalar(
        select(func.count()).select_from(OutboxMail).where(OutboxMail.status == MailStatus.FAILED.value)
    )
    in_doubt = db.session.scalar(
        select(func.count()).select_from(OutboxMail).where(OutboxMail.status == MailStatus.IN_DOUBT.value)
    )
    return render_template("notifications/retry_failed.html", failed=failed, in_doubt=in_doubt)


@bp.post("/deliver")
@login_required
def deliver_now():
    authorize(can_see_outbox(current_user))
    if not current_app.config["MAIL_DELIVERY_ENABLED"]:
        flash(_("Mail delivery is turned off here: mails stay in the outbox."), "warning")
        return redirect(url_for("notifications.outbox"))
    result = deliver_due()
    flash(
        _(
            "Delivery ran: %(sent)d sent, %(retry)d to retry later, %(failed)d failed, %(doubt)d in doubt.",
            sent=result.sent,
            retry=result.retry,
            failed=result.failed,
            doubt=result.in_doubt,
        ),
        "danger" if result.failed or result.in_doubt else "info" if result.retry else "success",
    )
    return redirect(url_for("notifications.outbox"))
