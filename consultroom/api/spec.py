"""flask-smorest for /api/v1: the blueprint, the argument parser and the generated OpenAPI document.

Arguments and answers are declared with the domains' marshmallow schemas (consultroom/*/schemas.py);
apispec writes the document from them. Every error, a schema's included, keeps the one shape
`{"error": {"code", "message", "fields"}}` (consultroom.errorpages).
"""

from __future__ import annotations

from copy import deepcopy
from functools import wraps
from typing import Any

import flask_smorest
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Flask, current_app, has_app_context
from flask_babel import gettext as _
from webargs.flaskparser import FlaskParser

from consultroom.api.http import json_object
from consultroom.errors import Invalid
from consultroom.interpreters.schemas import WeeklyHoursSchema
from consultroom.schema_fields import CodeList
from consultroom.schemas import ID_MAX, field_errors

INFO_DESCRIPTION = (
    "Get a token with POST /api/v1/tokens, then send `Authorization: Bearer <token>`. "
    'Errors are `{"error": {"code", "message", "fields"}}`. Properties marked '
    "`x-personal-data` hold personal data."
)
TAGS = (
    "tokens",
    "account",
    "companies",
    "rounds",
    "bookings",
    "buyers",
    "interpreters",
    "matching",
    "outcomes",
    "rates",
    "surveys",
    "reports",
    "privacy",
    "meta",
)

# The shared error answers; every 4xx of every operation refers to one of them.
_ERROR_JSON = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
RESPONSES: dict[str, Any] = {
    "BadRequest": {"description": "The body is not JSON, or not a JSON object.", "content": _ERROR_JSON},
    "Unauthorized": {
        "description": "No valid bearer token (or, for POST /tokens, wrong credentials).",
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer challenge."}},
        "content": _ERROR_JSON,
    },
    "Forbidden": {"description": "The object is visible to you, but you may not do this.", "content": _ERROR_JSON},
    "NotFound": {"description": "No such object, or not one you may know of.", "content": _ERROR_JSON},
    "Conflict": {"description": "Conflicts with stored data (e.g. a business number in use).", "content": _ERROR_JSON},
    "UnsupportedMediaType": {"description": "The body was not sent as application/json.", "content": _ERROR_JSON},
    "Invalid": {"description": "Fields are missing or not valid; `fields` names each.", "content": _ERROR_JSON},
    "RateLimited": {
        "description": "Too many failed attempts; wait and retry.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "content": _ERROR_JSON,
    },
}
_RESPONSE_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "RateLimited",
}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "examples": ["invalid", "not_found"]},
                "message": {"type": "string", "description": "Translated for the user."},
                "fields": {
                    "type": "object",
                    "description": "Messages per field name; empty when the error is not about fields.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}


def errors(*statuses: int, **described: str) -> dict[str, Any]:
    """The error answers of an operation, for `@bp.doc(responses=...)`: each status refers to the shared
    answer; `described` (keyed like `e404`) adds what it means for this operation."""
    answer = {str(s): {"$ref": f"#/components/responses/{_RESPONSE_NAMES[s]}"} for s in statuses}
    for key, description in described.items():
        status = int(key.removeprefix("e"))
        answer[str(status)] = {"$ref": f"#/components/responses/{_RESPONSE_NAMES[status]}", "description": description}
    return answer


# consultroom.api refuses a NUL character in any query parameter, on every route.
NUL_QUERY = "A query parameter holds a NUL character; `fields` names it."


class ApiParser(FlaskParser):
    """webargs, answering as the API always has: 415 for a body not sent as JSON, 400 for one that is not
    a JSON object, and 422 naming each field (nested ones as `request.products`)."""

    DEFAULT_VALIDATION_STATUS = 422

    def load_json(self, req: Any, schema: Any) -> Any:
        return json_object()

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        # webargs keys the messages by location ({"json": {...}}); the API names fields alone.
        messages = error.messages
        if isinstance(messages, dict) and len(messages) == 1 and next(iter(messages)) in self.__location_map__:
            messages = next(iter(messages.values()))
        raise Invalid(_("Please correct the marked fields."), fields=field_errors(messages))


_INVALID_REF = {"$ref": "#/components/responses/Invalid"}


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = ApiParser()

    def arguments(self, schema: Any, **kwargs: Any):
        """As flask-smorest's, with the 422 it documents pointing at our shared Invalid answer."""
        decorate = super().arguments(schema, **kwargs)

        def decorator(func):
            view = decorate(func)
            view._apidoc["arguments"]["responses"] = {"422": _INVALID_REF}
            return view

        return decorator

    def documents_body(self, schema: Any, **kwargs: Any):
        """Document `schema` as the JSON body, which the view reads itself with read_body() once it knows
        the caller may do this: one who may not is told so (403/404) whatever they sent."""
        documented = self.arguments(schema, **kwargs)(lambda *_a, **_k: None)._apidoc["arguments"]

        def decorator(func):
            @wraps(func)
            def wrapper(*args: Any, **kw: Any) -> Any:
                return func(*args, **kw)

            wrapper._apidoc = deepcopy(getattr(func, "_apidoc", {}))
            arguments = wrapper._apidoc.setdefault("arguments", {})
            arguments.setdefault("parameters", []).extend(documented["parameters"])
            arguments.setdefault("responses", {}).update(documented["responses"])
            return wrapper

        return decorator


def read_body(schema: Any) -> Any:
    """The JSON body loaded with `schema`: 415, 400 or 422 (each field named) as @bp.arguments answers."""
    return Blueprint.ARGUMENTS_PARSER.parse(schema, location="json")


class Api(flask_smorest.Api):
    """flask-smorest, with the app's own error handlers (consultroom.errorpages) left in charge, and the
    shared answers, security scheme and tags of our document."""

    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self) -> None:
        """None: errorpages answers for the whole app, in the API's JSON shape under /api/."""

    def _register_responses(self) -> None:
        self.spec.components.schema("Error", ERROR_SCHEMA)
        for name, response in RESPONSES.items():
            self.spec.components.response(name, response)
        self.spec.components.security_scheme(
            "bearerAuth", {"type": "http", "scheme": "bearer", "description": "A token from POST /api/v1/tokens."}
        )

    def _register_etag_headers(self) -> None:
        """None: the API sends no ETags."""

    def _register_pagination_header(self) -> None:
        """None: pages are an envelope (consultroom.schemas.page_of), not an X-Pagination header."""


