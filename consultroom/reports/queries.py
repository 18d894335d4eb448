"""The SQL behind the program figures: the period's consultations grouped in the database, and the
small look-ups of the report pages (years, rounds, targets). Returns rows; figures.py reads them.

Scope: consultations (bookings held or no-show) whose start falls from `start` to `end` inclusive,
as Seoul dates, optionally in one round. A consultation's contracts count in the period of the
consultation (not of the signing), so "224 of 383 consultations led to contracts" adds up.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import String, case, cast, func, literal, select, text, union_all

from consultroom.bookings.models import Booking, BookingStatus
from consultroom.extensions import db
from consultroom.reports import facts
from consultroom.reports.models import ConsultationFact, ReportTarget
from consultroom.rounds.models import Round, RoundStatus
from consultroom.timeutil import seoul_to_utc

UNKNOWN = facts.UNKNOWN  # the group key of consultations without a buyer, an HS code or a language
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


def _month_key(start: date, end: date, starts_at):
    """The consultation's Seoul month as "YYYY-MM", by comparing its UTC start with each month's
    UTC boundaries: no time-zone function, so it reads the same on PostgreSQL and SQLite."""
    months = months_between(start, end)
    whens = []
    for key in months[:-1]:
        y, m = int(key[:4]), int(key[5:])
        nxt = date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)
        whens.append((starts_at < seoul_to_utc(nxt, time(0, 0)), literal(key, String)))
    last = literal(months[-1], String)
    return case(*whens, else_=last) if whens else last


def _facts_in(lo: datetime, hi: datetime, round_id: int | None) -> list:
    """Facts of bookings starting in the window (and the round), read through their starts_at index."""
    f = ConsultationFact
    where = [f.starts_at >= lo, f.starts_at < hi]
    return [*where, f.round_id == round_id] if round_id is not None else where


def _consultations(start: date, end: date, round_id: int | None) -> tuple:
    """One row per held or no-show consultation of the period, with what it is grouped by, its
    contracts and its SME survey scores, and the period's SME score sums whatever their booking's
    status (as the survey results count them): both read from the consultation facts, which carry
    each booking's sums (facts.py), so no contract or survey answer is joined here."""
    lo, hi = _window(start, end)
    f = ConsultationFact
    consulted = (BookingStatus.HELD.value, BookingStatus.NO_SHOW.value)
    consultations = select(
        f.booking_id.label("id"),
        (f.status == BookingStatus.HELD.value).label("held"),
        f.company_id.label("company_id"),
        cast(f.round_id, String).label("round_key"),
        _month_key(start, end, f.starts_at).label("month"),
        f.contracts.label("n"),
        f.krw.label("krw"),
        f.country.label("country"),
        f.chapter.label("chapter"),
        f.language.label("language"),
        f.score_sum.label("score_sum"),
        f.score_n.label("score_n"),
    ).where(*_facts_in(lo, hi, round_id), f.status.in_(consulted))
    scores = select(f.score_sum.label("score_sum"), f.score_n.label("score_n")).where(
        *_facts_in(lo, hi, round_id), f.score_n > 0
    )
    return consultations.cte("consultations"), scores.cte("score_sums")


def grouped_rows(start: date, end: date, round_id: int | None, *, months_only: bool) -> list[tuple]:
    """Every group's sums in one statement: a UNION ALL of GROUP BYs over the period's consultations,
    so the database adds them up and Python only reads about a hundred rows. Each row is (kind, key,
    score_n, held, no_shows, smes, contracted, contracts, krw); a "<kind>:scores" row holds (kind,
    key, answers per response, sum of scores, responses, 0...), "booked" its count in the last column."""
    facts.sync()  # this transaction's own changes count too
    c, score_sums = _consultations(start, end, round_id)
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
        # The year before is compared by counts alone: its months carry no satisfaction.
        parts += [sums(kind, key)] if months_only else [sums(kind, key), scores(kind, key)]
    if not months_only:
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
