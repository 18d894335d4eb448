from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SubmitField
from wtforms.validators import InputRequired, NumberRange

from consultroom.matching.settings import WEIGHT_MAX, WEIGHT_MIN, WEIGHT_NAMES

WEIGHT_LABELS = {
    "hs6": _l("HS code matches exactly (6 digits)"),
    "hs4": _l("HS heading matches (4 digits)"),
    "hs2": _l("HS chapter matches (2 digits)"),
    "industry": _l("The buyer's declared interests mention the company's industry"),
    "country": _l("Buyer's country is a target country"),
    "shared_language": _l("Company and buyer share a language"),
    "interpreter": _l("An interpreter is available for the buyer's language"),
    "within_hours": _l("The slot is within the buyer's hours"),
    "outside_hours": _l("The slot is outside the buyer's hours"),
    "new_pair": _l("The company and the buyer have not met before"),
    "load_each": _l("Per consultation the buyer already has in the round"),
}


def _weight_field(name: str) -> IntegerField:
    return IntegerField(
        WEIGHT_LABELS.get(name, name), validators=[InputRequired(), NumberRange(WEIGHT_MIN, WEIGHT_MAX)]
    )


class WeightsForm(FlaskForm):
    submit = SubmitField(_l("Save weights"))


for _name in WEIGHT_NAMES:
    setattr(WeightsForm, _name, _weight_field(_name))
