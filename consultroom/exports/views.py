"""The exports page: the signed-in staff user's prepared files, and their downloads."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import Blueprint, Response, render_template, stream_with_context
from flask_login import current_user, login_required

from consultroom.access import authorize, get_or_404
from consultroom.db import utcnow
from consultroom.exports import policies, queries, streaming
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
    # Counted over ids, not over the entity's every column.
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
    # The body is the stored pieces, read one at a time as they are sent (streaming.read_chunks):
    # a web worker holds one piece of a 75 MB file, not the file. Values are taken now: the request's
    # session is committed and closed before the body is sent.
    body = stream_with_context(streaming.read_chunks(export.id, export.size or 0))
    response = Response(body, mimetype=kind.mimetype if kind else "application/octet-stream")
    response.content_length = export.size or 0
    response.headers.set("Content-Disposition", "attachment", **_download_names(export.filename))
    response.cache_control.no_cache = True  # as send_file(max_age=0)
    response.cache_control.max_age = 0
    response.expires = utcnow()
    return response


def _download_names(name: str) -> dict[str, str]:
    """Content-Disposition's filename, with an RFC 5987 filename* when it is not ASCII (as send_file)."""
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
        return {"filename": simple, "filename*": "UTF-8''" + quote(name, safe="!#$&+-.^_`|~")}
    return {"filename": name}
