from __future__ import annotations

import zoneinfo
from functools import cache

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import Optional
from wtforms.widgets import TimeInput

from consultroom.buyers.schemas import SIZE_CHOICES, buyer_in, load_buyer
from consultroom.companies.validation import country_choices, language_choices
from consultroom.errors import Invalid
from consultroom.forms_util import apply_domain_error
from consultroom.languages import choices as party_language_choices
from consultroom.schema_fields import help_text, label

_ZONE_AREAS = ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")


@cache
def timezone_names() -> tuple[str, ...]:
    """Current IANA zone names (legacy aliases such as US/Eastern left out of the list, still accepted)."""
    zones = {z for z in zoneinfo.available_timezones() if z.split("/", 1)[0] in _ZONE_AREAS}
    return ("UTC", *sorted(zones))


def _with(choices: list[tuple[str, str]], extra: list[str]) -> list[tuple[str, str]]:
    known = {c for c, _label in choices}
    return choices + [(c, c) for c in extra if c not in known]


def _field(kind, name: str, **kwargs):
    """A form field labelled and explained by the buyer schema."""
    return kind(label(buyer_in, name), description=help_text(buyer_in, name), **kwargs)


class BuyerForm(FlaskForm):
    """Field checks live in buyers.schemas (BuyerIn), shared with the import and the API; validate()
    runs them, so every error shows beside its field after one submit."""

    company_name = _field(StringField, "company_name")
    country = _field(SelectField, "country", choices=[], validate_choice=False)
    contact_name = _field(StringField, "contact_name")
    email = _field(EmailField, "email")
    phone = _field(StringField, "phone")
    website = _field(StringField, "website")
    preferred_language = _field(
        SelectField, "preferred_language", choices=party_language_choices(), validate_choice=False
    )
    timezone = _field(SelectField, "timezone", choices=[], validate_choice=False)
    languages = _field(SelectMultipleField, "languages", choices=[], validate_choice=False, validators=[Optional()])
    interest_codes = _field(StringField, "interest_codes")
    keywords = _field(TextAreaField, "keywords")
    size = _field(SelectField, "size", choices=SIZE_CHOICES, validate_choice=False)
    source = _field(StringField, "source")
    meet_from = _field(StringField, "meet_from", widget=TimeInput())
    meet_to = _field(StringField, "meet_to", widget=TimeInput())
    # Not coerced: a tampered day reaches the schema, which names the field.
    meet_days = _field(SelectMultipleField, "meet_days", choices=[], validate_choice=False, validators=[Optional()])
    notes = _field(TextAreaField, "notes")
    submit = SubmitField(_l("Save buyer"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        locale = str(get_locale() or "ko")
        self.country.choices = [("", "—"), *country_choices(locale)]
        self.timezone.choices = [("", _l("From the country")), *((z, z) for z in timezone_names())]
        self.languages.choices = _with(language_choices(locale), list(self.languages.data or []))
        days = get_day_names("wide", locale=locale)
        self.meet_days.choices = [(str(i), days[i]) for i in range(7)]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        try:
            load_buyer(self.payload())
        except Invalid as exc:
            apply_domain_error(self, exc)
            ok = False
        return ok

    def load(self, buyer) -> None:
        for name in (
            "company_name",
            "country",
            "contact_name",
            "email",
            "phone",
            "website",
            "preferred_language",
            "timezone",
            "keywords",
            "size",
        ):
            getattr(self, name).data = getattr(buyer, name)
        self.source.data = buyer.source
        self.notes.data = buyer.notes
        self.interest_codes.data = ", ".join(buyer.interest_codes)
        self.languages.data = buyer.languages
        self.languages.choices = _with(list(self.languages.choices), buyer.languages)
        if buyer.timezone not in timezone_names():
            self.timezone.choices = [*self.timezone.choices, (buyer.timezone, buyer.timezone)]
        self.meet_from.data = buyer.meet_from.strftime("%H:%M")
        self.meet_to.data = buyer.meet_to.strftime("%H:%M")
        self.meet_days.data = [str(d) for d in buyer.meet_days]

    def load_defaults(self) -> None:
        self.size.data = "unknown"
        self.preferred_language.data = "en"
        self.meet_from.data = "09:00"
        self.meet_to.data = "18:00"
        self.meet_days.data = ["0", "1", "2", "3", "4"]

    def payload(self) -> dict:
        data = {
            name: (getattr(self, name).data or "")
            for name in (
                "company_name",
                "country",
                "contact_name",
                "email",
                "phone",
                "website",
                "preferred_language",
                "timezone",
                "interest_codes",
                "keywords",
                "size",
                "source",
                "meet_from",
                "meet_to",
                "notes",
            )
        }
        data["languages"] = list(self.languages.data or [])
        data["meet_days"] = [str(d) for d in (self.meet_days.data or [])]
        return data


class ConfirmImportForm(FlaskForm):
    digest = HiddenField()
    submit = SubmitField(_l("Import these buyers"))


class ActiveForm(FlaskForm):
    active = HiddenField()
