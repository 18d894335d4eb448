"""Survey figures for staff, in a fixed number of queries whatever the number of answers.

Scope: one audience (sme or buyer), optionally one round and/or a range of consultation dates
(inclusive, the consultation's date in Seoul). Averages are exact (Fraction) and rounded half-up
to two decimals only when shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import NamedTuple

from sqlalchemy import DateTime, Integer, Select, String, case, func, literal, select, type_coerce, union_all
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from consultroom.bookings.models import Booking
from consultroom.buyers.models import Buyer
from consultroom.companies.models import Company
from consultroom.extensions import db
from consultroom.rounds.models import Round
from consultroom.surveys.models import SurveyAnswer, SurveyInvitation, SurveyQuestion, SurveyResponse, SurveyVersion
from consultroom.timeutil import SEOUL, seoul_to_utc

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Scope:
    audience: str = "sme"
    round_id: int | None = None
    start: date | None = None
    end: date | None = None


def _scoped(stmt: Select, scope: Scope) -> Select:
    """Restrict a statement that already joins SurveyInvitation and Booking to the scope."""
    return _bookings_in(stmt.where(SurveyInvitation.respondent == scope.audience), scope)


def _bookings_in(stmt: Select, scope: Scope) -> Select:
    """Restrict a statement on Booking to the scope's round and dates."""
    if scope.round_id is not None:
        stmt = stmt.where(Booking.round_id == scope.round_id)
    if scope.start is not None:
        stmt = stmt.where(Booking.starts_at >= seoul_to_utc(scope.start, time(0, 0)))
    if scope.end is not None:
        stmt = stmt.where(Booking.starts_at < seoul_to_utc(scope.end + timedelta(days=1), time(0, 0)))
    return stmt


def _answers_base(*columns) -> Select:
    return (
        select(*columns)
        .select_from(SurveyAnswer)
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
        .join(Booking, Booking.id == SurveyInvitation.booking_id)
    )


def quantize(value: Fraction | None) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(CENT, rounding=ROUND_HALF_UP)


def response_score_groups(scope: Scope) -> list[tuple[int, int, int]]:
    """(scale answers per response, sum of those responses' scores, responses) for the responses in
    scope that have any: a handful of rows however many responses there are, from which the mean of
    per-response means is still exact (see mean_of_grouped)."""
    per_response = (
        _scoped(
            _answers_base(func.sum(SurveyAnswer.score).label("total"), func.count(SurveyAnswer.score).label("n")).where(
                SurveyAnswer.score.is_not(None)
            ),
            scope,
        )
        .group_by(SurveyResponse.id)
        .subquery()
    )
    stmt = select(per_response.c.n, func.sum(per_response.c.total), func.count()).group_by(per_response.c.n)
    return [(int(n), int(s), int(k)) for n, s, k in db.session.execute(stmt).all() if n]


def mean_of_grouped(groups: list[tuple[int, int, int]]) -> Decimal | None:
    """The mean of per-response means (each respondent weighs the same), rounded to 0.01, from
    (answers per response, sum of their scores, responses): the responses with n answers add
    sum/n to the sum of means, whatever their number."""
    responses = sum(k for _n, _s, k in groups)
    if not responses:
        return None
    total = sum((Fraction(s, n) for n, s, _k in groups), Fraction(0))
    return quantize(total / responses)


@dataclass
class QuestionResult:
    question: SurveyQuestion
    count: int = 0
    distribution: dict[int, int] = field(default_factory=lambda: dict.fromkeys(range(1, 6), 0))
    texts: list[str] = field(default_factory=list)

    @property
    def average(self) -> Decimal | None:
        if self.question.kind != "scale5" or not self.count:
            return None
        return quantize(Fraction(sum(k * v for k, v in self.distribution.items()), self.count))

    def share(self, score: int) -> int:
        """Per cent of this question's answers that gave `score` (for the bar), rounded down."""
        return self.distribution[score] * 100 // self.count if self.count else 0


@dataclass
class VersionResult:
    version: SurveyVersion
    questions: list[QuestionResult]
    responses: int


