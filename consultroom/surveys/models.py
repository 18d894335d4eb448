"""Survey tables.

A question set is versioned per audience (sme, buyer): a version that any response uses is never
edited again; editing it creates the next version (see services.editable_version). Exactly one
version per audience is active (partial unique index). One invitation per (booking, respondent
kind) and one response per invitation are unique constraints, so job reruns and double submits
(even concurrent ones) cannot duplicate anything.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultroom.bookings.models import Booking
from consultroom.db import utcnow
from consultroom.extensions import db

AUDIENCES = ("sme", "buyer")
KINDS = ("scale5", "text")


class SurveyVersion(db.Model):
    __tablename__ = "survey_versions"
    __table_args__ = (
        UniqueConstraint("audience", "number", name="uq_survey_versions_audience_number"),
        CheckConstraint("audience IN ('sme', 'buyer')", name="audience_known"),
        CheckConstraint("number >= 1", name="number_positive"),
        Index(
            "uq_survey_versions_audience_active",
            "audience",
            unique=True,
            postgresql_where=text("active"),
            sqlite_where=text("active = 1"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    audience: Mapped[str] = mapped_column(String(10))
    number: Mapped[int]
    active: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="version",
        cascade="all, delete-orphan",
        order_by="(SurveyQuestion.position, SurveyQuestion.id)",
    )

    def snapshot(self) -> dict:
        return {"audience": self.audience, "number": self.number, "active": self.active}


class SurveyQuestion(db.Model):
    __tablename__ = "survey_questions"
    __table_args__ = (
        CheckConstraint("kind IN ('scale5', 'text')", name="kind_known"),
        Index("ix_survey_questions_version_position", "version_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=1)
    kind: Mapped[str] = mapped_column(String(10), default="scale5")
    text_ko: Mapped[str] = mapped_column(String(500))
    text_en: Mapped[str] = mapped_column(String(500))
    required: Mapped[bool] = mapped_column(default=True)

    version: Mapped[SurveyVersion] = relationship(back_populates="questions")

    def text_in(self, locale: str) -> str:
        return (self.text_ko or self.text_en) if locale == "ko" else (self.text_en or self.text_ko)

    def snapshot(self) -> dict:
        return {
            "version_id": self.version_id,
            "position": self.position,
            "kind": self.kind,
            "text_ko": self.text_ko,
            "text_en": self.text_en,
            "required": self.required,
        }


class SurveyInvitation(db.Model):
    """One per held booking and respondent kind; the company's users share the SME invitation."""

    __tablename__ = "survey_invitations"
    __table_args__ = (
        UniqueConstraint("booking_id", "respondent", name="uq_survey_invitations_booking_respondent"),
        CheckConstraint("respondent IN ('sme', 'buyer')", name="respondent_known"),
        CheckConstraint("invited_at < expires_at", name="expiry_after_invite"),
        Index("ix_survey_invitations_invited_at", "invited_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    respondent: Mapped[str] = mapped_column(String(10))
    # The buyer at the time of the invitation; None for SME invitations.
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id", ondelete="SET NULL"))
    locale: Mapped[str] = mapped_column(String(10), default="ko")  # the answer page's default language
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    reminded_3_at: Mapped[datetime | None]
    reminded_7_at: Mapped[datetime | None]
    mails_sent: Mapped[int] = mapped_column(default=0)

    booking: Mapped[Booking] = relationship()
    response: Mapped[SurveyResponse | None] = relationship(back_populates="invitation", uselist=False)

    def status(self, now: datetime) -> str:
        """invited -> answered | expired (DESIGN section 3)."""
        if self.response is not None:
            return "answered"
        return "expired" if now >= self.expires_at else "invited"


class SurveyResponse(db.Model):
    __tablename__ = "survey_responses"
    __table_args__ = (
        # One response per consultation and respondent: the race-safe guard against double submits.
        UniqueConstraint("invitation_id", name="uq_survey_responses_invitation_id"),
        Index("ix_survey_responses_version_id", "version_id"),
        # The API's list, newest first: a page read down this index instead of sorting every response.
        Index("ix_survey_responses_submitted", "submitted_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("survey_invitations.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id", ondelete="RESTRICT"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    locale: Mapped[str] = mapped_column(String(10), default="ko")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    invitation: Mapped[SurveyInvitation] = relationship(back_populates="response")
    version: Mapped[SurveyVersion] = relationship()
    answers: Mapped[list[SurveyAnswer]] = relationship(back_populates="response", cascade="all, delete-orphan")


class SurveyAnswer(db.Model):
    __tablename__ = "survey_answers"
    __table_args__ = (
        UniqueConstraint("response_id", "question_id", name="uq_survey_answers_response_question"),
        CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)", name="score_range"),
        Index("ix_survey_answers_question_id", "question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_questions.id", ondelete="RESTRICT"))
    score: Mapped[int | None]
    text: Mapped[str | None] = mapped_column(Text)

    response: Mapped[SurveyResponse] = relationship(back_populates="answers")
    question: Mapped[SurveyQuestion] = relationship()
