"""GET /api/v1/openapi.json: public, so clients can be generated before they hold a token."""

from __future__ import annotations

from flask import jsonify

from consultroom.api import bp
from consultroom.api.spec import openapi_document


@bp.get("/openapi.json", tags=["meta"])
@bp.doc(operationId="getOpenApi", summary="This document", security=[])
@bp.response(200, {"type": "object"}, description="The OpenAPI document.")
def openapi_json():
    return jsonify(openapi_document())
