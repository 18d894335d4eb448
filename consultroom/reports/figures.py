"""Program figures for a period: totals and breakdowns by month, buyer country, HS section and buyer
language, in a fixed number of queries whatever the data size (the SQL is in queries.py).
Counts are ints, KRW whole won (int), rates Decimal; nothing passes through a float.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from consultroom.reports import queries
from consultroom.reports.queries import UNKNOWN, months_between
from consultroom.surveys.queries import mean_of_grouped
from consultroom.timeutil import seoul_date

TENTH = Decimal("0.1")
MIN_YEAR, MAX_YEAR = 2000, 2100

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


def _accumulate(rows: list[tuple]) -> dict[str, dict[str, _Acc]]:
    out: dict[str, dict[str, _Acc]] = {k: defaultdict(_Acc) for k in (*queries.GROUP_KINDS, "total", "round", "booked")}
    for kind, key, score_n, a, b, smes, d, e, f in rows:
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
    optionally in one round, in three queries whatever the number of consultations: the figures
    grouped in the database with the total satisfaction (counted as the survey results count it),
    and the held rounds. `months_only` leaves the country, HS section and language breakdowns and
    the satisfaction empty (for a comparison by month)."""
    by = _accumulate(queries.grouped_rows(start, end, round_id, months_only=months_only))
    sections: dict[str, _Acc] = defaultdict(_Acc)
    for chapter, acc in by["industry"].items():
        sections[hs_section(chapter) or UNKNOWN].merge(acc)
    total = by["total"][UNKNOWN]
    held_rounds = {int(k) for k in by["round"]} | queries.held_round_ids(start, end, round_id)
    months = months_between(start, end)
    # Every month of a year-sized period is shown, empty or not; a long range only months with data.
    month_order = months if len(months) <= 24 else sorted(by["month"])
    industry_order = sorted(sections, key=lambda k: (k == UNKNOWN, SECTION_ORDER.get(k, 99)))
    return Report(
        start=start,
        end=end,
        round_id=round_id,
        total=total.figures(),
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
    latest = queries.latest_consultation_start()
    return seoul_date(latest).year if latest is not None else None
