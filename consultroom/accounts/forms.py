from __future__ import annotations

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from consultroom.accounts.models import ROLES
from consultroom.accounts.passwords import MAX_LENGTH


class _PasswordRule:
    """Runs the service's password rule so forms, API and CLI refuse the same passwords."""

    def __call__(self, form, field):
        from consultroom.accounts.services import password_problem

        email = form.email.data if hasattr(form, "email") else ""
        problem = password_problem(field.data or "", email=email or "")
        if problem:
            raise ValidationError(problem)


LANGUAGE_CHOICES = [("ko", "한국어"), ("en", "English")]


class RegisterForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), _PasswordRule()])
    password_confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="ko")
    # PIPA: the required consent and the optional one are separate boxes, both unticked at first.
    consent_account = BooleanField(
        _l("I agree to the collection and use of my personal data as described above (required)."),
        validators=[
            DataRequired(message=_l("Please agree to the collection of your personal data to create an account."))
        ],
    )
    consent_marketing = BooleanField(
        _l("Yes, send me news of the city's other export programs by e-mail (optional)."), default=False
    )
    submit = SubmitField(_l("Create account"))


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_LENGTH)])
    submit = SubmitField(_l("Log in"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    submit = SubmitField(_l("Send reset link"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), _PasswordRule()])
    password_confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )
    submit = SubmitField(_l("Set new password"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=MAX_LENGTH)])
    password = PasswordField(_l("New password"), validators=[DataRequired(), _PasswordRule()])
    password_confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )
    submit = SubmitField(_l("Change password"))


def _timezone_choices() -> list[tuple[str, str]]:
    return [(tz, tz) for tz in sorted(available_timezones()) if "/" in tz and not tz.startswith("Etc/")]


class PreferencesForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    timezone = SelectField(_l("Time zone"), choices=[])
    submit = SubmitField(_l("Save preferences"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = _timezone_choices()


class MarketingForm(FlaskForm):
    marketing_email = BooleanField(_l("Send me news of the city's other export programs by e-mail"))
    submit = SubmitField(_l("Save mail choice"))


class RenewConsentForm(FlaskForm):
    consent_account = BooleanField(
        _l("I agree to the collection and use of my personal data as described above (required)."),
        validators=[DataRequired(message=_l("Please agree to the notice to keep using your account."))],
    )
    submit = SubmitField(_l("Agree"))


class CreateUserForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    role = SelectField(
        _l("Role"),
        choices=[("staff", _l("Staff")), ("admin", _l("Admin")), ("sme", _l("SME"))],
        validators=[DataRequired()],
    )
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), _PasswordRule()])
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="ko")
    submit = SubmitField(_l("Create account"))

    def validate_role(self, field):
        if field.data not in ROLES:
            raise ValidationError(_l("Unknown role."))
