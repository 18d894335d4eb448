"""Program figures against the year's targets, in a fixed number of queries whatever the data size.

Scope: consultations (bookings held or no-show) whose start falls from `start` to `end` inclusive,
as Seoul dates, optionally in one round. A consultation's contracts count in the period of the
consultation (not of the signing), so "224 of 383 consultations led to contracts" adds up.
Counts are ints, KRW whole won (int), rates Decimal; nothing passes through a float.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, case, cast, func, literal, select, text, union_all

from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.bookings.models import Booking, BookingStatus
from consultroom.buyers.models import Buyer, BuyerLanguage
from consultroom.companies.models import CompanyHsCode
from consultroom.errors import Invalid
from consultroom.extensions import db
from consultroom.outcomes.models import Contract, Outcome
from consultroom.reports.models import METRICS, Metric, ReportTarget
from consultroom.rounds.models import Round, RoundStatus
from consultroom.surveys.models import SurveyAnswer, SurveyInvitation, SurveyResponse
from consultroom.surveys.queries import mean_of_grouped
from consultroom.surveys.services import average_satisfaction
from consultroom.timeutil import seoul_date, seoul_to_utc

TENTH = Decimal("0.1")
CENT = Decimal("0.01")
MIN_YEAR, MAX_YEAR = 2000, 2100
UNKNOWN = ""  # the group key of consultations without a buyer, an HS code or a language

# The Harmonized System's 21 sections by their 2-digit chapters (WCO nomenclature; chapter 77 is
# reserved inside XV, chapters 98-99 are kept for national use and belong to no section).
HS_SECTIONS: tuple[tuple[str, int, int], ...] = (
    ("I", 1, 5),
    ("II", 6, 14),
    ("III", 15, 15),
    ("IV", 16, 24),
    ("V", 25, 27),
    ("VI", 28, 38),
    ("VII", 39, 40),
    ("VIII", 41, 43),
    ("IX", 44, 46),
    ("X", 47, 49),
    ("XI", 50, 63),
    ("XII", 64, 67),
    ("XIII", 68, 70),
    ("XIV", 71, 71),
    ("XV", 72, 83),
    ("XVI", 84, 85),
    ("XVII", 86, 89),
    ("XVIII", 90, 92),
    ("XIX", 93, 93),
    ("XX", 94, 96),
    ("XXI", 97, 97),
)
SECTION_ORDER = {name: i for i, (name, _lo, _hi) in enumerate(HS_SECTIONS)}
SECTION_NAMES = {
    "I": _l("Live animals; animal products"),
    "II": _l("Vegetable products"),
    "III": _l("Animal or vegetable fats and oils"),
    "IV": _l("Prepared foodstuffs, beverages and tobacco"),
    "V": _l("Mineral products"),
    "VI": _l("Chemical products"),
    "VII": _l("Plastics and rubber"),
    "VIII": _l("Hides, skins, leather and furs"),
    "IX": _l("Wood, cork and basketware"),
    "X": _l("Pulp, paper and printed matter"),
    "XI": _l("Textiles"),
    "XII": _l("Footwear, headgear and umbrellas"),
    "XIII": _l("Stone, ceramics and glass"),
    "XIV": _l("Pearls, precious stones and metals"),
    "XV": _l("Base metals"),
    "XVI": _l("Machinery and electrical equipment"),
    "XVII": _l("Vehicles, aircraft and vessels"),
    "XVIII": _l("Optical, medical and precision instruments"),
    "XIX": _l("Arms and ammunition"),
    "XX": _l("Miscellaneous manufactured articles"),
    "XXI": _l("Works of art and antiques"),
}
METRIC_LABELS = {
    Metric.CONSULTATIONS.value: _l("Consultations held"),
    Metric.CONTRACTS.value: _l("Consultations with a contract"),
    Metric.CONTRACT_VALUE_KRW.value: _l("Contract value (KRW)"),
    Metric.SMES.value: _l("Participating SMEs"),
    Metric.SATISFACTION.value: _l("Average satisfaction (1-5)"),
}
WHOLE_METRICS = (
    Metric.CONSULTATIONS.value,
    Metric.CONTRACTS.value,
    Metric.CONTRACT_VALUE_KRW.value,
    Metric.SMES.value,
)
MAX_TARGET = Decimal(10) ** 17  # fits Numeric(20, 2)


def hs_section(code: str | None) -> str | None:
    """The HS section (I-XXI) of a code by its 2-digit chapter; None for none or chapters 77/98/99-less."""
    if not code or len(code) < 2 or not code[:2].isdigit():
        return None
    chapter = int(code[:2])
    for name, low, high in HS_SECTIONS:
        if low <= chapter <= high:
            return name
    return None


def percent(part: int | Decimal | None, whole: int | Decimal | None) -> Decimal | None:
    """part / whole in per cent, rounded half-up to 0.1; None when there is nothing to divide by."""
    if part is None or not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


# --- the figures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    held: int = 0
    no_shows: int = 0
    smes: int = 0  # distinct companies with a held consultation
    contracted: int = 0  # held consultations with at least one contract
    contracts: int = 0  # contracts of those consultations
    krw: int = 0  # their KRW value, whole won
    satisfaction: Decimal | None = None

    @property
    def conversion(self) -> Decimal | None:
        """Consultations with a contract per held consultation, in per cent."""
        return percent(self.contracted, self.held)


@dataclass
class _Acc:
    """One group's sums as the database returned them; satisfaction from (answers per response,
    sum of their scores, responses) rows, so the mean of per-response means stays exact."""

    held: int = 0
    no_shows: int = 0
    smes: int = 0
    contracted: int = 0
    contracts: int = 0
    krw: int = 0
    scores: list[tuple[int, int, int]] = field(default_factory=list)

    def merge(self, other: _Acc) -> None:
        # Only for groups whose companies are disjoint (HS chapters of one section: a company has
        # one first HS code), so distinct SMEs add up.
        self.held += other.held
        self.no_shows += other.no_shows
        self.smes += other.smes
        self.contracted += other.contracted
        self.contracts += other.contracts
        self.krw += other.krw
        self.scores += other.scores

    def figures(self, satisfaction: Decimal | None = None) -> Figures:
        return Figures(
            held=self.held,
            no_shows=self.no_shows,
            smes=self.smes,
            contracted=self.contracted,
            contracts=self.contracts,
            krw=self.krw,
            satisfaction=satisfaction if satisfaction is not None else mean_of_grouped(self.scores),
        )


@dataclass(frozen=True)
class Group:
    key: str  # "2026-03", "US", "XVI", "en"; UNKNOWN ("") when not known
    figures: Figures


@dataclass(frozen=True)
class Report:
    start: date
    end: date
    round_id: int | None
    total: Figures
    rounds_held: int
    booked: int  # consultations booked for the period and not cancelled: the funnel's first step
    by_month: list[Group]
    by_country: list[Group]
    by_industry: list[Group]
    by_language: list[Group]

    @property
    def is_calendar_year(self) -> bool:
        return (
            self.round_id is None
            and self.start == date(self.start.year, 1, 1)
            and self.end == date(self.start.year, 12, 31)
        )

    def breakdowns(self) -> list[tuple[str, list[Group]]]:
        return [
            ("month", self.by_month),
            ("country", self.by_country),
            ("industry", self.by_industry),
            ("language", self.by_language),
        ]


def _window(start: date, end: date) -> tuple[datetime, datetime]:
    return seoul_to_utc(start, time(0, 0)), seoul_to_utc(end + timedelta(days=1), time(0, 0))


def _months(start: date, end: date) -> list[str]:
    keys = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        keys.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return keys


def _month_key(start: date, end: date):
    """The consultation's Seoul month as "YYYY-MM", by comparing its UTC start with each month's
    UTC boundaries: no time-zone function, so it reads the same on PostgreSQL and SQLite."""
    months = _months(start, end)
    whens = []
    for key in months[:-1]:
        y, m = int(key[:4]), int(key[5:])
        nxt = date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)
        whens.append((Booking.starts_at < seoul_to_utc(nxt, time(0, 0)), literal(key, String)))
    last = literal(months[-1], String)
    return case(*whens, else_=last) if whens else last


def _consultations(start: date, end: date, round_id: int | None):
    """One row per held or no-show consultation of the period, with what it is grouped by, its
    contracts and its SME survey scores. Read through the starts_at index; every per-consultation
    figure is an indexed look-up of that consultation's own rows, never an aggregate of a table."""
    lo, hi = _window(start, end)
    first_hs = (
        select(func.min(CompanyHsCode.code))
        .where(CompanyHsCode.company_id == Booking.company_id)
        .correlate(Booking)
        .scalar_subquery()
    )
    first_language = (
        select(func.min(BuyerLanguage.code))
        .where(BuyerLanguage.buyer_id == Booking.buyer_id)
        .correlate(Booking)
        .scalar_subquery()
    )

    def of_contracts(column):
        return (
            select(column)
            .select_from(Contract)
            .join(Outcome, Outcome.id == Contract.outcome_id)
            # A withdrawn contract (issue 15 item 7) is kept for the history but counts nowhere.
            .where(Outcome.booking_id == Booking.id, Contract.withdrawn_at.is_(None))
            .correlate(Booking)
            .scalar_subquery()
        )

    def of_sme_answers(column):
        # At most one SME response per consultation (one invitation per booking and respondent).
        return (
            select(column)
            .select_from(SurveyAnswer)
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
            .where(
                SurveyInvitation.booking_id == Booking.id,
                SurveyInvitation.respondent == "sme",
                SurveyAnswer.score.is_not(None),
            )
            .correlate(Booking)
            .scalar_subquery()
        )

    stmt = (
        select(
            Booking.id.label("id"),
            (Booking.status == BookingStatus.HELD.value).label("held"),
            Booking.company_id.label("company_id"),
            cast(Booking.round_id, String).label("round_key"),
            _month_key(start, end).label("month"),
            func.coalesce(Buyer.country, UNKNOWN).label("country"),
            func.coalesce(func.substr(first_hs, 1, 2), UNKNOWN).label("chapter"),
            func.coalesce(first_language, UNKNOWN).label("language"),
            func.coalesce(of_contracts(func.count(Contract.id)), 0).label("n"),
            func.coalesce(of_contracts(func.sum(Contract.krw_value)), 0).label("krw"),
            func.coalesce(of_sme_answers(func.sum(SurveyAnswer.score)), 0).label("score_sum"),
            func.coalesce(of_sme_answers(func.count(SurveyAnswer.score)), 0).label("score_n"),
        )
        .outerjoin(Buyer, Buyer.id == Booking.buyer_id)
        .where(
            Booking.starts_at >= lo,
            Booking.starts_at < hi,
            Booking.status.in_((BookingStatus.HELD.value, BookingStatus.NO_SHOW.value)),
        )
    )
    if round_id is not None:
        stmt = stmt.where(Booking.round_id == round_id)
    return stmt.cte("consultations")


