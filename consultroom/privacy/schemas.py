"""Personal data through the API: consents, deletion requests and the access log, as taken and shown,
and the caller's data export (GET /me/data) as privacy.export writes it."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema

from consultroom.privacy.access_log import ACTIONS
from consultroom.privacy.erasure import NOTE_MAX
from consultroom.privacy.models import SUBJECT_TYPES
from consultroom.schemas import PERSONAL, Day, Id, InSchema, OutSchema, PageArgs, StrictBool, Text, UtcDateTime, page_of

_YES_OR_NO = _l("Use true or false.")


class ConsentSchema(OutSchema):
    """Dumps a row of api.privacy_views.consent_row: the record and the notice's version now."""

    subject_type = fields.String(attribute="record.subject_type", metadata={"enum": ["user", "company"]})
    purpose = fields.String(
        attribute="record.purpose", metadata={"examples": ["account", "company_profile", "marketing_email"]}
    )
    granted = fields.Boolean(attribute="record.granted")
    notice_version = fields.String(
        attribute="record.notice_version", metadata={"description": "The notice version it was given under."}
    )
    current_notice_version = fields.String(allow_none=True, metadata={"description": "The notice's version now."})
    at = UtcDateTime(attribute="record.at")
    via = fields.String(attribute="record.via", metadata={"enum": ["web", "api", "link"]})


class ConsentListSchema(OutSchema):
    items = fields.List(fields.Nested(ConsentSchema))


class ConsentInputSchema(InSchema):
    granted = StrictBool(json=True, required=True, error_messages={"required": _YES_OR_NO, "null": _YES_OR_NO})


class ErasureRequestInputSchema(InSchema):
    note = Text(NOTE_MAX, metadata={"description": "Optional.", **PERSONAL})


class ErasureRequestSchema(OutSchema):
    id = fields.Integer()
    subject_type = fields.String(metadata={"enum": list(SUBJECT_TYPES)})
    status = fields.String(metadata={"enum": ["open", "done", "refused"]})
    requested_at = UtcDateTime()
    note = fields.String(metadata=PERSONAL)
    handled_at = UtcDateTime(allow_none=True)
    response = fields.String(metadata={"description": "The staff's answer once handled.", **PERSONAL})


class AccessActorSchema(OutSchema):
    inline = True
    id = fields.Integer()
    name = fields.String(metadata=PERSONAL)
    email = fields.String(metadata=PERSONAL)


class AccessLogEntrySchema(OutSchema):
    """Dumps {"row", "actor"}: an access and the staff member or admin who made it (None once gone)."""

    id = fields.Integer(attribute="row.id")
    at = UtcDateTime(attribute="row.at")
    actor = fields.Nested(
        AccessActorSchema,
        allow_none=True,
        metadata={"description": "The staff member or admin; null once their account is gone."},
    )
    subject_type = fields.String(attribute="row.subject_type", metadata={"enum": list(SUBJECT_TYPES)})
    subject_id = fields.Integer(
        attribute="row.subject_id", metadata={"description": "Whose data: the id of that user, company, ..."}
    )
    action = fields.String(attribute="row.action", metadata={"enum": list(ACTIONS)})
    what = fields.String(
        attribute="row.what", metadata={"description": "The page, export or API operation, e.g. companies.detail."}
    )
    via = fields.String(attribute="row.via", metadata={"enum": ["web", "api"]})


AccessLogListSchema = page_of(AccessLogEntrySchema, name="AccessLogListSchema")


def _choice(choices: Any, message: Any) -> fields.String:
    # "" is no filter, as on the web page; anything else must be one of the choices.
    return fields.String(validate=validate.OneOf(["", *choices], error=message), metadata={"enum": list(choices)})


class AccessLogArgs(PageArgs):
    """The access log page's filters."""

    actor_id = Id(metadata={"description": "Only this staff member's or admin's accesses."})
    subject_type = _choice(SUBJECT_TYPES, _l("Choose user, company, buyer or interpreter."))
    subject_id = Id(metadata={"description": "Only about this person (with subject_type)."})
    action = _choice(ACTIONS, _l("Choose view or export."))
    from_ = Day(data_key="from", metadata={"description": "From this day (Asia/Seoul)."})
    to = Day(metadata={"description": "Up to this day, included (Asia/Seoul)."})

    @validates_schema(skip_on_field_errors=True)
    def _in_order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("from_"), data.get("to")
        if start is not None and end is not None and end < start:
            raise ValidationError(str(_l("The end date is before the start date.")), "to")