def _schema_name(schema: Any) -> str | None:
    """Components are named like their schema without "Schema" (RoundSchema: Round); a schema marked
    `inline` (a part of one answer, such as a match's interpreter) is written where it is used."""
    cls = resolve_schema_cls(schema)
    if getattr(cls, "inline", False):
        return None
    return cls.__name__.removesuffix("Schema") or cls.__name__


def make_api(app: Flask, bp: Blueprint) -> Api:
    app.config.setdefault("API_TITLE", "Consultroom API")
    app.config.setdefault("API_VERSION", "1.0.0")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    api = Api(
        spec_kwargs={
            "marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=_schema_name),
            "info": {"description": INFO_DESCRIPTION},
            "servers": [{"url": "/"}],
            "security": [{"bearerAuth": []}],
        }
    )
    api.init_app(app)
    # A code list is typed by the anyOf in its metadata (a list, or one string, or null).
    api.register_field(CodeList, None, None)
    # Weekly hours are written by a function (their times as HH:MM) and refer to this component.
    api.spec.components.schema("WeeklyHours", schema=WeeklyHoursSchema)
    # Ids in paths: the app's int converter (consultroom.BoundedInt) fits the 32-bit id columns.
    api.register_converter(
        app.url_map.converters["int"], lambda _converter: {"type": "integer", "minimum": 1, "maximum": ID_MAX}
    )
    api.register_blueprint(bp)
    return api


def generated_document(app: Flask) -> dict[str, Any]:
    """The document apispec wrote from the routes and schemas, with our tag list (not the blueprint's)."""
    api: Api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    document = api.spec.to_dict()
    document["tags"] = [{"name": name} for name in TAGS]
    return document


def openapi_document(app: Flask | None = None) -> dict[str, Any]:
    """The document of /api/v1 as apispec writes it from the routes and the domains' schemas; a fresh
    copy each time. Without an app (tests read it at import), from the blueprint on a bare app."""
    if app is None and has_app_context():
        app = current_app._get_current_object()
    return generated_document(app) if app is not None else scratch_document()


def scratch_document() -> dict[str, Any]:
    """The document without a running app (tests read it at import): the API blueprint on a bare app."""
    from consultroom.api import bp

    app = Flask("consultroom-openapi")
    make_api(app, bp)
    return generated_document(app)
