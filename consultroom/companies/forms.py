from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Optional

from consultroom.companies.schemas import company_in, load_company
from consultroom.companies.validation import country_choices, language_choices
from consultroom.errors import Invalid
from consultroom.forms_util import apply_domain_error
from consultroom.schema_fields import help_text, label

_TEXT = (
    "name_ko",
    "name_en",
    "representative",
    "address",
    "address_en",
    "industry",
    "products",
    "products_en",
    "summary_en",
    "website",
    "contact_name",
    "contact_email",
    "contact_phone",
)


_CODES = {"choices": [], "validate_choice": False, "validators": [Optional()]}


def _field(kind, name: str, **kwargs):
    """A form field labelled and explained by the company schema."""
    return kind(label(company_in, name), description=help_text(company_in, name), **kwargs)


class CompanyForm(FlaskForm):
    """Field checks live in companies.schemas (CompanyIn), shared with the API; validate() runs them
    beside the form's own (consent), so every error shows after one submit (issue 15 item 7)."""

    name_ko = _field(StringField, "name_ko")
    name_en = _field(StringField, "name_en")
    business_number = _field(StringField, "business_number")
    representative = _field(StringField, "representative")
    address = _field(StringField, "address")
    address_en = _field(StringField, "address_en")
    industry = _field(StringField, "industry")
    products = _field(TextAreaField, "products")
    products_en = _field(TextAreaField, "products_en")
    summary_en = _field(TextAreaField, "summary_en")
    hs_codes = _field(StringField, "hs_codes")
    export_markets = _field(SelectMultipleField, "export_markets", **_CODES)
    target_countries = _field(SelectMultipleField, "target_countries", **_CODES)
    languages = _field(SelectMultipleField, "languages", **_CODES)
    website = _field(StringField, "website")
    contact_name = _field(StringField, "contact_name")
    contact_email = _field(EmailField, "contact_email")
    contact_phone = _field(StringField, "contact_phone")
    consent_company_profile = BooleanField(
        _l("I agree to the collection, use and sharing of these contact data as described above (required)."),
        validators=[
            DataRequired(message=_l("Please agree to the collection of the contact data to save the company."))
        ],
    )
    submit = SubmitField(_l("Save company"))

    def __init__(self, *args, ask_consent: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not ask_consent:
            # Staff never consent for a company, and a company that has agreed is not asked again.
            del self.consent_company_profile
        locale = str(get_locale() or "ko")
        countries = country_choices(locale)
        self.export_markets.choices = countries
        self.target_countries.choices = countries
        self.languages.choices = language_choices(locale)

    # The choice lists are not checked by WTForms: the schema names the codes it does not know.
    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        try:
            load_company(self.payload())
        except Invalid as exc:
            apply_domain_error(self, exc)
            ok = False
        return ok

    def load(self, company) -> None:
        for name in _TEXT:
            getattr(self, name).data = getattr(company, name)
        self.business_number.data = company.business_number_display
        self.hs_codes.data = ", ".join(company.hs_codes)
        self.export_markets.data = company.export_markets
        self.target_countries.data = company.target_countries
        self.languages.data = company.languages

    def payload(self) -> dict:
        data = {name: (getattr(self, name).data or "") for name in ("business_number", *_TEXT, "hs_codes")}
        data["export_markets"] = list(self.export_markets.data or [])
        data["target_countries"] = list(self.target_countries.data or [])
        data["languages"] = list(self.languages.data or [])
        return data
