"""Fields and messages shared by the entity schemas (companies, buyers and interpreters).

Each field carries its limits, its messages (said once, here), and in `metadata` the form label
(`label`), the form help (`help`), the API description (`description`, English as the API document
is) and the personal-data mark (`x-personal-data`). Forms, imports, the API and the OpenAPI
document all read them from the schema. Inputs are forgiving as before: None reads as "", lists
may come as one string separated by commas, full-width characters typed with a Korean IME count
as ASCII.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time
from functools import cache
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields

from consultroom.buyers import validation as bv
from consultroom.companies import validation as cv
from consultroom.errors import Invalid
from consultroom.schemas import MAX_PER_PAGE, StrictBool, WholeNumber
from consultroom.web_address import normalize_website

PERSONAL = {"x-personal-data": True}
MAX_LIST = 30

# The messages every entity shares. "Use at most … characters." is the one wording of the length
# rule (the API's outcome and survey modules also say "At most … characters.").
REQUIRED = _l("This field is required.")
NOT_TEXT = _l("Must be text.")
NOT_CODES = _l("Must be a list of codes.")
UNKNOWN = _l("Unknown field.")
BAD_EMAIL = _l("Not a valid e-mail address.")


def too_long(n: int) -> str:
    return _("Use at most %(n)d characters.", n=n)


def too_many(n: int) -> str:
    return _("At most %(n)d entries.", n=n)


def fail(message: Any) -> ValidationError:
    """A field error in the current language (lazy messages are rendered now)."""
    return ValidationError(str(message))


class EntitySchema(Schema):
    """Unknown fields are refused and named, as the API always did."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": UNKNOWN}


def load(schema: Schema, data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate and normalise through a schema; Invalid names every bad field at once."""
    try:
        return schema.load(data, partial=partial)
    except ValidationError as exc:
        raise Invalid(_("Please correct the marked fields."), fields=field_errors(exc.messages)) from None


def field_errors(messages: Any) -> dict[str, list[str]]:
    """marshmallow's error dict as the API's `fields`: name -> list of messages."""
    if not isinstance(messages, dict):
        return {"_schema": [str(m) for m in _flat(messages)]}
    return {str(name): [str(m) for m in _flat(value)] for name, value in messages.items()}


def _flat(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [m for v in value.values() for m in _flat(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _flat(v)]
    return [value]


def label(schema: Schema, name: str) -> Any:
    """The field's label (lazy), for forms and templates."""
    return schema.fields[name].metadata.get("label", name)


def labels(schema: Schema) -> dict[str, Any]:
    """Every field's label (lazy: rendered in the reader's language), for templates."""
    return {name: label(schema, name) for name in schema.fields}


def help_text(schema: Schema, name: str) -> Any:
    return schema.fields[name].metadata.get("help", "")


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as every API date is written."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _meta(kwargs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    metadata = dict(kwargs.pop("metadata", None) or {})
    for key in ("label", "help", "description"):
        if key in kwargs:
            metadata[key] = kwargs.pop(key)
    if kwargs.pop("personal", False):
        metadata.update(PERSONAL)
    metadata.update(extra)
    return metadata


class Forgiving(fields.Field):
    """A field for which None means blank (forms and imports send "", JSON clients null)."""

    blank: Any = ""

    def __init__(self, *, required: bool = False, required_message: Any = REQUIRED, **kwargs: Any):
        kwargs.setdefault("allow_none", True)
        kwargs["metadata"] = _meta(kwargs)
        super().__init__(required=required, error_messages={"required": required_message}, **kwargs)

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any) -> Any:
        # None goes through _deserialize like "" (marshmallow would return None untouched).
        return super().deserialize(self.blank if value is None else value, attr, data, **kwargs)


class Text(Forgiving, fields.String):
    """Trimmed text up to `max_length` characters; `collapse` also folds inner spaces and full-width
    characters (names, e-mails); `english` refuses Hangul (what buyers read); `name` refuses "..".
    """

    def __init__(
        self,
        max_length: int,
        *,
        required: bool = False,
        collapse: bool = False,
        english: bool = False,
        name: bool = False,
        **kwargs: Any,
    ):
        if not required:
            kwargs.setdefault("load_default", "")
        kwargs.setdefault("metadata", {})
        kwargs["metadata"] = {**kwargs["metadata"], "maxLength": max_length}
        super().__init__(required=required, **kwargs)
        self.max_length, self.must, self.collapse = max_length, required, collapse
        self.english, self.name = english, name

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise fail(NOT_TEXT)
        text = bv.collapse(value) if self.collapse else value.strip()
        if self.must and not text:
            raise fail(REQUIRED)
        if len(text) > self.max_length:
            raise fail(too_long(self.max_length))
        if self.english and cv.has_hangul(text):
            raise fail(_l("Write this in English: it contains Korean characters."))
        # "Co., Ltd.." in a mail (issue 13): a name ends in at most one period.
        if self.name and text.endswith(".."):
            raise fail(_l("A name ends in at most one period."))
        return self.tidy(text)

    def tidy(self, text: str) -> str:
        return text


