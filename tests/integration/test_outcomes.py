"""Consultation logs, the outcome pipeline, contracts with KRW values, follow-up mails, staff lists."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import func, select, text

from consultroom.audit.models import AuditEntry
from consultroom.bookings.models import Booking
from consultroom.db import utcnow
from consultroom.errors import Conflict, Invalid
from consultroom.extensions import db
from consultroom.notifications.models import OutboxMail
from consultroom.outcomes import queries, services
from consultroom.outcomes.jobs import outcome_followups
from consultroom.outcomes.models import ConsultationLog, Contract, FollowUpSent, Outcome, OutcomeChange
from consultroom.scheduler.runner import run_job
from consultroom.timeutil import seoul_date
from tests.conftest import is_postgres
from tests.factories import make_company, make_consultation, make_interpreter, make_rate, make_user, past_round
from tests.formatting import won


@pytest.fixture(autouse=True)
def _english_messages(app):
    """Service messages outside a request follow the default locale (Korean); read them in English."""
    with force_locale("en"):
        yield


HELD = {"attendance": "held", "buyer_interest": "high", "products_discussed": "Serum", "notes": "Good talk"}


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def _flashes(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", m).strip() for m in re.findall(r'<div class="alert[^"]*"[^>]*>(.*?)</div>', html, re.S)]


@pytest.fixture
def held():
    """A consultation held three days ago, logged by staff: (booking, outcome, owner SME, staff)."""
    staff = make_user("staff")
    owner = make_user("sme")
    company = make_company(owner=owner)
    booking = make_consultation(past_round(days_ago=3), company=company)
    services.record_log(booking=booking, data=HELD, actor=staff, now=utcnow())
    outcome = services.outcome_for(booking)
    db.session.commit()
    return booking, outcome, owner, staff


# --- consultation log ----------------------------------------------------------------------------


def test_log_by_staff_sets_booking_held_starts_outcome_and_is_audited(client, login_as):
    staff = login_as("staff")
    booking = make_consultation(past_round())
    db.session.commit()
    response = client.submit(
        f"/consultations/{booking.id}/log",
        {
            "attendance": "held",
            "buyer_interest": "medium",
            "products_discussed": "Hydrating serum",
            "samples_requested": "y",
            "samples_text": "10 samples by DHL",
            "next_action": "Send price list",
            "next_action_on": (seoul_date(utcnow()) + timedelta(days=7)).isoformat(),
            "notes": "Buyer wants FOB prices",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/consultations/{booking.id}"
    db.session.expire_all()
    log = db.session.scalar(select(ConsultationLog))
    assert (log.booking_id, log.attendance, log.buyer_interest, log.samples_requested, log.samples_text) == (
        booking.id,
        "held",
        "medium",
        True,
        "10 samples by DHL",
    )
    assert log.recorded_by_id == staff.id
    assert db.session.get(Booking, booking.id).status == "held"
    outcome = db.session.scalar(select(Outcome))
    assert (outcome.booking_id, outcome.stage) == (booking.id, "follow_up")
    assert [a.after["attendance"] for a in _audit("consultation_log.save")] == ["held"]
    assert [(a.before, a.after) for a in _audit("booking.status")] == [({"status": "confirmed"}, {"status": "held"})]


def test_log_no_show_names_the_absent_party_and_starts_no_outcome():
    staff = make_user("staff")
    booking = make_consultation(past_round())
    with pytest.raises(Invalid) as missing:
        services.record_log(booking=booking, data={"attendance": "no_show"}, actor=staff, now=utcnow())
    assert missing.value.fields == {"absent_party": ["Choose who did not attend."]}
    services.record_log(
        booking=booking, data={"attendance": "no_show", "absent_party": "buyer"}, actor=staff, now=utcnow()
    )
    assert booking.status == "no_show"
    assert db.session.scalar(select(ConsultationLog.absent_party)) == "buyer"
    assert db.session.scalar(select(func.count(Outcome.id))) == 0


def test_log_before_the_consultation_starts_is_refused():
    staff = make_user("staff")
    booking = make_consultation(past_round())
    with pytest.raises(Conflict) as exc:
        services.record_log(booking=booking, data=HELD, actor=staff, now=booking.starts_at - timedelta(minutes=1))
    assert exc.value.message == "The consultation has not started yet; write the log after it."
    assert booking.status == "confirmed"
    assert db.session.scalar(select(func.count(ConsultationLog.id))) == 0


def test_log_by_the_booking_interpreter_account_is_allowed(client, login_as):
    interpreter_user = make_user("sme")  # what counts is the link on the interpreter, not the role
    interpreter = make_interpreter(user=interpreter_user)
    booking = make_consultation(past_round(), interpreter=interpreter)
    login_as(interpreter_user)
    response = client.submit(f"/consultations/{booking.id}/log", {"attendance": "held", "buyer_interest": "low"})
    assert response.status_code == 302
    assert db.session.scalar(select(ConsultationLog.recorded_by_id)) == interpreter_user.id
    page = client.get(f"/consultations/{booking.id}").get_data(as_text=True)
    assert 'id="consultation-log"' in page and 'id="outcome-heading"' not in page  # the log, not the outcome


def test_log_by_another_interpreter_or_an_sme_is_not_found(client, login_as, make_client):
    booking = make_consultation(past_round(), interpreter=make_interpreter())
    stranger = make_user("sme")
    make_interpreter(user=stranger)
    login_as(stranger)
    assert client.submit(f"/consultations/{booking.id}/log", {"attendance": "held"}).status_code == 404
    owner = make_user("sme", company=booking.company)
    owner_client = make_client()
    login_as(owner, on=owner_client)
    assert owner_client.get(f"/consultations/{booking.id}/log").status_code == 404
    assert db.session.scalar(select(func.count(ConsultationLog.id))) == 0


def test_sme_sees_its_own_log_and_never_another_companys(client, login_as, held):
    booking, _outcome, owner, _staff = held
    login_as(owner)
    page = client.get(f"/consultations/{booking.id}")
    assert page.status_code == 200 and "Good talk" in page.get_data(as_text=True)
    assert f'href="/consultations/{booking.id}"' in client.get("/bookings").get_data(as_text=True)
    other = make_user("sme")
    make_company(owner=other)
    db.session.commit()
    client.submit("/logout")
    login_as(other)
    assert client.get(f"/consultations/{booking.id}").status_code == 404


# --- outcome pipeline ----------------------------------------------------------------------------


def _stage(client, booking, stage, on=None, note=""):
    return client.submit(
        f"/consultations/{booking.id}/stage",
        {"stage-stage": stage, "stage-changed_on": (on or seoul_date(utcnow())).isoformat(), "stage-note": note},
    )


def test_sme_moves_its_own_outcome_forward_skipping_a_stage_with_history(client, login_as, held):
    booking, outcome, owner, _staff = held
    login_as(owner)
    response = _stage(client, booking, "negotiating", note="Price talks")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Outcome, outcome.id).stage == "negotiating"
    history = db.session.execute(
        select(OutcomeChange.actor_id, OutcomeChange.from_stage, OutcomeChange.to_stage, OutcomeChange.note).order_by(
            OutcomeChange.id
        )
    ).all()
    assert [tuple(h) for h in history] == [
        (held[3].id, None, "follow_up", ""),
        (owner.id, "follow_up", "negotiating", "Price talks"),
    ]
    assert [(a.actor_id, a.before["stage"], a.after["stage"]) for a in _audit("outcome.stage")] == [
        (owner.id, "follow_up", "negotiating")
    ]


def test_outcome_never_moves_backward_or_to_contracted_by_hand(held):
    _booking, outcome, owner, _staff = held
    services.change_stage(
        outcome=outcome, to_stage="sample_sent", on=seoul_date(utcnow()), note="", actor=owner, now=utcnow()
    )
    for target in ("follow_up", "sample_sent", "contracted", "unknown"):
        with pytest.raises(Invalid) as exc:
            services.change_stage(
                outcome=outcome, to_stage=target, on=seoul_date(utcnow()), note="", actor=owner, now=utcnow()
            )
        assert exc.value.fields == {"stage": ["This outcome cannot move to that stage from here."]}
    assert outcome.stage == "sample_sent"


@pytest.mark.parametrize("start", ["follow_up", "sample_sent", "negotiating"])
def test_outcome_can_be_dropped_from_any_open_stage(held, start):
    _booking, outcome, owner, _staff = held
    today = seoul_date(utcnow())
    if start != "follow_up":
        services.change_stage(outcome=outcome, to_stage=start, on=today, note="", actor=owner, now=utcnow())
    services.change_stage(outcome=outcome, to_stage="dropped", on=today, note="No budget", actor=owner, now=utcnow())
    assert (outcome.stage, outcome.changes[-1].from_stage) == ("dropped", start)


def test_closed_outcome_only_staff_reopen_it_and_it_is_audited(client, login_as, make_client, held):
    booking, outcome, owner, staff = held
    services.change_stage(
        outcome=outcome, to_stage="dropped", on=seoul_date(utcnow()), note="", actor=owner, now=utcnow()
    )
    db.session.commit()
    with pytest.raises(Conflict):
        services.change_stage(
            outcome=outcome, to_stage="negotiating", on=seoul_date(utcnow()), note="", actor=staff, now=utcnow()
        )
    data = {
        "reopen-stage": "negotiating",
        "reopen-changed_on": seoul_date(utcnow()).isoformat(),
        "reopen-note": "Buyer came back",
    }
    login_as(owner)
    assert client.submit(f"/consultations/{booking.id}/reopen", data).status_code == 403
    staff_client = make_client()
    login_as(staff, on=staff_client)
    staff_page = staff_client.get(f"/consultations/{booking.id}").get_data(as_text=True)
    assert f'action="/consultations/{booking.id}/reopen"' in staff_page
    assert staff_client.submit(f"/consultations/{booking.id}/reopen", data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Outcome, outcome.id).stage == "negotiating"
    assert [(a.actor_id, a.before["stage"], a.after["stage"], a.after["note"]) for a in _audit("outcome.reopen")] == [
        (staff.id, "dropped", "negotiating", "Buyer came back")
    ]


def test_other_sme_and_interpreter_cannot_touch_the_outcome(client, login_as, make_client, held):
    booking, outcome, _owner, _staff = held
    other = make_user("sme")
    make_company(owner=other)
    interpreter_user = make_user("sme")
    db.session.get(Booking, booking.id).interpreter.user_id = interpreter_user.id
    db.session.commit()
    login_as(other)
    assert _stage(client, booking, "negotiating").status_code == 404
    assert client.get(f"/consultations/{booking.id}/contracts/new").status_code == 404
    interp_client = make_client()
    login_as(interpreter_user, on=interp_client)
    assert _stage(interp_client, booking, "negotiating").status_code == 404
    assert interp_client.get(f"/consultations/{booking.id}/contracts/new").status_code == 404
    db.session.expire_all()
    assert db.session.get(Outcome, outcome.id).stage == "follow_up"


def test_staff_moves_any_outcome(client, login_as, held):
    booking, outcome, _owner, _staff = held
    login_as("staff")
    assert _stage(client, booking, "sample_sent").status_code == 302
    db.session.expire_all()
    assert db.session.get(Outcome, outcome.id).stage == "sample_sent"


def test_stage_date_in_the_future_or_before_the_consultation_is_refused(held):
    booking, outcome, owner, _staff = held
    today = seoul_date(utcnow())
    for day, message in (
        (today + timedelta(days=1), "The date cannot be in the future."),
        (seoul_date(booking.starts_at) - timedelta(days=1), "The date cannot be before the consultation."),
    ):
        with pytest.raises(Invalid) as exc:
            services.change_stage(outcome=outcome, to_stage="negotiating", on=day, note="", actor=owner, now=utcnow())
        assert exc.value.fields == {"changed_on": [message]}


# --- contracts and KRW values --------------------------------------------------------------------


def _contract(outcome, actor, currency, amount, signed_on=None):
    return services.record_contract(
        outcome=outcome,
        currency=currency,
        amount=amount,
        signed_on=signed_on or seoul_date(utcnow()),
        items="Serum 10,000 pcs",
        actor=actor,
        now=utcnow(),
    )


def test_usd_contract_krw_value_is_exact_and_rounded_half_up(held):
    _booking, outcome, owner, _staff = held
    today = seoul_date(utcnow())
    make_rate("USD", today, "1387.25")
    contract = _contract(outcome, owner, "usd", "12,345.67")
    # 12,345.67 x 1,387.25 = 17,123,444.29 + 3,086.4175 = 17,126,530.7075 -> 17,126,531 (half-up)
    assert (contract.currency, contract.amount_minor, contract.krw_value) == ("USD", 1234567, 17_126_531)
    assert (contract.rate_day, str(contract.rate)) == (today, "1387.250000")
    assert outcome.stage == "contracted"


def test_jpy_contract_at_a_four_decimal_rate(held):
    _booking, outcome, owner, _staff = held
    make_rate("JPY", seoul_date(utcnow()), "9.1234")
    contract = _contract(outcome, owner, "JPY", "1000000")
    assert (contract.amount_minor, contract.krw_value) == (1_000_000, 9_123_400)


def test_half_won_rounds_up():
    from consultroom.outcomes.money import krw_value

    assert krw_value(amount_minor=2, currency="USD", krw_per_unit=__import__("decimal").Decimal("25")) == 1


@pytest.mark.parametrize(
    ("currency", "amount", "message"),
    [
        ("JPY", "1000.5", "JPY has no decimals; enter a whole amount."),
        ("KRW", "100.1", "KRW has no decimals; enter a whole amount."),
        ("USD", "1.234", "USD allows at most 2 decimals."),
        ("BHD", "1.2345", "BHD allows at most 3 decimals."),
        ("USD", "0", "The amount must be more than zero."),
        ("USD", "abc", "Enter an amount, e.g. 12345.67."),
    ],
)
def test_amount_with_more_decimals_than_the_currency_is_refused(held, currency, amount, message):
    _booking, outcome, owner, _staff = held
    with pytest.raises(Invalid) as exc:
        _contract(outcome, owner, currency, amount)
    assert exc.value.fields == {"amount": [message]}
    assert db.session.scalar(select(func.count(Contract.id))) == 0


def test_unknown_currency_is_refused(held):
    _booking, outcome, owner, _staff = held
    with pytest.raises(Invalid) as exc:
        _contract(outcome, owner, "XYZ", "100")
    assert exc.value.fields == {"currency": ["Not an ISO 4217 currency code (e.g. USD, JPY, EUR)."]}


def test_missing_rate_is_an_error_naming_currency_and_date(held):
    _booking, outcome, owner, _staff = held
    today = seoul_date(utcnow())
    make_rate("USD", today - timedelta(days=8), "1300")  # older than RATE_MAX_AGE_DAYS (7)
    with pytest.raises(Invalid) as exc:
        _contract(outcome, owner, "USD", "100")
    assert exc.value.message == (
        f"No USD rate for {today.isoformat()} or the 7 days before it. Add the rate on the exchange rates page first."
    )
    assert outcome.stage == "follow_up"


def test_friday_rate_is_used_for_a_sunday_signing(app: Flask):
    from consultroom.outcomes.rates import rate_for

    friday = date(2026, 3, 6)
    sunday = date(2026, 3, 8)
    assert (friday.weekday(), sunday.weekday()) == (4, 6)
    make_rate("USD", friday, "1387.25")
    make_rate("USD", date(2026, 3, 9), "1390")  # a later rate is never used for an earlier day
    rate = rate_for(currency="USD", day=sunday)
    assert (rate.day, str(rate.krw_per_unit)) == (friday, "1387.250000")
    app.config["RATE_MAX_AGE_DAYS"] = 1
    try:
        with pytest.raises(Invalid):
            rate_for(currency="USD", day=sunday)
    finally:
        app.config["RATE_MAX_AGE_DAYS"] = 7


def test_several_contracts_sum_and_are_audited(client, login_as, held):
    booking, _outcome, owner, _staff = held
    today = seoul_date(utcnow())
    make_rate("USD", today, "1387.25")
    make_rate("JPY", today, "9.1234")
    db.session.commit()
    login_as(owner)
    for currency, amount in (("USD", "12345.67"), ("JPY", "1000000"), ("KRW", "5000000")):
        response = client.submit(
            f"/consultations/{booking.id}/contracts/new",
            {"currency": currency, "amount": amount, "signed_on": today.isoformat(), "items": "Serum"},
        )
        assert response.status_code == 302
    page = client.get(f"/consultations/{booking.id}").get_data(as_text=True)
    total = 17_126_531 + 9_123_400 + 5_000_000
    assert re.search(r'id="contracts-total">\s*' + re.escape(won(total, "en")), page), total
    assert db.session.scalar(select(func.sum(Contract.krw_value))) == total
    assert [a.after["krw_value"] for a in _audit("contract.create")] == [17_126_531, 9_123_400, 5_000_000]
    assert [(a.before["stage"], a.after["stage"]) for a in _audit("outcome.stage")] == [("follow_up", "contracted")]


def test_contract_form_shows_the_rate_error_beside_the_date(client, login_as, held):
    booking, _outcome, owner, _staff = held
    login_as(owner)
    today = seoul_date(utcnow())
    response = client.submit(
        f"/consultations/{booking.id}/contracts/new",
        {"currency": "EUR", "amount": "10", "signed_on": today.isoformat()},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="signed_on-error"' in html and f"No EUR rate for {today.isoformat()}" in html


def test_dropped_outcome_takes_no_contract(held):
    _booking, outcome, owner, _staff = held
    services.change_stage(
        outcome=outcome, to_stage="dropped", on=seoul_date(utcnow()), note="", actor=owner, now=utcnow()
    )
    with pytest.raises(Conflict):
        _contract(outcome, owner, "KRW", "1000")


# --- follow-up mails -----------------------------------------------------------------------------


def _followup_mails() -> list[OutboxMail]:
    return list(
        db.session.scalars(select(OutboxMail).where(OutboxMail.template == "outcome_followup").order_by(OutboxMail.id))
    )


def test_followups_go_at_1_3_and_6_months_once_each_in_each_users_language(held):
    booking, _outcome, owner, _staff = held
    korean = make_user("sme", locale="ko", company=booking.company)
    db.session.commit()
    start = booking.starts_at
    day = timedelta(days=1)
    month1 = start + timedelta(days=31) + day
    assert run_job("outcome_followups", now=start + timedelta(days=20)).status == "succeeded"
    assert _followup_mails() == []
    assert run_job("outcome_followups", now=month1).status == "succeeded"
    mails = _followup_mails()
    assert sorted((m.to_addr, m.locale) for m in mails) == sorted([(owner.email, "en"), (korean.email, "ko")])
    assert all(f"http://localhost/consultations/{booking.id}" in m.body_text for m in mails)
    assert {m.locale: m.subject for m in mails} == {
        "en": "How is it going? Your consultation a month ago",
        "ko": "진행 상황을 알려 주세요: 한 달 전 상담",
    }
    assert run_job("outcome_followups", now=month1 + day).status == "succeeded"  # next day: nothing new
    assert outcome_followups(month1 + day) == "follow-ups 0"  # the job body itself, rerun
    assert len(_followup_mails()) == 2
    run_job("outcome_followups", now=start + timedelta(days=93))
    run_job("outcome_followups", now=start + timedelta(days=94))
    run_job("outcome_followups", now=start + timedelta(days=186))
    assert len(_followup_mails()) == 6
    rows = db.session.execute(select(FollowUpSent.booking_id, FollowUpSent.months).order_by(FollowUpSent.months))
    assert [tuple(r) for r in rows] == [(booking.id, 1), (booking.id, 3), (booking.id, 6)]


def test_followups_stop_once_the_outcome_is_contracted(held):
    booking, outcome, owner, _staff = held
    start = booking.starts_at
    run_job("outcome_followups", now=start + timedelta(days=33))
    assert len(_followup_mails()) == 1
    _contract(outcome, owner, "KRW", "1000000")
    db.session.commit()
    run_job("outcome_followups", now=start + timedelta(days=93))
    run_job("outcome_followups", now=start + timedelta(days=186))
    assert len(_followup_mails()) == 1


# --- staff lists ---------------------------------------------------------------------------------


def test_missing_log_page_lists_consultations_a_day_past_their_end(client, login_as):
    rnd = past_round(days_ago=3)
    missing = make_consultation(rnd, 0)
    logged = make_consultation(rnd, 1)
    services.record_log(booking=logged, data=HELD, actor=make_user("staff"), now=utcnow())
    cancelled = make_consultation(rnd, 2, status="cancelled")
    login_as("staff")
    html = client.get("/staff/consultations/missing-logs").get_data(as_text=True)
    assert re.findall(r"/consultations/(\d+)/log", html) == [str(missing.id)]
    assert str(cancelled.id) not in re.findall(r"/consultations/(\d+)/log", html)


def _plan(stmt) -> str:
    compiled = stmt.compile(dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True})
    rows = db.session.connection().exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
    return "\n".join(row[0] for row in rows)


def test_missing_logs_read_the_unlogged_bookings_index_not_every_booking(app):
    """The list and the home's count find the unlogged bookings from the partial index of the
    matched and confirmed ones (a log makes a booking held or no_show), so their cost follows those
    few, not every booking ever held; the planner is told to avoid a sequential scan, as it would
    with 200,000 bookings, since this table holds a handful."""
    if not is_postgres(app):
        pytest.skip("the plan is PostgreSQL's; SQLite's data sets stay small")
    rnd = past_round(days_ago=3)
    make_consultation(rnd, 0)
    now = utcnow()
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    page = queries.missing_logs_stmt(now).order_by(Booking.ends_at, Booking.id).limit(50)
    count = select(func.count()).select_from(queries.missing_logs_stmt(now).subquery())
    for stmt in (page, count):
        assert "ix_bookings_unlogged_ends" in _plan(stmt)


def test_missing_log_page_query_count_is_the_same_for_1_and_8_rows(client, login_as, count_queries):
    rnd = past_round(days_ago=3, booths=3, slots_per_booth=3)
    make_consultation(rnd, 0)
    login_as("staff")
    client.get("/staff/consultations/missing-logs")
    with count_queries() as one:
        first = client.get("/staff/consultations/missing-logs").get_data(as_text=True)
    for i in range(1, 8):
        make_consultation(rnd, i)
    db.session.commit()
    with count_queries() as many:
        second = client.get("/staff/consultations/missing-logs").get_data(as_text=True)
    assert (first.count('class="missing-log"'), second.count('class="missing-log"')) == (1, 8)
    assert many.count == one.count


def test_missing_log_page_pages_oldest_first(client, login_as, monkeypatch):
    from consultroom.outcomes import queries

    monkeypatch.setattr(queries, "MISSING_LOGS_PER_PAGE", 2)
    rnd = past_round(days_ago=3, booths=1, slots_per_booth=3)
    bookings = [make_consultation(rnd, i) for i in range(3)]
    login_as("staff")

    pages = [client.get(f"/staff/consultations/missing-logs?page={n}").get_data(as_text=True) for n in (1, 2)]

    listed = [re.findall(r"/consultations/(\d+)/log", html) for html in pages]
    assert listed == [[str(bookings[0].id), str(bookings[1].id)], [str(bookings[2].id)]]
    assert "Page 1 of 2" in pages[0]


def test_overdue_page_lists_open_outcomes_not_updated_since_the_last_milestone(client, login_as, make_client):
    staff = make_user("staff")
    rnd = past_round(days_ago=100)
    stale = make_consultation(rnd, 0)
    fresh = make_consultation(rnd, 1)
    for booking in (stale, fresh):
        services.record_log(booking=booking, data=HELD, actor=staff, now=booking.ends_at)
    fresh_outcome = services.outcome_for(fresh)
    services.change_stage(
        outcome=fresh_outcome, to_stage="negotiating", on=seoul_date(utcnow()), note="", actor=staff, now=utcnow()
    )
    login_as("staff")
    html = client.get("/staff/outcomes/overdue").get_data(as_text=True)
    assert re.findall(r'href="/consultations/(\d+)"', html) == [str(stale.id)]
    assert "(3 months)" in html


def test_correcting_a_held_log_to_no_show_removes_an_untouched_outcome_only(held):
    booking, outcome, owner, staff = held
    no_show = {"attendance": "no_show", "absent_party": "company"}
    services.change_stage(
        outcome=outcome, to_stage="negotiating", on=seoul_date(utcnow()), note="", actor=owner, now=utcnow()
    )
    with pytest.raises(Conflict):
        services.record_log(booking=booking, data=no_show, actor=staff, now=utcnow())
    db.session.rollback()
    fresh = make_consultation(booking.round, 1)
    services.record_log(booking=fresh, data=HELD, actor=staff, now=utcnow())
    services.record_log(booking=fresh, data=no_show, actor=staff, now=utcnow())
    assert (fresh.status, services.outcome_for(fresh)) == ("no_show", None)
    assert [a.before for a in _audit("outcome.delete")] == [{"stage": "follow_up"}]


def test_consultation_labels_follow_each_viewers_language(make_client, login_as):
    # The labels template was once imported without context, so Jinja cached it with the first
    # viewer's language and every later viewer read that language.
    booking = make_consultation(past_round())
    services.record_log(booking=booking, data={"attendance": "held"}, actor=make_user("staff"), now=utcnow())
    db.session.commit()
    seen = []
    for locale in ("ko", "en", "ko"):
        client = make_client()
        login_as(make_user("staff", locale=locale), on=client)
        page = client.get(f"/consultations/{booking.id}").get_data(as_text=True)
        dd = re.search(r'<dt class="col-sm-3">[^<]+</dt>\s*<dd class="col-sm-9">([^<·]+)', page)
        seen.append(dd.group(1).strip())

    assert seen == ["진행 완료", "Held", "진행 완료"]
