"""What every domain's schemas share: the base schemas with translated messages, strict fields for
query strings and JSON, UTC times as the API writes them, and pagination, declared once.

Imported by the domains' schemas.py and through them by the API; imports no view and no service.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields, missing
from marshmallow.utils import get_value

from consultroom.errors import Invalid

ID_MAX = 2**31 - 1
MAX_PAGE = 1_000_000
MAX_PER_PAGE = 100
PERSONAL = {"x-personal-data": True}


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class InSchema(Schema):
    """A request body or query: unknown fields refused, every message translated as the UI words it."""

    class Meta:
        unknown = RAISE

    # "type": a nested object sent as something else (the body itself is checked before, a 400).
    error_messages = {"unknown": _l("Unknown field."), "type": _l("Must be an object.")}

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        # null for a field that takes none is a missing value, as in the forms (unless the field says otherwise).
        if field_obj.error_messages["required"] == fields.Field.default_error_messages["required"]:
            field_obj.error_messages["required"] = _l("This field is required.")
        if field_obj.error_messages["null"] == fields.Field.default_error_messages["null"]:
            field_obj.error_messages["null"] = _l("This field is required.")


class OutSchema(Schema):
    """An answer: every property is always present (null where it has no value), nothing else is;
    but those named in `optional`, which only some callers see."""

    optional: tuple[str, ...] = ()

    class Meta:
        unknown = RAISE

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        field_obj.required = field_name not in self.optional


class UtcDateTime(fields.DateTime):
    """A moment written in UTC with a Z, as every time in the API is."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return iso(value)


class FromParent(fields.Nested):
    """A nested object of an answer written from its parent's own attributes, which the nested schema
    names (a proposal's exact_total and exact_matched as exact: {total, matched}); null when the
    parent's `unless_none` attribute is None."""

    def __init__(self, nested: Any, *, unless_none: str | None = None, **kwargs: Any) -> None:
        super().__init__(nested, allow_none=unless_none is not None, **kwargs)
        self.unless_none = unless_none

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        if self.unless_none is not None and get_value(obj, self.unless_none) is None:
            return None
        return obj


class WholeNumber(fields.Integer):
    """A whole number in plain ASCII digits within [low, high]: "+5", " 5", "5.0" and "٣" are refused,
    though Python's int() takes them. In a query string an empty value counts as absent."""

    def __init__(self, low: int, high: int, *, digits: int = 9, json: bool = False, **kwargs: Any) -> None:
        # json: a JSON number only ("7" is refused), and "" is a value, not an absent one.
        self.low, self.high, self.digits, self.json = low, high, digits, json
        super().__init__(strict=True, **kwargs)
        self.metadata = {"minimum": low, "maximum": high, **self.metadata}

    def _problem(self) -> ValidationError:
        return ValidationError(str(_l("Use a whole number from %(low)d to %(high)d.", low=self.low, high=self.high)))

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any) -> Any:
        if value == "" and not self.json:
            value = missing
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str) and not self.json:
            if not (value.isascii() and value.isdecimal() and len(value) <= self.digits):
                raise self._problem()
            value = int(value)
        # bool is an int in Python, and 1.0 is not a whole number here: only a JSON integer is.
        if isinstance(value, bool) or not isinstance(value, int) or not self.low <= value <= self.high:
            raise self._problem()
        return value


def Id(**kwargs: Any) -> WholeNumber:
    """An id of a row: the columns are 32-bit integers."""
    return WholeNumber(1, ID_MAX, digits=10, **kwargs)


