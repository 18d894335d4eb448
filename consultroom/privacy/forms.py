"""Forms of the retention settings and the staff's erasure-request pages. Value rules (whole months
0-1200, a reason for a refusal) live in the services, so the API and the pages say the same."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from consultroom.privacy.erasure import NOTE_MAX
from consultroom.privacy.models import RETENTION_KINDS
from consultroom.privacy.retention import KIND_LABELS

_NOTE_LENGTH = Length(max=NOTE_MAX, message=_l("At most %(n)d characters.", n=NOTE_MAX))


class RetentionRulesForm(FlaskForm):
    sme_accounts = StringField(KIND_LABELS["sme_accounts"])
    buyer_contacts = StringField(KIND_LABELS["buyer_contacts"])
    interpreter_contacts = StringField(KIND_LABELS["interpreter_contacts"])
    free_text = StringField(KIND_LABELS["free_text"])
    access_log = StringField(KIND_LABELS["access_log"])
    submit = SubmitField(_l("Save the retention periods"))

    def values(self) -> dict[str, str]:
        return {k: (getattr(self, k).data or "").strip() for k in RETENTION_KINDS}


class RunRetentionForm(FlaskForm):
    submit = SubmitField(_l("Anonymise now"))


class RecordErasureForm(FlaskForm):
    """A buyer or an interpreter asked (by mail, by phone); staff record it for them."""

    subject = SelectField(
        _l("Person"),
        choices=[],
        validate_choice=False,  # checked below with our own, translated message
        validators=[InputRequired(message=_l("Choose the buyer or interpreter."))],
    )
    note = TextAreaField(
        _l("How and when the request came in"),
        description=_l("For example: e-mail of 3 March asking that all contact data be deleted."),
        validators=[_NOTE_LENGTH],
    )
    submit = SubmitField(_l("Record the request"))

    def validate_subject(self, field) -> None:
        # Only the form of the value: the choices are one search's page, and the service checks that the
        # person exists and is not anonymised yet, whichever page offered them.
        if self.subject_pair() is None:
            raise ValidationError(_l("Choose the buyer or interpreter."))

    def subject_pair(self) -> tuple[str, int] | None:
        kind, _sep, ident = (self.subject.data or "").partition(":")
        if kind in ("buyer", "interpreter") and ident.isascii() and ident.isdecimal() and len(ident) <= 9:
            return kind, int(ident)
        return None


class HandleErasureForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=[
            ("carry_out", _l("Delete (anonymise) the data")),
            ("refuse", _l("Refuse the request")),
        ],
        validate_choice=False,  # InputRequired and the view's check say it in the user's language
        validators=[InputRequired(message=_l("Choose to delete or to refuse."))],
    )
    response = TextAreaField(
        _l("Response to the person"),
        description=_l("Required when refusing: the reason, e.g. a legal duty to keep the data."),
        validators=[_NOTE_LENGTH],
    )
    submit = SubmitField(_l("Save the decision"))
