"""Interpreter forms. Field checks live in interpreters.schemas and .services, shared with the API."""

from __future__ import annotations

from babel.dates import get_day_names
from flask_babel import get_locale, lazy_pgettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import Optional
from wtforms.widgets import DateInput, TimeInput

from consultroom.companies.validation import language_choices
from consultroom.errors import Invalid
from consultroom.forms_util import apply_domain_error
from consultroom.interpreters.schemas import DEFAULTS, interpreter_in, load_interpreter
from consultroom.interpreters.services import format_ranges
from consultroom.languages import choices as party_language_choices
from consultroom.schema_fields import help_text, label


def _with(choices: list[tuple[str, str]], extra: list[str]) -> list[tuple[str, str]]:
    known = {c for c, _label in choices}
    return choices + [(c, c) for c in extra if c not in known]


def _field(kind, name: str, **kwargs):
    """A form field labelled and explained by the interpreter schema."""
    return kind(label(interpreter_in, name), description=help_text(interpreter_in, name), **kwargs)


class InterpreterForm(FlaskForm):
    """Field checks live in interpreters.schemas (InterpreterIn), shared with the API; validate()
    runs them, so every error shows beside its field after one submit."""

    name = _field(StringField, "name")
    email = _field(EmailField, "email")
    phone = _field(StringField, "phone")
    languages = _field(SelectMultipleField, "languages", choices=[], validate_choice=False, validators=[Optional()])
    specialties = _field(TextAreaField, "specialties")
    max_sessions_per_day = _field(StringField, "max_sessions_per_day")
    locale = _field(SelectField, "locale", choices=party_language_choices(), validate_choice=False)
    account_email = _field(EmailField, "account_email")
    submit = SubmitField(_l("Save interpreter"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        locale = str(get_locale() or "ko")
        choices = [(c, n) for c, n in language_choices(locale) if c != "ko"]
        self.languages.choices = _with(choices, list(self.languages.data or []))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        try:
            load_interpreter(self.payload())
        except Invalid as exc:
            apply_domain_error(self, exc)
            ok = False
        return ok

    def load(self, interpreter, account_email: str = "") -> None:
        for name in ("name", "email", "phone", "specialties", "locale"):
            getattr(self, name).data = getattr(interpreter, name)
        self.max_sessions_per_day.data = str(interpreter.max_sessions_per_day)
        self.languages.data = interpreter.languages
        self.languages.choices = _with(list(self.languages.choices), interpreter.languages)
        self.account_email.data = account_email

    def load_defaults(self) -> None:
        for name, value in DEFAULTS.items():
            getattr(self, name).data = value

    def payload(self) -> dict:
        data = {
            name: (getattr(self, name).data or "")
            for name in ("name", "email", "phone", "specialties", "max_sessions_per_day", "locale", "account_email")
        }
        data["languages"] = list(self.languages.data or [])
        return data


class HoursForm(FlaskForm):
    """One line per weekday: several ranges separated by commas, e.g. 09:00-12:00, 13:00-18:00."""

    day_0 = StringField()
    day_1 = StringField()
    day_2 = StringField()
    day_3 = StringField()
    day_4 = StringField()
    day_5 = StringField()
    day_6 = StringField()
    submit = SubmitField(_l("Save weekly hours"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = get_day_names("wide", locale=str(get_locale() or "ko"))
        for weekday in range(7):
            self.day(weekday).label.text = names[weekday]

    def day(self, weekday: int):
        return getattr(self, f"day_{weekday}")

    def load(self, interpreter) -> None:
        for weekday in range(7):
            ranges = [(h.start, h.end) for h in interpreter.hours if h.weekday == weekday]
            self.day(weekday).data = format_ranges(sorted(ranges))

    def payload(self) -> dict[int, str]:
        return {weekday: self.day(weekday).data or "" for weekday in range(7)}


class ExceptionForm(FlaskForm):
    day = StringField(_l("Date"), widget=DateInput())
    kind = SelectField(
        _l("Kind"),
        choices=[
            ("away_all_day", _l("Away all day")),
            ("away", _l("Away from-to")),
            ("extra", _l("Extra hours from-to")),
        ],
        validate_choice=False,
    )
    start = StringField(
        lazy_pgettext("time range", "From"), widget=TimeInput(), description=_l("Seoul time; not for a whole day away")
    )
    end = StringField(lazy_pgettext("time range", "To"), widget=TimeInput())
    note = StringField(_l("Note"))
    submit = SubmitField(_l("Add"))

    def payload(self) -> dict[str, str]:
        return {name: getattr(self, name).data or "" for name in ("day", "kind", "start", "end", "note")}


class ConfirmImportForm(FlaskForm):
    digest = HiddenField()
    submit = SubmitField(_l("Import these interpreters"))


class ActiveForm(FlaskForm):
    active = HiddenField()


class PlainForm(FlaskForm):
    """A button that only needs the CSRF token (send link, delete exception)."""
