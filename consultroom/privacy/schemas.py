"""Personal data through the API: consents, deletion requests and the access log, as taken and shown.

The caller's data export (GET /me/data) is privacy.export's JSON, documented by hand beside the
registries' schemas until the export dumps through schemas too."""

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