class Email(Text):
    """An e-mail address, normalised (the domain in lower case; `lower` folds the whole address)."""

    def __init__(self, max_length: int = 254, *, lower: bool = False, **kwargs: Any):
        kwargs.setdefault("collapse", lower)
        super().__init__(max_length, **kwargs)
        self.lower = lower

    def tidy(self, text: str) -> str:
        if not text:
            return text
        normal = normal_email(text)
        if normal is None:
            raise fail(BAD_EMAIL)
        return normal.lower() if self.lower else normal


def normal_email(value: str) -> str | None:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


class Website(Text):
    """A web address; a bare domain becomes https://… (consultroom.web_address)."""

    def __init__(self, max_length: int = 300, **kwargs: Any):
        super().__init__(max_length, **kwargs)

    def tidy(self, text: str) -> str:
        address, problem = normalize_website(text)
        if problem:
            raise fail(problem)
        return address


class Parsed(Forgiving, fields.String):
    """A value as staff type it ("미국", "Japanese", "asia/seoul"), read by `parse` (None: not one).

    A blank is refused when `required`, becomes `blank_value` when one is given, else goes to
    `parse` like any text. `bad` says what is wrong, with the value as typed.
    """

    def __init__(
        self,
        parse: Callable[[str], Any],
        bad: Callable[[str], str],
        *,
        blank_value: Any = None,
        not_text: Any = NOT_TEXT,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.parse, self.bad, self.blank_value, self.not_text = parse, bad, blank_value, not_text

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str):
            raise fail(self.not_text)
        if not value.strip():
            if self.required:
                raise fail(self.error_messages["required"])
            if self.blank_value is not None:
                return self.blank_value
        parsed = self.parse(value)
        if parsed is None:
            raise fail(self.bad(value.strip()))
        return parsed


class TimeOfDay(Forgiving, fields.Field):
    """A time of day as typed ("9", "18:30", "6pm", "오후 6시"); blank is `default`."""

    def __init__(self, default: time, **kwargs: Any):
        super().__init__(load_default=default, **kwargs)
        self.default = default
        self.metadata.setdefault("type", "string")  # null too: apispec adds it (allow_none)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> time:
        if isinstance(value, str) and not value.strip():
            return self.default
        parsed = bv.parse_time(value) if isinstance(value, str | time) else None
        if parsed is None:
            raise fail(_l("Not a time of day such as 09:00."))
        return parsed


