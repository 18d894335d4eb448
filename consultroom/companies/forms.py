from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Optional

from consultroom.companies.validation import country_choices, language_choices


class CompanyForm(FlaskForm):
    """Field checks live in companies.services.clean_company_data, shared with the API."""

    name_ko = StringField(_l("Company name (Korean)"))
    name_en = StringField(_l("Company name (English)"))
    business_number = StringField(_l("Business registration number"), description=_l("10 digits, e.g. 123-45-67891"))
    representative = StringField(_l("Representative"))
    address = StringField(_l("Address"))
    address_en = StringField(_l("Address (English)"), description=_l("As a buyer would write it on a parcel"))
    industry = StringField(_l("Industry"))
    products = TextAreaField(_l("Products"), description=_l("Your main export products, one per line"))
    products_en = TextAreaField(
        _l("Products (English)"), description=_l("The same products in English: buyers read this")
    )
    summary_en = TextAreaField(
        _l("Company summary (English)"),
        description=_l("A few sentences for buyers: what you make, for whom, and where you export"),
    )
    hs_codes = StringField(_l("HS codes"), description=_l("6-digit HS codes separated by commas, e.g. 330499, 210390"))
    export_markets = SelectMultipleField(_l("Current export markets"), choices=[], validators=[Optional()])
    target_countries = SelectMultipleField(_l("Target countries"), choices=[], validators=[Optional()])
    languages = SelectMultipleField(_l("Languages your staff speak"), choices=[], validators=[Optional()])
    website = StringField(_l("Website"))
    contact_name = StringField(_l("Contact person"))
    contact_email = EmailField(_l("Contact e-mail"))
    contact_phone = StringField(_l("Contact phone"))
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

    def load(self, company) -> None:
        for name in (
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
        ):
            getattr(self, name).data = getattr(company, name)
        self.business_number.data = company.business_number_display
        self.hs_codes.data = ", ".join(company.hs_codes)
        self.export_markets.data = company.export_markets
        self.target_countries.data = company.target_countries
        self.languages.data = company.languages

    def payload(self) -> dict:
        data = {
            name: (getattr(self, name).data or "")
            for name in (
                "business_number",
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
                "hs_codes",
            )
        }
        data["export_markets"] = list(self.export_markets.data or [])
        data["target_countries"] = list(self.target_countries.data or [])
        data["languages"] = list(self.languages.data or [])
        return data