@dataclass
class Results:
    scope: Scope
    invited: int
    answered: int
    expired: int
    average: Decimal | None  # mean of per-response means, as average_satisfaction
    versions: list[VersionResult]

    @property
    def rate(self) -> Decimal | None:
        """answered / invited, in per cent to one decimal."""
        if not self.invited:
            return None
        return (Decimal(self.answered * 100) / Decimal(self.invited)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def results(scope: Scope, *, now: datetime) -> Results:
    """Every figure of the results page in three queries: the counts, the responses per version, the
    score distribution, the score sums and the texts in one statement that reads the scope's
    invitations and its answers once each (through the consultation dates' index), then the
    versions and their questions."""
    inv = _scoped(
        select(
            SurveyInvitation.id.label("id"),
            SurveyInvitation.expires_at.label("expires_at"),
            SurveyResponse.id.label("response_id"),
            SurveyResponse.version_id.label("version_id"),
        )
        .select_from(SurveyInvitation)
        .join(Booking, Booking.id == SurveyInvitation.booking_id)
        .outerjoin(SurveyResponse, SurveyResponse.invitation_id == SurveyInvitation.id),
        scope,
    ).cte("scoped_invitations")
    answered = inv.c.response_id.is_not(None)
    # The scope's own joins rather than the invitations above: the planner then sees how few of the
    # answers a year holds and reads them by response id instead of hashing every answer.
    answers = _scoped(
        _answers_base(
            SurveyAnswer.id,
            SurveyAnswer.response_id,
            SurveyAnswer.question_id,
            SurveyAnswer.score,
            SurveyAnswer.text,
            SurveyResponse.submitted_at,
        ),
        scope,
    ).cte("scoped_answers")
    scored = answers.c.score.is_not(None)
    per_response = (
        select(func.sum(answers.c.score).label("total"), func.count().label("n"))
        .where(scored)
        .group_by(answers.c.response_id)
        .subquery()
    )
    zero = literal(0)
    no_text, no_time = literal(None, String), literal(None, SurveyResponse.submitted_at.type)
    parts = [
        # kind, a, b, c, text, at
        select(
            literal("counts", String),
            func.count(),
            func.count(inv.c.response_id),
            func.sum(case((~answered & (inv.c.expires_at <= now), 1), else_=0)),
            no_text,
            no_time,
        ),
        select(literal("version", String), inv.c.version_id, func.count(), zero, no_text, no_time)
        .where(answered)
        .group_by(inv.c.version_id),
        select(literal("score", String), answers.c.question_id, answers.c.score, func.count(), no_text, no_time)
        .where(scored)
        .group_by(answers.c.question_id, answers.c.score),
        select(
            literal("sums", String), per_response.c.n, func.sum(per_response.c.total), func.count(), no_text, no_time
        ).group_by(per_response.c.n),
        # a year holds a few thousand texts: sorted here rather than in a sub-select of the union
        select(
            literal("text", String), answers.c.question_id, answers.c.id, zero, answers.c.text, answers.c.submitted_at
        ).where(answers.c.text.is_not(None)),
    ]
    invited = answered_n = expired = 0
    per_version: dict[int, int] = {}
    dist_rows: list[tuple[int, int, int]] = []
    sums: list[tuple[int, int, int]] = []
    texts: list[tuple[datetime, int, int, str]] = []
    for kind, a, b, c, text, at in db.session.execute(union_all(*parts)).all():
        if kind == "counts":
            invited, answered_n, expired = int(a or 0), int(b or 0), int(c or 0)
        elif kind == "version":
            per_version[int(a)] = int(b)
        elif kind == "score":
            dist_rows.append((int(a), int(b), int(c)))
        elif kind == "text":
            texts.append((at, int(b), int(a), text))
        elif a:
            sums.append((int(a), int(b), int(c)))

    versions = (
        db.session.scalars(
            select(SurveyVersion)
            .where(SurveyVersion.id.in_(list(per_version)))
            .options(selectinload(SurveyVersion.questions))
            .order_by(SurveyVersion.number.desc())
        ).all()
        if per_version
        else []
    )
    by_question: dict[int, QuestionResult] = {}
    version_results = []
    for v in versions:
        qs = [QuestionResult(question=q) for q in v.questions]
        by_question.update({r.question.id: r for r in qs})
        version_results.append(VersionResult(version=v, questions=qs, responses=int(per_version[v.id])))

    for question_id, score, n in dist_rows:
        r = by_question.get(question_id)
        if r is not None and score in r.distribution:
            r.distribution[score] += n
            r.count += n

    texts.sort()  # in the order they were submitted, as the page lists them
    for _at, _answer_id, question_id, text in texts:
        r = by_question.get(question_id)
        if r is not None:
            r.texts.append(text)
            r.count += 1

    return Results(
        scope=scope,
        invited=invited,
        answered=answered_n,
        expired=expired,
        average=mean_of_grouped(sums),
        versions=version_results,
    )


class AnswerRow(NamedTuple):
    """One answer of the exports (a tuple: a year has a hundred thousand of them)."""

    round_title: str
    consulted_on: date
    company: str
    buyer: str
    respondent: str
    version: int
    position: int
    question: str
    kind: str
    score: int | None
    text: str | None
    submitted_at: datetime  # naive Seoul time, for spreadsheets


ANSWER_BATCH = 2000


def _seoul(value: datetime) -> datetime:
    # The columns are read without UTCDateTime's per-value conversion; SQLite hands back naive UTC.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(SEOUL)


def _in_locale(ko: bool, korean, english):
    """The text in the reader's language, else the other one (as `a or b` reads an empty text)."""
    first, second = (korean, english) if ko else (english, korean)
    return func.coalesce(func.nullif(first, ""), second)


def _answer_names(scope: Scope, ko: bool) -> dict[str, dict[int, tuple]]:
    """What the exports name by id, in one statement: the companies and buyers of the scope's
    consultations, and every round, version and question (a few dozen to a few hundred), by kind then id."""

    def booked(column) -> Select:  # the ids the scope's consultations hold in `column`
        return _bookings_in(select(column), scope)

    none = literal(None, String)
    parts = [
        # kind, id, text, number, kind of question
        # every round (twelve a year): picking the scope's out of a year of bookings costs more than reading them
        select(literal("round", String), Round.id, Round.title, literal(None, Integer), none),
        select(
            literal("company", String),
            Company.id,
            _in_locale(ko, Company.name_ko, Company.name_en),
            literal(None, Integer),
            none,
        ).where(Company.id.in_(booked(Booking.company_id))),
        select(literal("buyer", String), Buyer.id, Buyer.company_name, literal(None, Integer), none).where(
            Buyer.id.in_(booked(Booking.buyer_id))
        ),
        select(literal("version", String), SurveyVersion.id, none, SurveyVersion.number, none),
        select(
            literal("question", String),
            SurveyQuestion.id,
            _in_locale(ko, SurveyQuestion.text_ko, SurveyQuestion.text_en),
            SurveyQuestion.position,
            SurveyQuestion.kind,
        ),
    ]
    names: dict[str, dict[int, tuple]] = {kind: {} for kind in ("round", "company", "buyer", "version", "question")}
    for kind, ident, text, number, question_kind in db.session.connection().execute(union_all(*parts)):
        names[kind][ident] = (text, number, question_kind)
    return names


def answer_rows(scope: Scope, locale: str) -> Iterator[AnswerRow]:
    """One row per answer in scope, for the exports, in two queries whatever their number: the names
    (rounds, companies, buyers, versions, questions) by id, then the answers with those ids, read a
    batch at a time (a server-side cursor on PostgreSQL), so an export holds a batch of rows, never
    the whole year, and the year's sort carries ids rather than names. A year's answers share a few
    hundred start times, and a response's answers its submission time: each is converted to Seoul
    time once."""
    names = _answer_names(scope, locale == "ko")
    rounds, companies, buyers = names["round"], names["company"], names["buyer"]
    versions, questions = names["version"], names["question"]
    raw_time = DateTime(timezone=True)
    stmt = _scoped(
        _answers_base(
            type_coerce(Booking.starts_at, raw_time),
            Booking.round_id,
            Booking.company_id,
            Booking.buyer_id,
            SurveyInvitation.respondent,
            SurveyResponse.version_id,
            SurveyAnswer.question_id,
            SurveyAnswer.score,
            SurveyAnswer.text,
            type_coerce(SurveyResponse.submitted_at, raw_time),
        ).join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id),
        scope,
    ).order_by(Booking.starts_at, SurveyResponse.id, SurveyQuestion.position, SurveyQuestion.id)
    days: dict[datetime, date] = {}
    submitted: tuple[datetime | None, datetime | None] = (None, None)  # the last one, read and in Seoul time
    result = db.session.connection().execute(stmt.execution_options(yield_per=ANSWER_BATCH))
    for starts_at, round_id, company_id, buyer_id, respondent, version_id, question_id, score, text, at in result:
        day = days.get(starts_at)
        if day is None:
            day = days[starts_at] = _seoul(starts_at).date()
        if at != submitted[0]:
            submitted = (at, _seoul(at).replace(tzinfo=None))
        question, position, kind = questions[question_id]
        yield AnswerRow(
            rounds[round_id][0],
            day,
            companies[company_id][0],
            buyers[buyer_id][0] if buyer_id is not None else "",
            respondent,
            versions[version_id][1],
            position,
            question,
            kind,
            score,
            text,
            submitted[1],
        )


