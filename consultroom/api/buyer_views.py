"""The buyer registry through the API: staff only, over consultroom.buyers' services and policies.

SMEs get 404 here, as on the staff pages: SMEs never see the buyer registry.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, jsonify, request, url_for
from flask_babel import gettext as _

from consultroom.access import authorize, get_or_404
from consultroom.api import bp
from consultroom.api.auth import api_auth
from consultroom.api.http import check_storable, json_object, query_int, query_text, text_problem, unit_of_work
from consultroom.api.registry_serializers import buyer_json, import_preview_json
from consultroom.buyers import importing, policies, services
from consultroom.buyers.models import Buyer, BuyerImportBatch
from consultroom.buyers.queries import STATUSES, BuyerFilter, buyer_search
from consultroom.errors import Invalid
from consultroom.extensions import db
from consultroom.privacy import access_log
from consultroom.schema_fields import REQUIRED

MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000


def _staff() -> None:
    authorize(policies.can_manage_buyers(g.api_user))


def _invalid(errors: dict[str, list[str]]) -> None:
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)


def _status(errors: dict[str, list[str]]) -> str:
    value = query_text("status", 10, errors) or "active"
    if value not in STATUSES:
        errors["status"] = [_("Choose active, inactive or all.")]
        return "active"
    return value


@bp.get("/buyers")
@api_auth
def list_buyers():
    _staff()
    errors: dict[str, list[str]] = {}
    f = BuyerFilter(
        q=query_text("q", 100, errors),
        country=query_text("country", 2, errors),
        hs=query_text("hs", 6, errors),
        language=query_text("language", 8, errors),
        status=_status(errors),
    )
    page = query_int("page", 1, 1, MAX_PAGE, errors)
    default_per_page = min(current_app.config.get("BUYERS_PER_PAGE", 25), MAX_PER_PAGE)
    per_page = query_int("per_page", default_per_page, 1, MAX_PER_PAGE, errors)
    _invalid(errors)
    pagination = db.paginate(buyer_search(f), page=page, per_page=per_page, error_out=False, count=True)
    response = jsonify(
        {
            "items": [buyer_json(b) for b in pagination.items],
            "page": page,
            "per_page": per_page,
            "total": pagination.total,
            "pages": pagination.pages,
        }
    )
    # PIPA access log: the buyers' contact persons returned (see consultroom.privacy.access_log).
    subjects = access_log.buyers(pagination.items)
    return access_log.commit_logged(response, actor=g.api_user, subjects=subjects, what="api.list_buyers", via="api")


def _active_flag(data: dict[str, Any]) -> bool | None:
    """`active` from a body: the switch the detail page has (deactivate / reactivate), a JSON boolean."""
    if "active" not in data:
        return None
    value = data.pop("active")
    if not isinstance(value, bool):
        raise Invalid(_("Please correct the marked fields."), fields={"active": [_("Use true or false.")]})
    return value


@bp.post("/buyers")
@api_auth
def create_buyer():
    _staff()
    data = json_object()
    check_storable(data)
    with unit_of_work():
        buyer = services.create_buyer(data=data, actor=g.api_user)
        body = buyer_json(buyer)
    return jsonify(body), 201, {"Location": url_for("api.get_buyer", buyer_id=body["id"])}


def _buyer(buyer_id: int) -> Buyer:
    _staff()
    buyer = get_or_404(db.session, Buyer, buyer_id)
    authorize(policies.can_view_buyer(g.api_user, buyer))
    return buyer


@bp.get("/buyers/<int:buyer_id>")
@api_auth
def get_buyer(buyer_id: int):
    response = jsonify(buyer_json(_buyer(buyer_id)))
    return access_log.commit_logged(
        response, actor=g.api_user, subjects=[("buyer", buyer_id)], what="api.get_buyer", via="api"
    )


@bp.patch("/buyers/<int:buyer_id>")
@api_auth
def update_buyer(buyer_id: int):
    buyer = _buyer(buyer_id)
    authorize(True, policies.can_edit_buyer(g.api_user, buyer))
    data = dict(json_object())
    check_storable(data)
    active = _active_flag(data)
    with unit_of_work():
        services.update_buyer(buyer=buyer, data=data, actor=g.api_user, partial=True)
        if active is not None:
            services.set_buyer_active(buyer=buyer, active=active, actor=g.api_user)
        body = buyer_json(buyer)
    return jsonify(body)


# --- import --------------------------------------------------------------------------------------


@bp.post("/buyers/imports")
@api_auth
def create_buyer_import():
    """Read an uploaded .csv or .xlsx file into a batch and answer its preview; no buyer is written."""
    _staff()
    upload = request.files.get("file")
    if upload is None:
        message = _("Upload a .csv or .xlsx file.")
        raise Invalid(message, fields={"file": [message]})
    filename = upload.filename or ""
    if text_problem(filename):
        raise Invalid(_("Please correct the marked fields."), fields={"file": [text_problem(filename) or ""]})
    # One byte past the limit, as the upload page reads: enough to tell a file that is too large.
    raw = upload.stream.read(importing.MAX_BYTES + 1)
    parsed = importing.parse_upload(filename, raw)
    with unit_of_work():
        batch = importing.save_batch(parsed=parsed, actor=g.api_user)
        body = import_preview_json(importing.preview_batch(batch))
    return jsonify(body), 201


@bp.post("/buyers/imports/<int:batch_id>/confirm")
@api_auth
def confirm_buyer_import(batch_id: int):
    """Import the batch as previewed (`digest` from the preview): every new row or none."""
    _staff()
    batch = get_or_404(db.session, BuyerImportBatch, batch_id)
    # Another person's upload is not theirs to see: it holds personal data they did not bring in.
    authorize(policies.can_use_import_batch(g.api_user, batch))
    data = json_object()
    digest = data.get("digest")
    errors: dict[str, list[str]] = {}
    for name in sorted(set(data) - {"digest"}):
        errors[name] = [_("Unknown field.")]
    if not isinstance(digest, str) or not digest:
        errors["digest"] = [str(REQUIRED)]
    elif text_problem(digest):
        errors["digest"] = [text_problem(digest) or ""]
    _invalid(errors)
    with unit_of_work():
        preview = importing.confirm_batch(batch=batch, digest=str(digest), actor=g.api_user)
        body = {
            "batch_id": batch_id,
            "created": len(preview.to_create),
            "skipped_duplicates": len(preview.duplicates),
        }
    return jsonify(body)
