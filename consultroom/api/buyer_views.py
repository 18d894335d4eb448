"""The buyer registry through the API: staff only, over consultroom.buyers' services and policies.

SMEs get 404 here, as on the staff pages: SMEs never see the buyer registry.
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request
from flask_babel import gettext as _

from consultroom.access import authorize, get_or_404
from consultroom.api import bp, registry
from consultroom.api.auth import api_auth, api_requires
from consultroom.api.http import text_problem, unit_of_work
from consultroom.api.spec import NUL_QUERY, errors, read_body
from consultroom.buyers import importing, policies, services
from consultroom.buyers.models import Buyer, BuyerImportBatch
from consultroom.buyers.queries import BuyerFilter, buyer_search
from consultroom.buyers.schemas import (
    BuyerActiveIn,
    BuyerImportConfirmSchema,
    BuyerImportPreviewSchema,
    BuyerImportResultSchema,
    BuyerImportUploadSchema,
    BuyerInputSchema,
    BuyerListArgs,
    BuyerListSchema,
    BuyerPatchSchema,
    BuyerSchema,
    dump_buyer,
)
from consultroom.errors import Invalid
from consultroom.extensions import db
from consultroom.privacy import access_log

_STAFF_ONLY = "No such object, or you are not staff (SMEs never see the buyer registry)."
_CONFLICT = "A buyer with this e-mail, or this company in this country, is already registered."
staff_only = api_requires(visible=policies.can_manage_buyers)
_ACTIVE_IN = BuyerActiveIn()
_NOT_JSON = registry.NOT_JSON


@bp.get("/buyers", tags=["buyers"])
@api_auth
@staff_only
@bp.doc(
    operationId="listBuyers",
    summary="The buyer registry (staff), filtered, by company name",
    responses=errors(401, e404=_STAFF_ONLY, e422=NUL_QUERY + " Or a filter or page number is not valid."),
)
@bp.arguments(BuyerListArgs, location="query")
@bp.response(200, BuyerListSchema, description="One page of buyers.")
def list_buyers(args: dict[str, Any]):
    f = BuyerFilter(
        q=args["q"], country=args["country"], hs=args["hs"], language=args["language"], status=args["status"]
    )
    # PIPA access log: the buyers' contact persons returned (see consultroom.privacy.access_log).
    return registry.page(buyer_search(f), args, dump_buyer, subjects=access_log.buyers, what="api.list_buyers")


@bp.post("/buyers", tags=["buyers"])
@api_auth
@staff_only
@bp.doc(
    operationId="createBuyer",
    summary="Register a buyer",
    responses=registry.create_errors(e404=_STAFF_ONLY, e409=_CONFLICT),
)
@bp.documents_body(BuyerInputSchema)
@bp.response(201, BuyerSchema, description="Registered.", headers={"Location": {"schema": {"type": "string"}}})
def create_buyer():
    data = registry.body()
    with unit_of_work():
        # The service validates through BuyerIn, as the form and the import do.
        buyer = services.create_buyer(data=data, actor=g.api_user)
        body = dump_buyer(buyer)
    return registry.created(body, "api.get_buyer", buyer_id=buyer.id)


def _buyer(buyer_id: int) -> Buyer:
    return registry.visible(Buyer, buyer_id, policies.can_view_buyer)


@bp.get("/buyers/<int:buyer_id>", tags=["buyers"])
@api_auth
@staff_only
@bp.doc(operationId="getBuyer", summary="One buyer", responses=errors(401, e404=_STAFF_ONLY, e422=NUL_QUERY))
@bp.response(200, BuyerSchema, description="The buyer.")
def get_buyer(buyer_id: int):
    return registry.one(dump_buyer(_buyer(buyer_id)), subject=("buyer", buyer_id), what="api.get_buyer")


@bp.patch("/buyers/<int:buyer_id>", tags=["buyers"])
@api_auth
@staff_only
@bp.doc(
    operationId="updateBuyer",
    summary="Change some fields of a buyer, or (de)activate it",
    responses=registry.patch_errors(
        e404=_STAFF_ONLY, e409="Another buyer has this e-mail, or this company in this country."
    ),
)
@bp.documents_body(BuyerPatchSchema(partial=True))
@bp.response(200, BuyerSchema, description="The buyer as saved.")
def update_buyer(buyer_id: int):
    buyer = _buyer(buyer_id)
    authorize(True, policies.can_edit_buyer(g.api_user, buyer))
    data = registry.body()
    # The switch is not a field of the buyer: it goes to its own service.
    switch = registry.take(data, _ACTIVE_IN)
    with unit_of_work():
        services.update_buyer(buyer=buyer, data=data, actor=g.api_user, partial=True)
        if "active" in switch:
            services.set_buyer_active(buyer=buyer, active=switch["active"], actor=g.api_user)
        body = dump_buyer(buyer)
    return jsonify(body)


# --- import --------------------------------------------------------------------------------------


@bp.post("/buyers/imports", tags=["buyers"])
@api_auth
@staff_only
@bp.doc(
    operationId="uploadBuyerImport",
    summary="Upload a .csv (UTF-8, UTF-16 or CP949) or .xlsx file of buyers: its preview",
    description="Nothing is written to the registry: the file is kept for its uploader to confirm "
    "(POST .../confirm with the preview's digest) for two hours. Every row's errors are listed "
    "(row, column, reason), and duplicates of registered buyers or of earlier rows.",
    responses=errors(401, e404=_STAFF_ONLY, e422="No file, or one that cannot be read (`fields.file` says why)."),
)
@bp.documents_body(BuyerImportUploadSchema, location="files")
@bp.response(201, BuyerImportPreviewSchema, description="The batch and its preview.")
def create_buyer_import():
    """Read an uploaded .csv or .xlsx file into a batch and answer its preview; no buyer is written."""
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
        body = BuyerImportPreviewSchema().dump(importing.preview_batch(batch))
    return jsonify(body), 201


@bp.post("/buyers/imports/<int:batch_id>/confirm", tags=["buyers"])
@api_auth
@staff_only
@bp.doc(
    operationId="confirmBuyerImport",
    summary="Import a previewed file: every new row, or nothing",
    responses=errors(
        401,
        415,
        e400=_NOT_JSON,
        e404="No such batch, or not one you uploaded.",
        e409="Already imported or discarded, expired, or the file or registry changed since the preview "
        "(upload or preview again).",
        e422="No digest, or rows have errors: nothing was imported.",
    ),
)
@bp.documents_body(BuyerImportConfirmSchema)
@bp.response(200, BuyerImportResultSchema, description="Imported; duplicates skipped.")
def confirm_buyer_import(batch_id: int):
    """Import the batch as previewed (`digest` from the preview): every new row or none."""
    batch = get_or_404(db.session, BuyerImportBatch, batch_id)
    # Another person's upload is not theirs to see: it holds personal data they did not bring in.
    authorize(policies.can_use_import_batch(g.api_user, batch))
    digest = read_body(BuyerImportConfirmSchema)["digest"]
    with unit_of_work():
        preview = importing.confirm_batch(batch=batch, digest=digest, actor=g.api_user)
        body = {"batch_id": batch_id, "created": len(preview.to_create), "skipped_duplicates": len(preview.duplicates)}
    return jsonify(body)
