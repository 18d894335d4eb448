"""The year figures grouped in the database equal a straightforward recomputation in Python, row by
row from the ORM objects, on randomized data sets (both databases run this file)."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction

import pytest
from sqlalchemy import select

from consultroom.bookings.models import Booking
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.outcomes.models import Outcome
from consultroom.outcomes.services import outcome_for, record_contract, record_log
from consultroom.reports.figures import SECTION_ORDER, UNKNOWN, Figures, Group, Report, hs_section, program_report
from consultroom.rounds.models import Round
from consultroom.surveys.models import SurveyInvitation
from consultroom.surveys.queries import quantize
from consultroom.surveys.services import active_version
from consultroom.timeutil import seoul_date
from tests.factories import (
    SurveyQuestionFactory,
    make_buyer,
    make_company,
    make_consultation,
    make_round,
    make_user,
    survey,
)

BOOTHS, HOURS = 4, 3
HS = ["330499", "0901", "850440", "870323", "980000", "620462", "010121"]
COUNTRIES = ["US", "JP", "VN", "DE"]
LANGUAGES = ["en", "ja", "vi", "de", "fr"]


def _random_world(rng: random.Random) -> None:
    staff, admin = make_user("staff"), make_user("admin")
    scale = [SurveyQuestionFactory(text_ko=f"질문{i}", text_en=f"Q{i}", actor=admin) for i in range(3)]
    text_q = SurveyQuestionFactory(kind="text", text_ko="의견", text_en="Comment", actor=admin)
    version = active_version("sme")
    companies = [make_company(name_ko=f"회사{i}", hs_codes=tuple(rng.sample(HS, rng.randint(0, 2)))) for i in range(7)]
    buyers = [
        make_buyer(country=rng.choice(COUNTRIES), languages=tuple(rng.sample(LANGUAGES, rng.randint(0, 2))))
        for _ in range(6)
    ]
    # Around both ends of the year (Seoul dates) and through it.
    middle = [date(2025, m, rng.randint(3, 25)) for m in rng.sample(range(2, 12), 4)]
    days = [date(2024, 12, 31), date(2025, 1, 2), *middle, date(2025, 12, 31), date(2026, 1, 5)]
    for day in days:
        rnd = make_round(day=day, status="closed", booths=BOOTHS, slots_per_booth=HOURS)
        held_any = False
        per_company: dict[int, int] = defaultdict(int)
        met: set[tuple[int, int | None]] = set()
        for hour in range(HOURS):
            free = [c for c in companies if per_company[c.id] < 3]
            busy: set[int] = set()  # a buyer is in one consultation at a time
            for booth, company in enumerate(rng.sample(free, min(len(free), rng.randint(0, BOOTHS)))):
                booking = make_consultation(rnd, hour * BOOTHS + booth, company=company)
                per_company[company.id] += 1
                # ... and meets a company once per round
                fits = [b.id for b in buyers if b.id not in busy and (company.id, b.id) not in met]
                booking.buyer_id = rng.choice(fits) if fits and rng.random() > 0.1 else None
                busy.add(booking.buyer_id)
                met.add((company.id, booking.buyer_id))
                db.session.flush()
                fate = rng.random()
                if fate < 0.1:
                    booking.status = "cancelled"
                    continue
                if fate < 0.15:
                    continue  # confirmed, never logged: booked but neither held nor a no-show
                if fate < 0.3:
                    record_log(booking=booking, data={"attendance": "no_show", "absent_party": "buyer"},
                               actor=staff, now=utcnow())  # fmt: skip
                    continue
                record_log(booking=booking, data={"attendance": "held"}, actor=staff, now=utcnow())
                held_any = True
                for _ in range(rng.choice([0, 0, 1, 1, 2])):
                    record_contract(outcome=outcome_for(booking), currency="KRW", amount=str(rng.randint(1, 10**9)),
                                    signed_on=day + timedelta(days=rng.randint(0, 60)), items="serum",
                                    actor=staff, now=utcnow())  # fmt: skip
                if rng.random() < 0.7:
                    answers = {q: rng.randint(1, 5) for q in rng.sample(scale, rng.randint(0, 3))}
                    answers[text_q] = "좋았습니다"
                    now = utcnow()
                    survey(booking, "sme", answers, version=version, now=now,
                           invited_at=now - timedelta(days=1), expires_at=now + timedelta(days=13))  # fmt: skip
        rnd.status = rng.choice(["finalized", "held", "closed"]) if held_any else rng.choice(["closed", "held"])
    db.session.flush()


# --- the recomputation: every consultation read as an object, added up in Python ---------------------


def _mean(scores: list[list[int]]) -> object:
    if not scores:
        return None
    return quantize(sum((Fraction(sum(s), len(s)) for s in scores), Fraction(0)) / len(scores))


def _sme_scores(booking: Booking) -> list[int] | None:
    invitation = db.session.scalar(
        select(SurveyInvitation).where(SurveyInvitation.booking_id == booking.id, SurveyInvitation.respondent == "sme")
    )
    if invitation is None or invitation.response is None:
        return None
    scores = [a.score for a in invitation.response.answers if a.score is not None]
    return scores or None


def _figures(items: list[tuple[Booking, int, int, list[int] | None]], satisfaction=None) -> Figures:
    held = [i for i in items if i[0].status == "held"]
    with_contract = [i for i in held if i[1]]
    return Figures(
        held=len(held),
        no_shows=len(items) - len(held),
        smes=len({b.company_id for b, *_ in held}),
        contracted=len(with_contract),
        contracts=sum(n for _b, n, _k, _s in with_contract),
        krw=sum(k for _b, _n, k, _s in with_contract),
        satisfaction=satisfaction if satisfaction is not None else _mean([s for *_x, s in held if s]),
    )


def _recompute(start: date, end: date, round_id: int | None) -> Report:
    items, all_scores, booked = [], [], 0
    for booking in db.session.scalars(select(Booking).order_by(Booking.id)):
        day = seoul_date(booking.starts_at)
        if not start <= day <= end or (round_id is not None and booking.round_id != round_id):
            continue
        booked += booking.status != "cancelled"
        scores = _sme_scores(booking)
        if scores:
            all_scores.append(scores)  # the total's satisfaction counts every consultation of the period
        if booking.status not in ("held", "no_show"):
            continue
        outcome = db.session.scalar(select(Outcome).where(Outcome.booking_id == booking.id))
        contracts = outcome.contracts if outcome is not None else []
        items.append((booking, len(contracts), sum(c.krw_value for c in contracts), scores))

    def key(kind: str, booking: Booking) -> str:
        buyer = booking.buyer
        if kind == "month":
            day = seoul_date(booking.starts_at)
            return f"{day.year:04d}-{day.month:02d}"
        if kind == "country":
            return buyer.country if buyer is not None else UNKNOWN
        if kind == "industry":
            codes = sorted(h.code for h in booking.company.hs_code_rows)
            return hs_section(codes[0] if codes else None) or UNKNOWN
        languages = sorted(buyer.languages) if buyer is not None else []
        return languages[0] if languages else UNKNOWN

    groups: dict[str, dict[str, list]] = {k: defaultdict(list) for k in ("month", "country", "industry", "language")}
    for item in items:
        for kind in groups:
            groups[kind][key(kind, item[0])].append(item)

    def listed(kind: str, order: list[str]) -> list[Group]:
        return [Group(key=k, figures=_figures(groups[kind].get(k, []))) for k in order]

    def by_size(kind: str) -> list[str]:
        return sorted(groups[kind], key=lambda k: (k == UNKNOWN, -_figures(groups[kind][k]).held, k))

    months, (y, m) = [], (start.year, start.month)
    while (y, m) <= (end.year, end.month):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    rounds = {b.round_id for b, *_ in items if b.status == "held"}
    for rnd in db.session.scalars(select(Round)):
        if rnd.status in ("held", "finalized") and start <= rnd.day <= end and round_id in (None, rnd.id):
            rounds.add(rnd.id)
    return Report(
        start=start,
        end=end,
        round_id=round_id,
        total=_figures(items, _mean(all_scores)),
        rounds_held=len(rounds),
        booked=booked,
        by_month=listed("month", months if len(months) <= 24 else sorted(groups["month"])),
        by_country=listed("country", by_size("country")),
        by_industry=listed("industry", sorted(groups["industry"], key=lambda k: SECTION_ORDER.get(k, 99))),
        by_language=listed("language", by_size("language")),
    )  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_grouped_figures_equal_a_row_by_row_recomputation(seed):
    _random_world(random.Random(seed))
    # A consultation answered and then cancelled: its answers stay in the total satisfaction (as the
    # survey results count them) and in no breakdown.
    answered = (
        select(SurveyInvitation.booking_id).where(SurveyInvitation.respondent == "sme").order_by(SurveyInvitation.id)
    )
    db.session.get(Booking, db.session.scalars(answered).first()).status = "cancelled"
    db.session.commit()
    some_round = db.session.scalars(select(Round).order_by(Round.day).offset(3)).first()
    periods = [
        (date(2025, 1, 1), date(2025, 12, 31), None),
        (date(2024, 12, 31), date(2025, 1, 2), None),
        (date(2024, 1, 1), date(2026, 12, 31), None),  # 36 months: only months with data
        (some_round.day, some_round.day, some_round.id),
    ]
    year = _recompute(*periods[0])
    # The data set exercises every figure: contracts, scores, unknown groups, no-shows.
    assert year.total.contracts and year.total.satisfaction is not None and year.total.no_shows
    months_only = program_report(start=periods[0][0], end=periods[0][1], months_only=True)

    # The comparison by month carries every figure but the satisfaction (not shown there, not queried).
    def unscored(groups):
        return [Group(key=g.key, figures=replace(g.figures, satisfaction=None)) for g in groups]

    assert (months_only.total, months_only.by_month, months_only.booked) == (
        replace(year.total, satisfaction=None),
        unscored(year.by_month),
        year.booked,
    )
    for start, end, round_id in periods:
        expected = _recompute(start, end, round_id)
        assert program_report(start=start, end=end, round_id=round_id) == expected, (start, end, round_id)


def test_report_page_opens_on_the_latest_year_with_consultations(client, login_as):
    staff = login_as("staff")
    rnd = make_round(day=date(2024, 5, 15), status="closed", booths=1, slots_per_booth=1)
    booking = make_consultation(rnd, 0)
    record_log(booking=booking, data={"attendance": "held"}, actor=staff, now=utcnow())
    make_round(day=date(2025, 5, 14), status="closed", booths=1, slots_per_booth=1)  # a round, no consultation
    db.session.commit()

    html = client.get("/staff/reports").get_data(as_text=True)

    assert 'id="year" name="year" inputmode="numeric" value="2024"' in html
    assert 'data-figure="held">1<' in html and 'data-figure="booked">1<' in html
    assert 'id="chart-funnel"' in html and 'id="chart-compare"' in html and 'id="chart-industry"' in html
    assert 'data-progress="consultations"' in html