# --- the caller's data export (GET /me/data): privacy.export's JSON ---------------------------------

_SEOUL = {"description": "Asia/Seoul, with its +09:00 offset."}


def _seoul(*, allow_none: bool = False) -> fields.DateTime:
    return fields.DateTime(allow_none=allow_none, metadata=_SEOUL)


def _personal(*, allow_none: bool = False, **meta: Any) -> fields.String:
    return fields.String(allow_none=allow_none, metadata={**PERSONAL, **meta})


def _codes() -> fields.List:
    return fields.List(fields.String())


def _part(name: str, declared: dict[str, fields.Field]) -> type[OutSchema]:
    """One part of the export, written where it is used (not a component of its own)."""
    schema = OutSchema.from_dict(declared, name=name)
    schema.inline = True
    return schema


def _records(name: str, description: str, declared: dict[str, fields.Field]) -> fields.List:
    return fields.List(fields.Nested(_part(name, declared)), metadata={"description": description})


_STAGE = {"enum": ["follow_up", "sample_sent", "negotiating", "contracted", "dropped"]}
_SUBJECT = {"enum": list(SUBJECT_TYPES)}
_DECIMAL = {"pattern": "^-?[0-9]+(\\.[0-9]+)?$"}
_REQUEST = {
    "products": fields.String(),
    "hs_codes": _codes(),
    "target_countries": _codes(),
    "languages": _codes(),
    "buyer_profile": _personal(),
    "notes": _personal(),
}


