"""A buyer, declared once: the form, the CSV/XLSX import, the API, the OpenAPI document, audit
snapshots and the import pages' column names read its fields, limits, messages and labels here.

Staff type (or paste from Excel) what they have: "3304.99", "미국", "English", "9:00", "월-금".
"""

from __future__ import annotations

from datetime import time
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from marshmallow import ValidationError, fields, post_load, validates_schema

from consultroom import schema_fields as sf
from consultroom.buyers import validation as v
from consultroom.buyers.models import SIZES, Buyer
from consultroom.buyers.queries import STATUSES
from consultroom.languages import FALLBACK, PARTY_LOCALES, parse_party_language
from consultroom.schemas import InSchema, OutSchema, PageArgs, Text, page_of

DEFAULT_MEET_FROM = time(9, 0)
DEFAULT_MEET_TO = time(18, 0)
_IN_ZONE = _l("In the buyer's own time zone")


class BuyerIn(sf.EntitySchema):
    """What staff write, on the form, in an import row or through the API (partially on PATCH).

    A blank time zone is inferred from the country when the country has one zone (or one main zone).
    """

    company_name = sf.Text(200, required=True, collapse=True, label=_l("Company"), description="Company name.")
    country = sf.Parsed(
        v.parse_country,
        lambda value: _("Not a known country: %(value)s", value=value),
        required=True,
        label=_l("Country"),
        description="Country code or name (e.g. US, Germany, 미국).",
    )
    contact_name = sf.Text(100, collapse=True, personal=True, label=_l("Contact person"), description="Contact person.")
    email = sf.RegistryEmail("Contact e-mail address (unique in the registry).")
    phone = sf.Phone("Contact telephone number.", help=_l("With the country code, e.g. +1 212 555 0100"))
    website = sf.Website(
        collapse=True,
        label=_l("Website"),
        help=_l("Shown to the company once the consultation is confirmed"),
        description="The buyer company's website (http:// or https://), shown to the SME once confirmed.",
    )
    preferred_language = sf.Parsed(
        parse_party_language,
        lambda value: _("Not a language buyers can read mails in: %(value)s", value=value),
        blank_value=FALLBACK,  # mails and pages fall back to English
        load_default=FALLBACK,
        label=_l("Preferred language"),
        help=_l("Mails, the answer page, the survey and calendar entries are in this language"),
        description="One of " + ", ".join(PARTY_LOCALES) + " (or a name such as Japanese, zh-CN); blank: en.",
    )
    timezone = sf.Parsed(
        v.parse_timezone,
        lambda value: _("Not an IANA time zone such as Europe/Berlin: %(value)s", value=value),
        blank_value="",  # inferred from the country below
        load_default="",
        label=_l("Time zone"),
        help=_l("The buyer's own zone; left empty, it is taken from the country when it has one zone"),
        description="IANA time zone; blank: inferred when the country has one.",
    )
    languages = sf.NamedLanguages(
        label=_l("Languages"), description="Languages (codes or names); a list or one string with commas."
    )
    interest_codes = sf.HsInterests(
        label=_l("HS codes of interest"),
        help=_l("2, 4 or 6 digits separated by commas, e.g. 33, 3304, 3304.99"),
        description="HS codes of 2, 4 or 6 digits; a list or one string.",
    )
    keywords = sf.Text(
        2000,
        label=_l("Keywords"),
        help=_l("Products and interests in words, e.g. skin care, K-beauty"),
        description="Free keywords for search.",
    )
    size = sf.Parsed(
        v.parse_size,
        lambda _value: _("Choose small, medium, large or unknown."),
        not_text=_l("Choose small, medium, large or unknown."),
        load_default="unknown",
        label=_l("Size"),
        description="small, medium, large or unknown.",
    )
    source = sf.Text(
        100,
        collapse=True,
        label=_l("Source"),
        help=_l("Where the buyer came from, e.g. KOTRA, a trade fair"),
        description="Where staff found the buyer.",
    )
    meet_from = sf.TimeOfDay(
        DEFAULT_MEET_FROM,
        label=_l("Can meet from"),
        help=_IN_ZONE,
        description="HH:MM; blank: 09:00.",
        metadata={"default": "09:00"},
    )
    meet_to = sf.TimeOfDay(
        DEFAULT_MEET_TO,
        label=_l("Can meet until"),
        help=_IN_ZONE,
        description="HH:MM; blank: 18:00.",
        metadata={"default": "18:00"},
    )
    meet_days = sf.Weekdays(
        label=_l("Days the buyer can meet"),
        description="Weekdays: [0, 1, 2] (0 is Monday) or text such as Mon-Fri; blank: Monday to Friday.",
        metadata={"anyOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "string"}, {"type": "null"}]},
    )
    # Notes about a contact person are about that person.
    notes = sf.Text(4000, personal=True, label=_l("Notes"), description="Staff notes.")

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _hours_and_zone(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        if "meet_from" in data and "meet_to" in data and data["meet_from"] == data["meet_to"]:
            errors["meet_to"] = [_("The meeting hours must not start and end at the same time.")]
        country_refused = "country" in original and "country" not in data
        if data.get("timezone") == "" and not country_refused and not v.infer_timezone(data.get("country") or ""):
            errors["timezone"] = [_("Choose the buyer's time zone (it cannot be told from the country).")]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _infer_zone(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data.get("timezone") == "":
            data["timezone"] = v.infer_timezone(data["country"])
        return data


TEXT_FIELDS = tuple(name for name, f in BuyerIn._declared_fields.items() if isinstance(f, sf.Text))
LIST_FIELDS = ("languages", "interest_codes")
OTHER_FIELDS = ("country", "timezone", "preferred_language", "size", "meet_from", "meet_to", "meet_days")

_HHMM = {"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}$"}


def _hhmm(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


# A buyer as the API writes it; the audit log keeps the same fields but the id and dates.
BuyerOut = sf.out_schema(
    "BuyerOut",
    BuyerIn,
    {
        "id": fields.Integer(),
        "country": fields.String(metadata={"pattern": "^[A-Z]{2}$", "description": "ISO 3166-1 alpha-2."}),
        "timezone": fields.String(metadata={"description": "IANA time zone the meeting hours are in."}),
        "preferred_language": fields.String(
            metadata={
                "enum": list(PARTY_LOCALES),
                "description": "The language of the buyer's mails, answer page, survey and calendar text.",
            }
        ),
        "size": fields.String(metadata={"enum": list(SIZES)}),
        "languages": fields.List(fields.String(), metadata={"description": "ISO 639-1 codes."}),
        "interest_codes": fields.List(
            fields.String(metadata={"pattern": "^[0-9]{2}([0-9]{2}){0,2}$"}),
            metadata={"description": "HS codes of interest: chapter, heading or subheading."},
        ),
        "meet_from": fields.Function(
            lambda b: _hhmm(b.meet_from),
            metadata={**_HHMM, "description": "Meeting hours start, in the buyer's time zone."},
        ),
        "meet_to": fields.Function(
            lambda b: _hhmm(b.meet_to),
            metadata={**_HHMM, "description": "Meeting hours end, in the buyer's time zone."},
        ),
        "meet_days": fields.Function(
            lambda b: sorted(b.meet_days or []),
            metadata={
                "type": "array",
                "items": {"type": "integer", "minimum": 0, "maximum": 6},
                "description": "0 is Monday.",
            },
        ),
        "active": fields.Boolean(
            metadata={"description": "Inactive buyers stay with their history; matching leaves them out."}
        ),
        "created_at": sf.when("created_at"),
        "updated_at": sf.when("updated_at"),
    },
)

buyer_in = BuyerIn()
buyer_out = BuyerOut()
buyer_snapshot = BuyerOut(exclude=("id", "created_at", "updated_at"))
# A buyer's own data for an access request (privacy.subject_export), which writes its own dates.
buyer_export = BuyerOut(exclude=("created_at", "updated_at"))


def load_buyer(data: Any, *, partial: bool = False) -> dict[str, Any]:
    """Validate and normalise buyer fields. Raises Invalid naming every bad field at once."""
    return sf.load(buyer_in, data, partial=partial)


def dump_buyer(buyer: Buyer) -> dict[str, Any]:
    return buyer_out.dump(buyer)


# Each field's name as staff read it: the detail page, and the import pages' columns.
BUYER_LABELS = sf.labels(buyer_in)


# The size choices a form offers, in the words of a company's size (not "medium-sized business").
SIZE_CHOICES = (
    ("unknown", _l("Unknown")),
    ("small", lazy_pgettext("company size", "Small")),
    ("medium", lazy_pgettext("company size", "Medium")),
    ("large", lazy_pgettext("company size", "Large")),
)


# --- the API's declarations (consultroom/api/buyer_views.py) -----------------------------------------


class BuyerSchema(BuyerOut, OutSchema):
    """A buyer as the API answers it: every property always present."""


BuyerListSchema = page_of(BuyerSchema)


class BuyerInputSchema(BuyerIn):
    """The body of POST /buyers."""


class BuyerActiveIn(InSchema):
    """The detail page's switch (deactivate / reactivate), beside the fields of a PATCH."""

    active = sf.ActiveSwitch("buyer")


class BuyerPatchSchema(BuyerIn, BuyerActiveIn):
    """Only the fields sent are changed."""


class BuyerListArgs(PageArgs):
    q = sf.SearchText(100, metadata={"description": "Company, contact person, e-mail or keyword."})
    country = sf.SearchText(2, metadata={"description": "Country code."})
    hs = sf.SearchText(6, metadata={"description": "HS code: buyers interested in it."})
    language = sf.SearchText(8, metadata={"description": "Language code."})
    status = sf.StatusChoice(STATUSES)
    per_page = sf.PageSize("BUYERS_PER_PAGE")


class BuyerImportUploadSchema(InSchema):
    file = fields.Raw(
        required=True,
        metadata={"type": "string", "contentMediaType": "application/octet-stream", "description": ".csv or .xlsx"},
    )


class ImportIssueSchema(OutSchema):
    inline = True
    row = fields.Integer(metadata={"description": "The row as the spreadsheet numbers it (the heading is 1)."})
    column = fields.String(metadata={"description": "The field, e.g. email."})
    heading = fields.String(metadata={"description": "The column as the file names it, e.g. C (이메일)."})
    reason = fields.String(attribute="message")


class ImportColumnSchema(OutSchema):
    inline = True
    heading = fields.String()
    letter = fields.String()


class ImportRowSchema(OutSchema):
    inline = True
    row = fields.Integer()
    status = fields.String(metadata={"enum": ["create", "duplicate", "error"]})
    errors = fields.List(fields.Nested(ImportIssueSchema), attribute="issues")
    duplicate_of_buyer = fields.Integer(allow_none=True)
    duplicate_of_row = fields.Integer(allow_none=True)
    duplicate_by = fields.Function(
        lambda r: r.duplicate_by or None, metadata={"type": ["string", "null"], "enum": ["email", "company", None]}
    )


class BuyerImportPreviewSchema(OutSchema):
    """What the preview page shows, without the cells' values (the uploader has the file)."""

    batch_id = fields.Integer()
    filename = fields.String()
    digest = fields.String(metadata={"description": "Send it to confirm exactly this preview."})
    ok = fields.Boolean(metadata={"description": "No row has an error: the file can be imported."})
    row_count = fields.Function(lambda p: len(p.results), metadata={"type": "integer", "minimum": 0})
    to_create = fields.Function(lambda p: len(p.to_create), metadata={"type": "integer", "minimum": 0})
    duplicates = fields.Function(lambda p: len(p.duplicates), metadata={"type": "integer", "minimum": 0})
    error_rows = fields.Function(lambda p: len(p.error_rows), metadata={"type": "integer", "minimum": 0})
    columns = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(ImportColumnSchema),
        metadata={"description": "Field -> the column it was read from."},
    )
    errors = fields.List(fields.Nested(ImportIssueSchema), metadata={"description": "Every error of every row."})
    warnings = fields.List(
        fields.Nested(ImportIssueSchema),
        metadata={
            "description": "Cells read in a way the file's author may not have meant (a merged cell read as "
            "empty, a formula without a saved result, a date in a text column); they do not stop the import."
        },
    )
    rows = fields.List(fields.Nested(ImportRowSchema), attribute="results")


class BuyerImportConfirmSchema(InSchema):
    digest = Text(None, required=True, metadata={"description": "The preview's digest."})


class BuyerImportResultSchema(OutSchema):
    batch_id = fields.Integer()
    created = fields.Integer(metadata={"minimum": 0})
    skipped_duplicates = fields.Integer(metadata={"minimum": 0})
