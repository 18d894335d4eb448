"""The consultation facts (issue 16 item 3) equal a recomputation from their sources after every kind of
change, made through the services as the app makes it, and committed as a request commits."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from consultroom.bookings.models import Booking
from consultroom.buyers import importing
from consultroom.buyers.services import update_buyer
from consultroom.companies.services import update_company
from consultroom.consultations.changes import cancel_booking, move_booking
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.outcomes.services import (
    change_stage,
    correct_contract,
    outcome_for,
    record_contract,
    record_log,
    save_rate,
    withdraw_contract,
)
from consultroom.privacy.anonymise import anonymise_subject
from consultroom.privacy.retention import apply as apply_retention
from consultroom.reports import facts
from consultroom.reports.models import ConsultationFact
from consultroom.surveys.services import active_version, submit_response
from consultroom.timeutil import seoul_date
from tests.factories import (
    SurveyInvitationFactory,
    SurveyQuestionFactory,
    accept_both,
    make_booking,
    make_buyer,
    make_company,
    make_consultation,
    make_rate,
    make_round,
    make_user,
    propose,
    survey,
)

FACT = ConsultationFact.__table__
COLUMNS = [FACT.c[name] for name in facts.FACT_COLUMNS]


def table() -> list[tuple]:
    return sorted(tuple(r) for r in db.session.execute(select(*COLUMNS)))


def in_step() -> list[tuple]:
    """Commit (as a request does), then the table must equal the facts recomputed from the sources."""
    db.session.commit()
    kept = table()
    assert kept == sorted(tuple(r) for r in db.session.execute(facts.fact_rows()))
    return kept


def fact(booking: Booking) -> dict | None:
    row = db.session.execute(select(*COLUMNS).where(FACT.c.booking_id == booking.id)).first()
    return row._asdict() if row is not None else None


@pytest.fixture
def world(app):
    """A past round's consultation between a company with HS codes and a buyer with languages."""
    staff, admin = make_user("staff"), make_user("admin")
    questions = [SurveyQuestionFactory(text_ko=f"질문{i}", text_en=f"Q{i}", actor=admin) for i in range(2)]
    buyer_question = SurveyQuestionFactory(audience="buyer", text_ko="바이어", text_en="Buyer", actor=admin)
    company = make_company(hs_codes=("620462", "330499"))
    buyer = make_buyer(country="US", languages=("ja", "en"))
    rnd = make_round(day=date(2025, 5, 14), status="closed", booths=2, slots_per_booth=2)
    booking = make_consultation(rnd, 0, company=company)
    booking.buyer_id = buyer.id
    db.session.commit()
    return {"staff": staff, "questions": questions, "buyer_question": buyer_question, "company": company,
            "buyer": buyer, "booking": booking}  # fmt: skip


def _held(w, attendance: str = "held") -> Booking:
    booking = w["booking"]
    data = {"attendance": attendance} if attendance == "held" else {"attendance": attendance, "absent_party": "buyer"}
    record_log(booking=booking, data=data, actor=w["staff"], now=booking.ends_at + timedelta(hours=1))
    return booking


def test_a_booking_matched_confirmed_moved_and_cancelled_is_no_fact_until_held(app):
    rnd = make_round(booths=2, slots_per_booth=3)
    staff = make_user("staff")
    booking = make_booking(rnd.slots[0])
    other = make_booking(rnd.slots[1])
    assert in_step() == []
    accept_both(propose(booking, buyer=make_buyer(country="VN", languages=("en",)), actor=staff))
    assert in_step() == []
    move_booking(booking=booking, slot=rnd.slots[2], actor=staff)
    cancel_booking(booking=other, actor=staff, reason="plans changed")
    assert in_step() == []

    record_log(booking=booking, data={"attendance": "held"}, actor=staff, now=booking.ends_at + timedelta(hours=1))

    in_step()
    assert fact(booking) == {
        "booking_id": booking.id, "starts_at": rnd.slots[2].starts_at, "round_id": rnd.id, "status": "held",
        "company_id": booking.company_id, "country": "VN", "chapter": "33", "language": "en", "contracts": 0,
        "krw": 0, "score_sum": 0, "score_n": 0,
    }  # fmt: skip


def test_held_and_no_show_are_facts_and_a_corrected_log_rewrites_them(world):
    booking = _held(world, "no_show")
    assert in_step() and fact(booking)["status"] == "no_show"

    _held(world, "held")

    in_step()
    assert (fact(booking)["status"], fact(booking)["country"], fact(booking)["chapter"]) == ("held", "US", "33")
    assert fact(booking)["language"] == "en"


def test_outcome_stage_and_contracts_added_corrected_and_withdrawn(world):
    booking = _held(world)
    staff, now = world["staff"], booking.ends_at + timedelta(days=1)
    outcome = outcome_for(booking)
    change_stage(outcome=outcome, to_stage="negotiating", on=seoul_date(now), note="", actor=staff, now=now)
    in_step()
    make_rate("USD", seoul_date(now), "1300")

    contract = record_contract(outcome=outcome, currency="KRW", amount="1000000", signed_on=seoul_date(now),
                               items="serum", actor=staff, now=now)  # fmt: skip
    second = record_contract(outcome=outcome, currency="USD", amount="10", signed_on=seoul_date(now),
                             items="cream", actor=staff, now=now)  # fmt: skip
    in_step()
    assert (fact(booking)["contracts"], fact(booking)["krw"]) == (2, 1_013_000)

    correct_contract(contract=contract, currency="KRW", amount="2500000", signed_on=seoul_date(now), items="serum",
                     reason="typo", actor=staff, now=now)  # fmt: skip
    in_step()
    assert (fact(booking)["contracts"], fact(booking)["krw"]) == (2, 2_513_000)

    withdraw_contract(contract=second, reason="cancelled by the buyer", actor=staff, now=now)
    in_step()
    assert (fact(booking)["contracts"], fact(booking)["krw"]) == (1, 2_500_000)


