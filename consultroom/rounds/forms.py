from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

WEEKDAYS = [
    (0, _l("Monday")), (1, _l("Tuesday")), (2, _l("Wednesday")), (3, _l("Thursday")), (4, _l("Friday")),
]  # fmt: skip
NTH = [(1, _l("1st")), (2, _l("2nd")), (3, _l("3rd")), (4, _l("4th")), (-1, _l("Last"))]
MONTHS = [(m, str(m)) for m in range(1, 13)]


class RoundSettingsForm(FlaskForm):
    pattern = SelectField(
        _l("Round day"), choices=[("nth_weekday", _l("A weekday of the month")), ("fixed_day", _l("A fixed date"))]
    )
    nth = SelectField(_l("Which week"), choices=NTH, coerce=int)
    weekday = SelectField(_l("Weekday"), choices=WEEKDAYS, coerce=int)
    fixed_day = IntegerField(_l("Day of the month"), validators=[InputRequired(), NumberRange(1, 31)])
    day_start = TimeField(_l("First slot starts (Seoul time)"), validators=[InputRequired()])
    day_end = TimeField(_l("Last slot ends by (Seoul time)"), validators=[InputRequired()])
    slot_minutes = IntegerField(_l("Slot length (minutes)"), validators=[InputRequired(), NumberRange(10, 240)])
    break_minutes = IntegerField(_l("Break between slots (minutes)"), validators=[InputRequired(), NumberRange(0, 120)])
    booths = IntegerField(_l("Parallel virtual booths"), validators=[InputRequired(), NumberRange(1, 50)])
    opens_days_before = IntegerField(
        _l("Booking opens (days before)"), validators=[InputRequired(), NumberRange(1, 120)]
    )
    opens_at = TimeField(_l("Booking opens at (Seoul time)"), validators=[InputRequired()])
    closes_days_before = IntegerField(
        _l("Booking closes (days before)"), validators=[InputRequired(), NumberRange(0, 119)]
    )
    closes_at = TimeField(_l("Booking closes at (Seoul time)"), validators=[InputRequired()])
    cancel_hours_before = IntegerField(
        _l("Cancellation deadline (hours before the slot)"), validators=[InputRequired(), NumberRange(0, 24 * 30)]
    )
    company_cap = IntegerField(_l("Bookings per company and round"), validators=[InputRequired(), NumberRange(1, 20)])
    months = SelectMultipleField(_l("Program months"), choices=MONTHS, coerce=int)
    region_windows = TextAreaField(
        _l("Region time windows (Seoul time)"),
        description=_l(
            'One per line, e.g. "Europe 17:00-21:00" or "Americas 07:00-09:00": extra slots at hours that suit '
            "those buyers."
        ),
        validators=[Optional(), Length(max=400)],
    )
    interpreter_policy = SelectField(
        _l("Interpreters"),
        validate_choice=False,  # checked by the service, which names the field
        choices=[
            ("always", _l("On every consultation (the program's promise)")),
            ("needed", _l("Only when the company and the buyer share no language")),
        ],
    )
    submit = SubmitField(_l("Save settings"))

    FIELDS = (
        "pattern", "nth", "weekday", "fixed_day", "day_start", "day_end", "slot_minutes", "break_minutes", "booths",
        "opens_days_before", "opens_at", "closes_days_before", "closes_at", "cancel_hours_before", "company_cap",
        "months", "region_windows", "interpreter_policy",
    )  # fmt: skip

    def payload(self) -> dict:
        # The matching fields came later: a form posted without them leaves them as they are.
        return {
            f: getattr(self, f).data
            for f in self.FIELDS
            if f not in ("region_windows", "interpreter_policy") or getattr(self, f).raw_data
        }


class RoundCreateForm(FlaskForm):
    day = DateField(_l("Consultation day"), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    day_start = TimeField(_l("First slot starts (Seoul time)"), validators=[InputRequired()])
    day_end = TimeField(_l("Last slot ends by (Seoul time)"), validators=[InputRequired()])
    slot_minutes = IntegerField(_l("Slot length (minutes)"), validators=[InputRequired(), NumberRange(10, 240)])
    break_minutes = IntegerField(_l("Break between slots (minutes)"), validators=[InputRequired(), NumberRange(0, 120)])
    booths = IntegerField(_l("Parallel virtual booths"), validators=[InputRequired(), NumberRange(1, 50)])
    company_cap = IntegerField(_l("Bookings per company and round"), validators=[InputRequired(), NumberRange(1, 20)])
    cancel_hours_before = IntegerField(
        _l("Cancellation deadline (hours before the slot)"), validators=[InputRequired(), NumberRange(0, 24 * 30)]
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Create round"))


class RoundEditForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    booking_opens_at = DateTimeLocalField(_l("Booking opens (Seoul time)"), validators=[DataRequired()])
    booking_closes_at = DateTimeLocalField(_l("Booking closes (Seoul time)"), validators=[DataRequired()])
    cancel_hours_before = IntegerField(
        _l("Cancellation deadline (hours before the slot)"), validators=[InputRequired(), NumberRange(0, 24 * 30)]
    )
    company_cap = IntegerField(_l("Bookings per company and round"), validators=[InputRequired(), NumberRange(1, 20)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Save round"))


class AddSlotForm(FlaskForm):
    booth = IntegerField(_l("Booth"), validators=[InputRequired(), NumberRange(1, 50)])
    start = TimeField(_l("Starts at (Seoul time)"), validators=[InputRequired()])
    minutes = IntegerField(_l("Length (minutes)"), validators=[InputRequired(), NumberRange(10, 240)], default=50)
    submit = SubmitField(_l("Add slot"))


class CancelRoundForm(FlaskForm):
    reason = TextAreaField(_l("Reason (sent to every booker)"), validators=[DataRequired(), Length(max=1000)])
    submit = SubmitField(_l("Cancel the round"))


class ClosedDateForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=100)])
    submit = SubmitField(_l("Add closed date"))


class StaffBookForm(FlaskForm):
    company = StringField(
        _l("Company"),
        validators=[DataRequired(), Length(max=20)],
        description=_l("Business registration number or company number"),
    )
    products = TextAreaField(_l("Products to present"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Book for the company"))