def _grouped(start: date, end: date, round_id: int | None, *, months_only: bool) -> dict[str, dict[str, _Acc]]:
    """Every group's sums in one statement: a UNION ALL of GROUP BYs over the period's consultations,
    so the database adds them up and Python only reads about a hundred rows."""
    c = _consultations(start, end, round_id)
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

    keys = {"month": c.c.month, "country": c.c.country, "industry": c.c.chapter, "language": c.c.language}
    if months_only:
        keys = {"month": c.c.month}
    parts = [sums("total", literal(UNKNOWN, String), grouped=False)]
    for kind, key in keys.items():
        parts += [sums(kind, key), scores(kind, key)]
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
    out: dict[str, dict[str, _Acc]] = {
        k: defaultdict(_Acc) for k in ("month", "country", "industry", "language", "total", "round", "booked")
    }
    if db.session.get_bind().dialect.name == "postgresql":
        # The planner's cost estimate of the per-consultation look-ups (an index probe each) passes
        # jit_optimize_above_cost, and compiling the plan took longer than running it (measured:
        # about 5 s of JIT for 1 s of work at 200,000 consultations). Only for this transaction.
        db.session.execute(text("SET LOCAL jit = off"))
    for kind, key, score_n, a, b, smes, d, e, f in db.session.execute(union_all(*parts)):
        base, _sep, part = kind.partition(":")
        acc = out[base][key if key is not None else UNKNOWN]
        if part == "scores":
            acc.scores.append((int(score_n), int(a), int(b)))
        else:
            # The total's sums are NULL when the period has no consultation.
            acc.held, acc.no_shows, acc.smes = int(a or 0), int(b or 0), int(smes or 0)
            acc.contracted, acc.contracts, acc.krw = int(d or 0), int(e or 0), int(f or 0)
    return out


