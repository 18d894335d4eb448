"""Survey invitations, and answers given through submit_response (it checks the questions and
their versions, so answers are never written as rows by hand)."""

from __future__ import annotations

from datetime import timedelta

import factory

from consultroom.bookings.models import Booking
from consultroom.extensions import db
from consultroom.surveys.models import SurveyInvitation, SurveyQuestion
from consultroom.surveys.services import active_version, add_question, submit_response
from tests.factories.base import BaseFactory


class SurveyQuestionFactory(BaseFactory):
    """A question added through add_question, which opens a new questionnaire version when the
    current one has answers: rows by hand would skip that."""

    class Meta:
        model = SurveyQuestion

    audience = "sme"
    kind = "scale5"
    text_ko = factory.Sequence(lambda n: f"질문{n}")
    text_en = factory.Sequence(lambda n: f"Q{n}")
    required = False
    actor = None

    @classmethod
    def _create(cls, model_class, *, audience: str, actor, **data) -> SurveyQuestion:
        return add_question(audience=audience, data=data, actor=actor)


class SurveyInvitationFactory(BaseFactory):
    """An invitation sent an hour after the consultation ended, open for two weeks."""

    class Meta:
        model = SurveyInvitation

    class Params:
        buyer = factory.Trait(respondent="buyer", buyer_id=factory.SelfAttribute("booking.buyer_id"))

    booking = None  # required: a held consultation (see outcomes.ConsultationLogFactory)
    respondent = "sme"
    invited_at = factory.LazyAttribute(lambda o: o.booking.ends_at + timedelta(hours=1))
    expires_at = factory.LazyAttribute(lambda o: o.booking.ends_at + timedelta(days=14))


def survey(
    booking: Booking,
    respondent: str,
    answers: dict,
    *,
    now=None,
    version=None,
    locale: str = "ko",
    user=None,
    **invitation,
) -> SurveyInvitation:
    """`respondent` ("sme" or "buyer") answers {question: value} on the active questionnaire (or
    `version`), by default two hours after the consultation; `invitation` overrides
    SurveyInvitationFactory's fields (invited_at, expires_at)."""
    invited = SurveyInvitationFactory(booking=booking, respondent=respondent, buyer=respondent == "buyer", **invitation)
    submit_response(
        invitation=invited,
        version=version or active_version(respondent),
        answers={f"q{q.id}": str(v) for q, v in answers.items()},
        locale=locale,
        user=user,
        now=now or booking.ends_at + timedelta(hours=2),
    )
    db.session.flush()
    return invited