def answer_count_capped(scope: Scope, cap: int) -> int:
    """The scope's number of answers, counted up to cap + 1 only: whether an export is small enough
    to write within the request costs the same for a round as for ten years."""
    capped = _scoped(_answers_base(SurveyAnswer.id), scope).limit(cap + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(capped)) or 0


def pending_for_company_stmt(company_id: int, *, now: datetime) -> Select:
    """The company's SME invitations still open (not answered, not expired)."""
    return (
        select(SurveyInvitation)
        .join(Booking, Booking.id == SurveyInvitation.booking_id)
        .outerjoin(SurveyResponse, SurveyResponse.invitation_id == SurveyInvitation.id)
        .where(
            Booking.company_id == company_id,
            SurveyInvitation.respondent == "sme",
            SurveyInvitation.expires_at > now,
            SurveyResponse.id.is_(None),
        )
    )


def pending_for_company(company_id: int, *, now: datetime) -> list[SurveyInvitation]:
    """The company's open SME invitations, newest consultation first."""
    return list(
        db.session.scalars(
            pending_for_company_stmt(company_id, now=now)
            .options(selectinload(SurveyInvitation.booking).selectinload(Booking.round))
            .order_by(Booking.starts_at.desc())
        )
    )


def rounds_for_filter() -> list[Round]:
    return list(db.session.scalars(select(Round).order_by(Round.year.desc(), Round.month.desc())))


