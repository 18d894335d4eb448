"""The OpenAPI 3.1 document of /api/v1: apispec generates it from the routes and the domains' schemas
(consultroom/api/spec.py); what is still written by hand below is TEMPORARY: the companies, buyers and
interpreters routes and the answers api/registry_serializers and privacy.export write, until those have
their schemas.py. tests/integration/test_api_openapi.py keeps the merged document true to the routes
and to the responses they actually send."""

from __future__ import annotations

import copy
from typing import Any

from flask import Flask, current_app, has_app_context

from consultroom.api.spec import generated_document, scratch_document
from consultroom.buyers.schemas import BuyerIn, BuyerOut
from consultroom.companies.schemas import CompanyIn, CompanyOut
from consultroom.interpreters.schemas import InterpreterIn, InterpreterOut
from consultroom.schema_fields import json_schema

PREFIX = "/api/v1"
PERSONAL = {"x-personal-data": True}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    names = {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        409: "Conflict",
        415: "UnsupportedMediaType",
        422: "Invalid",
        429: "RateLimited",
    }
    return {str(s): {"$ref": f"#/components/responses/{names[s]}"} for s in statuses}


DATE_TIME = {"type": "string", "format": "date-time"}
NULLABLE_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}


def _error(status: int, description: str) -> dict[str, Any]:
    """A shared error response with a description for this operation (OpenAPI 3.1 allows it beside $ref)."""
    return {**_errors(status)[str(status)], "description": description}


ID_MAX = 2**31 - 1
_ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": ID_MAX}


def _page_schema(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total", "pages"],
        "additionalProperties": False,
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 0},
        },
    }


def _company_schema() -> dict[str, Any]:
    return json_schema(CompanyOut(), output=True)


def _company_input_schema(*, partial: bool) -> dict[str, Any]:
    if partial:
        return json_schema(
            CompanyIn(partial=True),
            description="Only the fields sent are changed; a list sent replaces the stored list.",
        )
    schema = json_schema(CompanyIn())
    schema["properties"]["consent_company_profile"] = {
        "const": True,
        "description": "The SME agrees to the company-profile privacy notice (GET /privacy/); "
        "recorded with the notice version and time.",
    }
    schema["required"] = [*schema["required"], "consent_company_profile"]
    return schema


SCHEMAS: dict[str, Any] = {
    "Company": _company_schema(),
    "CompanyInput": _company_input_schema(partial=False),
    "CompanyPatch": _company_input_schema(partial=True),
    "CompanyList": {
        "type": "object",
        "required": ["items", "page", "per_page", "total", "pages"],
        "additionalProperties": False,
        "properties": {
            "items": {"type": "array", "items": _ref("Company")},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 0},
        },
    },
}

_ID = {"type": "integer", "minimum": 1}
_COMPANY_ID = {"name": "company_id", "in": "path", "required": True, "schema": _ID}
_PAGING = [
    {
        "name": "page",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1},
        "description": "Page.",
    },
    {
        "name": "per_page",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25},
        "description": "Page size.",
    },
]


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


PATHS: dict[str, Any] = {
    f"{PREFIX}/companies": {
        "get": {
            "operationId": "listCompanies",
            "tags": ["companies"],
            "summary": "Companies (staff: all, filtered; an SME: only its own)",
            "parameters": [
                _query("q", {"type": "string", "maxLength": 100}, "Name, products, representative or number."),
                _query("industry", {"type": "string", "maxLength": 100}, "Exact industry."),
                _query("country", {"type": "string", "maxLength": 2}, "Export market or target country code."),
                _query("hs", {"type": "string", "maxLength": 6}, "HS code prefix: 2, 4 or 6 digits."),
                _query(
                    "english",
                    {"type": "string", "enum": ["missing"]},
                    "missing: only companies lacking a field of their English profile.",
                ),
                _query("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1}, "Page."),
                _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}, "Page size."),
            ],
            "responses": {"200": _json(_ref("CompanyList"), "One page of companies."), **_errors(401, 422)},
        },
        "post": {
            "operationId": "createCompany",
            "tags": ["companies"],
            "summary": "Register your company (an SME account without one)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("CompanyInput")}}},
            "responses": {
                "201": {
                    **_json(_ref("Company"), "Registered; you are its account holder."),
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                **_errors(400, 401, 403, 404, 409, 415, 422),
            },
        },
    },
    f"{PREFIX}/companies/{{company_id}}": {
        "parameters": [_COMPANY_ID],
        "get": {
            "operationId": "getCompany",
            "tags": ["companies"],
            "summary": "One company",
            "responses": {"200": _json(_ref("Company"), "The company."), **_errors(401, 404)},
        },
        "patch": {
            "operationId": "updateCompany",
            "tags": ["companies"],
            "summary": "Change some fields of a company",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("CompanyPatch")}}},
            "responses": {
                "200": _json(_ref("Company"), "The company as saved."),
                **_errors(400, 401, 403, 404, 409, 415, 422),
            },
        },
    },
}


