"""The audit log: who changed what, when, before and after (DESIGN rule 6).

Readers: staff and admins, at /staff/audit. Staff share the program's work (matches, assignments,
outcomes, surveys) and need to see who changed a booking or a record; the log is theirs as much as
the admins'. What only admins may read is the *access log* (who looked at whose personal data,
/admin/access-log), which staff should not browse. Reading this page is itself access-logged.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from consultroom.access import authorize
from consultroom.accounts.models import User
from consultroom.accounts.policies import can_read_audit
from consultroom.audit.models import AuditEntry
from consultroom.extensions import db
from consultroom.pagination import capped_paginate
from consultroom.privacy import access_log
from consultroom.request_transaction import log_access

bp = Blueprint("audit", __name__, url_prefix="/staff/audit")

# Audited tables whose rows are people (or hold their contact data), as access-log subject types.
AUDITED_PEOPLE = {"users": "user", "companies": "company", "buyers": "buyer", "interpreters": "interpreter"}


@bp.get("")
@login_required
def index():
    authorize(can_read_audit(current_user))
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    object_type = request.args.get("type", "")
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    pagination = capped_paginate(stmt, per_page=50)
    # One query for the actors of the page, not one per row.
    actor_ids = {e.actor_id for e in pagination.items if e.actor_id}
    actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
    page_html = render_template("admin/audit.html", pagination=pagination, actors=actors, object_type=object_type)
    # The entries' before/after values of people's records, and the actors' e-mails, are personal data.
    subjects = [
        (AUDITED_PEOPLE[e.object_type], e.object_id)
        for e in pagination.items
        if e.object_type in AUDITED_PEOPLE and e.object_id is not None and (e.before or e.after)
    ]
    subjects += access_log.users(actors.values())
    log_access(actor=current_user, subjects=subjects, what="audit.index")
    return page_html