def version_history(audience: str) -> list[SurveyVersion]:
    return list(
        db.session.scalars(
            select(SurveyVersion)
            .where(SurveyVersion.audience == audience)
            .options(selectinload(SurveyVersion.questions))
            .order_by(SurveyVersion.number.desc())
        )
    )


# The question page counts an earlier version's responses up to here and says "or more" beyond.
RESPONSES_SHOWN_UP_TO = 1000


def responses_per_version(version_ids: list[int]) -> dict[int, int]:
    """Responses per version, counted up to RESPONSES_SHOWN_UP_TO, in one statement: each count reads
    at most that many entries, where counting them all read every response of every year. The ids are
    written into the SQL (literal_execute) so each count is planned for its own version: with a
    parameter, PostgreSQL planned a version of 5 responses like one of 160,000 and scanned the table."""
    if not version_ids:
        return {}

    def counted(version_id: int):
        some = (
            select(SurveyResponse.id)
            .where(SurveyResponse.version_id == literal(version_id, literal_execute=True))
            .limit(RESPONSES_SHOWN_UP_TO)
            .subquery()
        )
        return select(func.count()).select_from(some).scalar_subquery()

    row = db.session.execute(select(*(counted(v) for v in version_ids))).one()
    return dict(zip(version_ids, row, strict=True))


def responses_stmt(*, company_id: int | None = None, round_id: int | None = None) -> Select:
    """Survey responses, newest first (the API's list): every one, or with company_id only that
    company's SME answers, optionally of one round. Staff's unfiltered list reads the responses alone,
    newest first down an index, so a page costs the same with 200 or 200,000 of them; invitation,
    booking and version come joined in the page's SELECT, the answers and their questions in one more."""
    stmt = select(SurveyResponse).options(
        joinedload(SurveyResponse.version),
        selectinload(SurveyResponse.answers).joinedload(SurveyAnswer.question),
    )
    if company_id is None and round_id is None:
        return stmt.options(
            joinedload(SurveyResponse.invitation).joinedload(SurveyInvitation.booking).lazyload("*")
        ).order_by(SurveyResponse.submitted_at.desc(), SurveyResponse.id.desc())
    stmt = (
        stmt.join(SurveyResponse.invitation)
        .join(SurveyInvitation.booking)
        .options(contains_eager(SurveyResponse.invitation).contains_eager(SurveyInvitation.booking).lazyload("*"))
    )
    if company_id is not None:
        stmt = stmt.where(Booking.company_id == company_id, SurveyInvitation.respondent == "sme")
    if round_id is not None:
        stmt = stmt.where(Booking.round_id == round_id)
    return stmt.order_by(SurveyResponse.submitted_at.desc(), SurveyResponse.id.desc())
