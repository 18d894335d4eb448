"""Forms for logs, outcome stages, contracts and rates. Business checks live in the services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

STAGE_LABELS = {
    "follow_up": _l("Follow-up"),
    "sample_sent": _l("Sample sent"),
    "negotiating": _l("Negotiating"),
    "contracted": _l("Contracted"),
    "dropped": _l("Dropped"),
}
# "Medium" alone was translated as a company size (중기업): the context tells translators it is a level.
INTEREST_LABELS = {
    "none": _l("None"),
    "low": lazy_pgettext("interest level", "Low"),
    "medium": lazy_pgettext("interest level", "Medium"),
    "high": lazy_pgettext("interest level", "High"),
}
PARTY_LABELS = {"company": _l("The company"), "buyer": _l("The buyer"), "interpreter": _l("The interpreter")}


class LogForm(FlaskForm):
    attendance = RadioField(
        _l("Attendance"),
        choices=[("held", _l("Held")), ("no_show", _l("No-show"))],
        validators=[DataRequired(message=_l("Choose whether the consultation was held."))],
    )
    absent_party = SelectField(
        _l("Who did not attend"), choices=[("", "—"), *PARTY_LABELS.items()], validate_choice=False
    )
    buyer_interest = SelectField(_l("Buyer interest"), choices=list(INTEREST_LABELS.items()), validate_choice=False)
    products_discussed = TextAreaField(_l("Products discussed"), validators=[Length(max=5000)])
    samples_requested = BooleanField(_l("Samples or catalogues requested"))
    samples_text = TextAreaField(_l("Which samples or catalogues"), validators=[Length(max=2000)])
    next_action = StringField(_l("Next action"), validators=[Length(max=300)])
    next_action_on = DateField(_l("Next action date"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=10000)])
    submit = SubmitField(_l("Save the log"))

    def payload(self) -> dict:
        return {
            name: getattr(self, name).data
            for name in (
                "attendance",
                "absent_party",
                "buyer_interest",
                "products_discussed",
                "samples_requested",
                "samples_text",
                "next_action",
                "next_action_on",
                "notes",
            )
        }


class StageForm(FlaskForm):
    stage = SelectField(_l("New stage"), choices=[], validate_choice=False)
    changed_on = DateField(_l("Date"), validators=[DataRequired(message=_l("Enter the date."))])
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])
    submit = SubmitField(_l("Update"))


class ReopenForm(StageForm):
    submit = SubmitField(_l("Reopen"))


class ContractForm(FlaskForm):
    currency = StringField(
        _l("Currency"),
        validators=[DataRequired(message=_l("Enter the currency."))],
        description=_l("ISO 4217 code, e.g. USD, JPY, EUR, KRW"),
    )
    amount = StringField(
        _l("Amount"),
        validators=[DataRequired(message=_l("Enter the amount."))],
        description=_l("In the contract's currency, with no more decimals than it has (none for KRW and JPY)"),
    )
    signed_on = DateField(_l("Signing date"), validators=[DataRequired(message=_l("Enter the signing date."))])
    items = TextAreaField(_l("Items"), validators=[Length(max=5000)])
    submit = SubmitField(_l("Record the contract"))


class ContractCorrectionForm(ContractForm):
    reason = TextAreaField(
        _l("Reason for the correction"),
        validators=[Length(max=2000)],
        description=_l("Kept in the audit log with the old values."),
    )
    submit = SubmitField(_l("Save the correction"))


class RateForm(FlaskForm):
    currency = StringField(
        _l("Currency"), validators=[DataRequired(message=_l("Enter the currency."))], description=_l("e.g. USD")
    )
    day = DateField(_l("Date"), validators=[DataRequired(message=_l("Enter the date."))])
    krw_per_unit = StringField(
        _l("KRW per unit"),
        validators=[DataRequired(message=_l("Enter the rate."))],
        description=_l("Won for one unit of the currency (one yen, not 100), e.g. 1387.25"),
    )
    submit = SubmitField(_l("Save"))


class RateImportForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(message=_l("Choose a file."))],
        description=_l("Columns date, currency, krw_per_unit; UTF-8 or Korean Excel (CP949)"),
    )
    submit = SubmitField(_l("Preview"))


class RateImportConfirmForm(FlaskForm):
    payload = HiddenField()
    digest = HiddenField()
    update_existing = BooleanField(_l("Update the existing rates listed above"))
    submit = SubmitField(_l("Import"))
