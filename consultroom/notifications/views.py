from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from consultroom.access import authorize
from consultroom.accounts.policies import can_see_outbox
from consultroom.extensions import db
from consultroom.notifications.models import OutboxMail

bp = Blueprint("notifications", __name__, url_prefix="/admin/outbox")


@bp.get("")
@login_required
def outbox():
    authorize(can_see_outbox(current_user))
    status = request.args.get("status", "")
    stmt = select(OutboxMail).order_by(OutboxMail.created_at.desc(), OutboxMail.id.desc())
    if status:
        stmt = stmt.where(OutboxMail.status == status)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    pagination = db.paginate(stmt, page=page, per_page=50, error_out=False)
    return render_template("notifications/outbox.html", pagination=pagination, status=status)
