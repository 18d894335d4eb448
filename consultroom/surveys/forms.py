from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

KIND_LABELS = {"scale5": _l("Scale 1-5"), "text": _l("Free text")}


class QuestionForm(FlaskForm):
    kind = SelectField(_l("Answer"), choices=list(KIND_LABELS.items()), validators=[DataRequired()])
    text_ko = StringField(_l("Question in Korean"), validators=[DataRequired(), Length(max=500)])
    text_en = StringField(_l("Question in English"), validators=[DataRequired(), Length(max=500)])
    required = BooleanField(_l("An answer is required"), default=True)
    submit = SubmitField(_l("Save question"))

    def payload(self) -> dict:
        return {
            "kind": self.kind.data,
            "text_ko": self.text_ko.data,
            "text_en": self.text_en.data,
            "required": self.required.data,
        }


class AnswerForm(FlaskForm):
    """CSRF and the version shown; the answers (q<id>) are read and checked by the service."""

    version_id = HiddenField()
    submit = SubmitField(_l("Send my answers"))


class PlainForm(FlaskForm):
    """CSRF only (delete, move)."""
