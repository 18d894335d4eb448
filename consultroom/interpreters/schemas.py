"""An interpreter, declared once: the form, the API, the OpenAPI document, audit snapshots and the
privacy export read its fields, limits, messages, labels and personal-data marks here.

Weekly hours and dated exceptions have their own pages and checks (interpreters.services).
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields

from consultroom import schema_fields as sf
from consultroom.interpreters.models import Interpreter
from consultroom.interpreters.queries import STATUSES
from consultroom.languages import PARTY_LOCALES, parse_party_language
from consultroom.schemas import InSchema, OutSchema, PageArgs, page_of

MIN_DAILY, MAX_DAILY = 1, 12
MAX_LANGUAGES = 20
_CHOOSE_LOCALE = _l("Choose one of the offered languages.")
_NO_LANGUAGE = _l("Choose at least one language the interpreter works in with Korean.")
_WHOLE = _l("Give a whole number from %(low)d to %(high)d.", low=MIN_DAILY, high=MAX_DAILY)
_HHMM = {"type": ["string", "null"], "pattern": "^[0-9]{2}:[0-9]{2}$"}


def _without_korean(codes: list[str]) -> None:
    if "ko" in codes:
        raise ValidationError(_("Leave Korean out: every language listed is interpreted to and from Korean."))


class SessionsPerDay(sf.Forgiving, fields.Integer):
    """A whole number of consultations a day, as a number or as text ("4")."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
        if not re.fullmatch(r"[0-9]{1,3}", text) or not MIN_DAILY <= int(text) <= MAX_DAILY:
            raise sf.fail(_WHOLE)
        return int(text)