class Weekdays(Forgiving, fields.Field):
    """Weekdays (0 = Monday) as [0, 1], "0,1,2", "Mon-Fri" or "월~금"; blank is Monday to Friday."""

    WORKWEEK = (0, 1, 2, 3, 4)

    def __init__(self, **kwargs: Any):
        super().__init__(load_default=lambda: list(self.WORKWEEK), **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[int]:
        if isinstance(value, str) and not value.strip():
            return list(self.WORKWEEK)
        if value == []:
            raise fail(_l("Choose at least one day."))
        days = bv.parse_days(value) if isinstance(value, str | list) else None
        if days is None:
            raise fail(_l("Give weekdays such as Mon-Fri or 0,1,2 (0 is Monday)."))
        return days


class BusinessNumber(Forgiving, fields.String):
    """A Korean business registration number: 10 digits with a correct check digit; dashes,
    spaces and full-width digits are accepted and dropped."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise fail(REQUIRED)
        number = cv.normalize_business_number(value)
        if not cv.business_number_ok(number):
            raise fail(_l("Not a valid business registration number (10 digits with a correct check digit)."))
        return number


class CodeList(Forgiving, fields.Field):
    """A list of codes, given as a list of strings or one string separated by commas or spaces.

    `parse` turns one entry into its code (None when it is not one); `bad_message` names the bad
    entries as `shown` writes them (normalised). Duplicates are dropped, the given order kept; None
    (read as "") is no entry.
    """

    def __init__(
        self,
        parse: Callable[[str], str | None],
        bad_message: Callable[[str], str],
        *,
        split: Callable[[str], list[str]] | None = None,
        shown: Callable[[str], str] = str,
        max_items: int = MAX_LIST,
        empty_message: Any = None,
        out_pattern: str | None = None,
        **kwargs: Any,
    ):
        if not kwargs.get("required"):
            kwargs.setdefault("load_default", list)
        super().__init__(**kwargs)
        self.metadata.setdefault(
            "anyOf",
            [
                {"type": "array", "maxItems": max_items, "items": {"type": "string"}},
                {"type": "string"},
                {"type": "null"},
            ],
        )
        self.parse, self.bad_message, self.split, self.shown = parse, bad_message, split, shown
        self.max_items, self.empty_message, self.out_pattern = max_items, empty_message, out_pattern

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[str]:
        entries = self._entries(value)
        if not entries and self.empty_message is not None:
            raise fail(self.empty_message)
        if len(entries) > self.max_items:
            raise fail(too_many(self.max_items))
        parsed = [(entry, self.parse(entry)) for entry in entries]
        bad = [self.shown(entry) for entry, code in parsed if code is None]
        if bad:
            raise fail(self.bad_message(", ".join(bad)))
        return list(dict.fromkeys(code for _entry, code in parsed if code))

    def _entries(self, value: Any) -> list[str]:
        if isinstance(value, str):
            return self.split(value) if self.split else cv.split_codes(value)
        if isinstance(value, list) and all(isinstance(x, str) for x in value):
            return [x.strip() for x in value if x and x.strip()]
        raise fail(NOT_CODES)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> list[str]:
        return list(value or [])


def split_names(raw: str) -> list[str]:
    """Language names may contain spaces ("Brazilian Portuguese"), so only commas and the like separate."""
    return [p.strip() for p in re.split(r"[,;/]+", raw) if p.strip()]


def hs6(entry: str) -> str | None:
    code = cv.normalize_hs_code(entry)
    return code if cv.hs_code_ok(code) else None


def country_code(entry: str) -> str | None:
    return entry.upper() if cv.country_ok(entry) else None


def language_code(entry: str) -> str | None:
    return entry.lower() if cv.language_ok(entry) else None


def hs_interest(entry: str) -> str | None:
    code = bv.normalize_interest_code(entry)
    return code if bv.interest_code_ok(code) else None


def HsCodes(**kwargs: Any) -> CodeList:
    return CodeList(
        hs6,
        lambda codes: _("Not a valid 6-digit HS code: %(codes)s", codes=codes),
        shown=cv.normalize_hs_code,
        out_pattern="^[0-9]{6}$",
        **kwargs,
    )


def Countries(**kwargs: Any) -> CodeList:
    return CodeList(
        country_code,
        lambda codes: _("Not an ISO 3166 country code: %(codes)s", codes=codes),
        shown=str.upper,
        out_pattern="^[A-Z]{2}$",
        **kwargs,
    )


def IsoLanguages(**kwargs: Any) -> CodeList:
    return CodeList(
        language_code,
        lambda codes: _("Not an ISO 639-1 language code: %(codes)s", codes=codes),
        shown=str.lower,
        out_pattern="^[a-z]{2}$",
        **kwargs,
    )


def NamedLanguages(**kwargs: Any) -> CodeList:
    """Languages by code or by name (English or Korean): "English, 日本語, de"."""
    return CodeList(
        bv.parse_language, lambda codes: _("Not a known language: %(codes)s", codes=codes), split=split_names, **kwargs
    )


def HsInterests(**kwargs: Any) -> CodeList:
    return CodeList(
        hs_interest,
        lambda codes: _("Not an HS code of 2, 4 or 6 digits: %(codes)s", codes=codes),
        shown=bv.normalize_interest_code,
        out_pattern="^[0-9]{2}([0-9]{2}){0,2}$",
        **kwargs,
    )


# --- the fields of a person in the registries (buyers' contacts, interpreters) ------------------------


def RegistryEmail(description: str) -> Email:
    """A person's e-mail address in a registry: required, folded to lower case (the service keeps it
    unique), personal data."""
    return Email(required=True, lower=True, personal=True, label=_l("E-mail"), description=description)


def Phone(description: str, **kwargs: Any) -> Text:
    return Text(40, collapse=True, personal=True, label=_l("Phone"), description=description, **kwargs)


def ActiveSwitch(what: str) -> StrictBool:
    """The detail page's switch (deactivate / reactivate), sent beside the fields of a PATCH."""
    return StrictBool(
        json=True,
        error_messages={"null": _l("Use true or false.")},
        metadata={"description": f"false deactivates the {what}, true reactivates."},
    )


