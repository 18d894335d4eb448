"""The admin's yearly targets form. Value rules (whole numbers, 0-5 with two decimals) live in the service."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import Length

from consultroom.reports.models import METRICS


class TargetsForm(FlaskForm):
    consultations = StringField(_l("Consultations held"), validators=[Length(max=30)])
    contracts = StringField(_l("Consultations with a contract"), validators=[Length(max=30)])
    contract_value_krw = StringField(_l("Contract value (KRW)"), validators=[Length(max=30)])
    smes = StringField(_l("Participating SMEs"), validators=[Length(max=30)])
    satisfaction = StringField(_l("Average satisfaction (1-5)"), validators=[Length(max=30)])
    publish_consultations = BooleanField(_l("Published"))
    publish_contracts = BooleanField(_l("Published"))
    publish_contract_value_krw = BooleanField(_l("Published"))
    publish_smes = BooleanField(_l("Published"))
    publish_satisfaction = BooleanField(_l("Published"))
    submit = SubmitField(_l("Save the targets"))

    def values(self) -> dict[str, str]:
        return {m: getattr(self, m).data or "" for m in METRICS}

    def published(self) -> set[str]:
        return {m for m in METRICS if getattr(self, f"publish_{m}").data}
