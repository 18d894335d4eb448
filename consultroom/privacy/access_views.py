"""The personal-data access log for admins: read, filter, export.

Reading the log is not itself logged: its rows name staff members (who, whose, what, when) but hold no
one's contact data, and only admins, who answer for the log, may read it. Logging each reading would
also make the log grow every time it is checked.
"""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from consultroom.access import authorize
from consultroom.db import utcnow
from consultroom.exports import pages as export_pages
from consultroom.pagination import capped_count, capped_paginate
from consultroom.privacy import access_export, access_log
from consultroom.privacy.blueprint import bp
from consultroom.privacy.rights_forms import ACTION_LABELS, SUBJECT_LABELS, AccessFilterForm
from consultroom.timeutil import seoul_date

PER_PAGE = 50


def _form() -> AccessFilterForm:
    authorize(access_log.can_read_access_log(current_user))
    actors = [(u.id, f"{u.name} ({u.email})") for u in access_log.staff_users()]
    return AccessFilterForm(request.args, actors=actors)


@bp.get("/admin/access-log/", endpoint="access_log")
@login_required
def index():
    form = _form()
    valid = form.validate()
    if valid:
        pagination = capped_paginate(access_log.access_query(form.to_filter()), per_page=PER_PAGE)
        actors = access_log.actors_of(pagination.items)
    else:
        pagination, actors = None, {}
    return render_template(
        "privacy/access_log.html",
        form=form,
        pagination=pagination,
        actors=actors,
        subject_labels=SUBJECT_LABELS,
        action_labels=ACTION_LABELS,
    )


def _export_filter():
    form = _form()
    if not form.validate():
        # The page shows the errors beside the fields; a file cannot.
        abort(422)
    return form.to_filter()


def _too_long(f) -> bool:
    return capped_count(access_log.access_query(f), access_export.INLINE_ROWS) is None


def _long_export_page(ext: str):
    message = _(
        "This export holds more than %(limit)s entries: too many to write while you wait.",
        limit=format_decimal(access_export.INLINE_ROWS),
    )
    return export_pages.offer(message, f"privacy.prepare_access_log_{ext}")


def _prepare(kind: str):
    params = access_export.params(_export_filter(), str(get_locale() or "ko"), seoul_date(utcnow()))
    return export_pages.queue(kind, params)


def _filename(ext: str) -> str:
    return access_export.filename(seoul_date(utcnow()), ext)


@bp.get("/admin/access-log/export.csv", endpoint="access_log_csv")
@login_required
def export_csv():
    f = _export_filter()
    if _too_long(f):
        return _long_export_page("csv")
    return Response(
        access_export.csv_bytes(f),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{_filename("csv")}"'},
    )


@bp.post("/admin/access-log/export.csv", endpoint="prepare_access_log_csv")
@login_required
def prepare_csv():
    return _prepare(access_export.CSV_KIND.name)


@bp.get("/admin/access-log/export.xlsx", endpoint="access_log_xlsx")
@login_required
def export_xlsx():
    f = _export_filter()
    if _too_long(f):
        return _long_export_page("xlsx")
    return Response(
        access_export.xlsx_bytes(f),
        mimetype=access_export.XLSX,
        headers={"Content-Disposition": f'attachment; filename="{_filename("xlsx")}"'},
    )


@bp.post("/admin/access-log/export.xlsx", endpoint="prepare_access_log_xlsx")
@login_required
def prepare_xlsx():
    return _prepare(access_export.XLSX_KIND.name)
