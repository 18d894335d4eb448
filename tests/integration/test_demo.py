"""The demo a new user starts with: `consultroom demo` loads this data set."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import func, select

from consultroom.accounts.models import User
from consultroom.bookings.models import Booking
from consultroom.buyers.models import Buyer
from consultroom.companies.models import Company
from consultroom.companies.validation import business_number_ok
from consultroom.demo import DEMO_PASSWORD, load_demo
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter
from consultroom.outcomes.models import ConsultationLog, Contract, Outcome
from consultroom.reports.figures import program_report
from consultroom.reports.models import ReportTarget
from consultroom.rounds.models import Round
from consultroom.surveys.models import SurveyResponse
from consultroom.timeutil import SEOUL
from tests.conftest import login
from tests.factories import make_user
from tests.formatting import won


def _load():
    return list(load_demo())


def _counts():
    models = (Booking, Buyer, Interpreter, Round, Company, Contract, Outcome, SurveyResponse, ReportTarget)
    return [db.session.scalar(select(func.count()).select_from(m)) for m in models]


def _last_year() -> int:
    from consultroom.db import utcnow

    return utcnow().astimezone(SEOUL).year - 1


def test_demo_loads_once_and_a_second_load_creates_nothing(app):
    first = _load()
    created = int(re.fullmatch(r"Demo data ready \((\d+) records created\)\.", first[0]).group(1))
    assert created > 100
    counts = _counts()
    lines = _load()
    assert lines[0] == "Demo data ready (0 records created)."
    assert _counts() == counts


def test_demo_world_fixture_holds_a_whole_load_and_takes_new_rows(app, demo_world):
    # The copy restored for each test is complete (a load finds nothing to add) and its id
    # sequences continue after the copied rows (a new row gets a fresh id, not a duplicate).
    counts = _counts()
    assert _load()[0] == "Demo data ready (0 records created)."
    assert _counts() == counts
    highest = db.session.scalar(select(func.max(User.id)))
    user = make_user("sme")
    db.session.commit()
    assert user.id == highest + 1


def test_demo_has_last_years_held_rounds_and_an_open_round(app, demo_world):
    statuses = db.session.scalars(select(Round.status)).all()
    assert statuses.count("finalized") == 10
    assert "open" in statuses
    held = db.session.scalar(select(func.count()).select_from(Booking).where(Booking.status.in_(["held", "no_show"])))
    assert held >= 383


def test_demo_buyers_span_ten_countries_and_interpreters_cover_program_languages(app, demo_world):
    countries = set(db.session.scalars(select(Buyer.country)).all())
    assert len(countries) >= 10
    zones = set(db.session.scalars(select(Buyer.timezone)).all())
    assert len(zones) >= 8
    spoken = {code for i in db.session.scalars(select(Interpreter)).all() for code in i.languages}
    assert {"en", "zh", "ja", "vi", "es", "ru"} <= spoken


def test_demo_past_consultations_never_put_a_buyer_or_interpreter_in_two_places(app, demo_world):
    rows = db.session.execute(
        select(Booking.buyer_id, Booking.interpreter_id, Booking.starts_at).where(Booking.status != "cancelled")
    ).all()
    buyers = [(b, t) for b, _i, t in rows if b is not None]
    interpreters = [(i, t) for _b, i, t in rows if i is not None]
    assert len(buyers) >= 50
    assert len(set(buyers)) == len(buyers)
    assert len(set(interpreters)) == len(interpreters)


def test_demo_sme_can_log_in_and_see_the_open_round(app, demo_world, client):
    assert login(client, "sme@demo.consultroom.kr", DEMO_PASSWORD).status_code == 302
    open_round = db.session.scalar(select(Round).where(Round.status == "open"))
    response = client.get(f"/rounds/{open_round.id}")
    assert response.status_code == 200


def test_demo_last_year_adds_up_to_the_published_program_figures(app, demo_world):
    year = _last_year()
    report = program_report(start=date(year, 1, 1), end=date(year, 12, 31))
    assert report.rounds_held == 10
    assert report.total.held == 383
    assert report.total.no_shows > 0
    assert report.total.smes == 100
    assert report.total.contracted == 224
    assert report.total.krw == 8_569_000_000
    assert str(report.total.satisfaction) == "4.50"
    # Every held consultation has a log and an outcome; contracts in several currencies.
    held = db.session.scalar(select(func.count()).select_from(Booking).where(Booking.status == "held"))
    assert held == 383
    assert db.session.scalar(select(func.count()).select_from(ConsultationLog)) == 383
    assert db.session.scalar(select(func.count()).select_from(Outcome)) == 383
    assert db.session.scalar(select(func.count()).select_from(Outcome).where(Outcome.stage == "contracted")) == 224
    assert len(set(db.session.scalars(select(Contract.currency)))) >= 4
    assert db.session.scalar(select(func.count()).select_from(Company)) == 100
    assert all(business_number_ok(n) for n in db.session.scalars(select(Company.business_number)))
    targets = db.session.scalars(select(ReportTarget).where(ReportTarget.year == year)).all()
    assert len(targets) == 5
    assert all(t.published for t in targets)


def test_demo_report_page_shows_last_years_contract_value(app, demo_world, client):
    assert login(client, "staff@demo.consultroom.kr", DEMO_PASSWORD).status_code == 302
    response = client.get(f"/staff/reports?year={_last_year()}")
    assert response.status_code == 200
    assert won(8_569_000_000, "ko") in response.get_data(as_text=True)  # the demo staff reads Korean
