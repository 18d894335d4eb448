"""Accounts and their API tokens as the API takes and shows them."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validates_schema

from consultroom.schemas import PERSONAL, InSchema, OutSchema, Text, UtcDateTime, check_storable

TOKEN_NAME_MAX = 100  # a label, not about a person
_USE_AT_MOST = _l("Use at most %(n)d characters.")


class TokenRequestSchema(InSchema):
    email = Text(254, required=True, blank_is_missing=True, long=_USE_AT_MOST, metadata={"format": "email", **PERSONAL})
    password = Text(
        1024, required=True, blank_is_missing=True, long=_USE_AT_MOST, metadata={"format": "password"}, load_only=True
    )
    name = Text(TOKEN_NAME_MAX, long=_USE_AT_MOST, metadata={"description": "A label for the token."})

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _storable(self, _data: dict[str, Any], original: Any, **_kwargs: Any) -> None:
        # What no database could store is named alone, before anything else is said of the body.
        if isinstance(original, dict):
            check_storable(original)


class TokenSchema(OutSchema):
    """A new token. `token` is shown this once; only its SHA-256 is stored."""

    token = fields.String(metadata={"description": "Send as `Authorization: Bearer <token>`."})
    id = fields.Integer()
    prefix = fields.String(metadata={"description": "The first characters, to tell tokens apart."})
    name = fields.String()
    expires_at = UtcDateTime()


class TokenInfoSchema(OutSchema):
    """A token as listed: never the secret nor its hash."""

    id = fields.Integer()
    prefix = fields.String()
    name = fields.String()
    created_at = UtcDateTime()
    expires_at = UtcDateTime()
    last_used_at = UtcDateTime(allow_none=True, metadata={"description": "Updated at most once a minute."})
    revoked_at = UtcDateTime(allow_none=True)
    current = fields.Boolean(metadata={"description": "True for the token this request was made with."})


class TokenListSchema(OutSchema):
    items = fields.List(fields.Nested(TokenInfoSchema))


class MeSchema(OutSchema):
    id = fields.Integer()
    email = fields.String(metadata={"format": "email", **PERSONAL})
    name = fields.String(metadata=PERSONAL)
    role = fields.String(metadata={"enum": ["sme", "staff", "admin"]})
    locale = fields.String(metadata={"enum": ["ko", "en"]})
    timezone = fields.String(metadata={"examples": ["Asia/Seoul"]})
    company_id = fields.Integer(allow_none=True)
