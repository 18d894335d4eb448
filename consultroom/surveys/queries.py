"""Survey figures for staff, in a fixed number of queries whatever the number of answers.

Scope: one audience (sme or buyer), optionally one round and/or a range of consultation dates
(inclusive, the consultation's date in Seoul). Averages are exact (Fraction) and rounded half-up
to two decimals only when shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from sqlalchemy import Select, String, case, func, literal, select, union_all
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

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
    stmt = stmt.where(SurveyInvitation.respondent == scope.audience)
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
    """Every figure of the results page in four queries: the counts, the responses per version, the
    score distribution and the score sums in one statement over the scope's invitations (read once,
    through the consultation dates' index), then the versions, their questions, and the texts."""
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
    scored = _scoped(
        _answers_base(SurveyAnswer.response_id, SurveyAnswer.question_id, SurveyAnswer.score).where(
            SurveyAnswer.score.is_not(None)
        ),
        scope,
    ).cte("scored_answers")
    per_response = (
        select(func.sum(scored.c.score).label("total"), func.count().label("n"))
        .group_by(scored.c.response_id)
        .subquery()
    )
    zero = literal(0)
    parts = [
        # kind, a, b, c, d
        select(
            literal("counts", String),
            func.count(),
            func.count(inv.c.response_id),
            func.sum(case((~answered & (inv.c.expires_at <= now), 1), else_=0)),
            zero,
        ),
        select(literal("version", String), inv.c.version_id, func.count(), zero, zero)
        .where(answered)
        .group_by(inv.c.version_id),
        select(literal("score", String), scored.c.question_id, scored.c.score, func.count(), zero).group_by(
            scored.c.question_id, scored.c.score
        ),
        select(literal("sums", String), per_response.c.n, func.sum(per_response.c.total), func.count(), zero).group_by(
            per_response.c.n
        ),
    ]
    invited = answered_n = expired = 0
    per_version: dict[int, int] = {}
    dist_rows: list[tuple[int, int, int]] = []
    sums: list[tuple[int, int, int]] = []
    for kind, a, b, c, _d in db.session.execute(union_all(*parts)).all():
        if kind == "counts":
            invited, answered_n, expired = int(a or 0), int(b or 0), int(c or 0)
        elif kind == "version":
            per_version[int(a)] = int(b)
        elif kind == "score":
            dist_rows.append((int(a), int(b), int(c)))
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

    texts = _scoped(
        _answers_base(SurveyAnswer.question_id, SurveyAnswer.text).where(SurveyAnswer.text.is_not(None)), scope
    ).order_by(SurveyResponse.submitted_at, SurveyAnswer.id)
    for question_id, text in db.session.execute(texts).all():
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


@dataclass(frozen=True)
class AnswerRow:
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


def answer_rows(scope: Scope, locale: str) -> Iterator[AnswerRow]:
    """One row per answer in scope, for the exports: one query, read a batch at a time (a server-side
    cursor on PostgreSQL), so an export holds a batch of rows, never the whole year."""
    buyer = aliased(Buyer)
    stmt = _scoped(
        _answers_base(
            Round.title,
            Booking.starts_at,
            Company.name_ko,
            Company.name_en,
            buyer.company_name,
            SurveyInvitation.respondent,
            SurveyVersion.number,
            SurveyQuestion.position,
            SurveyQuestion.text_ko,
            SurveyQuestion.text_en,
            SurveyQuestion.kind,
            SurveyAnswer.score,
            SurveyAnswer.text,
            SurveyResponse.submitted_at,
        )
        .join(Round, Round.id == Booking.round_id)
        .join(Company, Company.id == Booking.company_id)
        .outerjoin(buyer, buyer.id == Booking.buyer_id)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .join(SurveyVersion, SurveyVersion.id == SurveyResponse.version_id),
        scope,
    ).order_by(Booking.starts_at, SurveyResponse.id, SurveyQuestion.position, SurveyQuestion.id)
    ko = locale == "ko"
    for r in db.session.execute(stmt.execution_options(yield_per=ANSWER_BATCH)):
        yield (
            AnswerRow(
                round_title=r[0],
                consulted_on=r[1].astimezone(SEOUL).date(),
                company=(r[2] or r[3]) if ko else (r[3] or r[2]),
                buyer=r[4] or "",
                respondent=r[5],
                version=r[6],
                position=r[7],
                question=(r[8] or r[9]) if ko else (r[9] or r[8]),
                kind=r[10],
                score=r[11],
                text=r[12],
                submitted_at=r[13].astimezone(SEOUL).replace(tzinfo=None),
            )
        )


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