class MyDataSchema(OutSchema):
    """Everything Consultroom holds about you and (an SME) your company."""

    generated_at = _seoul()
    account = fields.Nested(
        _part(
            "MyDataAccount",
            {
                "id": fields.Integer(),
                "name": _personal(),
                "email": _personal(),
                "phone": _personal(),
                "role": fields.String(metadata={"enum": ["sme", "staff", "admin"]}),
                "locale": fields.String(),
                "timezone": fields.String(),
                "email_confirmed_at": _seoul(allow_none=True),
                "created_at": _seoul(),
                "last_login_at": _seoul(allow_none=True),
            },
        )
    )
    company = fields.Nested(
        _part(
            "MyDataCompany",
            {
                "id": fields.Integer(),
                "name_ko": fields.String(),
                "name_en": fields.String(),
                "business_number": fields.String(),
                "representative": _personal(),
                "address": fields.String(),
                "industry": fields.String(),
                "products": fields.String(),
                "website": fields.String(),
                "contact_name": _personal(),
                "contact_email": _personal(),
                "contact_phone": _personal(),
                "hs_codes": _codes(),
                "export_markets": _codes(),
                "target_countries": _codes(),
                "languages": _codes(),
                "created_at": _seoul(),
                "updated_at": _seoul(),
            },
        ),
        allow_none=True,
        metadata={"description": "The SME's company with every field; null for staff, admins and SMEs without one."},
    )
    interpreter_profile = fields.Nested(
        _part(
            "MyDataInterpreter",
            {
                "id": fields.Integer(),
                "name": _personal(),
                "email": _personal(),
                "phone": _personal(),
                "specialties": fields.String(),
                "languages": _codes(),
                "locale": fields.String(),
                "max_sessions_per_day": fields.Integer(),
            },
        ),
        allow_none=True,
        metadata={"description": "The interpreter record linked to this account, if any."},
    )
    bookings = _records(
        "MyDataBooking",
        "The company's bookings with their requests, cancelled ones included. Of the buyer only its company "
        "name and country: never its contact person, e-mail or phone.",
        {
            "id": fields.Integer(),
            "round": fields.String(),
            "starts_at": _seoul(),
            "ends_at": _seoul(),
            "status": fields.String(),
            **_REQUEST,
            "from_waitlist": fields.Boolean(),
            "created_at": _seoul(),
            "cancelled_at": _seoul(allow_none=True),
            "buyer_company": fields.String(
                allow_none=True, metadata={"description": "Once the consultation is confirmed."}
            ),
            "buyer_country": fields.String(allow_none=True, metadata={"description": "Once a buyer is proposed."}),
            "interpreter_name": _personal(allow_none=True, description="Once confirmed."),
            "meeting_url": fields.String(allow_none=True, metadata={"description": "Once confirmed."}),
        },
    )
    waitlist = _records(
        "MyDataWaitlistEntry",
        "The company's waitlist entries with their requests.",
        {
            "id": fields.Integer(),
            "round": fields.String(),
            "status": fields.String(),
            "created_at": _seoul(),
            "booking_id": fields.Integer(allow_none=True),
            **_REQUEST,
        },
    )
    consultation_logs = _records(
        "MyDataConsultationLog",
        "The logs of the company's consultations.",
        {
            "booking_id": fields.Integer(),
            "attendance": fields.String(),
            "absent_party": fields.String(allow_none=True),
            "buyer_interest": fields.String(),
            "products_discussed": fields.String(),
            "samples_requested": fields.Boolean(),
            "samples_text": fields.String(),
            "next_action": fields.String(),
            "next_action_on": fields.Date(allow_none=True),
            "notes": _personal(),
            "recorded_at": _seoul(),
        },
    )
    outcomes = _records(
        "MyDataOutcome",
        "The outcomes of the company's consultations.",
        {
            "id": fields.Integer(),
            "booking_id": fields.Integer(),
            "stage": fields.String(metadata=_STAGE),
            "stage_on": fields.Date(),
            "created_at": _seoul(),
            "last_update_at": _seoul(),
        },
    )
    outcome_changes = _records(
        "MyDataOutcomeChange",
        "Every change of those outcomes.",
        {
            "outcome_id": fields.Integer(),
            "booking_id": fields.Integer(),
            "changed_on": fields.Date(),
            "from_stage": fields.String(allow_none=True),
            "to_stage": fields.String(),
            "note": _personal(),
            "at": _seoul(),
        },
    )
    contracts = _records(
        "MyDataContract",
        "The company's contracts with their KRW value.",
        {
            "id": fields.Integer(),
            "booking_id": fields.Integer(),
            "signed_on": fields.Date(),
            "currency": fields.String(),
            "amount": fields.String(metadata={**_DECIMAL, "description": "Exact, in the currency."}),
            "krw_value": fields.Integer(metadata={"minimum": 0, "description": "Whole won."}),
            "rate": fields.String(metadata=_DECIMAL),
            "rate_day": fields.Date(),
            "items": fields.String(),
        },
    )
    survey_responses = _records(
        "MyDataSurveyResponse",
        "The company's answers to the SME survey.",
        {
            "id": fields.Integer(),
            "booking_id": fields.Integer(),
            "version": fields.Integer(),
            "submitted_at": _seoul(),
            "locale": fields.String(),
            "submitted_by_you": fields.Boolean(),
        },
    )
    survey_answers = _records(
        "MyDataSurveyAnswer",
        "Each answer of those responses.",
        {
            "response_id": fields.Integer(),
            "position": fields.Integer(),
            "question": fields.String(),
            "score": fields.Integer(allow_none=True),
            "text": _personal(allow_none=True),
        },
    )
    consents = _records(
        "MyDataConsent",
        "Every consent given or refused, by the account or for the company.",
        {
            "id": fields.Integer(),
            "subject_type": fields.String(metadata=_SUBJECT),
            "purpose": fields.String(),
            "granted": fields.Boolean(),
            "notice_version": fields.String(),
            "at": _seoul(),
            "via": fields.String(),
        },
    )
    erasure_requests = _records(
        "MyDataErasureRequest",
        "Deletion requests and how they were handled.",
        {
            "id": fields.Integer(),
            "subject_type": fields.String(metadata=_SUBJECT),
            "status": fields.String(metadata={"enum": ["open", "done", "refused"]}),
            "requested_at": _seoul(),
            "note": _personal(),
            "handled_at": _seoul(allow_none=True),
            "response": _personal(),
        },
    )
