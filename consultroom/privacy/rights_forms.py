"""Forms of the person's-rights pages and the admin access log."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from consultroom.forms_util import iso_day, small_int
from consultroom.privacy.access_log import AccessFilter
from consultroom.privacy.erasure import NOTE_MAX


class ErasureRequestForm(FlaskForm):
    note = TextAreaField(
        _l("Note for the staff (optional)"),
        description=_l("For example, which data you want deleted or why."),
        validators=[Length(max=NOTE_MAX, message=_l("At most %(n)d characters.", n=NOTE_MAX))],
    )
    confirm = BooleanField(
        _l("I understand that my account and my company's personal data will be anonymised and cannot be restored."),
        validators=[DataRequired(message=_l("Tick the box to confirm the request."))],
    )
    submit = SubmitField(_l("Request deletion"))


SUBJECT_LABELS = {
    "user": _l("User account"),
    "company": _l("Company"),
    "buyer": _l("Buyer"),
    "interpreter": _l("Interpreter"),
}
ACTION_LABELS = {"view": _l("Viewed"), "export": _l("Exported")}


class AccessFilterForm(Form):
    """The access log's filters, read from the query string (a GET form: nothing changes, no CSRF).
    Every value is checked here, so a bad one is an error beside its field, never a 500."""

    actor = SelectField(_l("Staff member"), choices=[], validate_choice=False)
    subject_type = SelectField(
        _l("Kind of person"), choices=[("", _l("All")), *SUBJECT_LABELS.items()], validate_choice=False
    )
    subject_id = StringField(
        _l("Person's number"), description=_l("The id of the user, company, buyer or interpreter.")
    )
    action = SelectField(_l("Action"), choices=[("", _l("All")), *ACTION_LABELS.items()], validate_choice=False)
    start = StringField(_l("From (date)"), description=_l("YYYY-MM-DD, Korea time."))
    end = StringField(_l("To (date)"), description=_l("YYYY-MM-DD, Korea time; included."))

    def __init__(self, formdata, *, actors: list[tuple[int, str]]):
        super().__init__(formdata)
        self.actor.choices = [("", _l("All")), *((str(i), name) for i, name in actors)]
        self._actor_ids = {str(i) for i, _name in actors}

    def validate_actor(self, field) -> None:
        if field.data and field.data not in self._actor_ids:
            raise ValidationError(_l("Choose a staff member from the list."))

    def validate_subject_type(self, field) -> None:
        if field.data and field.data not in SUBJECT_LABELS:
            raise ValidationError(_l("Choose a kind of person from the list."))

    def validate_subject_id(self, field) -> None:
        if (field.data or "").strip() and small_int(field.data) is None:
            raise ValidationError(_l("Enter a whole number."))

    def validate_action(self, field) -> None:
        if field.data and field.data not in ACTION_LABELS:
            raise ValidationError(_l("Choose viewed or exported."))

    def _day(self, field) -> date | None:
        raw = (field.data or "").strip()
        if not raw:
            return None
        try:
            return iso_day(raw)
        except ValueError:
            raise ValidationError(_l("Give the date as YYYY-MM-DD.")) from None

    def validate_start(self, field) -> None:
        self._day(field)

    def validate_end(self, field) -> None:
        end = self._day(field)
        try:
            start = self._day(self.start)
        except ValidationError:
            return  # reported on its own field
        if start is not None and end is not None and end < start:
            raise ValidationError(_l("The end date is before the start date."))

    def to_filter(self) -> AccessFilter:
        """The filter of a validated form."""
        return AccessFilter(
            actor_id=int(self.actor.data) if self.actor.data else None,
            subject_type=self.subject_type.data or "",
            subject_id=small_int(self.subject_id.data),
            action=self.action.data or "",
            start=self._day(self.start),
            end=self._day(self.end),
        )
