from __future__ import annotations

import zoneinfo
from functools import cache

from babel.dates import get_day_names
from flask_babel import get_locale, lazy_pgettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, HiddenField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import Optional
from wtforms.widgets import TimeInput

from consultroom.buyers.importing import MAX_BYTES, MAX_ROWS
from consultroom.companies.validation import country_choices, language_choices
from consultroom.languages import choices as party_language_choices

_ZONE_AREAS = ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")


@cache
def timezone_names() -> tuple[str, ...]:
    """Current IANA zone names (legacy aliases such as US/Eastern left out of the list, still accepted)."""
    zones = {z for z in zoneinfo.available_timezones() if z.split("/", 1)[0] in _ZONE_AREAS}
    return ("UTC", *sorted(zones))


def _with(choices: list[tuple[str, str]], extra: list[str]) -> list[tuple[str, str]]:
    known = {c for c, _label in choices}
    return choices + [(c, c) for c in extra if c not in known]


class BuyerForm(FlaskForm):
    """Field checks live in buyers.services.clean_buyer_data, shared with the import."""

    company_name = StringField(_l("Company"))
    country = SelectField(_l("Country"), choices=[], validate_choice=False)
    contact_name = StringField(_l("Contact person"))
    email = EmailField(_l("E-mail"))
    phone = StringField(_l("Phone"), description=_l("With the country code, e.g. +1 212 555 0100"))
    website = StringField(_l("Website"), description=_l("Shown to the company once the consultation is confirmed"))
    preferred_language = SelectField(
        _l("Preferred language"),
        choices=party_language_choices(),
        validate_choice=False,
        description=_l("Mails, the answer page, the survey and calendar entries are in this language"),
    )
    timezone = SelectField(
        _l("Time zone"),
        choices=[],
        validate_choice=False,
        description=_l("The buyer's own zone; left empty, it is taken from the country when it has one zone"),
    )
    languages = SelectMultipleField(_l("Languages"), choices=[], validate_choice=False, validators=[Optional()])
    interest_codes = StringField(
        _l("HS codes of interest"), description=_l("2, 4 or 6 digits separated by commas, e.g. 33, 3304, 3304.99")
    )
    keywords = TextAreaField(
        _l("Keywords"), description=_l("Products and interests in words, e.g. skin care, K-beauty")
    )
    size = SelectField(
        _l("Size"),
        choices=[
            ("unknown", _l("Unknown")),
            ("small", lazy_pgettext("company size", "Small")),
            ("medium", lazy_pgettext("company size", "Medium")),
            ("large", lazy_pgettext("company size", "Large")),
        ],
        validate_choice=False,
    )
    source = StringField(_l("Source"), description=_l("Where the buyer came from, e.g. KOTRA, a trade fair"))
    meet_from = StringField(_l("Can meet from"), widget=TimeInput(), description=_l("In the buyer's own time zone"))
    meet_to = StringField(_l("Can meet until"), widget=TimeInput(), description=_l("In the buyer's own time zone"))
    meet_days = SelectMultipleField(_l("Days the buyer can meet"), choices=[], coerce=int, validators=[Optional()])
    notes = TextAreaField(_l("Notes"))
    submit = SubmitField(_l("Save buyer"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        locale = str(get_locale() or "ko")
        self.country.choices = [("", "—"), *country_choices(locale)]
        self.timezone.choices = [("", _l("From the country")), *((z, z) for z in timezone_names())]
        self.languages.choices = _with(language_choices(locale), list(self.languages.data or []))
        days = get_day_names("wide", locale=locale)
        self.meet_days.choices = [(i, days[i]) for i in range(7)]

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
        self.meet_days.data = list(buyer.meet_days)

    def load_defaults(self) -> None:
        self.size.data = "unknown"
        self.preferred_language.data = "en"
        self.meet_from.data = "09:00"
        self.meet_to.data = "18:00"
        self.meet_days.data = [0, 1, 2, 3, 4]

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


class ImportForm(FlaskForm):
    file = FileField(
        _l("File"),
        validators=[FileRequired(message=_l("Choose a file to upload."))],
        description=_l(
            "CSV (UTF-8 or Excel's Korean CSV) or Excel .xlsx, at most %(mb)d MB and %(rows)d rows",
            mb=MAX_BYTES // (1024 * 1024),
            rows=MAX_ROWS,
        ),
    )
    submit = SubmitField(_l("Upload and preview"))


class ConfirmImportForm(FlaskForm):
    digest = HiddenField()
    submit = SubmitField(_l("Import these buyers"))


class DiscardImportForm(FlaskForm):
    submit = SubmitField(_l("Discard"))


class ActiveForm(FlaskForm):
    active = HiddenField()