def _groups(accs: dict[str, _Acc], order: Iterable[str] | None = None) -> list[Group]:
    # Without a given order: most consultations first, "not known" last.
    keys = list(order) if order is not None else sorted(accs, key=lambda k: (k == UNKNOWN, -accs[k].held, k))
    return [Group(key=k, figures=accs.get(k, _Acc()).figures()) for k in keys]


def program_report(*, start: date, end: date, round_id: int | None = None, months_only: bool = False) -> Report:
    """The program's figures for consultations from `start` to `end` (Seoul dates, inclusive),
    optionally in one round, in four queries whatever the number of consultations: the figures
    grouped in the database, the held rounds, and the total satisfaction (as the survey results).
    `months_only` leaves the country, HS section and language breakdowns empty (for a comparison)."""
    by = _grouped(start, end, round_id, months_only=months_only)
    sections: dict[str, _Acc] = defaultdict(_Acc)
    for chapter, acc in by["industry"].items():
        sections[hs_section(chapter) or UNKNOWN].merge(acc)
    total = by["total"][UNKNOWN]
    held_rounds = {int(k) for k in by["round"]}
    stmt = select(Round.id).where(
        Round.status.in_((RoundStatus.HELD.value, RoundStatus.FINALIZED.value)),
        Round.day >= start,
        Round.day <= end,
    )
    if round_id is not None:
        stmt = stmt.where(Round.id == round_id)
    held_rounds |= set(db.session.scalars(stmt))
    months = _months(start, end)
    # Every month of a year-sized period is shown, empty or not; a long range only months with data.
    month_order = months if len(months) <= 24 else sorted(by["month"])
    industry_order = sorted(sections, key=lambda k: (k == UNKNOWN, SECTION_ORDER.get(k, 99)))
    return Report(
        start=start,
        end=end,
        round_id=round_id,
        total=total.figures(average_satisfaction(start=start, end=end, round_id=round_id, audience="sme")),
        rounds_held=len(held_rounds),
        booked=by["booked"][UNKNOWN].krw,  # that part's count sits in the last column
        by_month=_groups(by["month"], month_order),
        by_country=_groups(by["country"]),
        by_industry=_groups(sections, industry_order),
        by_language=_groups(by["language"]),
    )


