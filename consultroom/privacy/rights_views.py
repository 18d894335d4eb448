"""A person's own data: download (JSON, XLSX) and deletion request."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from consultroom.access import authorize
from consultroom.db import utcnow
from consultroom.privacy import erasure, export
from consultroom.privacy.blueprint import bp
from consultroom.privacy.rights_forms import ErasureRequestForm
from consultroom.request_transaction import attempt
from consultroom.timeutil import seoul_date

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page(form: ErasureRequestForm):
    data = export.collect_user_data(user=current_user)
    open_request = erasure.open_request_for(subject_type="user", subject_id=current_user.id)
    return render_template(
        "privacy/mydata.html",
        data=data,
        counts=export.summary(data),
        form=form,
        open_request=open_request,
        can_request=erasure.can_request_erasure(current_user, "user", current_user.id),
    )


@bp.get("/my-data/", endpoint="my_data")
@login_required
def index():
    return _page(ErasureRequestForm())


def _filename(ext: str) -> str:
    return f"consultroom-my-data-{seoul_date(utcnow()).isoformat()}.{ext}"


@bp.get("/my-data/export.json", endpoint="my_data_json")
@login_required
def export_json():
    body = export.to_json(export.collect_user_data(user=current_user))
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{_filename("json")}"'},
    )


@bp.get("/my-data/export.xlsx", endpoint="my_data_xlsx")
@login_required
def export_xlsx():
    body = export.to_xlsx(export.collect_user_data(user=current_user))
    return Response(body, mimetype=XLSX, headers={"Content-Disposition": f'attachment; filename="{_filename("xlsx")}"'})


@bp.post("/my-data/erasure", endpoint="request_my_erasure")
@login_required
def request_erasure():
    authorize(True, erasure.can_request_erasure(current_user, "user", current_user.id))
    form = ErasureRequestForm()
    if not form.validate_on_submit():
        return _page(form)
    with attempt(form) as done:
        erasure.request_erasure(
            subject_type="user", subject_id=current_user.id, note=(form.note.data or "").strip(), actor=current_user
        )
    if not done:
        return _page(form)
    flash(_("Your deletion request is recorded. The staff will handle it."), "success")
    return redirect(url_for("privacy.my_data"))
