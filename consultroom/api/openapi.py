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
from consultroom.companies.schemas import CompanyIn, CompanyOut
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


SCHEMAS: dict[str, Any] = {}


def _object(props: dict[str, Any], *, required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": props, **extra}
    schema["required"] = sorted(props) if required is None else required
    return schema


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

_DATE = {"type": "string", "format": "date"}
_NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
_DECIMAL_TEXT = {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"}
_STAGE = {"type": "string", "enum": ["follow_up", "sample_sent", "negotiating", "contracted", "dropped"]}
_KRW = {"type": "integer", "minimum": 0, "description": "Whole won."}


# --- personal data (issue 6): the caller's own data, consents, deletion requests, the access log -----

# Free text that people write about themselves or others may hold personal data: marked as such.

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
    schemas = document["components"].setdefault("schemas", {})
    for name, schema in SCHEMAS.items():
        schemas.setdefault(name, copy.deepcopy(schema))
    return document
