"""The exports page: the signed-in staff user's prepared files, and their downloads."""

from __future__ import annotations

import io

from flask import Blueprint, render_template, send_file
from flask_login import current_user, login_required
from sqlalchemy import select

from consultroom.access import authorize, get_or_404
from consultroom.db import utcnow
from consultroom.exports import policies, queries
from consultroom.exports.catalog import KINDS
from consultroom.exports.models import ExportFile
from consultroom.exports.services import KEEP_FOR
from consultroom.extensions import db
from consultroom.pagination import Window, count_of, page_number

bp = Blueprint("exports", __name__, url_prefix="/staff/exports")

PER_PAGE = 25


@bp.get("")
@login_required
def index():
    authorize(policies.can_use_exports(current_user))
    # Counted over ids: a count over the entity would select the content column in its subquery.
    total = db.session.scalar(count_of(queries.own_exports_stmt(current_user.id, ExportFile.id))) or 0
    window = Window(page=page_number(), per_page=PER_PAGE, total=total)
    items = db.session.scalars(queries.own_exports_stmt(current_user.id).offset(window.offset).limit(PER_PAGE)).all()
    return render_template(
        "exports/index.html",
        pagination=window,
        items=items,
        kinds=KINDS,
        now=utcnow(),
        keep_hours=int(KEEP_FOR.total_seconds() // 3600),
    )


@bp.get("/<int:export_id>/download")
@login_required
def download(export_id: int):
    authorize(policies.can_use_exports(current_user))
    export = get_or_404(db.session, ExportFile, export_id)
    # Someone else's file, or one not (or no longer) there, is not found: its existence is not told.
    authorize(policies.can_download(current_user, export, now=utcnow()))
    kind = KINDS.get(export.kind)
    authorize(kind is None or kind.allowed is None or kind.allowed(current_user))
    content = db.session.scalar(select(ExportFile.content).where(ExportFile.id == export.id)) or b""
    return send_file(
        io.BytesIO(content),
        mimetype=kind.mimetype if kind else "application/octet-stream",
        as_attachment=True,
        download_name=export.filename,
        max_age=0,
    )
