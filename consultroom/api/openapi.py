"""The OpenAPI 3.1 document of /api/v1. tests/integration/test_api_openapi.py keeps it true to the routes
and to the responses they actually send."""

from __future__ import annotations

import copy
from typing import Any

from consultroom.api.tokens import NAME_MAX
from consultroom.companies.services import MAX_LIST, TEXT_FIELDS

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

_TEXT_DESCRIPTIONS = {
    "name_ko": "Company name in Korean.",
    "name_en": "Company name in English.",
    "representative": "Name of the representative (대표자).",
    "address": "Postal address.",
    "industry": "Industry, free text.",
    "products": "Main products, free text.",
    "website": "Web site, starting with http:// or https://.",
    "contact_name": "Contact person.",
    "contact_email": "Contact e-mail address.",
    "contact_phone": "Contact telephone number.",
}
_PERSONAL_FIELDS = {"representative", "contact_name", "contact_email", "contact_phone"}
_CODE_LISTS = {
    "hs_codes": ("^[0-9]{6}$", "6-digit HS codes of the products."),
    "export_markets": ("^[A-Z]{2}$", "ISO 3166-1 alpha-2 codes of current export markets."),
    "target_countries": ("^[A-Z]{2}$", "ISO 3166-1 alpha-2 codes of target countries."),
    "languages": ("^[a-z]{2}$", "ISO 639-1 codes of the languages the company works in."),
}


def _text_property(name: str, *, for_input: bool) -> dict[str, Any]:
    max_len, _required = TEXT_FIELDS[name]
    prop: dict[str, Any] = {"type": "string", "description": _TEXT_DESCRIPTIONS[name]}
    if for_input:
        # Input may be null (same as ""); the stored value is always text.
        prop = {"type": ["string", "null"], "maxLength": max_len, "description": _TEXT_DESCRIPTIONS[name]}
    if name in _PERSONAL_FIELDS:
        prop.update(PERSONAL)
    return prop


def _company_schema() -> dict[str, Any]:
    props: dict[str, Any] = {
        "id": {"type": "integer"},
        "business_number": {
            "type": "string",
            "pattern": "^[0-9]{10}$",
            "description": "Business registration number, 10 digits without dashes.",
        },
    }
    props.update({name: _text_property(name, for_input=False) for name in TEXT_FIELDS})
    for name, (pattern, description) in _CODE_LISTS.items():
        props[name] = {"type": "array", "items": {"type": "string", "pattern": pattern}, "description": description}
    props["created_at"] = DATE_TIME
    props["updated_at"] = DATE_TIME
    return {"type": "object", "required": sorted(props), "additionalProperties": False, "properties": props}


def _company_input_schema(*, partial: bool) -> dict[str, Any]:
    props: dict[str, Any] = {
        "business_number": {
            "type": "string",
            "description": "Business registration number with a correct check digit; dashes and spaces allowed.",
            "examples": ["220-81-62517"],
        }
    }
    props.update({name: _text_property(name, for_input=True) for name in TEXT_FIELDS})
    for name, (_pattern, description) in _CODE_LISTS.items():
        props[name] = {
            "description": description + " A list, or one string separated by commas or spaces.",
            "anyOf": [
                {"type": "array", "maxItems": MAX_LIST, "items": {"type": "string"}},
                {"type": "string"},
                {"type": "null"},
            ],
        }
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": props}
    if partial:
        schema["description"] = "Only the fields sent are changed; a list sent replaces the stored list."
    else:
        schema["required"] = ["business_number", "name_ko", "representative"]
    return schema