def test_an_sme_survey_response_adds_its_scores_and_a_buyer_response_does_not(world):
    booking = _held(world)
    q1, q2 = world["questions"]
    invitation = SurveyInvitationFactory(booking=booking, respondent="sme")
    in_step()

    submit_response(invitation=invitation, version=active_version("sme"), answers={f"q{q1.id}": "4", f"q{q2.id}": "5"},
                    locale="ko", user=None, now=booking.ends_at + timedelta(hours=2))  # fmt: skip
    in_step()
    assert (fact(booking)["score_sum"], fact(booking)["score_n"]) == (9, 2)
    survey(booking, "buyer", {world["buyer_question"]: 1})
    in_step()
    assert (fact(booking)["score_sum"], fact(booking)["score_n"]) == (9, 2)

    # A cancelled booking's SME scores still count in the year's satisfaction: it keeps a fact.
    db.session.get(Booking, booking.id).status = "cancelled"
    in_step()
    assert (fact(booking)["status"], fact(booking)["score_n"]) == ("cancelled", 2)


def test_editing_a_company_hs_codes_rewrites_the_chapter_of_its_consultations(world):
    booking = _held(world)
    in_step()

    update_company(company=world["company"], data={"hs_codes": ["870323", "850440"]}, actor=world["staff"],
                   partial=True)  # fmt: skip

    in_step()
    assert fact(booking)["chapter"] == "85"


def test_editing_a_buyer_country_and_languages_rewrites_its_consultations(world):
    booking = _held(world)
    in_step()

    update_buyer(buyer=world["buyer"], data={"country": "DE"}, actor=world["staff"], partial=True)
    in_step()
    assert (fact(booking)["country"], fact(booking)["language"]) == ("DE", "en")

    update_buyer(buyer=world["buyer"], data={"languages": ["fr", "de"]}, actor=world["staff"], partial=True)
    in_step()
    assert (fact(booking)["country"], fact(booking)["language"]) == ("DE", "de")


def test_a_buyer_import_keeps_the_facts_in_step(world):
    booking = _held(world)
    before = in_step()
    parsed = importing.parse_upload(
        "b.csv", b"company,country,email,timezone\nFresh One,US,fresh@buyers.example.com,America/Chicago\n"
    )
    preview = importing.preview_import(parsed.rows, columns=parsed.columns, filename=parsed.filename)

    importing.apply_import(preview, actor=world["staff"])

    assert in_step() == before and fact(booking) is not None


@pytest.mark.parametrize("subject", ["company", "buyer"])
def test_erasure_of_a_company_or_a_buyer_keeps_the_facts_in_step(world, subject):
    booking = _held(world)
    survey(booking, "sme", {world["questions"][0]: 3})
    before = in_step()

    anonymise_subject(subject_type=subject, subject_id=world[subject].id, reason="erasure", actor=None)

    # Countries, HS codes, languages and scores are business data the figures keep.
    assert in_step() == before


def test_a_retention_run_keeps_the_facts_in_step(world):
    _held(world)
    before = in_step()

    apply_retention(now=utcnow() + timedelta(days=3650 * 3))

    assert in_step() == before


def test_a_rate_change_revalues_no_contract_and_keeps_the_facts_in_step(world):
    booking = _held(world)
    day = seoul_date(booking.starts_at)
    rate = make_rate("USD", day, "1300")
    record_contract(outcome=outcome_for(booking), currency="USD", amount="10", signed_on=day, items="x",
                    actor=world["staff"], now=booking.ends_at)  # fmt: skip
    before = in_step()

    save_rate(rate=rate, currency="USD", day=day, krw_per_unit="1400", actor=world["staff"])

    assert in_step() == before and fact(booking)["krw"] == 13_000


def test_the_demo_data_is_in_step(demo_world):
    assert len(in_step()) > 100


def test_a_rolled_back_transaction_leaves_the_table_as_it_was(world):
    booking = _held(world)
    before = in_step()

    _held(world, "no_show")
    db.session.flush()
    db.session.rollback()

    assert table() == before
    assert in_step() == before and fact(booking)["status"] == "held"


def test_a_read_in_the_same_transaction_sees_its_own_changes(world):
    booking = _held(world)

    facts.sync()

    assert fact(booking)["status"] == "held"


def test_a_bulk_write_to_a_source_is_refused_unless_the_facts_were_refreshed(world):
    booking = _held(world)
    in_step()
    statement = update(Booking).where(Booking.id == booking.id).values(status="no_show")

    with pytest.raises(RuntimeError, match="consultation facts"):
        db.session.execute(statement)
    db.session.rollback()
    db.session.execute(statement.execution_options(facts_refreshed=True, synchronize_session=False))
    facts.refresh([booking.id])

    assert in_step() and fact(booking)["status"] == "no_show"
    # A bulk write of what no fact reads (a request's text) goes through.
    db.session.execute(update(Booking).where(Booking.id == booking.id).values(notes=""))


def test_refresh_all_rebuilds_what_a_hand_edit_left_behind(world):
    booking = _held(world)
    in_step()
    db.session.execute(FACT.delete())
    db.session.commit()

    assert facts.refresh_all() == 1

    assert in_step() and fact(booking)["status"] == "held"


def test_the_facts_rebuild_command_restores_the_table(app, world):
    booking = _held(world)
    in_step()
    db.session.execute(FACT.delete())
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["consultroom", "facts-rebuild"])

    assert result.exit_code == 0 and "1 rows" in result.output
    db.session.expire_all()
    assert in_step() and fact(booking)["status"] == "held"
