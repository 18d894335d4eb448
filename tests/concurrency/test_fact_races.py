"""The consultation facts under concurrent writers: two transactions changing one consultation's
sources at the same moment both commit, and its fact carries both changes."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from consultroom.bookings.models import Booking
from consultroom.extensions import db
from consultroom.outcomes.services import outcome_for, record_contract, record_log
from consultroom.reports import facts
from consultroom.reports.models import ConsultationFact
from consultroom.surveys.models import SurveyInvitation
from consultroom.surveys.services import active_version, submit_response
from consultroom.timeutil import seoul_date
from tests.conftest import is_postgres
from tests.factories import SurveyInvitationFactory, SurveyQuestionFactory, make_consultation, make_round, make_user


def test_a_contract_and_a_survey_response_at_once_both_reach_the_fact(app, monkeypatch):
    if not is_postgres(app):
        pytest.skip("SQLite has one writer at a time: no two transactions hold writes at once")
    staff, admin = make_user("staff"), make_user("admin")
    question = SurveyQuestionFactory(text_ko="만족도", text_en="Satisfaction", actor=admin)
    booking = make_consultation(make_round(day=date(2025, 5, 14), status="closed", booths=1, slots_per_booth=1))
    record_log(booking=booking, data={"attendance": "held"}, actor=staff, now=booking.ends_at + timedelta(hours=1))
    invitation = SurveyInvitationFactory(booking=booking, respondent="sme")
    db.session.commit()
    ids = {"booking": booking.id, "invitation": invitation.id, "staff": staff.id, "question": question.id}
    # Both have written their sources (uncommitted) and are about to rewrite the fact before either does
    # (the response's at the release of its savepoint, the contract's at the commit).
    refreshing = threading.Barrier(2)
    errors: list[BaseException] = []
    booking_ids = facts._booking_ids

    def in_step_at_refresh(session, pending):
        found = booking_ids(session, pending)
        refreshing.wait(timeout=60)
        return found

    monkeypatch.setattr(facts, "_booking_ids", in_step_at_refresh)

    def contract() -> None:
        b = db.session.get(Booking, ids["booking"])
        record_contract(outcome=outcome_for(b), currency="KRW", amount="1000000", signed_on=seoul_date(b.ends_at),
                        items="serum", actor=db.session.get(type(staff), ids["staff"]), now=b.ends_at)  # fmt: skip

    def response() -> None:
        v = db.session.get(SurveyInvitation, ids["invitation"])
        submit_response(invitation=v, version=active_version("sme"), answers={f"q{ids['question']}": "4"},
                        locale="ko", user=None, now=v.booking.ends_at + timedelta(hours=2))  # fmt: skip

    def worker(change) -> None:
        with app.app_context():
            try:
                change()
                db.session.commit()
            except BaseException as exc:
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(change,)) for change in (contract, response)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    db.session.rollback()  # the test's snapshot predates the threads' commits
    monkeypatch.undo()

    assert not errors, repr(errors)
    row = db.session.get(ConsultationFact, ids["booking"])
    assert (row.contracts, row.krw, row.score_sum, row.score_n) == (1, 1_000_000, 4, 1)
    kept = sorted(tuple(r) for r in db.session.execute(select(*ConsultationFact.__table__.c)))
    assert kept == sorted(tuple(r) for r in db.session.execute(facts.fact_rows()))