# --- what the API writes ---------------------------------------------------------------------------

_OUT_META = ("description", "x-personal-data")


def out_field(field: fields.Field) -> fields.Field:
    """The dumped twin of an input field: the stored value, with the same description and mark."""
    meta = {k: v for k, v in field.metadata.items() if k in _OUT_META}
    if isinstance(field, CodeList):
        items = fields.String(metadata={"pattern": field.out_pattern} if field.out_pattern else {})
        return fields.List(items, metadata=meta)
    return fields.String(metadata=meta)


def out_schema(name: str, source: type[Schema], extra: dict[str, fields.Field], *, only: tuple[str, ...] = ()):
    """An output schema: `source`'s fields (or `only` those) as stored, then `extra`."""
    declared = {n: out_field(f) for n, f in source._declared_fields.items() if not only or n in only}
    return type(name, (EntitySchema,), {**declared, **extra})


def when(moment: str) -> fields.Function:
    """A timestamp attribute written as ISO 8601 UTC."""
    return fields.Function(
        lambda obj: iso_utc(getattr(obj, moment)), metadata={"type": "string", "format": "date-time"}
    )


# --- the OpenAPI document --------------------------------------------------------------------------


@cache
def _converter():
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

    plugin = MarshmallowPlugin()
    APISpec(title="Consultroom", version="1", openapi_version="3.1.0", plugins=[plugin])
    # A code list is typed by the anyOf in its metadata (a list, or one string, or null).
    plugin.converter.map_to_openapi_type(CodeList, None, None)
    return plugin.converter


def json_schema(schema: Schema, *, output: bool = False, **extra: Any) -> dict[str, Any]:
    """The JSON Schema (OpenAPI 3.1) of a schema, through apispec. An output names every property
    as required: the API always writes them all."""
    doc = _converter().schema2jsonschema(schema)
    doc = {"type": "object", "additionalProperties": False, **doc, **extra}
    if output:
        doc["required"] = sorted(doc["properties"])
    for prop in doc["properties"].values():
        if schema.partial:
            # A field left out of a PATCH keeps its value: it has no default.
            prop.pop("default", None)
        elif isinstance(prop.get("default"), time):
            prop["default"] = prop["default"].strftime("%H:%M")
    return doc


# --- the registries' list filters (query strings) ----------------------------------------------------


class SearchText(fields.String):
    """A list filter as the pages take it: cut at `max_len`, not refused (a pasted long name still
    searches); absent or blank is ""."""

    def __init__(self, max_len: int, **kwargs: Any):
        kwargs.setdefault("load_default", "")
        super().__init__(**kwargs)
        self.max_len = max_len
        self.metadata = {"maxLength": max_len, **self.metadata}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        from consultroom.schemas import text_problem

        text = super()._deserialize(value, attr, data, **kwargs)
        problem = text_problem(text)
        if problem:
            raise fail(problem)
        return text[: self.max_len]


class Choice(SearchText):
    """One of `choices` in a query string; blank is `default`; anything else is `message`."""

    def __init__(self, choices: tuple[str, ...], *, default: str, message: Any, **kwargs: Any):
        self.choices, self.message, self.default = choices, message, default
        kwargs["metadata"] = {"enum": [c for c in choices if c], **kwargs.get("metadata", {})}
        # A blank default is no value the enum offers: not documented (apispec leaves callables out).
        super().__init__(max(map(len, choices)), load_default=default or (lambda: ""), **kwargs)
        self.metadata.pop("maxLength", None)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = fields.String._deserialize(self, value, attr, data, **kwargs) or self.default
        if text not in self.choices:
            raise fail(self.message)
        return text


# --- the query of a registry list --------------------------------------------------------------------


def StatusChoice(statuses: tuple[str, ...]) -> Choice:
    """?status=: active (the default), inactive or all."""
    return Choice(
        statuses, default="active", message=_l("Choose active, inactive or all."), metadata={"description": "Which."}
    )


def PageSize(config_key: str) -> WholeNumber:
    """?per_page=, by default the app's `config_key` (25 without it), at most MAX_PER_PAGE."""
    return WholeNumber(
        1,
        MAX_PER_PAGE,
        load_default=lambda: min(current_app.config.get(config_key, 25), MAX_PER_PAGE),
        metadata={"description": "Page size.", "default": 25},
    )
