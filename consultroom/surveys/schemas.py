"""Survey responses as the API shows them."""

from __future__ import annotations

from marshmallow import fields

from consultroom.schemas import PERSONAL, Id, OutSchema, PageArgs, UtcDateTime, page_of


class SurveyAnswerSchema(OutSchema):
    inline = True
    question_id = fields.Integer()
    position = fields.Integer()
    kind = fields.String()
    text_ko = fields.String()
    text_en = fields.String()
    score = fields.Integer(allow_none=True, metadata={"minimum": 1, "maximum": 5})
    text = fields.String(allow_none=True, metadata=PERSONAL)


class SurveyResponseSchema(OutSchema):
    """Dumps a row of api.outcome_serializers.survey_response_row."""

    id = fields.Integer(attribute="response.id")
    booking_id = fields.Integer(attribute="booking.id")
    round_id = fields.Integer(attribute="booking.round_id")
    company_id = fields.Integer(attribute="booking.company_id")
    respondent = fields.String(attribute="response.invitation.respondent", metadata={"enum": ["sme", "buyer"]})
    version = fields.Integer(attribute="response.version.number")
    locale = fields.String(attribute="response.locale")
    submitted_at = UtcDateTime(attribute="response.submitted_at")
    answers = fields.List(fields.Nested(SurveyAnswerSchema))


SurveyResponseListSchema = page_of(SurveyResponseSchema)


class SurveyResponseListArgs(PageArgs):
    round_id = Id(metadata={"description": "Only responses about this round's consultations."})
