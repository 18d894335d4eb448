"""A company, declared once: the form, the API, the OpenAPI document, audit snapshots and the
privacy export read its fields, limits, messages, labels and personal-data marks from here."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import fields

from consultroom import schema_fields as sf
from consultroom.companies.models import Company
from consultroom.companies.profile import ENGLISH_FIELDS, missing_english
from consultroom.schemas import OutSchema, PageArgs, page_of


class CompanyIn(sf.EntitySchema):
    """What an SME or staff write. Loaded whole on create and on the form, partially on PATCH."""

    business_number = sf.BusinessNumber(
        required=True,
        label=_l("Business registration number"),
        help=_l("10 digits, e.g. 123-45-67891"),
        description="Business registration number with a correct check digit; dashes and spaces allowed.",
        metadata={"examples": ["220-81-62517"]},
    )
    name_ko = sf.Text(
        200, required=True, name=True, label=_l("Company name (Korean)"), description="Company name in Korean."
    )
    name_en = sf.Text(
        200,
        english=True,
        name=True,
        label=_l("Company name (English)"),
        description="Company name in English (no Hangul; ends in at most one period).",
    )
    representative = sf.Text(
        100,
        required=True,
        personal=True,
        label=_l("Representative"),
        description="Name of the representative (대표자).",
    )
    address = sf.Text(300, label=_l("Address"), description="Postal address.")
    address_en = sf.Text(
        300,
        english=True,
        label=_l("Address (English)"),
        help=_l("As a buyer would write it on a parcel"),
        description="Postal address in English (no Hangul).",
    )
    industry = sf.Text(100, label=_l("Industry"), description="Industry, free text.")
    products = sf.Text(
        4000,
        label=_l("Products"),
        help=_l("Your main export products, one per line"),
        description="Main products, free text.",
    )
    products_en = sf.Text(
        4000,
        english=True,
        label=_l("Products (English)"),
        help=_l("The same products in English: buyers read this"),
        description="Main products in English, as buyers read them (no Hangul).",
    )
    summary_en = sf.Text(
        2000,
        english=True,
        label=_l("Company summary (English)"),
        help=_l("A few sentences for buyers: what you make, for whom, and where you export"),
        description="A short English summary of the company for buyers (no Hangul).",
    )
    hs_codes = sf.HsCodes(
        label=_l("HS codes"),
        help=_l("6-digit HS codes separated by commas, e.g. 330499, 210390"),
        description="6-digit HS codes of the products.",
    )
    export_markets = sf.Countries(
        label=_l("Current export markets"), description="ISO 3166-1 alpha-2 codes of current export markets."
    )
    target_countries = sf.Countries(
        label=_l("Target countries"), description="ISO 3166-1 alpha-2 codes of target countries."
    )
    languages = sf.IsoLanguages(
        label=_l("Languages your staff speak"), description="ISO 639-1 codes of the languages the company works in."
    )
    website = sf.Website(label=_l("Website"), description="Web site, starting with http:// or https://.")
    contact_name = sf.Text(100, personal=True, label=_l("Contact person"), description="Contact person.")
    contact_email = sf.Email(personal=True, label=_l("Contact e-mail"), description="Contact e-mail address.")
    contact_phone = sf.Text(40, personal=True, label=_l("Contact phone"), description="Contact telephone number.")


# The written fields, dumped as stored: text as text, lists as lists of codes.
TEXT_FIELDS = tuple(name for name, f in CompanyIn._declared_fields.items() if isinstance(f, sf.Text))
LIST_FIELDS = tuple(name for name, f in CompanyIn._declared_fields.items() if isinstance(f, sf.CodeList))

# A company as the API, the audit log and the privacy export write it.
CompanyOut = sf.out_schema(
    "CompanyOut",
    CompanyIn,
    {
        "id": fields.Integer(),
        "business_number": fields.String(
            metadata={
                "description": "Business registration number, 10 digits without dashes.",
                "pattern": "^[0-9]{10}$",
            }
        ),
        "missing_english": fields.Function(
            missing_english,
            metadata={
                "type": "array",
                "items": {"type": "string", "enum": list(ENGLISH_FIELDS)},
                "description": "Fields of the English profile buyers read that the company has not filled in.",
            },
        ),
        "created_at": sf.when("created_at"),
        "updated_at": sf.when("updated_at"),
    },
)

company_in = CompanyIn()
# Each field's name as people read it (pages and forms).
COMPANY_LABELS = sf.labels(company_in)
company_out = CompanyOut()
# A data subject's export (privacy.export, documented as PrivacyExport): the fields that hold what a
# person gave about the company; the export writes its own dates (Seoul time).
company_export = CompanyOut(
    only=(
        "id",
        "name_ko",
        "name_en",
        "business_number",
        "representative",
        "address",
        "industry",
        "products",
        "website",
        "contact_name",
        "contact_email",
        "contact_phone",
        *LIST_FIELDS,
    )
)
# The audit log's before/after: the written fields only, so a save that changes nothing logs nothing.
company_snapshot = CompanyOut(only=("business_number", *TEXT_FIELDS, *LIST_FIELDS))


def load_company(data: Any, *, partial: bool = False) -> dict[str, Any]:
    return sf.load(company_in, data, partial=partial)


def dump_company(company: Company) -> dict[str, Any]:
    return company_out.dump(company)


# --- the API's declarations (consultroom/api/company_views.py) ---------------------------------------


class CompanySchema(CompanyOut, OutSchema):
    """A company as the API answers it: every property always present."""


CompanyListSchema = page_of(CompanySchema)


class CompanyInputSchema(CompanyIn):
    """The body of POST /companies: the profile, and the SME's agreement to its privacy notice."""

    consent_company_profile = fields.Boolean(
        required=True,
        metadata={
            "const": True,
            "description": "The SME agrees to the company-profile privacy notice (GET /privacy/); "
            "recorded with the notice version and time.",
        },
    )


class CompanyPatchSchema(CompanyIn):
    """Only the fields sent are changed; a list sent replaces the stored list."""


class CompanyListArgs(PageArgs):
    q = sf.SearchText(100, metadata={"description": "Name, products, representative or number."})
    industry = sf.SearchText(100, metadata={"description": "Exact industry."})
    country = sf.SearchText(2, metadata={"description": "Export market or target country code."})
    hs = sf.SearchText(6, metadata={"description": "HS code prefix: 2, 4 or 6 digits."})
    english = sf.Choice(
        ("", "missing"),
        default="",
        message=_l("Use english=missing, or leave it out."),
        metadata={"description": "missing: only companies lacking a field of their English profile."},
    )
