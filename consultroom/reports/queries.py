"""The SQL behind the program figures: the period's consultations grouped in the database, and the
small look-ups of the report pages (years, rounds, targets). Returns rows; figures.py reads them.

Scope: consultations (bookings held or no-show) whose start falls from `start` to `end` inclusive,
as Seoul dates, optionally in one round. A consultation's contracts count in the period of the
consultation (not of the signing), so "224 of 383 consultations led to contracts" adds up.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import String, and_, case, cast, func, literal, select, text, union_all

from consultroom.bookings.models import Booking, BookingStatus
from consultroom.buyers.models import Buyer, BuyerLanguage
from consultroom.companies.models import CompanyHsCode
from consultroom.extensions import db
from consultroom.outcomes.models import Contract, Outcome
from consultroom.reports.models import ReportTarget
from consultroom.rounds.models import Round, RoundStatus
from consultroom.surveys.models import SurveyAnswer, SurveyInvitation, SurveyResponse
from consultroom.timeutil import seoul_to_utc

UNKNOWN = ""  # the group key of consultations without a buyer, an HS code or a language
GROUP_KINDS = ("month", "country", "industry", "language")


def _window(start: date, end: date) -> tuple[datetime, datetime]:
    return seoul_to_utc(start, time(0, 0)), seoul_to_utc(end + timedelta(days=1), time(0, 0))


def months_between(start: date, end: date) -> list[str]:
    keys = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        keys.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return keys


def _month_key(start: date, end: date):
    """The consultation's Seoul month as "YYYY-MM", by comparing its UTC start with each month's
    UTC boundaries: no time-zone function, so it reads the same on PostgreSQL and SQLite."""
    months = months_between(start, end)
    whens = []
    for key in months[:-1]:
        y, m = int(key[:4]), int(key[5:])
        nxt = date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)
        whens.append((Booking.starts_at < seoul_to_utc(nxt, time(0, 0)), literal(key, String)))
    last = literal(months[-1], String)
    return case(*whens, else_=last) if whens else last


def _in_period(lo: datetime, hi: datetime, round_id: int | None, *, consultations: bool = True) -> list:
    """Bookings starting in the window (and the round); held or no-show ones unless `consultations` is False."""
    where = [Booking.starts_at >= lo, Booking.starts_at < hi]
    if consultations:
        where.append(Booking.status.in_((BookingStatus.HELD.value, BookingStatus.NO_SHOW.value)))
    return [*where, Booking.round_id == round_id] if round_id is not None else where


def _consultations(start: date, end: date, round_id: int | None, *, months_only: bool = False) -> tuple:
    """One row per held or no-show consultation of the period, with what it is grouped by, its
    contracts and its SME survey scores. Contracts and scores are summed per consultation by joins
    restricted to the period's bookings (read through the starts_at index), so the database hashes
    a year's rows once instead of probing every consultation's rows one by one. `months_only` (the
    year before, for a comparison by month) leaves out what only the other breakdowns need.
    Returns the consultations and the per-consultation score sums (None with `months_only`)."""
    lo, hi = _window(start, end)
    in_period = _in_period(lo, hi, round_id)
    contracts = (
        select(
            Outcome.booking_id.label("booking_id"),
            func.count(Contract.id).label("n"),
            func.sum(Contract.krw_value).label("krw"),
        )
        .select_from(Booking)
        .join(Outcome, Outcome.booking_id == Booking.id)
        # A withdrawn contract (issue 15 item 7) is kept for the history but counts nowhere.
        .join(Contract, and_(Contract.outcome_id == Outcome.id, Contract.withdrawn_at.is_(None)))
        .where(*in_period)
        .group_by(Outcome.booking_id)
        .subquery("contract_sums")
    )
    # At most one SME response per consultation (one invitation per booking and respondent). Every
    # response of the period counts towards the total satisfaction, whatever its booking's status
    # (as the survey results count it); the breakdowns take those of held consultations.
    scores = (
        select(
            SurveyInvitation.booking_id.label("booking_id"),
            func.sum(SurveyAnswer.score).label("score_sum"),
            func.count(SurveyAnswer.score).label("score_n"),
        )
        .select_from(Booking)
        .join(SurveyInvitation, SurveyInvitation.booking_id == Booking.id)
        .join(SurveyResponse, SurveyResponse.invitation_id == SurveyInvitation.id)
        .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
        .where(
            *_in_period(lo, hi, round_id, consultations=False),
            SurveyInvitation.respondent == "sme",
            SurveyAnswer.score.is_not(None),
        )
        .group_by(SurveyInvitation.booking_id)
        .cte("score_sums")
    )
    first_hs = (
        select(CompanyHsCode.company_id.label("company_id"), func.min(CompanyHsCode.code).label("code"))
        .group_by(CompanyHsCode.company_id)
        .subquery("first_hs")
    )
    first_language = (
        select(BuyerLanguage.buyer_id.label("buyer_id"), func.min(BuyerLanguage.code).label("code"))
        .group_by(BuyerLanguage.buyer_id)
        .subquery("first_language")
    )
    unknown = literal(UNKNOWN, String)
    columns = [
        Booking.id.label("id"),
        (Booking.status == BookingStatus.HELD.value).label("held"),
        Booking.company_id.label("company_id"),
        cast(Booking.round_id, String).label("round_key"),
        _month_key(start, end).label("month"),
        func.coalesce(contracts.c.n, 0).label("n"),
        func.coalesce(contracts.c.krw, 0).label("krw"),
    ]
    stmt = select(*columns).outerjoin(contracts, contracts.c.booking_id == Booking.id).where(*in_period)
    if months_only:
        zero = literal(0)
        stmt = stmt.add_columns(unknown.label("country"), unknown.label("chapter"), unknown.label("language"),
                                zero.label("score_sum"), zero.label("score_n"))  # fmt: skip
        return stmt.cte("consultations"), None
    stmt = (
        stmt.add_columns(
            func.coalesce(Buyer.country, UNKNOWN).label("country"),
            func.coalesce(func.substr(first_hs.c.code, 1, 2), UNKNOWN).label("chapter"),
            func.coalesce(first_language.c.code, UNKNOWN).label("language"),
            func.coalesce(scores.c.score_sum, 0).label("score_sum"),
            func.coalesce(scores.c.score_n, 0).label("score_n"),
        )
        .outerjoin(Buyer, Buyer.id == Booking.buyer_id)
        .outerjoin(first_hs, first_hs.c.company_id == Booking.company_id)
        .outerjoin(first_language, first_language.c.buyer_id == Booking.buyer_id)
        .outerjoin(scores, scores.c.booking_id == Booking.id)
    )
    return stmt.cte("consultations"), scores


def grouped_rows(start: date, end: date, round_id: int | None, *, months_only: bool) -> list[tuple]:
    """Every group's sums in one statement: a UNION ALL of GROUP BYs over the period's consultations,
    so the database adds them up and Python only reads about a hundred rows. Each row is (kind, key,
    score_n, held, no_shows, smes, contracted, contracts, krw); a "<kind>:scores" row holds (kind,
    key, answers per response, sum of scores, responses, 0...), "booked" its count in the last column."""
    c, score_sums = _consultations(start, end, round_id, months_only=months_only)
    one = literal(1)
    held = c.c.held
    contracted = held & (c.c.n > 0)

    def sums(kind: str, key, *, grouped: bool = True):
        stmt = select(
            literal(kind, String).label("kind"),
            key.label("key"),
            literal(0).label("score_n"),
            func.sum(case((held, one), else_=0)),
            func.sum(case((held, 0), else_=one)),
            func.count(func.distinct(case((held, c.c.company_id)))),
            func.sum(case((contracted, one), else_=0)),
            func.sum(case((contracted, c.c.n), else_=0)),
            func.sum(case((contracted, c.c.krw), else_=0)),
        )
        return stmt.group_by(key) if grouped else stmt

    def scores(kind: str, key):
        # Per group and number of scale answers: sum of the responses' score sums and responses.
        return (
            select(
                literal(kind + ":scores", String),
                key,
                c.c.score_n,
                func.sum(c.c.score_sum),
                func.count(),
                literal(0),
                literal(0),
                literal(0),
                literal(0),
            )
            .where(held, c.c.score_n > 0)
            .group_by(key, c.c.score_n)
        )

    keys = dict(zip(GROUP_KINDS, (c.c.month, c.c.country, c.c.chapter, c.c.language), strict=True))
    if months_only:
        keys = {"month": c.c.month}
    parts = [sums("total", literal(UNKNOWN, String), grouped=False)]
    for kind, key in keys.items():
        parts += [sums(kind, key), scores(kind, key)]
    if score_sums is not None:
        # The total satisfaction over every SME response of the period, in the same statement.
        s = score_sums.c
        parts.append(
            select(literal("total:scores", String), literal(UNKNOWN, String), s.score_n, func.sum(s.score_sum),
                   func.count(), literal(0), literal(0), literal(0), literal(0)).group_by(s.score_n)
        )  # fmt: skip
    lo, hi = _window(start, end)
    booked = select(literal("booked", String), literal(UNKNOWN, String), *(literal(0) for _ in range(6)), func.count())
    booked = booked.select_from(Booking).where(
        Booking.starts_at >= lo, Booking.starts_at < hi, Booking.status != BookingStatus.CANCELLED.value,
        *([Booking.round_id == round_id] if round_id is not None else []),
    )  # fmt: skip
    parts.append(booked)
    # The rounds with a held consultation: at most the period's rounds.
    parts.append(
        select(literal("round", String), c.c.round_key, literal(0), literal(0), literal(0), literal(0),
               literal(0), literal(0), literal(0)).where(held).group_by(c.c.round_key)
    )  # fmt: skip
    if db.session.get_bind().dialect.name == "postgresql":
        # A year's rows at national scale can pass jit_above_cost, and compiling the plan took longer
        # than running it (measured before: about 5 s of JIT for 1 s of work at 200,000
        # consultations). Only for this transaction.
        db.session.execute(text("SET LOCAL jit = off"))
    return list(db.session.execute(union_all(*parts)))


def held_round_ids(start: date, end: date, round_id: int | None) -> set[int]:
    """Rounds marked held or finalized whose day lies in the period (with or without consultations)."""
    stmt = select(Round.id).where(
        Round.status.in_((RoundStatus.HELD.value, RoundStatus.FINALIZED.value)),
        Round.day >= start,
        Round.day <= end,
    )
    if round_id is not None:
        stmt = stmt.where(Round.id == round_id)
    return set(db.session.scalars(stmt))


def latest_consultation_start() -> datetime | None:
    """The start of the latest held or no-show consultation (one index read)."""
    return db.session.scalar(
        select(func.max(Booking.starts_at)).where(
            Booking.status.in_((BookingStatus.HELD.value, BookingStatus.NO_SHOW.value))
        )
    )


def targets_for(year: int, *, published_only: bool = False) -> dict[str, ReportTarget]:
    stmt = select(ReportTarget).where(ReportTarget.year == year)
    if published_only:
        stmt = stmt.where(ReportTarget.published.is_(True))
    return {t.metric: t for t in db.session.scalars(stmt)}


def recorded_years() -> list[int]:
    """Years with rounds or targets, newest first (for the year pickers)."""
    years = set(db.session.scalars(select(Round.year).distinct()))
    years |= set(db.session.scalars(select(ReportTarget.year).distinct()))
    return sorted(years, reverse=True)


def rounds_for_filter() -> list[Round]:
    return list(db.session.scalars(select(Round).order_by(Round.day.desc()).limit(200)))