class AccountEmail(sf.Forgiving, fields.String):
    """The e-mail of an existing account to link; matched as accounts store it (lower case), not
    re-validated: the account exists or not. Blank: no account."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise sf.fail(sf.NOT_TEXT)
        if value.strip() and "@" not in value:
            raise sf.fail(sf.BAD_EMAIL)
        return value.strip().lower()


class InterpreterIn(sf.EntitySchema):
    """What staff write, on the form or through the API (partially on PATCH)."""

    name = sf.Text(100, required=True, collapse=True, personal=True, label=_l("Name"), description="Full name.")
    email = sf.RegistryEmail("E-mail address (unique in the registry).")
    phone = sf.Phone("Telephone number.")
    languages = sf.NamedLanguages(
        required=True,
        required_message=_NO_LANGUAGE,
        empty_message=_NO_LANGUAGE,
        max_items=MAX_LANGUAGES,
        validate=_without_korean,
        label=_l("Languages"),
        help=_l("Each is interpreted to and from Korean."),
        description="At least one language besides Korean (codes or names).",
    )
    specialties = sf.Text(
        2000,
        label=_l("Specialties"),
        help=_l("Fields and products, e.g. cosmetics, food, IT"),
        description="Fields the interpreter knows well.",
    )
    max_sessions_per_day = SessionsPerDay(
        required=True,
        required_message=_WHOLE,
        label=_l("Sessions per day at most"),
        help=_l("From 1 to 12"),
        description="1 to 12; default 4.",
        metadata={"type": ["integer", "string"]},
    )
    locale = sf.Parsed(
        parse_party_language,
        lambda _value: str(_CHOOSE_LOCALE),
        not_text=_CHOOSE_LOCALE,
        required=True,
        required_message=_CHOOSE_LOCALE,
        label=_l("Language for mails and links"),
        metadata={"enum": list(PARTY_LOCALES)},
    )
    account_email = AccountEmail(
        load_default="",
        load_only=True,
        personal=True,
        label=_l("Account (e-mail)"),
        help=_l("Optional: the e-mail of the interpreter's own account, to see assignments after logging in"),
        description="E-mail of an existing account to link; blank: no account (signed links).",
    )


TEXT_FIELDS = tuple(name for name, f in InterpreterIn._declared_fields.items() if isinstance(f, sf.Text))
# What a new interpreter starts with where staff give nothing (the form's first values, the import's blanks).
DEFAULTS = {"max_sessions_per_day": "4", "locale": "en"}
OTHER_FIELDS = ("languages", "max_sessions_per_day", "locale", "account_email")


def _hhmm(value) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


def _weekly_hours(interpreter: Interpreter) -> list[dict[str, Any]]:
    hours = sorted(interpreter.hours, key=lambda h: (h.weekday, h.start))
    return [{"weekday": h.weekday, "start": _hhmm(h.start), "end": _hhmm(h.end)} for h in hours]


def _exceptions(interpreter: Interpreter) -> list[dict[str, Any]]:
    return [
        {
            "day": e.day.isoformat(),
            "available": e.available,
            "start": _hhmm(e.start),
            "end": _hhmm(e.end),
            "note": e.note,
        }
        for e in interpreter.exceptions
    ]


_EXCEPTION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["available", "day", "end", "note", "start"],
    "properties": {
        "day": {"type": "string", "format": "date"},
        "available": {"type": "boolean"},
        "start": _HHMM,
        "end": _HHMM,
        # Free text staff write about a person's day.
        "note": {"type": "string", **sf.PERSONAL},
    },
}

# An interpreter as the API writes it; the audit log and the privacy export keep some of it.
InterpreterOut = sf.out_schema(
    "InterpreterOut",
    InterpreterIn,
    {
        "id": fields.Integer(),
        "languages": fields.List(
            fields.String(),
            metadata={"description": "ISO 639-1 codes of the languages interpreted to and from Korean."},
        ),
        "max_sessions_per_day": fields.Integer(metadata={"minimum": MIN_DAILY, "maximum": MAX_DAILY}),
        "locale": fields.String(metadata={"enum": list(PARTY_LOCALES)}),
        "active": fields.Boolean(),
        "user_id": fields.Integer(allow_none=True, metadata={"description": "The linked account, if any."}),
        "weekly_hours": fields.Function(
            _weekly_hours,
            metadata={
                "type": "array",
                "items": {"$ref": "#/components/schemas/WeeklyHours"},
                "description": "In Asia/Seoul.",
            },
        ),
        "exceptions": fields.Function(
            _exceptions,
            metadata={
                "type": "array",
                "items": _EXCEPTION,
                "description": "Dated changes: away (all day or start-end) or extra hours (available).",
            },
        ),
        "created_at": sf.when("created_at"),
        "updated_at": sf.when("updated_at"),
    },
    only=(*TEXT_FIELDS,),
)

interpreter_in = InterpreterIn()
# Each field's name as staff read it (pages and forms).
INTERPRETER_LABELS = sf.labels(interpreter_in)
interpreter_out = InterpreterOut()
_WRITTEN = (*TEXT_FIELDS, "languages", "max_sessions_per_day", "locale")
interpreter_snapshot = InterpreterOut(only=(*_WRITTEN, "active", "user_id"))
# A data subject's export (privacy.export, documented as PrivacyExport).
interpreter_export = InterpreterOut(only=("id", *_WRITTEN))


def load_interpreter(data: Any, *, partial: bool = False) -> dict[str, Any]:
    """Validate and normalise interpreter fields. Raises Invalid naming every bad field at once."""
    return sf.load(interpreter_in, data, partial=partial)


def dump_interpreter(interpreter: Interpreter) -> dict[str, Any]:
    return interpreter_out.dump(interpreter)


# --- the API's declarations (consultroom/api/interpreter_views.py) -----------------------------------

# The most ranges a week can hold: services.MAX_RANGES_PER_DAY (6) on each of 7 days.
MAX_HOURS = 7 * 6
_HOURS_SHAPE = _l("A list of weekday (0 is Monday to 6), start and end (HH:MM) for each range.")
_HHMM_TEXT = re.compile(r"[0-9]{1,2}:[0-9]{2}")


class WeeklyHoursSchema(OutSchema):
    weekday = fields.Integer(metadata={"minimum": 0, "maximum": 6, "description": "0 is Monday."})
    start = fields.String(metadata={"pattern": "^[0-9]{2}:[0-9]{2}$"})
    end = fields.String(metadata={"pattern": "^[0-9]{2}:[0-9]{2}$"})


def _range_ok(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and set(item) == {"weekday", "start", "end"}
        and isinstance(item["weekday"], int)
        and not isinstance(item["weekday"], bool)
        and 0 <= item["weekday"] <= 6
        and all(isinstance(item[k], str) and _HHMM_TEXT.fullmatch(item[k]) for k in ("start", "end"))
    )


class WeeklyHoursField(fields.Raw):
    """[{"weekday", "start", "end"}] loaded as the hours page sends it to set_weekly_hours:
    {weekday: "09:00-12:00, 13:00-18:00"}. The service checks the times, order and overlaps."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dict[int, str]:
        if not isinstance(value, list) or len(value) > MAX_HOURS or not all(map(_range_ok, value)):
            raise sf.fail(_HOURS_SHAPE)
        per_day: dict[int, list[str]] = {}
        for item in value:
            per_day.setdefault(item["weekday"], []).append(f"{item['start']}-{item['end']}")
        return {day: ", ".join(ranges) for day, ranges in per_day.items()}


class InterpreterHoursIn(InSchema):
    weekly_hours = WeeklyHoursField(
        error_messages={"null": _HOURS_SHAPE},
        metadata={
            "type": "array",
            "items": {"$ref": "#/components/schemas/WeeklyHours"},
            "description": "Replaces the weekly hours (Asia/Seoul); days left out have none.",
        },
    )


class InterpreterActiveIn(InSchema):
    active = sf.ActiveSwitch("interpreter")


class InterpreterSchema(InterpreterOut, OutSchema):
    """An interpreter as the API answers it: every property always present."""


InterpreterListSchema = page_of(InterpreterSchema)


class InterpreterInputSchema(InterpreterIn, InterpreterHoursIn):
    """The body of POST /interpreters: the fields, and weekly hours if given."""


class InterpreterPatchSchema(InterpreterIn, InterpreterHoursIn, InterpreterActiveIn):
    """Only the fields sent are changed."""


class InterpreterListArgs(PageArgs):
    q = sf.SearchText(100, metadata={"description": "Name or e-mail."})
    language = sf.SearchText(8, metadata={"description": "Language code."})
    status = sf.StatusChoice(STATUSES)
    per_page = sf.PageSize("INTERPRETERS_PER_PAGE")
