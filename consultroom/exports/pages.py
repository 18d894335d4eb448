"""What a download page says and does when its file is too large to write while the user waits: the
page that offers the background export (a GET changes nothing, so asking is the form's POST), and the
POST that queues it. Shared by every export that can be prepared (surveys, access log)."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from consultroom.db import utcnow
from consultroom.exports import services
from consultroom.request_transaction import attempt


def offer(message: str, prepare_endpoint: str) -> str:
    """Said instead of the file; the form posts back to the same query (the same scope)."""
    return render_template("exports/large.html", message=message, action=url_for(prepare_endpoint, **request.args))


def queue(kind: str, params: dict[str, Any]) -> Response:
    """Queue the file for the export job, then the requester's exports page (303), where it will be listed."""
    with attempt() as done:
        services.request_export(kind=kind, params=params, actor=current_user, now=utcnow())
    if done:
        flash(_("The file is being prepared. It will be listed here when it is ready."), "info")
    return redirect(url_for("exports.index"), 303)