class StrictBool(fields.Boolean):
    """`true` or `false` only (query strings) or a JSON boolean; not "1", "yes" or "on"."""

    truthy = {True, "true"}
    falsy = {False, "false"}
    default_error_messages = {"invalid": _l("Use true or false.")}

    def __init__(self, *, json: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if json:  # in a JSON body only true and false themselves
            self.truthy, self.falsy = {True}, {False}


def _default_per_page() -> int:
    return min(current_app.config["COMPANIES_PER_PAGE"], MAX_PER_PAGE)


class PageArgs(InSchema):
    """?page=&per_page= of every list. Other query parameters are the list's own (webargs ignores the rest)."""

    page = WholeNumber(1, MAX_PAGE, load_default=1, metadata={"description": "Page.", "default": 1})
    per_page = WholeNumber(
        1, MAX_PER_PAGE, load_default=_default_per_page, metadata={"description": "Page size.", "default": 25}
    )


class PageSchema(OutSchema):
    page = fields.Integer(metadata={"minimum": 1})
    per_page = fields.Integer(metadata={"minimum": 1, "maximum": MAX_PER_PAGE})
    total = fields.Integer(
        allow_none=True,
        metadata={
            "minimum": 0,
            "description": "How many items the list holds; null when more than 10,000 do (counting them all would "
            "cost more than the page): page on until a page holds fewer than per_page items.",
        },
    )
    pages = fields.Integer(allow_none=True, metadata={"minimum": 0, "description": "Null when `total` is."})


_PAGES: dict[str, type[Schema]] = {}


def page_of(item: type[Schema], *, name: str | None = None, **extra: fields.Field) -> type[Schema]:
    """The page envelope around `item`: {"items", "page", "per_page", "total", "pages"} (+ `extra`).
    One class per item schema, named like it (RoundList), so the document refers to it once."""
    name = name or item.__name__.removesuffix("Schema") + "ListSchema"
    if name not in _PAGES:
        _PAGES[name] = PageSchema.from_dict({"items": fields.List(fields.Nested(item)), **extra}, name=name)
    return _PAGES[name]


def page_body(
    items: Any, *, page: int, per_page: int, total: int | None, pages: int | None, **extra: Any
) -> dict[str, Any]:
    return {"items": items, "page": page, "per_page": per_page, "total": total, "pages": pages, **extra}


def field_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as the API names fields: {"request": {"products": [..]}} becomes
    {"request.products": [..]}; a nested object's own error ("_schema") is named by its parent."""
    if not isinstance(messages, dict):
        return {prefix or "_schema": [str(m) for m in (messages if isinstance(messages, list) else [messages])]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        name = prefix if key == "_schema" and prefix else (f"{prefix}.{key}" if prefix else str(key))
        flat.update(field_errors(value, name))
    return flat


def text_problem(value: str) -> str | None:
    """Strings the databases cannot store: NUL (PostgreSQL refuses it) and lone surrogates (not UTF-8)."""
    if "\x00" in value:
        return _("Contains characters that are not allowed.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("Contains characters that are not allowed.")
    return None


def check_storable(data: Mapping[str, Any]) -> None:
    """Refuse, naming the field, any text or list of texts that no database could store."""
    errors: dict[str, list[str]] = {}
    for name, value in data.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            problem = text_problem(item) if isinstance(item, str) else None
            if problem:
                errors[name] = [problem]
                break
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)


class Text(fields.String):
    """Text as the forms take it: null is absent (an error only when required, as is ""), anything but a
    string is "Must be text.", and what no database could store (NUL, lone surrogates) is refused."""

    def __init__(
        self,
        max_len: int | None,
        *,
        required: bool = False,
        blank_is_missing: bool = False,
        long: Any = None,
        **kwargs: Any,
    ) -> None:
        # blank_is_missing: "  " is as good as nothing (an e-mail, a password); long: another wording of the limit.
        self.max_len, self.blank_is_missing, self.long = max_len, blank_is_missing, long
        self.must_have = required  # not .required, which required_by_rules() sets for the document only
        super().__init__(required=required, allow_none=not required, **kwargs)
        if max_len is not None:
            self.metadata = {"maxLength": max_len, **self.metadata}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError(_("Must be text."))
        if self.must_have and not (value.strip() if self.blank_is_missing else value):
            raise ValidationError(_("This field is required."))
        if self.max_len is not None and len(value) > self.max_len:
            raise ValidationError(str(self.long or _l("At most %(n)d characters.")) % {"n": self.max_len})
        problem = text_problem(value)
        if problem:
            raise ValidationError(problem)
        return value


class Day(fields.Date):
    """A date as YYYY-MM-DD exactly; "" is absent, as null is."""

    def __init__(self, *, required: bool = False, **kwargs: Any) -> None:
        super().__init__(required=required, allow_none=not required, **kwargs)

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any) -> Any:
        if value == "":
            value = None if not self.required else missing
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            raise ValidationError(_("Give the date as YYYY-MM-DD.")) from None


class Decimal6(fields.Field):
    """An exact decimal written as text with 6 places (rates), so no client reads it through a float."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(Decimal(value).quantize(Decimal("0.000001")))


DECIMAL_TEXT = {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"}


def required_by_rules(field: fields.Field) -> fields.Field:
    """Documented as required, but a missing value is left to the service's rules, which name it in
    their own words (the booking form's "Tell us which products ...")."""
    field.required = True
    field._validate_missing = lambda _value: None  # type: ignore[method-assign]
    return field