# --- buyers, interpreters and matching (issue 4, item 6): staff only; SMEs get 404 -----------------

_STAFF_404 = _error(404, "No such object, or you are not staff (SMEs never see the buyer registry).")
_HHMM = {"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}$"}


def _object(props: dict[str, Any], *, required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": props, **extra}
    schema["required"] = sorted(props) if required is None else required
    return schema


def _buyer_schema() -> dict[str, Any]:
    return json_schema(BuyerOut(), output=True)


def _buyer_input_schema(*, partial: bool) -> dict[str, Any]:
    if not partial:
        return json_schema(BuyerIn())
    schema = json_schema(BuyerIn(partial=True), required=[], description="Only the fields sent are changed.")
    schema["properties"]["active"] = {
        "type": "boolean",
        "description": "false deactivates the buyer, true reactivates.",
    }
    return schema


def _interpreter_schema() -> dict[str, Any]:
    return json_schema(InterpreterOut(), output=True)


def _interpreter_input_schema(*, partial: bool) -> dict[str, Any]:
    if partial:
        schema = json_schema(InterpreterIn(partial=True), required=[], description="Only the fields sent are changed.")
        schema["properties"]["active"] = {
            "type": "boolean",
            "description": "false deactivates the interpreter, true reactivates.",
        }
    else:
        schema = json_schema(InterpreterIn())
    # Weekly hours are checked by their own rules (interpreters.services.set_weekly_hours).
    schema["properties"]["weekly_hours"] = {
        "type": "array",
        "items": _ref("WeeklyHours"),
        "description": "Replaces the weekly hours (Asia/Seoul); days left out have none.",
    }
    return schema


_IMPORT_ISSUE = _object(
    {
        "row": {"type": "integer", "description": "The row as the spreadsheet numbers it (the heading is 1)."},
        "column": {"type": "string", "description": "The field, e.g. email."},
        "heading": {"type": "string", "description": "The column as the file names it, e.g. C (이메일)."},
        "reason": {"type": "string"},
    }
)
_REASON = _object(
    {
        "code": {
            "type": "string",
            "examples": ["hs6", "country", "shared_language", "interpreter", "within_hours", "load"],
        },
        "points": {"type": "integer"},
        "detail": {"type": "string", "description": "The HS code, country or language concerned."},
        "text": {"type": "string", "description": "The reason in words, in your language."},
    }
)
_INTERPRETER_BRIEF = _object(
    {
        "id": {"type": "integer"},
        "name": {"type": "string", **PERSONAL},
        "languages": {"type": "array", "items": {"type": "string"}},
    }
)
_PARTY_BRIEF = {
    "buyer": {
        "type": ["object", "null"],
        "additionalProperties": False,
        "required": ["id", "company_name", "country"],
        "properties": {"id": {"type": "integer"}, "company_name": {"type": "string"}, "country": {"type": "string"}},
    },
    "interpreter": {
        "type": ["object", "null"],
        "additionalProperties": False,
        "required": ["id", "name"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string", **PERSONAL}},
    },
}
_MATCH_TOTALS = _object({"total": {"type": "integer"}, "matched": {"type": "integer", "minimum": 0}})

SCHEMAS.update(
    {
        "Buyer": _buyer_schema(),
        "BuyerInput": _buyer_input_schema(partial=False),
        "BuyerPatch": _buyer_input_schema(partial=True),
        "BuyerList": _page_schema("Buyer"),
        "BuyerImportUpload": _object(
            {
                "file": {
                    "type": "string",
                    "contentMediaType": "application/octet-stream",
                    "description": ".csv or .xlsx",
                }
            },
            required=["file"],
        ),
        "BuyerImportPreview": _object(
            {
                "batch_id": {"type": "integer"},
                "filename": {"type": "string"},
                "digest": {"type": "string", "description": "Send it to confirm exactly this preview."},
                "ok": {"type": "boolean", "description": "No row has an error: the file can be imported."},
                "row_count": {"type": "integer", "minimum": 0},
                "to_create": {"type": "integer", "minimum": 0},
                "duplicates": {"type": "integer", "minimum": 0},
                "error_rows": {"type": "integer", "minimum": 0},
                "columns": {
                    "type": "object",
                    "description": "Field -> the column it was read from.",
                    "additionalProperties": _object({"heading": {"type": "string"}, "letter": {"type": "string"}}),
                },
                "errors": {"type": "array", "items": _IMPORT_ISSUE, "description": "Every error of every row."},
                "warnings": {
                    "type": "array",
                    "items": _IMPORT_ISSUE,
                    "description": "Cells read in a way the file's author may not have meant (a merged cell read as "
                    "empty, a formula without a saved result, a date in a text column); they do not stop the import.",
                },
                "rows": {
                    "type": "array",
                    "items": _object(
                        {
                            "row": {"type": "integer"},
                            "status": {"type": "string", "enum": ["create", "duplicate", "error"]},
                            "errors": {"type": "array", "items": _IMPORT_ISSUE},
                            "duplicate_of_buyer": {"type": ["integer", "null"]},
                            "duplicate_of_row": {"type": ["integer", "null"]},
                            "duplicate_by": {"type": ["string", "null"], "enum": ["email", "company", None]},
                        }
                    ),
                },
            }
        ),
        "BuyerImportConfirm": _object({"digest": {"type": "string"}}),
        "BuyerImportResult": _object(
            {
                "batch_id": {"type": "integer"},
                "created": {"type": "integer", "minimum": 0},
                "skipped_duplicates": {"type": "integer", "minimum": 0},
            }
        ),
        "WeeklyHours": _object(
            {
                "weekday": {"type": "integer", "minimum": 0, "maximum": 6, "description": "0 is Monday."},
                "start": _HHMM,
                "end": _HHMM,
            }
        ),
        "Interpreter": _interpreter_schema(),
        "InterpreterInput": _interpreter_input_schema(partial=False),
        "InterpreterPatch": _interpreter_input_schema(partial=True),
        "InterpreterList": _page_schema("Interpreter"),
        "Recommendations": _object(
            {
                "booking_id": {"type": "integer"},
                "open_for_matching": {"type": "boolean", "description": "A match can be proposed now."},
                "items": {
                    "type": "array",
                    "description": "Best first.",
                    "items": _object(
                        {
                            "buyer": _object(
                                {
                                    "id": {"type": "integer"},
                                    "company_name": {"type": "string"},
                                    "country": {"type": "string"},
                                    "timezone": {"type": "string"},
                                    "languages": {"type": "array", "items": {"type": "string"}},
                                }
                            ),
                            "score": {"type": "integer"},
                            "reasons": {"type": "array", "items": _REASON},
                            "needs_interpreter": {"type": "boolean"},
                            "interpreters": {
                                "type": "array",
                                "items": _INTERPRETER_BRIEF,
                                "description": "Free then, in the buyer's language, under their daily cap.",
                            },
                            "load": {"type": "integer", "description": "The buyer's matches in this round."},
                            "fit": {
                                "type": "string",
                                "enum": ["hs6", "hs4", "hs2", "industry"],
                                "description": "Product fit, which ranks before points: exact HS code, HS heading, "
                                "HS chapter, declared industry.",
                            },
                            "other_slot": {
                                "oneOf": [
                                    _object(
                                        {
                                            "id": {"type": "integer"},
                                            "starts_at": DATE_TIME,
                                            "ends_at": DATE_TIME,
                                            "interpreters": {"type": "array", "items": _INTERPRETER_BRIEF},
                                        }
                                    ),
                                    {"type": "null"},
                                ],
                                "description": "When the booked time is outside the buyer's hours: the earliest free "
                                "slot of the round that suits both, with its interpreters. Propose there with "
                                "`slot_id` (PUT /bookings/{booking_id}/match).",
                            },
                        }
                    ),
                },
            }
        ),
        "Violation": _object(
            {
                "message": {"type": "string"},
                "line_ids": {"type": "array", "items": {"type": "integer"}, "description": "The lines concerned."},
            }
        ),
        "Proposal": _object(
            {
                "id": {"type": "integer"},
                "round_id": {"type": "integer"},
                "status": {"type": "string", "enum": ["draft", "confirmed", "discarded"]},
                "exact": {**_MATCH_TOTALS, "description": "The optimal assignment as proposed."},
                "greedy": {**_MATCH_TOTALS, "description": "Best pair first, for comparison."},
                "total": {"type": "integer", "description": "The lines' scores as they stand, after edits."},
                "weights": {"type": "object", "additionalProperties": {"type": "integer"}},
                "created_at": DATE_TIME,
                "decided_at": NULLABLE_DATE_TIME,
                "lines": {"type": "array", "items": _ref("ProposalLine")},
                "violations": {
                    "type": "array",
                    "items": _ref("Violation"),
                    "description": "Rules the draft breaks; confirming is refused (422) until empty.",
                },
            }
        ),
        "ProposalLine": _object(
            {
                "id": {"type": "integer"},
                "booking": _object(
                    {
                        "id": {"type": "integer"},
                        "company_id": {"type": "integer"},
                        "company_name": {"type": "string"},
                        "starts_at": DATE_TIME,
                        "ends_at": DATE_TIME,
                        "status": {"type": "string"},
                    }
                ),
                **_PARTY_BRIEF,
                "score": {"type": ["integer", "null"]},
                "reasons": {"type": "array", "items": _REASON},
                "edited": {"type": "boolean"},
            }
        ),
    }
)

_BUYER_ID = {"name": "buyer_id", "in": "path", "required": True, "schema": _ID_SCHEMA}
_BATCH_ID = {"name": "batch_id", "in": "path", "required": True, "schema": _ID_SCHEMA}
_INTERPRETER_ID = {"name": "interpreter_id", "in": "path", "required": True, "schema": _ID_SCHEMA}
_STATUS_QUERY = _query(
    "status", {"type": "string", "enum": ["active", "inactive", "all"], "default": "active"}, "Which to list."
)


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _staff_write(ok: dict[str, Any], conflict: str) -> dict[str, Any]:
    return {
        **ok,
        **_errors(400, 401),
        "404": _STAFF_404,
        "409": _error(409, conflict),
        **_errors(415),
        "422": _error(422, "Fields missing or not valid, each named in `fields`."),
    }


PATHS.update(
    {
        f"{PREFIX}/buyers": {
            "get": {
                "operationId": "listBuyers",
                "tags": ["buyers"],
                "summary": "The buyer registry (staff), filtered, by company name",
                "parameters": [
                    _query("q", {"type": "string", "maxLength": 100}, "Company, contact person, e-mail or keyword."),
                    _query("country", {"type": "string", "maxLength": 2}, "Country code."),
                    _query("hs", {"type": "string", "maxLength": 6}, "HS code: buyers interested in it."),
                    _query("language", {"type": "string", "maxLength": 8}, "Language code."),
                    _STATUS_QUERY,
                    *_PAGING,
                ],
                "responses": {
                    "200": _json(_ref("BuyerList"), "One page of buyers."),
                    **_errors(401),
                    "404": _STAFF_404,
                    **_errors(422),
                },
            },
            "post": {
                "operationId": "createBuyer",
                "tags": ["buyers"],
                "summary": "Register a buyer",
                "requestBody": _body("BuyerInput"),
                "responses": _staff_write(
                    {
                        "201": {
                            **_json(_ref("Buyer"), "Registered."),
                            "headers": {"Location": {"schema": {"type": "string"}}},
                        }
                    },
                    "A buyer with this e-mail, or this company in this country, is already registered.",
                ),
            },
        },
        f"{PREFIX}/buyers/{{buyer_id}}": {
            "parameters": [_BUYER_ID],
            "get": {
                "operationId": "getBuyer",
                "tags": ["buyers"],
                "summary": "One buyer",
                "responses": {"200": _json(_ref("Buyer"), "The buyer."), **_errors(401), "404": _STAFF_404},
            },
            "patch": {
                "operationId": "updateBuyer",
                "tags": ["buyers"],
                "summary": "Change some fields of a buyer, or (de)activate it",
                "requestBody": _body("BuyerPatch"),
                "responses": _staff_write(
                    {"200": _json(_ref("Buyer"), "The buyer as saved.")},
                    "Another buyer has this e-mail, or this company in this country.",
                ),
            },
        },
        f"{PREFIX}/buyers/imports": {
            "post": {
                "operationId": "uploadBuyerImport",
                "tags": ["buyers"],
                "summary": "Upload a .csv (UTF-8, UTF-16 or CP949) or .xlsx file of buyers: its preview",
                "description": "Nothing is written to the registry: the file is kept for its uploader to confirm "
                "(POST .../confirm with the preview's digest) for two hours. Every row's errors are listed "
                "(row, column, reason), and duplicates of registered buyers or of earlier rows.",
                "requestBody": {
                    "required": True,
                    "content": {"multipart/form-data": {"schema": _ref("BuyerImportUpload")}},
                },
                "responses": {
                    "201": _json(_ref("BuyerImportPreview"), "The batch and its preview."),
                    **_errors(401),
                    "404": _STAFF_404,
                    "422": _error(422, "No file, or one that cannot be read (`fields.file` says why)."),
                },
            },
        },
        f"{PREFIX}/buyers/imports/{{batch_id}}/confirm": {
            "parameters": [_BATCH_ID],
            "post": {
                "operationId": "confirmBuyerImport",
                "tags": ["buyers"],
                "summary": "Import a previewed file: every new row, or nothing",
                "requestBody": _body("BuyerImportConfirm"),
                "responses": {
                    "200": _json(_ref("BuyerImportResult"), "Imported; duplicates skipped."),
                    **_errors(400, 401),
                    "404": _error(404, "No such batch, or not one you uploaded."),
                    "409": _error(
                        409,
                        "Already imported or discarded, expired, or the file or registry changed since the "
                        "preview (upload or preview again).",
                    ),
                    **_errors(415),
                    "422": _error(422, "No digest, or rows have errors: nothing was imported."),
                },
            },
        },
        f"{PREFIX}/interpreters": {
            "get": {
                "operationId": "listInterpreters",
                "tags": ["interpreters"],
                "summary": "The interpreter registry (staff), by name",
                "parameters": [
                    _query("q", {"type": "string", "maxLength": 100}, "Name or e-mail."),
                    _query("language", {"type": "string", "maxLength": 8}, "Language code."),
                    _STATUS_QUERY,
                    *_PAGING,
                ],
                "responses": {
                    "200": _json(_ref("InterpreterList"), "One page of interpreters."),
                    **_errors(401),
                    "404": _STAFF_404,
                    **_errors(422),
                },
            },
            "post": {
                "operationId": "createInterpreter",
                "tags": ["interpreters"],
                "summary": "Register an interpreter, with weekly hours if given",
                "requestBody": _body("InterpreterInput"),
                "responses": _staff_write(
                    {
                        "201": {
                            **_json(_ref("Interpreter"), "Registered."),
                            "headers": {"Location": {"schema": {"type": "string"}}},
                        }
                    },
                    "The e-mail is registered, or the account is linked to another interpreter.",
                ),
            },
        },
        f"{PREFIX}/interpreters/{{interpreter_id}}": {
            "parameters": [_INTERPRETER_ID],
            "get": {
                "operationId": "getInterpreter",
                "tags": ["interpreters"],
                "summary": "One interpreter, with weekly hours and dated exceptions",
                "responses": {
                    "200": _json(_ref("Interpreter"), "The interpreter."),
                    **_errors(401),
                    "404": _STAFF_404,
                },
            },
            "patch": {
                "operationId": "updateInterpreter",
                "tags": ["interpreters"],
                "summary": "Change some fields, replace the weekly hours, or (de)activate",
                "requestBody": _body("InterpreterPatch"),
                "responses": _staff_write(
                    {"200": _json(_ref("Interpreter"), "The interpreter as saved.")},
                    "The e-mail is registered, or the account is linked to another interpreter.",
                ),
            },
        },
    }
)


_DATE = {"type": "string", "format": "date"}
_NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
_DECIMAL_TEXT = {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"}
_STAGE = {"type": "string", "enum": ["follow_up", "sample_sent", "negotiating", "contracted", "dropped"]}
_KRW = {"type": "integer", "minimum": 0, "description": "Whole won."}


# --- personal data (issue 6): the caller's own data, consents, deletion requests, the access log -----

# Free text that people write about themselves or others may hold personal data: marked as such.
SCHEMAS["Interpreter"]["properties"]["exceptions"]["items"]["properties"]["note"].update(PERSONAL)

_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_INT = {"type": "integer"}
_NINT = {"type": ["integer", "null"]}
_BOOL = {"type": "boolean"}
_STRS = {"type": "array", "items": {"type": "string"}}
_P_STR = {"type": "string", **PERSONAL}
_SEOUL_TIME = {**DATE_TIME, "description": "Asia/Seoul, with its +09:00 offset."}
_NSEOUL_TIME = {**NULLABLE_DATE_TIME, "description": "Asia/Seoul, with its +09:00 offset."}
_SUBJECT_TYPE = {"type": "string", "enum": ["user", "company", "buyer", "interpreter"]}
_ERASURE_STATUS = {"type": "string", "enum": ["open", "done", "refused"]}


def _records(props: dict[str, Any], description: str) -> dict[str, Any]:
    return {"type": "array", "description": description, "items": _object(props)}


SCHEMAS.update(
    {
        "MyData": _object(
            {
                "generated_at": _SEOUL_TIME,
                "account": _object(
                    {
                        "id": _INT,
                        "name": _P_STR,
                        "email": _P_STR,
                        "phone": _P_STR,
                        "role": {"type": "string", "enum": ["sme", "staff", "admin"]},
                        "locale": _STR,
                        "timezone": _STR,
                        "email_confirmed_at": _NSEOUL_TIME,
                        "created_at": _SEOUL_TIME,
                        "last_login_at": _NSEOUL_TIME,
                    }
                ),
                "company": {
                    "description": "The SME's company with every field; null for staff, admins and SMEs without one.",
                    "anyOf": [
                        _object(
                            {
                                "id": _INT,
                                "name_ko": _STR,
                                "name_en": _STR,
                                "business_number": _STR,
                                "representative": _P_STR,
                                "address": _STR,
                                "industry": _STR,
                                "products": _STR,
                                "website": _STR,
                                "contact_name": _P_STR,
                                "contact_email": _P_STR,
                                "contact_phone": _P_STR,
                                "hs_codes": _STRS,
                                "export_markets": _STRS,
                                "target_countries": _STRS,
                                "languages": _STRS,
                                "created_at": _SEOUL_TIME,
                                "updated_at": _SEOUL_TIME,
                            }
                        ),
                        {"type": "null"},
                    ],
                },
                "interpreter_profile": {
                    "description": "The interpreter record linked to this account, if any.",
                    "anyOf": [
                        _object(
                            {
                                "id": _INT,
                                "name": _P_STR,
                                "email": _P_STR,
                                "phone": _P_STR,
                                "specialties": _STR,
                                "languages": _STRS,
                                "locale": _STR,
                                "max_sessions_per_day": _INT,
                            }
                        ),
                        {"type": "null"},
                    ],
                },
                "bookings": _records(
                    {
                        "id": _INT,
                        "round": _STR,
                        "starts_at": _SEOUL_TIME,
                        "ends_at": _SEOUL_TIME,
                        "status": _STR,
                        "products": _STR,
                        "hs_codes": _STRS,
                        "target_countries": _STRS,
                        "languages": _STRS,
                        "buyer_profile": _P_STR,
                        "notes": _P_STR,
                        "from_waitlist": _BOOL,
                        "created_at": _SEOUL_TIME,
                        "cancelled_at": _NSEOUL_TIME,
                        "buyer_company": {**_NSTR, "description": "Once the consultation is confirmed."},
                        "buyer_country": {**_NSTR, "description": "Once a buyer is proposed."},
                        "interpreter_name": {**_NSTR, **PERSONAL, "description": "Once confirmed."},
                        "meeting_url": {**_NSTR, "description": "Once confirmed."},
                    },
                    "The company's bookings with their requests, cancelled ones included. Of the buyer only "
                    "its company name and country: never its contact person, e-mail or phone.",
                ),
                "waitlist": _records(
                    {
                        "id": _INT,
                        "round": _STR,
                        "status": _STR,
                        "created_at": _SEOUL_TIME,
                        "booking_id": _NINT,
                        "products": _STR,
                        "hs_codes": _STRS,
                        "target_countries": _STRS,
                        "languages": _STRS,
                        "buyer_profile": _P_STR,
                        "notes": _P_STR,
                    },
                    "The company's waitlist entries with their requests.",
                ),
                "consultation_logs": _records(
                    {
                        "booking_id": _INT,
                        "attendance": _STR,
                        "absent_party": _NSTR,
                        "buyer_interest": _STR,
                        "products_discussed": _STR,
                        "samples_requested": _BOOL,
                        "samples_text": _STR,
                        "next_action": _STR,
                        "next_action_on": _NULLABLE_DATE,
                        "notes": _P_STR,
                        "recorded_at": _SEOUL_TIME,
                    },
                    "The logs of the company's consultations.",
                ),
                "outcomes": _records(
                    {
                        "id": _INT,
                        "booking_id": _INT,
                        "stage": _STAGE,
                        "stage_on": _DATE,
                        "created_at": _SEOUL_TIME,
                        "last_update_at": _SEOUL_TIME,
                    },
                    "The outcomes of the company's consultations.",
                ),
                "outcome_changes": _records(
                    {
                        "outcome_id": _INT,
                        "booking_id": _INT,
                        "changed_on": _DATE,
                        "from_stage": _NSTR,
                        "to_stage": _STR,
                        "note": _P_STR,
                        "at": _SEOUL_TIME,
                    },
                    "Every change of those outcomes.",
                ),
                "contracts": _records(
                    {
                        "id": _INT,
                        "booking_id": _INT,
                        "signed_on": _DATE,
                        "currency": _STR,
                        "amount": {**_DECIMAL_TEXT, "description": "Exact, in the currency."},
                        "krw_value": _KRW,
                        "rate": _DECIMAL_TEXT,
                        "rate_day": _DATE,
                        "items": _STR,
                    },
                    "The company's contracts with their KRW value.",
                ),
                "survey_responses": _records(
                    {
                        "id": _INT,
                        "booking_id": _INT,
                        "version": _INT,
                        "submitted_at": _SEOUL_TIME,
                        "locale": _STR,
                        "submitted_by_you": _BOOL,
                    },
                    "The company's answers to the SME survey.",
                ),
                "survey_answers": _records(
                    {
                        "response_id": _INT,
                        "position": _INT,
                        "question": _STR,
                        "score": _NINT,
                        "text": {**_NSTR, **PERSONAL},
                    },
                    "Each answer of those responses.",
                ),
                "consents": _records(
                    {
                        "id": _INT,
                        "subject_type": _SUBJECT_TYPE,
                        "purpose": _STR,
                        "granted": _BOOL,
                        "notice_version": _STR,
                        "at": _SEOUL_TIME,
                        "via": _STR,
                    },
                    "Every consent given or refused, by the account or for the company.",
                ),
                "erasure_requests": _records(
                    {
                        "id": _INT,
                        "subject_type": _SUBJECT_TYPE,
                        "status": _ERASURE_STATUS,
                        "requested_at": _SEOUL_TIME,
                        "note": _P_STR,
                        "handled_at": _NSEOUL_TIME,
                        "response": _P_STR,
                    },
                    "Deletion requests and how they were handled.",
                ),
            },
            description="Everything Consultroom holds about you and (an SME) your company.",
        ),
    }
)


def openapi_document(app: Flask | None = None) -> dict[str, Any]:
    """The document of /api/v1: generated by apispec from the blueprint and the schemas
    (consultroom/api/spec.py), plus the hand-written parts below. A fresh copy each time."""
    if app is None and has_app_context():
        app = current_app._get_current_object()
    document = generated_document(app) if app is not None else scratch_document()
    return merge_hand_written(document)


def merge_hand_written(document: dict[str, Any]) -> dict[str, Any]:
    """TEMPORARY, until companies, buyers and interpreters have their schemas.py: their hand-written
    paths replace what apispec guessed for those routes, and their schemas join the generated ones."""
    for path, item in PATHS.items():
        document["paths"][path] = copy.deepcopy(item)
    schemas = document["components"].setdefault("schemas", {})
    for name, schema in SCHEMAS.items():
        schemas.setdefault(name, copy.deepcopy(schema))
    return document