SCHEMAS: dict[str, Any] = {
    "Error": {
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
    },
    "TokenRequest": {
        "type": "object",
        "required": ["email", "password"],
        "additionalProperties": False,
        "properties": {
            "email": {"type": "string", "format": "email", "maxLength": 254, **PERSONAL},
            "password": {"type": "string", "format": "password", "maxLength": 1024, "writeOnly": True},
            "name": {"type": ["string", "null"], "maxLength": NAME_MAX, "description": "A label for the token."},
        },
    },
    "Token": {
        "type": "object",
        "description": "A new token. `token` is shown this once; only its SHA-256 is stored.",
        "required": ["token", "id", "prefix", "name", "expires_at"],
        "additionalProperties": False,
        "properties": {
            "token": {"type": "string", "description": "Send as `Authorization: Bearer <token>`."},
            "id": {"type": "integer"},
            "prefix": {"type": "string", "description": "The first characters, to tell tokens apart."},
            "name": {"type": "string"},
            "expires_at": DATE_TIME,
        },
    },
    "TokenInfo": {
        "type": "object",
        "required": ["id", "prefix", "name", "created_at", "expires_at", "last_used_at", "revoked_at", "current"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "prefix": {"type": "string"},
            "name": {"type": "string"},
            "created_at": DATE_TIME,
            "expires_at": DATE_TIME,
            "last_used_at": {**NULLABLE_DATE_TIME, "description": "Updated at most once a minute."},
            "revoked_at": NULLABLE_DATE_TIME,
            "current": {"type": "boolean", "description": "True for the token this request was made with."},
        },
    },
    "TokenList": {
        "type": "object",
        "required": ["items"],
        "additionalProperties": False,
        "properties": {"items": {"type": "array", "items": _ref("TokenInfo")}},
    },
    "Me": {
        "type": "object",
        "required": ["id", "email", "name", "role", "locale", "timezone", "company_id"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "email": {"type": "string", "format": "email", **PERSONAL},
            "name": {"type": "string", **PERSONAL},
            "role": {"type": "string", "enum": ["sme", "staff", "admin"]},
            "locale": {"type": "string", "enum": ["ko", "en"]},
            "timezone": {"type": "string", "examples": ["Asia/Seoul"]},
            "company_id": {"type": ["integer", "null"]},
        },
    },
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

_ERROR_JSON = {"application/json": {"schema": _ref("Error")}}
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

_ID = {"type": "integer", "minimum": 1}
_COMPANY_ID = {"name": "company_id", "in": "path", "required": True, "schema": _ID}
_TOKEN_ID = {"name": "token_id", "in": "path", "required": True, "schema": _ID}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


PATHS: dict[str, Any] = {
    f"{PREFIX}/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "tags": ["meta"],
            "summary": "This document",
            "security": [],
            "responses": {"200": _json({"type": "object"}, "The OpenAPI document.")},
        }
    },
    f"{PREFIX}/tokens": {
        "post": {
            "operationId": "createToken",
            "tags": ["tokens"],
            "summary": "Log in: exchange e-mail and password for a bearer token",
            "description": "Rate-limited per IP and per account like the web login; only failures count.",
            "security": [],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("TokenRequest")}}},
            "responses": {
                "201": _json(_ref("Token"), "The token, shown only this once."),
                **_errors(400, 401, 415, 422, 429),
            },
        },
        "get": {
            "operationId": "listTokens",
            "tags": ["tokens"],
            "summary": "Your tokens (never their secrets)",
            "responses": {"200": _json(_ref("TokenList"), "Your tokens, newest first."), **_errors(401)},
        },
    },
    f"{PREFIX}/tokens/current": {
        "delete": {
            "operationId": "revokeCurrentToken",
            "tags": ["tokens"],
            "summary": "Log out: revoke the token this request uses",
            "responses": {"204": {"description": "Revoked."}, **_errors(401)},
        }
    },
    f"{PREFIX}/tokens/{{token_id}}": {
        "parameters": [_TOKEN_ID],
        "delete": {
            "operationId": "revokeToken",
            "tags": ["tokens"],
            "summary": "Revoke one of your tokens",
            "responses": {"204": {"description": "Revoked (also when it already was)."}, **_errors(401, 404)},
        },
    },
    f"{PREFIX}/me": {
        "get": {
            "operationId": "getMe",
            "tags": ["account"],
            "summary": "The user the token belongs to",
            "responses": {"200": _json(_ref("Me"), "You."), **_errors(401)},
        }
    },
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


def openapi_document() -> dict[str, Any]:
    """A fresh copy each time, so no caller can change what the next one gets."""
    return copy.deepcopy(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "Consultroom API",
                "version": "1.0.0",
                "description": (
                    "Get a token with POST /api/v1/tokens, then send `Authorization: Bearer <token>`. "
                    'Errors are `{"error": {"code", "message", "fields"}}`. Properties marked '
                    "`x-personal-data` hold personal data."
                ),
            },
            "servers": [{"url": "/"}],
            "security": [{"bearerAuth": []}],
            "tags": [{"name": n} for n in ("tokens", "account", "companies", "meta")],
            "paths": PATHS,
            "components": {
                "securitySchemes": {
                    "bearerAuth": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "A token from POST /api/v1/tokens.",
                    }
                },
                "schemas": SCHEMAS,
                "responses": RESPONSES,
            },
        }
    )
