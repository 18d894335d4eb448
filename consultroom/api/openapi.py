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


def _error(status: int, description: str) -> dict[str, Any]:
    """A shared error response with a description for this operation (OpenAPI 3.1 allows it beside $ref)."""
    return {**_errors(status)[str(status)], "description": description}


ID_MAX = 2**31 - 1
_ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": ID_MAX}
_REQUEST_TEXT = {
    "products": (4000, "Products to present. Required (not empty)."),
    "buyer_profile": (2000, "The buyer the company would like to meet."),
    "notes": (4000, "Notes for the staff."),
}
_REQUEST_CODES = {
    "hs_codes": ("^[0-9]{6}$", "6-digit HS codes of the products to present."),
    "target_countries": ("^[A-Z]{2}$", "ISO 3166-1 alpha-2 codes of the target countries."),
    "languages": ("^[a-z]{2}$", "ISO 639-1 codes of the languages the company's staff speak."),
}


def _booking_request_schema(*, for_input: bool) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for name in ("products", "hs_codes", "target_countries", "buyer_profile", "languages", "notes"):
        if name in _REQUEST_TEXT:
            max_len, description = _REQUEST_TEXT[name]
            props[name] = (
                {"type": ["string", "null"], "maxLength": max_len, "description": description}
                if for_input
                else {"type": "string", "description": description}
            )
        else:
            pattern, description = _REQUEST_CODES[name]
            if for_input:
                props[name] = {
                    "description": description + " A list, or one string separated by commas or spaces; "
                    "at most 30 are kept.",
                    "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}, {"type": "null"}],
                }
            else:
                props[name] = {"type": "array", "items": {"type": "string", "pattern": pattern}}
                props[name]["description"] = description
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": props}
    if for_input:
        schema["required"] = ["products"]
        schema["description"] = "What the company wants from the consultation; checked as the booking form checks it."
    else:
        schema["required"] = sorted(props)
    return schema


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
    "Round": {
        "type": "object",
        "required": [
            "id",
            "title",
            "year",
            "month",
            "day",
            "status",
            "booking_opens_at",
            "booking_closes_at",
            "booking_open",
            "cancel_hours_before",
            "company_cap",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "year": {"type": "integer"},
            "month": {"type": "integer", "minimum": 1, "maximum": 12},
            "day": {"type": "string", "format": "date", "description": "The consultation day, in Asia/Seoul."},
            "status": {
                "type": "string",
                "enum": ["draft", "open", "closed", "held", "finalized", "cancelled"],
                "description": "SMEs never see drafts.",
            },
            "booking_opens_at": DATE_TIME,
            "booking_closes_at": DATE_TIME,
            "booking_open": {
                "type": "boolean",
                "description": "The round is open and now is inside its booking window: an SME can book.",
            },
            "cancel_hours_before": {
                "type": "integer",
                "description": "A company can cancel until this many hours before the slot begins.",
            },
            "company_cap": {"type": "integer", "description": "Most active bookings a company may hold."},
        },
    },
    "RoundList": _page_schema("Round"),
    "Slot": {
        "type": "object",
        "required": ["id", "round_id", "booth", "starts_at", "ends_at", "closed", "free", "booking_id"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "round_id": {"type": "integer"},
            "booth": {"type": "integer", "minimum": 1},
            "starts_at": {**DATE_TIME, "description": "UTC, ISO 8601 with the Z offset."},
            "ends_at": {**DATE_TIME, "description": "UTC, ISO 8601 with the Z offset."},
            "closed": {"type": "boolean", "description": "Closed by staff: not bookable."},
            "free": {
                "type": "boolean",
                "description": "Nobody holds the slot, it is not closed and it has not begun.",
            },
            "booking_id": {
                "type": ["integer", "null"],
                "description": "The active booking of the slot, when it is one you may see (your own; staff: all).",
            },
        },
    },
    "SlotList": {
        "type": "object",
        "required": ["round_id", "items"],
        "additionalProperties": False,
        "properties": {
            "round_id": {"type": "integer"},
            "items": {"type": "array", "items": _ref("Slot"), "description": "By start time, then booth."},
        },
    },
    "BookingRequest": _booking_request_schema(for_input=False),
    "BookingRequestInput": _booking_request_schema(for_input=True),
    "BookingInput": {
        "type": "object",
        "required": ["slot_id", "request"],
        "additionalProperties": False,
        "properties": {
            "slot_id": _ID_SCHEMA,
            "company_id": {
                **_ID_SCHEMA,
                "description": "Staff: the company to book for (required). An SME books for its own company; "
                "it may leave this out or send its own company's id.",
            },
            "request": _ref("BookingRequestInput"),
        },
    },
    "Booking": {
        "type": "object",
        "required": [
            "id",
            "round_id",
            "slot_id",
            "company_id",
            "status",
            "booth",
            "starts_at",
            "ends_at",
            "request",
            "from_waitlist",
            "created_at",
            "cancelled_at",
            "cancel_deadline",
            "cancellable",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "round_id": {"type": "integer"},
            "slot_id": {"type": "integer"},
            "company_id": {"type": "integer"},
            "status": {
                "type": "string",
                "enum": ["requested", "matched", "confirmed", "held", "no_show", "cancelled"],
            },
            "booth": {"type": "integer", "minimum": 1},
            "starts_at": DATE_TIME,
            "ends_at": DATE_TIME,
            "request": _ref("BookingRequest"),
            "from_waitlist": {"type": "boolean", "description": "Booked by promotion from the waitlist."},
            "created_at": DATE_TIME,
            "cancelled_at": NULLABLE_DATE_TIME,
            "cancel_deadline": {**DATE_TIME, "description": "Until when the company can cancel (staff: later)."},
            "cancellable": {"type": "boolean", "description": "You can cancel it now (DELETE)."},
        },
    },
    "BookingList": _page_schema("Booking"),
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
# consultroom.security refuses a NUL character in any query parameter, on every route.
_NUL_QUERY = _error(422, "A query parameter holds a NUL character; `fields` names it.")
_ROUND_ID = {"name": "round_id", "in": "path", "required": True, "schema": _ID_SCHEMA}
_BOOKING_ID = {"name": "booking_id", "in": "path", "required": True, "schema": _ID_SCHEMA}
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
    f"{PREFIX}/rounds": {
        "get": {
            "operationId": "listRounds",
            "tags": ["rounds"],
            "summary": "Rounds you may see (staff: all; an SME: all but drafts), latest consultation day first",
            "parameters": list(_PAGING),
            "responses": {
                "200": _json(_ref("RoundList"), "One page of rounds."),
                "422": _NUL_QUERY,
                **_errors(401, 422),
            },
        }
    },
    f"{PREFIX}/rounds/{{round_id}}": {
        "parameters": [_ROUND_ID],
        "get": {
            "operationId": "getRound",
            "tags": ["rounds"],
            "summary": "One round",
            "responses": {
                "200": _json(_ref("Round"), "The round."),
                "422": _NUL_QUERY,
                **_errors(401),
                "404": _error(404, "No such round, or one you may not see (SMEs: a draft)."),
            },
        },
    },
    f"{PREFIX}/rounds/{{round_id}}/slots": {
        "parameters": [_ROUND_ID],
        "get": {
            "operationId": "listRoundSlots",
            "tags": ["rounds"],
            "summary": "The slots of a round, each with whether it is free",
            "parameters": [
                _query(
                    "free",
                    {"type": "boolean"},
                    "`true`: only free slots; `false`: only taken, closed or past ones; absent: all. "
                    "Any other value is refused (422).",
                )
            ],
            "responses": {
                "200": _json(_ref("SlotList"), "The slots, by start time and booth."),
                **_errors(401),
                "404": _error(404, "No such round, or one you may not see (SMEs: a draft)."),
                "422": _error(422, "`free` is not true or false, or a query parameter holds a NUL character."),
            },
        },
    },
    f"{PREFIX}/bookings": {
        "post": {
            "operationId": "createBooking",
            "tags": ["bookings"],
            "summary": "Book a slot with a request (an SME for its company; staff for a company they name)",
            "description": "The rules of the booking page apply: an SME books only while the round is open and "
            "inside its booking window; staff may also book into a closed round. A company holds at most "
            "`company_cap` bookings per round and never two at overlapping times; a slot has one booking.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("BookingInput")}}},
            "responses": {
                "201": {
                    **_json(_ref("Booking"), "Booked; the company is told by mail."),
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                "400": _error(400, "The body is not JSON or not a JSON object, or a query parameter holds a NUL."),
                **_errors(401),
                "403": _error(403, "You cannot book: an SME without a company, or another company's id."),
                "409": _error(
                    409,
                    "Refused, the message says why: the slot is taken, closed or past; the company holds the "
                    "most bookings allowed or has one at an overlapping time; booking is not open.",
                ),
                **_errors(415),
                "422": _error(
                    422,
                    "Fields missing or not valid, each named in `fields` (request fields as `request.<name>`); "
                    "an unknown slot or company is named too.",
                ),
            },
        },
        "get": {
            "operationId": "listBookings",
            "tags": ["bookings"],
            "summary": "Bookings (an SME: its company's; staff: all), latest first, cancelled ones included",
            "parameters": [
                _query("round_id", _ID_SCHEMA, "Only the bookings of this round."),
                *_PAGING,
            ],
            "responses": {
                "200": _json(_ref("BookingList"), "One page of bookings."),
                "422": _NUL_QUERY,
                **_errors(401, 422),
            },
        },
    },
    f"{PREFIX}/bookings/{{booking_id}}": {
        "parameters": [_BOOKING_ID],
        "get": {
            "operationId": "getBooking",
            "tags": ["bookings"],
            "summary": "One booking",
            "responses": {
                "200": _json(_ref("Booking"), "The booking."),
                "422": _NUL_QUERY,
                **_errors(401),
                "404": _error(404, "No such booking, or not one of your company's."),
            },
        },
        "delete": {
            "operationId": "cancelBooking",
            "tags": ["bookings"],
            "summary": "Cancel a booking; the slot is free again and goes to the first company on the waitlist",
            "description": "A company can cancel until the round's cancellation deadline; staff also after it, "
            "until the slot begins, and the company is told by mail with the reason.",
            "parameters": [
                _query(
                    "reason",
                    {"type": "string"},
                    "Why (staff: sent to the company). Cut at 500 characters.",
                )
            ],
            "responses": {
                "204": {"description": "Cancelled."},
                "422": _NUL_QUERY,
                **_errors(401),
                "404": _error(404, "No such booking, or not one of your company's."),
                "409": _error(
                    409, "Not cancelled, the message says why: already cancelled, past the deadline, or begun."
                ),
            },
        },
    },
    f"{PREFIX}/bookings/{{booking_id}}/ics": {
        "parameters": [_BOOKING_ID],
        "get": {
            "operationId": "getBookingIcs",
            "tags": ["bookings"],
            "summary": "The booking as an iCalendar event, in Asia/Seoul (TZID with its VTIMEZONE)",
            "responses": {
                "200": {
                    "description": "The same .ics file as the web page's calendar link.",
                    "headers": {"Content-Disposition": {"schema": {"type": "string"}}},
                    "content": {"text/calendar": {"schema": {"type": "string"}}},
                },
                "422": _NUL_QUERY,
                **_errors(401),
                "404": _error(404, "No such booking, or not one of your company's."),
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
            "tags": [{"name": n} for n in ("tokens", "account", "companies", "rounds", "bookings", "meta")],
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