def year_period(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def latest_year_with_data() -> int | None:
    """The Seoul year of the latest held or no-show consultation (one index read), for the report
    to open on a year with figures rather than on an empty current year."""
    latest = db.session.scalar(
        select(func.max(Booking.starts_at)).where(
            Booking.status.in_((BookingStatus.HELD.value, BookingStatus.NO_SHOW.value))
        )
    )
    return seoul_date(latest).year if latest is not None else None


# --- labels (request time, in the viewer's language) ----------------------------------------------


def breakdown_title(kind: str) -> str:
    return {
        "month": _("By month"),
        "country": _("By buyer country"),
        "industry": _("By industry (HS section)"),
        "language": _("By buyer language"),
    }[kind]


def group_label(kind: str, key: str, locale: str) -> str:
    from consultroom.companies.validation import country_name, language_name

    if key == UNKNOWN:
        return _("Not known")
    if kind == "country":
        return country_name(key, locale)
    if kind == "language":
        return language_name(key, locale)
    if kind == "industry":
        return f"{key}. {SECTION_NAMES[key]}"
    return key


def metric_label(metric: str) -> str:
    return str(METRIC_LABELS[metric])


# --- targets ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreLine:
    metric: str
    target: Decimal | None
    result: int | Decimal | None
    achievement: Decimal | None  # result / target in per cent
    published: bool
    published_at: datetime | None


def targets_for(year: int, *, published_only: bool = False) -> dict[str, ReportTarget]:
    stmt = select(ReportTarget).where(ReportTarget.year == year)
    if published_only:
        stmt = stmt.where(ReportTarget.published.is_(True))
    return {t.metric: t for t in db.session.scalars(stmt)}


def result_of(metric: str, figures: Figures) -> int | Decimal | None:
    return {
        Metric.CONSULTATIONS.value: figures.held,
        Metric.CONTRACTS.value: figures.contracted,
        Metric.CONTRACT_VALUE_KRW.value: figures.krw,
        Metric.SMES.value: figures.smes,
        Metric.SATISFACTION.value: figures.satisfaction,
    }[metric]


def target_value(target: ReportTarget) -> Decimal:
    """Counts and won as whole numbers, the satisfaction score to 0.01."""
    value = Decimal(target.value)
    return value.quantize(Decimal(1)) if target.metric in WHOLE_METRICS else value.quantize(CENT)


def scorecard(report: Report, targets: dict[str, ReportTarget]) -> list[ScoreLine]:
    lines = []
    for metric in METRICS:
        target = targets.get(metric)
        value = target_value(target) if target is not None else None
        result = result_of(metric, report.total)
        lines.append(
            ScoreLine(
                metric=metric,
                target=value,
                result=result,
                achievement=percent(result, value) if value is not None else None,
                published=bool(target and target.published),
                published_at=target.published_at if target is not None else None,
            )
        )
    return lines


def _snapshot(target: ReportTarget | None) -> dict[str, Any]:
    if target is None:
        return {}
    return {
        "year": target.year,
        "metric": target.metric,
        "value": str(target_value(target)),
        "published": target.published,
        "published_at": target.published_at.isoformat() if target.published_at else None,
    }


def _clean_value(metric: str, raw: str | Decimal | None) -> Decimal | None:
    text = str(raw if raw is not None else "").strip().replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise ValueError(_("Enter a number."))
    if value < 0:
        raise ValueError(_("The target cannot be negative."))
    if metric in WHOLE_METRICS:
        if value != value.to_integral_value():
            raise ValueError(_("Enter a whole number."))
        if value >= MAX_TARGET:
            raise ValueError(_("The target is too large."))
        return value.quantize(Decimal(1))
    if value > 5:
        raise ValueError(_("Satisfaction is scored from 1 to 5."))
    if value != value.quantize(CENT):
        raise ValueError(_("Enter at most two decimals."))
    return value.quantize(CENT)


def save_targets(
    *,
    year: int,
    values: dict[str, str | Decimal | None],
    publish: set[str],
    actor: User,
    now: datetime,
) -> dict[str, ReportTarget]:
    """Set the year's targets (an empty value removes an unpublished one) and which are published.
    Every change is audited; `published_at` is when a target was published. Flushes only."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        message = _("Choose a year from %(lo)d to %(hi)d.", lo=MIN_YEAR, hi=MAX_YEAR)
        raise Invalid(message, fields={"year": [message]})
    existing = targets_for(year)
    errors: dict[str, list[str]] = {}
    clean: dict[str, Decimal | None] = {}
    for metric in METRICS:
        try:
            clean[metric] = _clean_value(metric, values.get(metric))
        except ValueError as exc:
            errors[metric] = [str(exc)]
            continue
        if clean[metric] is None and metric in publish:
            errors[metric] = [_("Enter the target before publishing it.")]
        elif clean[metric] is None and metric in existing and existing[metric].published:
            errors[metric] = [_("A published target cannot be removed; unpublish it first.")]
    if errors:
        raise Invalid(next(iter(errors.values()))[0], fields=errors)
    for metric in METRICS:
        target = existing.get(metric)
        before = _snapshot(target)
        value = clean[metric]
        if value is None:
            if target is not None:
                db.session.delete(target)
                record(actor=actor, action="report_target.delete", obj=target, before=before, after={})
            continue
        published = metric in publish
        if target is None:
            target = ReportTarget(year=year, metric=metric, value=value, updated_by_id=actor.id, updated_at=now)
            db.session.add(target)
        elif target_value(target) == value and target.published == published:
            continue
        target.value = value
        target.updated_by_id = actor.id
        target.updated_at = now
        if published and not target.published:
            target.published_at = now
        elif not published:
            target.published_at = None
        target.published = published
        db.session.flush()
        record(
            actor=actor,
            action="report_target.update" if before else "report_target.create",
            obj=target,
            before=before or None,
            after=_snapshot(target),
        )
    db.session.flush()
    existing = targets_for(year)
    return existing


def recorded_years() -> list[int]:
    """Years with rounds or targets, newest first (for the year pickers)."""
    years = set(db.session.scalars(select(Round.year).distinct()))
    years |= set(db.session.scalars(select(ReportTarget.year).distinct()))
    return sorted(years, reverse=True)


def rounds_for_filter() -> list[Round]:
    return list(db.session.scalars(select(Round).order_by(Round.day.desc()).limit(200)))
