"""The personal-data access log for admins: read, filter, export.

Reading the log is not itself logged: its rows name staff members (who, whose, what, when) but hold no
one's contact data, and only admins, who answer for the log, may read it. Logging each reading would
also make the log grow every time it is checked.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from consultroom.access import authorize
from consultroom.db import utcnow
from consultroom.exports import services as export_services
from consultroom.pagination import capped_count, capped_paginate
from consultroom.privacy import access_export, access_log
from consultroom.privacy.blueprint import bp
from consultroom.privacy.rights_forms import ACTION_LABELS, SUBJECT_LABELS, AccessFilterForm
from consultroom.request_transaction import attempt
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
    """Said instead of the file: a GET changes nothing, so preparing it is the form's POST."""
    return render_template(
        "exports/large.html",
        message=_(
            "This export holds more than %(limit)s entries: too many to write while you wait.",
            limit=format_decimal(access_export.INLINE_ROWS),
        ),
        action=url_for(f"privacy.prepare_access_log_{ext}", **request.args),
    )


def _prepare(kind: str):
    f = _export_filter()
    with attempt() as done:
        export_services.request_export(
            kind=kind,
            params=access_export.params(f, str(get_locale() or "ko"), seoul_date(utcnow())),
            actor=current_user,
            now=utcnow(),
        )
    if done:
        flash(_("The file is being prepared. It will be listed here when it is ready."), "info")
    return redirect(url_for("exports.index"), 303)


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
