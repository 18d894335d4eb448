from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from consultroom.companies.validation import country_choices, language_choices


class BookingRequestForm(FlaskForm):
    """The request sent with a booking; checked by bookings.schemas.clean_request (shared with the API)."""

    products = TextAreaField(_l("Products to present"), description=_l("What you want to show the buyer"))
    hs_codes = StringField(_l("HS codes"), description=_l("6-digit HS codes separated by commas, e.g. 330499, 210390"))
    target_countries = SelectMultipleField(_l("Target countries"), choices=[], validators=[Optional()])
    languages = SelectMultipleField(_l("Languages your staff speak"), choices=[], validators=[Optional()])
    buyer_profile = TextAreaField(
        _l("Preferred buyer"), description=_l("e.g. importer or distributor of skin care in the US")
    )
    notes = TextAreaField(_l("Notes for the staff"))
    submit = SubmitField(_l("Book this slot"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        locale = str(get_locale() or "ko")
        self.target_countries.choices = country_choices(locale)
        self.languages.choices = language_choices(locale)

    def load(self, req) -> None:
        self.products.data = req.products
        self.hs_codes.data = ", ".join(req.hs_codes)
        self.target_countries.data = list(req.target_countries)
        self.languages.data = list(req.languages)
        self.buyer_profile.data = req.buyer_profile
        self.notes.data = req.notes

    def payload(self) -> dict:
        return {
            "products": self.products.data or "",
            "hs_codes": self.hs_codes.data or "",
            "target_countries": list(self.target_countries.data or []),
            "languages": list(self.languages.data or []),
            "buyer_profile": self.buyer_profile.data or "",
            "notes": self.notes.data or "",
        }


class WaitlistForm(BookingRequestForm):
    submit = SubmitField(_l("Join the waitlist"))


class CancelBookingForm(FlaskForm):
    """Cancelling (or, after the deadline, asking staff to cancel) needs a reason and a second click."""

    reason = TextAreaField(
        _l("Reason"),
        description=_l("The company and the staff read it; the buyer and the interpreter are told without it."),
        validators=[DataRequired(message=_l("Give a reason for the cancellation.")), Length(max=500)],
    )
    submit = SubmitField(_l("Yes, cancel this consultation"))
    request_submit = SubmitField(_l("Ask the staff to cancel"))
