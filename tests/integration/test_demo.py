"""The demo a new user starts with: `consultroom demo` loads this data set."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func, select

from consultroom.accounts.models import User
from consultroom.bookings.models import Booking, WaitlistEntry
from consultroom.bookings.services import free_slot_count
from consultroom.buyers.models import Buyer, BuyerImportBatch
from consultroom.companies.models import Company
from consultroom.companies.validation import business_number_ok
from consultroom.db import utcnow
from consultroom.demo import DEMO_DATA, DEMO_PASSWORD, load_demo
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter
from consultroom.main.todo import sme_todo, staff_items
from consultroom.matching.models import RoundProposal
from consultroom.notifications.delivery import DEADLINE_PASSED
from consultroom.notifications.models import OutboxMail
from consultroom.outcomes.models import ConsultationLog, Contract, Outcome
from consultroom.outcomes.queries import missing_logs_stmt, overdue_stmt
from consultroom.reports.figures import program_report
from consultroom.reports.models import ReportTarget
from consultroom.rounds.models import Round
from consultroom.surveys.models import SurveyInvitation, SurveyResponse
from consultroom.surveys.queries import pending_for_company_stmt
from consultroom.surveys.services import active_version
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
    last_year = select(Booking.id).join(Round, Round.id == Booking.round_id).where(Round.year == year)
    held = db.session.scalar(
        select(func.count()).select_from(Booking).where(Booking.status == "held", Booking.id.in_(last_year))
    )
    assert held == 383
    logs = select(func.count()).select_from(ConsultationLog).where(ConsultationLog.booking_id.in_(last_year))
    assert db.session.scalar(logs) == 383
    outcomes = select(func.count()).select_from(Outcome).where(Outcome.booking_id.in_(last_year))
    assert db.session.scalar(outcomes) == 383
    assert db.session.scalar(outcomes.where(Outcome.stage == "contracted")) == 224
    assert len(set(db.session.scalars(select(Contract.currency)))) >= 4
    assert db.session.scalar(select(func.count()).select_from(Company)) == 100
    assert all(business_number_ok(n) for n in db.session.scalars(select(Company.business_number)))
    targets = db.session.scalars(select(ReportTarget).where(ReportTarget.year == year)).all()
    assert len(targets) == 5
    # Published in advance, as the target disclosure asks: before the year they set began (in Seoul).
    assert all(t.published and t.published_at.astimezone(SEOUL).date() < date(year, 1, 1) for t in targets)


def test_demo_report_page_shows_last_years_contract_value(app, demo_world, client):
    assert login(client, "staff@demo.consultroom.kr", DEMO_PASSWORD).status_code == 302
    response = client.get(f"/staff/reports?year={_last_year()}")
    assert response.status_code == 200
    assert won(8_569_000_000, "ko") in response.get_data(as_text=True)  # the demo staff reads Korean


# --- every state a newcomer should see (issue 15, item 8), found by query, relative to now ---------


def _sme(email: str = "sme@demo.consultroom.kr") -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _open_round() -> Round:
    return db.session.scalar(select(Round).where(Round.status == "open").order_by(Round.id))


def test_demo_open_round_holds_a_booking_in_every_state(app, demo_world):
    rnd = _open_round()
    bookings = db.session.scalars(select(Booking).where(Booking.round_id == rnd.id)).all()
    now = utcnow()
    assert all(b.starts_at > now for b in bookings)
    waiting = [b for b in bookings if b.status == "requested" and b.match_version == 0]
    declined = [b for b in bookings if b.status == "requested" and b.buyer_response == "declined"]
    lapsed = [b for b in bookings if b.status == "requested" and b.match_version > 0 and b.buyer_response is None]
    awaiting = [b for b in bookings if b.status == "matched" and b.buyer_response == "pending"]
    confirmed = [b for b in bookings if b.status == "confirmed" and b.meeting_url]
    cancelled = [b for b in bookings if b.status == "cancelled" and b.cancel_reason]
    assert [len(waiting) >= 3, len(declined), len(lapsed), len(awaiting), len(confirmed), len(cancelled)] == [
        True, 1, 1, 1, 1, 1,
    ]  # fmt: skip
    # The demo SME owns several, and can still book once more (the round's cap is 3 active bookings).
    company_id = _sme().company_id
    mine = {b.status for b in bookings if b.company_id == company_id}
    assert mine == {"matched", "confirmed", "cancelled"}
    assert sum(b.status != "cancelled" for b in bookings if b.company_id == company_id) < rnd.company_cap
    assert any(b.company_id == _sme("sme2@demo.consultroom.kr").company_id for b in waiting)
    # Each proposal went through the matching rules: an interpreter on every one, answers by signed link.
    assert awaiting[0].interpreter_response == "pending" and awaiting[0].respond_by > now
    assert (confirmed[0].buyer_response, confirmed[0].interpreter_response) == ("accepted", "accepted")


def test_demo_outbox_holds_the_buyers_accept_link_and_a_mail_given_up(app, demo_world):
    rnd = _open_round()
    awaiting = db.session.scalar(select(Booking).where(Booking.round_id == rnd.id, Booking.status == "matched"))
    proposal = db.session.scalars(
        select(OutboxMail).where(OutboxMail.to_addr == awaiting.buyer.email, OutboxMail.template == "match_proposed")
    ).all()
    assert any(mail.status == "pending" and "/respond/" in mail.body_text for mail in proposal)
    failed = db.session.scalars(select(OutboxMail).where(OutboxMail.status == "failed")).all()
    assert failed
    assert all(mail.last_error.startswith(DEADLINE_PASSED) for mail in failed)


def test_demo_recent_rounds_leave_a_log_a_survey_and_a_follow_up_to_do(app, demo_world):
    now = utcnow()
    # A confirmed consultation of a few days ago that nobody has logged yet.
    missing = db.session.scalars(missing_logs_stmt(now)).all()
    assert any(b.ends_at > now - timedelta(days=21) for b in missing)
    company_id = _sme().company_id
    # The demo SME's logged consultation: its survey waits for it, the buyer's with its questions.
    pending = db.session.scalars(pending_for_company_stmt(company_id, now=now)).all()
    assert len(pending) == 1
    buyer_invitation = db.session.scalar(
        select(SurveyInvitation).where(
            SurveyInvitation.booking_id == pending[0].booking_id, SurveyInvitation.respondent == "buyer"
        )
    )
    assert buyer_invitation.response is None and buyer_invitation.expires_at > now
    assert len(active_version("buyer").questions) >= 2
    buyer = db.session.get(Buyer, buyer_invitation.buyer_id)
    assert db.session.scalar(
        select(func.count())
        .select_from(OutboxMail)
        .where(OutboxMail.to_addr == buyer.email, OutboxMail.template == "survey_invitation")
    )
    # An earlier consultation of the demo SME whose contract progress is overdue.
    overdue = db.session.scalars(overdue_stmt(now, company_id=company_id)).all()
    assert any(o.booking.starts_at > now - timedelta(days=120) for o in overdue)


def test_demo_recent_outcomes_include_a_contract_and_a_dropped_one(app, demo_world):
    this_year = select(Booking.id).join(Round, Round.id == Booking.round_id).where(Round.year >= _last_year() + 1)
    recent = db.session.scalars(select(Outcome).where(Outcome.booking_id.in_(this_year))).all()
    stages = {o.stage for o in recent}
    assert {"contracted", "dropped", "follow_up"} <= stages
    contracted = next(o for o in recent if o.stage == "contracted")
    assert [c.krw_value for c in contracted.contracts] == [48_000_000]


def test_demo_open_round_has_a_whole_round_proposal_in_draft(app, demo_world):
    proposal = db.session.scalar(select(RoundProposal).where(RoundProposal.round_id == _open_round().id))
    assert proposal.status == "draft"


def test_demo_home_to_do_lists_have_something_in_each_item(app, demo_world):
    now = utcnow()
    staff = {item.key: item.count for item in staff_items(now, admin=True)}
    keys = ("rematch", "match", "failed_mails", "missing_logs", "overdue")
    assert {key: staff[key] > 0 for key in keys} == dict.fromkeys(keys, True)
    todo = sme_todo(_sme().company_id, now)
    assert todo.next_booking is not None
    found = {item.key: item.count for item in todo.items}
    # followups: the recent one, and any of last year's the company left open
    assert (found["awaiting"], found["surveys"], found["followups"] >= 1) == (1, 1, True)


def test_demo_has_a_full_open_round_with_the_sme_on_its_waitlist(app, demo_world):
    entry = db.session.scalar(select(WaitlistEntry).where(WaitlistEntry.status == "waiting"))
    assert entry.company_id == _sme().company_id
    assert entry.round.status == "open" and entry.round.day > utcnow().astimezone(SEOUL).date()
    assert free_slot_count(entry.round) == 0
    assert entry.round.id != _open_round().id  # the main open round still has free times
    assert free_slot_count(_open_round()) > 0


def test_demo_buyers_come_from_its_file_through_the_buyer_importer(app, demo_world):
    batch = db.session.scalar(select(BuyerImportBatch))
    assert (batch.filename, batch.status, batch.created_count, batch.skipped_count) == ("buyers.csv", "applied", 18, 0)
    lines = (DEMO_DATA / "buyers.csv").read_text(encoding="utf-8").splitlines()
    assert db.session.scalar(select(func.count()).select_from(Buyer)) == len(lines) - 1 == 18


def test_demo_interpreters_come_from_its_file_through_the_interpreter_importer(app, demo_world):
    import csv

    from consultroom.interpreters.hours_text import format_week
    from consultroom.interpreters.models import InterpreterImportBatch

    batch = db.session.scalar(select(InterpreterImportBatch))
    assert (batch.filename, batch.status, batch.created_count, batch.skipped_count) == (
        "interpreters.csv",
        "applied",
        7,
        0,
    )
    with (DEMO_DATA / "interpreters.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    interpreters = db.session.scalars(select(Interpreter).order_by(Interpreter.id)).all()
    assert [
        (i.name, i.email, ", ".join(i.languages), i.specialties, str(i.max_sessions_per_day), i.locale)
        for i in interpreters
    ] == [
        (r["name"], r["email"], r["languages"], r["specialties"], r["max_sessions_per_day"], r["locale"]) for r in rows
    ]
    assert [format_week([(h.weekday, h.start, h.end) for h in i.hours]) for i in interpreters] == [
        r["hours"] for r in rows
    ]


def test_demo_last_year_is_its_history_file_played_through_the_services(app, demo_world):
    from consultroom.audit.models import AuditEntry
    from consultroom.demo.history import history_rows

    rows = history_rows()
    year = _last_year()
    booked = db.session.execute(
        select(Round.month, Company.business_number, Booking.status)
        .join(Round, Round.id == Booking.round_id)
        .join(Company, Company.id == Booking.company_id)
        .where(Round.year == year)
        .order_by(Booking.id)
    ).all()
    assert [tuple(b) for b in booked] == [
        (int(r["round_month"]), r["company_business_number"], r["attendance"]) for r in rows
    ]

    def audited(action: str) -> int:
        return db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))

    held = [r for r in rows if r["attendance"] == "held"]
    # Staff wrote each held consultation's log (which started its outcome) and moved its stage.
    assert audited("consultation_log.save") >= len(held) == 383
    assert audited("outcome.stage") >= sum(r["stage"] not in ("follow_up", "contracted") for r in held)
    contracts = db.session.scalars(
        select(Contract)
        .join(Outcome, Outcome.id == Contract.outcome_id)
        .join(Booking, Booking.id == Outcome.booking_id)
        .join(Round, Round.id == Booking.round_id)
        .where(Round.year == year, Contract.withdrawn_at.is_(None))
    ).all()
    assert len(contracts) == sum(len(r["contracts"].split(";")) for r in held if r["contracts"])
    answered = (
        select(func.count())
        .select_from(SurveyResponse)
        .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
        .join(Booking, Booking.id == SurveyInvitation.booking_id)
        .join(Round, Round.id == Booking.round_id)
        .where(Round.year == year)
    )
    assert db.session.scalar(answered) == sum(bool(r["sme_scores"]) for r in held)


def test_demo_rates_come_from_its_file_through_the_rate_import(app, demo_world):
    from consultroom.audit.models import AuditEntry
    from consultroom.outcomes.models import ExchangeRate

    imports = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "exchange_rates.import")).all()
    lines = (DEMO_DATA / "exchange_rates.csv").read_text(encoding="utf-8").splitlines()
    assert [(e.after["rows"], e.after["new"], e.after["updated"]) for e in imports] == [(len(lines) - 1, 1305, 0)]
    # Every row of the file, moved to the demo's past year, is in the table with the file's figure.
    year = _last_year()
    table = {
        (r.day.isoformat(), r.currency): f"{r.krw_per_unit:.6f}"
        for r in db.session.scalars(select(ExchangeRate).where(ExchangeRate.day >= date(year, 1, 1)))
    }
    rows = [line.split(",") for line in lines[1:]]
    assert table == {(f"{year}{day[4:]}", code): rate for day, code, rate in rows}


def test_demo_keeps_a_rate_an_admin_entered_and_imports_the_rest_of_the_file(app):
    from consultroom.outcomes.models import ExchangeRate

    admin = make_user(role="admin")
    day = date(_last_year(), 3, 4)
    db.session.add(ExchangeRate(currency="USD", day=day, krw_per_unit=1234.5, updated_by_id=admin.id))
    db.session.commit()
    _load()
    assert (
        db.session.scalar(
            select(ExchangeRate.krw_per_unit).where(ExchangeRate.day == day, ExchangeRate.currency == "USD")
        )
        == 1234.5
    )
    lines = (DEMO_DATA / "exchange_rates.csv").read_text(encoding="utf-8").splitlines()
    year_rows = (
        select(func.count())
        .select_from(ExchangeRate)
        .where(ExchangeRate.day.between(date(_last_year(), 1, 1), date(_last_year(), 12, 31)))
    )
    assert db.session.scalar(year_rows) == len(lines) - 1


def test_demo_companies_with_logins_come_from_its_file_through_create_company(app, demo_world):
    from consultroom.audit.models import AuditEntry
    from consultroom.demo import demo_companies

    rows = demo_companies()
    assert len(rows) == 12
    for row in rows:
        company = db.session.scalar(select(Company).where(Company.business_number == row["business_number"]))
        assert (company.name_ko, sorted(company.hs_codes), sorted(company.languages)) == (
            row["name_ko"],
            sorted(row["hs_codes"].split()),
            sorted(row["languages"].split()),
        )
        owner = db.session.scalar(select(User).where(User.company_id == company.id))
        assert owner.email == row["contact_email"]
        # Through the service the company form calls: it records the creation in the audit log.
        created = select(AuditEntry).where(AuditEntry.action == "company.create", AuditEntry.object_id == company.id)
        assert db.session.scalar(created) is not None
    assert db.session.scalar(select(Company.summary_en).where(Company.business_number == rows[0]["business_number"]))
