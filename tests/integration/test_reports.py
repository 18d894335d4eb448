"""Program reports: figures checked against a hand-computed data set, targets, files, pages, access."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from consultroom.audit.models import AuditEntry
from consultroom.bookings.models import Booking
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.outcomes.services import outcome_for, record_log
from consultroom.reports.figures import hs_section, program_report
from consultroom.reports.models import ReportTarget
from consultroom.reports.queries import targets_for
from consultroom.reports.targets import save_targets, scorecard
from consultroom.rounds.models import Round
from consultroom.surveys.services import average_satisfaction
from tests.factories import (
    ContractFactory,
    SurveyQuestionFactory,
    make_buyer,
    make_company,
    make_consultation,
    make_rate,
    make_round,
    make_user,
    survey,
)
from tests.formatting import won

YEAR = 2025
START, END = date(YEAR, 1, 1), date(YEAR, 12, 31)


# --- the data set ----------------------------------------------------------------------------------
#
# 2025: round A (12 Mar, finalized), B (9 Apr, closed), C (14 May, held, no bookings), D (11 Jun,
# closed, one no-show); E (13 Nov 2024) lies outside the year.
#   #  round company (first HS -> section)  buyer (country, languages)  attendance  contracts
#   1  A     c1 330499 -> VI                 US (en)                     held        USD 10,000.00 @1450.25 = 14,502,500
#                                                                                    USD 2,000.50 @1460.10 = 2,920,930
#   2  A     c2 850440 -> XVI                JP (ja)                     held        JPY 1,000,000 @9.4567 = 9,456,700
#   3  A     c3 090111+330410 -> II          VN (vi, en -> en)           held        -
#   4  A     c4 (no HS code)                 US (en)                     no-show
#   5  B     c1                              JP (ja)                     held        KRW 5,000,000
#   6  B     c2                              US (en)                     held        -
#   7  D     c3                              US (en)                     no-show
#   8  E     c1                              US (en)                     held        KRW 1,000,000 (2024: excluded)
#   9  A     c2                              US (en)                     cancelled   (excluded)
# SME survey: #1 answers 5 and 4 (mean 4.5), #6 answers 3 (mean 3); a buyer answers 1 on #2 (not counted).
# Totals: 5 held, 2 no-shows, 3 SMEs, 3 consultations with a contract, 4 contracts,
# 31,880,130 KRW, conversion 60.0 %, satisfaction (4.5 + 3) / 2 = 3.75, 3 rounds held (A, B, C).


@dataclass
class World:
    staff: object
    admin: object
    rounds: dict[str, Round]
    consultations: dict[int, Booking]
    companies: dict[str, object]


def _round(day: date, status: str) -> Round:
    rnd = make_round(day=day, status="closed", booths=3, slots_per_booth=3)
    rnd._final_status = status  # set after booking: book_slot takes bookings only in open/closed rounds
    return rnd


def _consult(rnd: Round, index: int, company, *, country: str, languages: tuple[str, ...]) -> Booking:
    booking = make_consultation(rnd, index, company=company)
    booking.buyer_id = make_buyer(country=country, languages=languages).id
    db.session.flush()
    return booking


def _held(booking: Booking, staff) -> None:
    record_log(booking=booking, data={"attendance": "held"}, actor=staff, now=utcnow())


def _no_show(booking: Booking, staff) -> None:
    record_log(booking=booking, data={"attendance": "no_show", "absent_party": "buyer"}, actor=staff, now=utcnow())


def _contract(booking: Booking, currency: str, amount: str, signed_on: date, staff) -> None:
    ContractFactory(outcome=outcome_for(booking), currency=currency, amount=amount, signed_on=signed_on, items="serum",
                    actor=staff)  # fmt: skip


def _survey(booking: Booking, scores: dict, respondent: str = "sme") -> None:
    now = utcnow()
    survey(
        booking, respondent, scores, now=now, invited_at=now - timedelta(days=1), expires_at=now + timedelta(days=13)
    )


def build_world() -> World:
    staff = make_user("staff")
    admin = make_user("admin")
    rounds = {
        "A": _round(date(2025, 3, 12), "finalized"),
        "B": _round(date(2025, 4, 9), "closed"),
        "C": _round(date(2025, 5, 14), "held"),
        "D": _round(date(2025, 6, 11), "closed"),
        "E": _round(date(2024, 11, 13), "finalized"),
    }
    c = {
        "c1": make_company(name_ko="알파화장품", hs_codes=("330499",)),
        "c2": make_company(name_ko="베타전자", hs_codes=("850440",)),
        "c3": make_company(name_ko="감마커피", hs_codes=("330410", "090111")),
        "c4": make_company(name_ko="델타상사", hs_codes=()),
    }
    A, B, D, E = rounds["A"], rounds["B"], rounds["D"], rounds["E"]
    k = {
        1: _consult(A, 0, c["c1"], country="US", languages=("en",)),
        2: _consult(A, 1, c["c2"], country="JP", languages=("ja",)),
        3: _consult(A, 2, c["c3"], country="VN", languages=("vi", "en")),
        4: _consult(A, 3, c["c4"], country="US", languages=("en",)),
        5: _consult(B, 0, c["c1"], country="JP", languages=("ja",)),
        6: _consult(B, 1, c["c2"], country="US", languages=("en",)),
        7: _consult(D, 0, c["c3"], country="US", languages=("en",)),
        8: _consult(E, 0, c["c1"], country="US", languages=("en",)),
        9: _consult(A, 4, c["c2"], country="US", languages=("en",)),
    }
    for n in (1, 2, 3, 5, 6, 8):
        _held(k[n], staff)
    for n in (4, 7):
        _no_show(k[n], staff)
    k[9].status = "cancelled"
    make_rate("USD", date(2025, 3, 20), "1450.25")
    make_rate("USD", date(2025, 3, 28), "1460.10")
    make_rate("JPY", date(2025, 3, 25), "9.4567")
    _contract(k[1], "USD", "10000.00", date(2025, 3, 20), staff)
    _contract(k[1], "USD", "2000.50", date(2025, 3, 28), staff)
    _contract(k[2], "JPY", "1000000", date(2025, 3, 25), staff)
    _contract(k[5], "KRW", "5000000", date(2025, 4, 15), staff)
    _contract(k[8], "KRW", "1000000", date(2024, 11, 20), staff)
    q1, q2, q3 = (
        SurveyQuestionFactory(kind=kind, text_ko=f"질문{i}", text_en=f"Q{i}", actor=admin)
        for i, kind in enumerate(("scale5", "scale5", "text"))
    )
    bq = SurveyQuestionFactory(audience="buyer", text_ko="바이어", text_en="Buyer Q", actor=admin)
    _survey(k[1], {q1: 5, q2: 4, q3: "좋았습니다"})
    _survey(k[6], {q1: 3, q3: "보통"})
    _survey(k[2], {bq: 1}, respondent="buyer")
    for rnd in rounds.values():
        rnd.status = rnd._final_status
    db.session.flush()
    return World(staff=staff, admin=admin, rounds=rounds, consultations=k, companies=c)


def _set_targets(world: World) -> None:
    save_targets(
        year=YEAR,
        values={
            "consultations": "4",
            "contracts": "9",
            "contract_value_krw": "40,000,000",
            "smes": "777",
            "satisfaction": "4.5",
        },
        publish={"consultations", "contract_value_krw", "satisfaction"},
        actor=world.admin,
        now=utcnow(),
    )
    db.session.flush()


def _figures(group) -> tuple:
    f = group.figures
    return (f.held, f.no_shows, f.smes, f.contracted, f.contracts, f.krw, f.conversion, f.satisfaction)


D = Decimal


# --- figures ---------------------------------------------------------------------------------------


def test_report_totals_match_the_hand_computed_figures():
    build_world()

    report = program_report(start=START, end=END)

    t = report.total
    assert (t.held, t.no_shows, t.smes, t.contracted, t.contracts) == (5, 2, 3, 3, 4)
    assert t.krw == 14_502_500 + 2_920_930 + 9_456_700 + 5_000_000 == 31_880_130
    assert isinstance(t.krw, int)
    assert t.conversion == D("60.0")
    assert t.satisfaction == D("3.75") == average_satisfaction(start=START, end=END)
    assert report.rounds_held == 3


def test_report_breakdown_by_month_covers_every_month_of_the_year():
    build_world()

    report = program_report(start=START, end=END)

    assert [g.key for g in report.by_month] == [f"2025-{m:02d}" for m in range(1, 13)]
    by = {g.key: _figures(g) for g in report.by_month}
    assert by["2025-03"] == (3, 1, 3, 2, 3, 26_880_130, D("66.7"), D("4.50"))
    assert by["2025-04"] == (2, 0, 2, 1, 1, 5_000_000, D("50.0"), D("3.00"))
    assert by["2025-05"] == (0, 0, 0, 0, 0, 0, None, None)
    assert by["2025-06"] == (0, 1, 0, 0, 0, 0, None, None)


def test_report_breakdown_by_buyer_country():
    build_world()

    report = program_report(start=START, end=END)

    assert [(g.key, *_figures(g)) for g in report.by_country] == [
        ("JP", 2, 0, 2, 2, 2, 14_456_700, D("100.0"), None),
        ("US", 2, 2, 2, 1, 2, 17_423_430, D("50.0"), D("3.75")),
        ("VN", 1, 0, 1, 0, 0, 0, D("0.0"), None),
    ]


def test_report_breakdown_by_hs_section_of_the_first_hs_code():
    build_world()

    report = program_report(start=START, end=END)

    assert [(g.key, *_figures(g)) for g in report.by_industry] == [
        ("II", 1, 1, 1, 0, 0, 0, D("0.0"), None),
        ("VI", 2, 0, 1, 2, 3, 22_423_430, D("100.0"), D("4.50")),
        ("XVI", 2, 0, 1, 1, 1, 9_456_700, D("50.0"), D("3.00")),
        ("", 0, 1, 0, 0, 0, 0, None, None),
    ]


def test_report_breakdown_by_buyer_first_language():
    build_world()

    report = program_report(start=START, end=END)

    assert [(g.key, *_figures(g)) for g in report.by_language] == [
        ("en", 3, 2, 3, 1, 2, 17_423_430, D("33.3"), D("3.75")),
        ("ja", 2, 0, 2, 2, 2, 14_456_700, D("100.0"), None),
    ]


def test_report_for_one_round():
    world = build_world()
    rnd = world.rounds["A"]

    report = program_report(start=rnd.day, end=rnd.day, round_id=rnd.id)

    t = report.total
    assert (t.held, t.no_shows, t.smes, t.contracted, t.contracts, t.krw) == (3, 1, 3, 2, 3, 26_880_130)
    assert t.satisfaction == D("4.50")
    assert report.rounds_held == 1


def test_report_for_a_date_range_counts_by_seoul_consultation_date():
    build_world()

    report = program_report(start=date(2025, 4, 1), end=date(2025, 6, 30))

    t = report.total
    assert (t.held, t.no_shows, t.smes, t.contracted, t.krw) == (2, 1, 2, 1, 5_000_000)
    assert report.rounds_held == 2  # B with held consultations, C by its status; D only a no-show
    assert [g.key for g in report.by_month] == ["2025-04", "2025-05", "2025-06"]


@pytest.mark.parametrize(
    ("code", "section"),
    [("010121", "I"), ("0901", "II"), ("150710", "III"), ("330499", "VI"), ("392690", "VII"), ("710812", "XIV"),
     ("720851", "XV"), ("850440", "XVI"), ("870323", "XVII"), ("901890", "XVIII"), ("930120", "XIX"),
     ("970110", "XXI"), ("990000", None), ("", None), (None, None)],
)  # fmt: skip
def test_hs_section_from_the_two_digit_chapter(code, section):
    assert hs_section(code) == section


# --- targets ---------------------------------------------------------------------------------------


def test_scorecard_gives_target_result_and_achievement_per_metric():
    world = build_world()
    _set_targets(world)

    lines = {ln.metric: ln for ln in scorecard(program_report(start=START, end=END), targets_for(YEAR))}

    got = {m: (ln.target, ln.result, ln.achievement, ln.published) for m, ln in lines.items()}
    assert got == {
        "consultations": (D(4), 5, D("125.0"), True),
        "contracts": (D(9), 3, D("33.3"), False),
        "contract_value_krw": (D(40_000_000), 31_880_130, D("79.7"), True),
        "smes": (D(777), 3, D("0.4"), False),
        "satisfaction": (D("4.50"), D("3.75"), D("83.3"), True),
    }


def test_save_targets_is_audited_and_keeps_the_publication_date():
    world = build_world()
    _set_targets(world)
    first = targets_for(YEAR)["consultations"].published_at

    save_targets(
        year=YEAR,
        values={"consultations": "6", "contracts": "", "contract_value_krw": "40000000", "smes": "777",
                "satisfaction": "4.50"},
        publish={"consultations", "contract_value_krw", "satisfaction"},
        actor=world.admin,
        now=utcnow() + timedelta(hours=1),
    )  # fmt: skip
    db.session.flush()

    targets = targets_for(YEAR)
    assert targets["consultations"].value == D(6)
    assert targets["consultations"].published_at == first
    assert "contracts" not in targets
    actions = [
        (e.action, e.before, e.after)
        for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("report_target.%")).order_by(AuditEntry.id)
        )
    ]
    assert [a for a, _b, _a in actions] == ["report_target.create"] * 5 + [
        "report_target.update",
        "report_target.delete",
    ]
    assert actions[5][1:] == ({"value": "4"}, {"value": "6"})


@pytest.mark.parametrize(
    ("values", "publish", "field", "message"),
    [
        ({"consultations": "abc"}, set(), "consultations", "Enter a number."),
        ({"consultations": "10.5"}, set(), "consultations", "Enter a whole number."),
        ({"smes": "-1"}, set(), "smes", "The target cannot be negative."),
        ({"satisfaction": "5.5"}, set(), "satisfaction", "Satisfaction is scored from 1 to 5."),
        ({"satisfaction": "4.555"}, set(), "satisfaction", "Enter at most two decimals."),
        ({}, {"contracts"}, "contracts", "Enter the target before publishing it."),
    ],
)
def test_save_targets_refuses_bad_values_naming_the_field(values, publish, field, message):
    from flask_babel import force_locale

    from consultroom.errors import Invalid

    admin = make_user("admin")
    with force_locale("en"), pytest.raises(Invalid) as exc:
        save_targets(year=YEAR, values=values, publish=publish, actor=admin, now=utcnow())
    assert exc.value.fields == {field: [message]}


def test_a_published_target_cannot_be_emptied():
    from consultroom.errors import Invalid

    world = build_world()
    _set_targets(world)
    with pytest.raises(Invalid) as exc:
        save_targets(year=YEAR, values={}, publish=set(), actor=world.admin, now=utcnow())
    assert set(exc.value.fields) == {"consultations", "contract_value_krw", "satisfaction"}


def test_admin_sets_targets_through_the_page(client, login_as):
    login_as("admin")

    response = client.submit(
        f"/admin/targets?year={YEAR}",
        {"consultations": "383", "contract_value_krw": "8569000000", "publish_consultations": "y"},
    )

    assert response.status_code == 302
    targets = targets_for(YEAR)
    assert {m: (t.value, t.published) for m, t in targets.items()} == {
        "consultations": (D(383), True),
        "contract_value_krw": (D(8_569_000_000), False),
    }
    page = client.get(f"/admin/targets?year={YEAR}").get_data(as_text=True)
    assert 'value="383"' in page and 'value="8569000000"' in page


def test_targets_page_shows_errors_beside_fields(client, login_as):
    login_as("admin")

    response = client.submit(f"/admin/targets?year={YEAR}", {"satisfaction": "9"})

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="satisfaction-error"' in html and "Satisfaction is scored from 1 to 5." in html
    assert db.session.scalar(select(ReportTarget.id)) is None


def test_targets_page_with_a_bad_year_is_400_not_500(client, login_as):
    login_as("admin")
    response = client.get("/admin/targets?year=abcd")
    assert response.status_code == 400
    assert 'id="year-error"' in response.get_data(as_text=True)


# --- staff page and files ----------------------------------------------------------------------------


def test_staff_report_page_shows_figures_charts_and_tables(client, login_as):
    world = build_world()
    _set_targets(world)
    login_as(world.staff)

    response = client.get(f"/staff/reports?year={YEAR}")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-figure="held">5<' in html
    assert f'data-figure="krw">{won(31_880_130, "en")}<' in html
    assert 'data-figure="conversion">60.0%<' in html
    assert 'data-figure="rounds_held">3<' in html
    assert "<svg" in html and 'role="img"' in html
    assert '<title id="chart-month-title">' in html and '<desc id="chart-month-desc">' in html
    assert '<title id="chart-country-title">' in html
    assert 'data-table="month"' in html and 'data-table="country"' in html
    assert "125.0%" in html and "79.7%" in html
    assert "<script>" not in html  # the CSP allows no inline script


@pytest.mark.parametrize(
    ("query", "field"),
    [("start=2025-02-30&end=2025-03-01", "start"), ("start=2025-03-01&end=bad", "end"),
     ("start=2025-05-01&end=2025-04-01", "end"), ("start=2025-05-01", "end"), ("year=20x5", "year"),
     ("year=1800", "year"), ("round_id=99999", "round_id"), ("round_id=abc", "round_id"),
     ("year=%C2%B2", "year"), ("round_id=%D9%A3", "round_id"), ("round_id=99999999999999999999", "round_id")],
)  # fmt: skip
def test_staff_report_bad_selection_shows_error_beside_the_field(client, login_as, query, field):
    login_as("staff")

    response = client.get(f"/staff/reports?{query}")

    assert response.status_code == 400
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert client.get(f"/staff/reports.xlsx?{query}").status_code == 400


def test_staff_report_by_round_and_by_dates(client, login_as):
    world = build_world()
    login_as(world.staff)

    by_round = client.get(f"/staff/reports?round_id={world.rounds['A'].id}").get_data(as_text=True)
    by_dates = client.get("/staff/reports?start=2025-04-01&end=2025-06-30").get_data(as_text=True)

    assert 'data-figure="held">3<' in by_round and f'data-figure="krw">{won(26_880_130, "en")}<' in by_round
    assert 'data-figure="held">2<' in by_dates and 'data-figure="no_shows">1<' in by_dates


def test_xlsx_has_numbers_dates_and_the_won_format(client, login_as):
    world = build_world()
    _set_targets(world)
    login_as(world.staff)

    response = client.get(f"/staff/reports.xlsx?year={YEAR}")

    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="program-report-2025.xlsx"'
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["Summary", "By month", "By buyer country", "By industry (HS section)", "By buyer language"]
    ws = wb["Summary"]
    assert isinstance(ws["B2"].value, datetime) and ws["B2"].value.date() == START
    assert ws["B3"].value.date() == END
    rows = {r[0].value: r for r in ws.iter_rows(min_row=6, max_row=10)}
    krw = rows["Contract value (KRW)"]
    assert (krw[1].value, krw[2].value) == (40_000_000, 31_880_130)
    assert isinstance(krw[2].value, int)
    assert krw[1].number_format == krw[2].number_format == '#,##0 "원"'
    assert krw[3].value == pytest.approx(0.797) and krw[3].number_format == "0.0%"
    held = rows["Consultations held"]
    assert (held[1].value, held[2].value, held[3].value) == (4, 5, 1.25)
    sat = rows["Average satisfaction (1-5)"]
    assert (sat[1].value, sat[2].value) == (4.5, 3.75)
    months = wb["By month"]
    march = [c.value for c in months[4]]
    assert isinstance(march[0], datetime) and march[0].date() == date(2025, 3, 1)
    assert months["A4"].number_format == "yyyy-mm"
    assert march[1:] == [3, 1, 3, 2, 3, 26_880_130, pytest.approx(0.667), 4.5]
    assert months["G4"].number_format == '#,##0 "원"'
    countries = [[c.value for c in r] for r in wb["By buyer country"].iter_rows(min_row=2)]
    assert [r[0] for r in countries] == ["Japan", "United States", "Vietnam"]
    industries = [r[0].value for r in wb["By industry (HS section)"].iter_rows(min_row=2)]
    assert industries == ["II. Vegetable products", "VI. Chemical products",
                          "XVI. Machinery and electrical equipment", "Not known"]  # fmt: skip


def test_csv_is_utf8_with_bom_and_has_every_breakdown(client, login_as):
    world = build_world()
    _set_targets(world)
    login_as(world.staff)

    response = client.get(f"/staff/reports.csv?year={YEAR}")

    assert response.status_code == 200
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["Metric", "Target", "Result", "Achievement (%)"]
    assert rows[3] == ["Contract value (KRW)", "40000000", "31880130", "79.7"]
    assert rows[6] == ["Rounds held", "", "3", ""]
    header = rows.index(["Breakdown", "Group", "Consultations held", "No-shows", "Participating SMEs",
                         "Consultations with a contract", "Contracts", "Contract value (KRW)",
                         "Conversion rate (%)", "Average satisfaction (1-5)"])  # fmt: skip
    body = rows[header + 1 :]
    assert body[0] == ["Total", "", "5", "2", "3", "3", "4", "31880130", "60.0", "3.75"]
    assert ["By month", "2025-03", "3", "1", "3", "2", "3", "26880130", "66.7", "4.50"] in body
    assert ["By buyer country", "Japan", "2", "0", "2", "2", "2", "14456700", "100.0", ""] in body
    assert ["By buyer language", "English", "3", "2", "3", "1", "2", "17423430", "33.3", "3.75"] in body
    assert len(body) == 1 + 12 + 3 + 4 + 2


def _grow(n: int, first_slot: int = 0) -> None:
    """n more held consultations with contracts, survey answers and new companies and buyers."""
    staff = make_user("staff")
    q = SurveyQuestionFactory(text_ko="만족", text_en="Q", actor=staff)
    from consultroom.outcomes.models import ExchangeRate

    if db.session.scalar(select(ExchangeRate.id)) is None:
        make_rate("USD", date(2025, 9, 10), "1400")
    for i in range(n):
        rnd = db.session.scalar(select(Round).where(Round.year == 2025, Round.month == 9)) or _round(
            date(2025, 9, 10), "finalized"
        )
        company = make_company(hs_codes=(f"{10 + i * 7 % 80:02d}0000",))
        booking = _consult(
            rnd, first_slot + i, company, country=("US", "JP", "DE", "FR")[i % 4], languages=("en", "de")[: i % 2 + 1]
        )
        _held(booking, staff)
        _contract(booking, "USD", f"{100 + i}", date(2025, 9, 10), staff)
        _survey(booking, {q: 1 + i % 5})
    db.session.flush()


def test_report_pages_use_a_constant_number_of_queries(client, login_as, count_queries):
    login_as("staff")
    _grow(1)
    with count_queries() as small:
        assert client.get(f"/staff/reports?year={YEAR}").status_code == 200
    with count_queries() as small_public:
        assert client.get(f"/program/{YEAR}").status_code == 200
    _grow(8, first_slot=1)
    with count_queries() as large:
        assert client.get(f"/staff/reports?year={YEAR}").status_code == 200
    with count_queries() as large_public:
        assert client.get(f"/program/{YEAR}").status_code == 200

    assert small.count == large.count
    assert small_public.count == large_public.count
    report = program_report(start=START, end=END)
    assert report.total.held == 9 and report.total.contracts == 9


# --- public page and access --------------------------------------------------------------------------


def test_public_page_shows_only_published_targets_and_no_names(client):
    world = build_world()
    _set_targets(world)
    db.session.commit()

    response = client.get(f"/program/{YEAR}?lang=en")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "777" not in html  # the unpublished SME target
    assert "125.0%" in html and "79.7%" in html and "83.3%" in html
    assert "33.3%" not in html and "0.4%" not in html
    assert html.count("Not published") == 2
    for company in world.companies.values():
        assert company.name_ko not in html and company.name_en not in html
    assert "Match Buyer" not in html and "@" not in html.split("<main", 1)[1].split("</main>", 1)[0]


def test_public_page_for_the_current_year_and_out_of_range_years(client):
    assert client.get("/program").status_code == 200
    assert client.get("/program/1999").status_code == 404
    assert client.get("/program/99999").status_code == 404


def test_sme_gets_404_on_staff_reports_and_targets(client, login_as):
    login_as("sme")
    for url in ("/staff/reports", "/staff/reports.xlsx", "/staff/reports.csv", "/admin/targets"):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/program/{YEAR}").status_code == 200


def test_staff_may_not_set_targets(client, login_as):
    login_as("staff")
    assert client.get("/admin/targets").status_code == 404
    assert client.submit("/admin/targets", {"consultations": "1"}).status_code == 404
    assert db.session.scalar(select(ReportTarget.id)) is None


def test_charts_are_well_formed_svg_with_escaped_text_and_a_text_alternative():
    import xml.etree.ElementTree as ET

    from consultroom.reports import charts

    svg = charts.bar_chart(
        chart_id="c",
        title="By <country> & more",
        desc="The table below gives the same figures.",
        labels=["<script>alert(1)</script>", "Japan"],
        series=[charts.Series("Held", [3, 0]), charts.Series("Contracted", [1, 0])],
    )

    root = ET.fromstring(str(svg))  # noqa: S314 - our own markup, not untrusted input
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c-title c-desc"
    assert root.find(f"{ns}title").text == "By <country> & more"
    assert root.find(f"{ns}desc").text == "The table below gives the same figures."
    assert "<script>" not in str(svg)
    # Each series is one path of its bars (264 and 88 wide, the empty ones left out), whatever the
    # number of labels: no element or tooltip per bar; the table beside the chart has the figures.
    assert [p.get("d") for p in root.iter(f"{ns}path")] == ["M150 35h264v12h-264z", "M150 49h88v12h-88z"]
    assert len(list(root.iter(f"{ns}rect"))) == 2  # the legend's swatches
    assert len(list(root.iter(f"{ns}title"))) == 1


def test_column_chart_draws_a_series_as_one_path_whatever_the_number_of_months():
    import xml.etree.ElementTree as ET

    from consultroom.reports import charts

    def elements(months: int) -> int:
        svg = charts.column_chart(
            chart_id="m",
            title="By month",
            desc="The table below gives the same figures.",
            labels=[f"2025-{m:02d}" for m in range(1, months + 1)],
            series=[charts.Series("Held", [5] * months), charts.Series("Contracted", [2] * months)],
        )
        return sum(1 for _ in ET.fromstring(str(svg)).iter())  # noqa: S314 - our own markup

    # Per month: its label and the two bars' values; the bars themselves add no element.
    assert elements(12) - elements(2) == 10 * 3


def test_database_keeps_one_target_per_year_and_metric_and_a_date_for_published_ones():
    from sqlalchemy.exc import IntegrityError

    db.session.add(ReportTarget(year=YEAR, metric="smes", value=D(100)))
    db.session.flush()
    for bad in (
        ReportTarget(year=YEAR, metric="smes", value=D(90)),
        ReportTarget(year=YEAR, metric="contracts", value=D(1), published=True),
        ReportTarget(year=YEAR, metric="jobs", value=D(1)),
    ):
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.add(bad)
            db.session.flush()
