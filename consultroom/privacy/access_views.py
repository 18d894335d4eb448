"""The personal-data access log for admins: read, filter, export.

Reading the log is not itself logged: its rows name staff members (who, whose, what, when) but hold no
one's contact data, and only admins, who answer for the log, may read it. Logging each reading would
also make the log grow every time it is checked.
"""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from consultroom import spreadsheets
from consultroom.access import authorize
from consultroom.db import utcnow
from consultroom.pagination import capped_paginate
from consultroom.privacy import access_log
from consultroom.privacy.blueprint import bp
from consultroom.privacy.rights_forms import ACTION_LABELS, SUBJECT_LABELS, AccessFilterForm
from consultroom.timeutil import SEOUL, seoul_date

PER_PAGE = 50
# An export is one file: far more than a year of a city program's staff views, and still a sane download.
EXPORT_MAX = 100_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


def _export_rows() -> tuple[list[str], list[list]]:
    form = _form()
    if not form.validate():
        # The page shows the errors beside the fields; a file cannot.
        abort(422)
    headers = [
        _("When (Korea time)"),
        _("Staff member"),
        _("Staff e-mail"),
        _("Kind of person"),
        _("Person's number"),
        _("Action"),
        _("What"),
        _("Channel"),
    ]
    # Translated once per file, not once per row.
    subjects = {key: str(label) for key, label in SUBJECT_LABELS.items()}
    actions = {key: str(label) for key, label in ACTION_LABELS.items()}
    body = []
    last: tuple = (None, None)  # a request's rows share their time: converted once
    for at, name, email, subject_type, subject_id, action, what, via in access_log.export_rows(
        form.to_filter(), EXPORT_MAX
    ):
        if at != last[0]:
            last = (at, at.astimezone(SEOUL).replace(tzinfo=None))
        body.append(
            [
                last[1],
                name,
                email,
                subjects.get(subject_type, subject_type),
                subject_id,
                actions.get(action, action),
                what,
                via,
            ]
        )
    return headers, body


def _filename(ext: str) -> str:
    return f"access-log-{seoul_date(utcnow()).isoformat()}.{ext}"


@bp.get("/admin/access-log/export.csv", endpoint="access_log_csv")
@login_required
def export_csv():
    headers, rows = _export_rows()
    body = spreadsheets.csv_bytes(headers, ([row[0].strftime("%Y-%m-%d %H:%M:%S"), *row[1:]] for row in rows))
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{_filename("csv")}"'},
    )


@bp.get("/admin/access-log/export.xlsx", endpoint="access_log_xlsx")
@login_required
def export_xlsx():
    headers, rows = _export_rows()
    body = spreadsheets.xlsx_bytes([("access-log", headers, rows)])
    return Response(body, mimetype=XLSX, headers={"Content-Disposition": f'attachment; filename="{_filename("xlsx")}"'})
