"""Every registered route, walked as anonymous, the owning SME, another SME, staff and admin.

Each route must have an entry in EXPECT: a new route without one fails the test, so nobody adds
a page without deciding who may see it. "login" means a redirect to the login page; numbers are
exact status codes. POSTs carry a valid CSRF token and an empty form unless DATA says otherwise.
"""

from __future__ import annotations

from importlib import import_module

import pytest
from flask import url_for

from consultroom.extensions import db
from tests.conftest import login
from tests.factories import SurveyQuestionFactory, make_company, make_user

ROLES = ("anon", "owner", "other", "staff", "admin")
L = "login"


def every(code):
    return dict.fromkeys(ROLES, code)


def roles(anon, owner, other, staff, admin):
    return dict(zip(ROLES, (anon, owner, other, staff, admin), strict=True))


STAFF_ONLY = roles(L, 404, 404, 200, 200)
ADMIN_ONLY = roles(L, 404, 404, 404, 200)

# (endpoint, method) -> role -> expected
EXPECT: dict[tuple[str, str], dict[str, object]] = {
    ("static", "GET"): every(200),
    ("bootstrap.static", "GET"): every(200),
    ("favicon", "GET"): every(200),
    ("main.home", "GET"): every(200),
    ("main.set_language", "POST"): every(302),
    ("main.health", "GET"): every(200),
    ("accounts.login", "GET"): roles(200, 302, 302, 302, 302),
    ("accounts.login", "POST"): roles(200, 302, 302, 302, 302),
    ("accounts.logout", "POST"): roles(L, 302, 302, 302, 302),
    ("accounts.register", "GET"): roles(200, 302, 302, 302, 302),
    ("accounts.register", "POST"): roles(200, 302, 302, 302, 302),
    ("accounts.confirm_email", "GET"): every(400),
    ("accounts.forgot_password", "GET"): every(200),
    ("accounts.forgot_password", "POST"): every(200),
    ("accounts.reset_password", "GET"): every(400),
    ("accounts.reset_password", "POST"): every(400),
    ("accounts.account", "GET"): roles(L, 200, 200, 200, 200),
    ("accounts.account", "POST"): roles(L, 200, 200, 200, 200),
    ("companies.my_company", "GET"): roles(L, 302, 302, 404, 404),
    ("companies.new", "GET"): roles(L, 403, 403, 404, 404),
    ("companies.new", "POST"): roles(L, 403, 403, 404, 404),
    ("companies.index", "GET"): STAFF_ONLY,
    ("companies.detail", "GET"): roles(L, 200, 404, 200, 200),
    ("companies.edit", "GET"): roles(L, 200, 404, 200, 200),
    ("companies.edit", "POST"): roles(L, 200, 404, 200, 200),
    ("admin.users", "GET"): ADMIN_ONLY,
    ("admin.users", "POST"): ADMIN_ONLY,
    ("admin.set_active", "POST"): roles(L, 404, 404, 404, 302),
    ("admin.set_role", "POST"): roles(L, 404, 404, 404, 302),
    ("admin.audit_moved", "GET"): every(308),
    ("audit.index", "GET"): STAFF_ONLY,
    ("admin.sign_out_everywhere", "POST"): roles(L, 404, 404, 404, 302),
    ("notifications.outbox", "GET"): ADMIN_ONLY,
    ("notifications.detail", "GET"): ADMIN_ONLY,
    ("notifications.retry", "POST"): roles(L, 404, 404, 404, 302),
    ("notifications.deliver_now", "POST"): roles(L, 404, 404, 404, 302),
    ("notifications.retry_failed", "GET"): ADMIN_ONLY,
    ("notifications.retry_failed", "POST"): roles(L, 404, 404, 404, 302),
    # rounds and bookings, as SMEs see them
    ("bookings.rounds", "GET"): roles(L, 200, 200, 200, 200),
    ("bookings.round_detail", "GET"): roles(L, 200, 200, 200, 200),
    ("bookings.book", "GET"): roles(L, 200, 200, 403, 403),
    ("bookings.book", "POST"): roles(L, 200, 200, 403, 403),
    ("bookings.book_time", "GET"): roles(L, 200, 200, 403, 403),
    ("bookings.book_time", "POST"): roles(L, 200, 200, 403, 403),
    ("bookings.join_waitlist", "GET"): roles(L, 200, 200, 403, 403),
    ("bookings.join_waitlist", "POST"): roles(L, 200, 200, 403, 403),
    ("bookings.leave_waitlist", "POST"): roles(L, 302, 404, 302, 302),
    ("bookings.my_bookings", "GET"): roles(L, 200, 200, 404, 404),
    ("bookings.cancel", "GET"): roles(L, 200, 404, 200, 200),
    ("bookings.detail", "GET"): roles(L, 200, 404, 200, 200),
    ("bookings.cancel", "POST"): roles(L, 302, 404, 302, 302),
    ("bookings.ics", "GET"): roles(L, 200, 404, 200, 200),
    # signed-link pages for proposed buyers and interpreters: a bad token is a 400 for everyone
    ("respond.page", "GET"): every(400),
    ("respond.answer", "POST"): every(400),
    ("respond.ics", "GET"): every(400),
    # staff pages for rounds
    ("rounds.index", "GET"): STAFF_ONLY,
    ("rounds.new", "GET"): STAFF_ONLY,
    ("rounds.new", "POST"): STAFF_ONLY,
    ("rounds.generate", "POST"): roles(L, 404, 404, 302, 302),
    ("rounds.edit", "GET"): STAFF_ONLY,
    ("rounds.edit", "POST"): STAFF_ONLY,
    ("rounds.grid", "GET"): STAFF_ONLY,
    ("rounds.set_status", "POST"): roles(L, 404, 404, 302, 302),
    ("rounds.cancel", "POST"): roles(L, 404, 404, 302, 302),
    ("rounds.add_slot", "POST"): roles(L, 404, 404, 302, 302),
    ("rounds.close_slot", "POST"): roles(L, 404, 404, 302, 302),
    ("rounds.book_for", "POST"): roles(L, 404, 404, 302, 302),
    ("rounds.move", "POST"): roles(L, 404, 404, 302, 302),
    ("rounds.move_page", "GET"): STAFF_ONLY,
    ("rounds.slot", "GET"): STAFF_ONLY,
    ("rounds.settings", "GET"): ADMIN_ONLY,
    ("rounds.settings", "POST"): ADMIN_ONLY,
    ("rounds.closed_dates", "GET"): STAFF_ONLY,
    ("rounds.closed_dates", "POST"): STAFF_ONLY,
    ("rounds.delete_closed_date", "POST"): roles(L, 404, 404, 302, 302),
    ("scheduler.index", "GET"): STAFF_ONLY,
    # buyer registry (staff); an import batch is its uploader's ("staff" here) alone
    ("buyers.index", "GET"): STAFF_ONLY,
    ("buyers.new", "GET"): STAFF_ONLY,
    ("buyers.new", "POST"): STAFF_ONLY,
    ("buyers.detail", "GET"): STAFF_ONLY,
    ("buyers.edit", "GET"): STAFF_ONLY,
    ("buyers.edit", "POST"): STAFF_ONLY,
    ("buyers.set_active", "POST"): roles(L, 404, 404, 302, 302),
    ("buyers.import_upload", "GET"): STAFF_ONLY,
    ("buyers.import_upload", "POST"): STAFF_ONLY,
    ("buyers.import_preview", "GET"): roles(L, 404, 404, 200, 404),
    ("buyers.import_confirm", "POST"): roles(L, 404, 404, 302, 404),
    ("buyers.import_discard", "POST"): roles(L, 404, 404, 302, 404),
    # matching (staff): recommendations per booking, whole-round proposals; the weights are admins'
    ("matching.booking", "GET"): STAFF_ONLY,
    ("matching.work", "GET"): STAFF_ONLY,
    ("matching.match", "POST"): roles(L, 404, 404, 302, 302),
    ("matching.unmatch", "POST"): roles(L, 404, 404, 302, 302),
    ("matching.round_proposals", "GET"): STAFF_ONLY,
    ("matching.create_proposal", "POST"): roles(L, 404, 404, 302, 302),
    ("matching.proposal", "GET"): STAFF_ONLY,
    ("matching.edit_line", "POST"): roles(L, 404, 404, 302, 302),
    ("matching.confirm", "POST"): roles(L, 404, 404, 302, 302),
    ("matching.discard", "POST"): roles(L, 404, 404, 302, 302),
    ("matching.weights", "GET"): ADMIN_ONLY,
    ("matching.weights", "POST"): ADMIN_ONLY,
    # interpreter registry (staff); the portal by signed link (an invalid token here) or a linked account
    ("interpreters.index", "GET"): STAFF_ONLY,
    ("interpreters.new", "GET"): STAFF_ONLY,
    ("interpreters.new", "POST"): STAFF_ONLY,
    ("interpreters.detail", "GET"): STAFF_ONLY,
    ("interpreters.edit", "GET"): STAFF_ONLY,
    ("interpreters.edit", "POST"): STAFF_ONLY,
    ("interpreters.set_active", "POST"): roles(L, 404, 404, 302, 302),
    ("interpreters.hours", "GET"): STAFF_ONLY,
    ("interpreters.hours", "POST"): roles(L, 404, 404, 302, 302),
    ("interpreters.exceptions", "GET"): STAFF_ONLY,
    ("interpreters.exceptions", "POST"): STAFF_ONLY,
    ("interpreters.delete_exception", "POST"): roles(L, 404, 404, 302, 302),
    ("interpreters.send_link", "POST"): roles(L, 404, 404, 302, 302),
    ("interpreters.report", "GET"): STAFF_ONLY,
    ("interpreters.report_csv", "GET"): STAFF_ONLY,
    # an interpreter import batch is its uploader's ("staff") alone, as a buyer import batch is
    ("interpreters.import_upload", "GET"): STAFF_ONLY,
    ("interpreters.import_upload", "POST"): STAFF_ONLY,
    ("interpreters.import_preview", "GET"): roles(L, 404, 404, 200, 404),
    ("interpreters.import_confirm", "POST"): roles(L, 404, 404, 302, 404),
    ("interpreters.import_discard", "POST"): roles(L, 404, 404, 302, 404),
    ("interpreters.portal", "GET"): every(400),
    ("interpreters.me", "GET"): roles(L, 404, 404, 404, 404),
    ("interpreters.portal_calendar", "POST"): every(400),
    ("interpreters.portal_log", "GET"): every(400),
    ("interpreters.portal_log", "POST"): every(400),
    ("interpreters.me_calendar", "POST"): roles(L, 404, 404, 404, 404),
    # private calendar feeds (issue 13): one's own page; the feed itself answers to its token only
    ("bookings.calendar_page", "GET"): roles(L, 200, 200, 200, 200),
    ("bookings.calendar_new", "POST"): roles(L, 200, 200, 200, 200),
    ("bookings.calendar_off", "POST"): roles(L, 302, 302, 302, 302),
    ("bookings.calendar_feed", "GET"): every(404),
    # consultation logs and outcomes (issue 5): the owner's held consultation; logs by staff or its interpreter
    ("outcomes.consultation", "GET"): roles(L, 200, 404, 200, 200),
    ("outcomes.log", "GET"): STAFF_ONLY,
    ("outcomes.log", "POST"): roles(L, 404, 404, 302, 302),  # an empty form keeps the saved log's values
    ("outcomes.stage", "POST"): roles(L, 302, 404, 302, 302),
    ("outcomes.reopen", "POST"): roles(L, 403, 404, 302, 302),
    ("outcomes.new_contract", "GET"): roles(L, 200, 404, 200, 200),
    ("outcomes.new_contract", "POST"): roles(L, 200, 404, 200, 200),
    # correcting or withdrawing a recorded contract is staff's (issue 15 item 7): the owner sees it, so 403;
    # an empty form is shown again with its errors, an unconfirmed withdrawal does nothing and goes back
    ("outcomes.edit_contract", "GET"): roles(L, 403, 404, 200, 200),
    ("outcomes.edit_contract", "POST"): roles(L, 403, 404, 200, 200),
    ("outcomes.withdraw_contract", "POST"): roles(L, 403, 404, 302, 302),
    ("outcomes.missing_logs", "GET"): STAFF_ONLY,
    ("outcomes.overdue", "GET"): STAFF_ONLY,
    # exchange rates (admins)
    ("outcomes.rates_index", "GET"): ADMIN_ONLY,
    ("outcomes.new_rate", "GET"): ADMIN_ONLY,
    ("outcomes.new_rate", "POST"): ADMIN_ONLY,
    ("outcomes.edit_rate", "GET"): ADMIN_ONLY,
    ("outcomes.edit_rate", "POST"): roles(L, 404, 404, 404, 302),  # an empty form keeps the rate's values
    ("outcomes.import_rates", "GET"): ADMIN_ONLY,
    ("outcomes.import_rates", "POST"): ADMIN_ONLY,
    ("outcomes.confirm_rate_import", "POST"): roles(L, 404, 404, 404, 302),
    # surveys: the answer page by signed link (an invalid token here); results staff, questions admin
    ("surveys.answer", "GET"): every(400),
    ("surveys.answer", "POST"): every(400),
    ("surveys.results", "GET"): STAFF_ONLY,
    ("surveys.results_xlsx", "GET"): STAFF_ONLY,
    ("surveys.results_csv", "GET"): STAFF_ONLY,
    # a large export is queued by a POST (any scope may be), then listed and downloaded by its requester
    # alone: the world's file is staff's, so the admin, though staff too, does not find it
    ("surveys.prepare_results_xlsx", "POST"): roles(L, 404, 404, 303, 303),
    ("surveys.prepare_results_csv", "POST"): roles(L, 404, 404, 303, 303),
    ("exports.index", "GET"): STAFF_ONLY,
    ("exports.download", "GET"): roles(L, 404, 404, 200, 404),
    ("surveys.questions", "GET"): ADMIN_ONLY,
    ("surveys.new_question", "GET"): ADMIN_ONLY,
    ("surveys.new_question", "POST"): ADMIN_ONLY,
    ("surveys.edit_question", "GET"): ADMIN_ONLY,
    ("surveys.edit_question", "POST"): ADMIN_ONLY,
    ("surveys.delete_question", "POST"): roles(L, 404, 404, 404, 302),
    ("surveys.move_question", "POST"): roles(L, 404, 404, 404, 302),
    # program reports (issue 5 item 4): staff read and export, admins set targets, the disclosure is public
    ("reports.report", "GET"): STAFF_ONLY,
    ("reports.report_xlsx", "GET"): STAFF_ONLY,
    ("reports.report_csv", "GET"): STAFF_ONLY,
    ("reports.targets", "GET"): ADMIN_ONLY,
    ("reports.targets", "POST"): roles(L, 404, 404, 404, 302),
    ("reports.program_current", "GET"): every(200),
    ("reports.program", "GET"): every(200),
    # JSON API, walked with bearer tokens ("anon" sends none); a body of {} unless API_DATA says otherwise
    ("api.openapi_json", "GET"): every(200),
    ("api.create_token", "POST"): every(422),
    ("api.list_tokens", "GET"): roles(401, 200, 200, 200, 200),
    ("api.me", "GET"): roles(401, 200, 200, 200, 200),
    ("api.revoke_current_token", "DELETE"): roles(401, 204, 204, 204, 204),
    ("api.revoke_token_by_id", "DELETE"): roles(401, 204, 404, 404, 404),
    ("api.list_companies", "GET"): roles(401, 200, 200, 200, 200),
    ("api.create_company", "POST"): roles(401, 403, 403, 404, 404),
    ("api.get_company", "GET"): roles(401, 200, 404, 200, 200),
    ("api.update_company", "PATCH"): roles(401, 200, 404, 200, 200),
    ("api.list_rounds", "GET"): roles(401, 200, 200, 200, 200),
    ("api.get_round", "GET"): roles(401, 200, 200, 200, 200),
    ("api.list_round_slots", "GET"): roles(401, 200, 200, 200, 200),
    ("api.create_booking", "POST"): roles(401, 422, 422, 422, 422),
    ("api.list_bookings", "GET"): roles(401, 200, 200, 200, 200),
    ("api.get_booking", "GET"): roles(401, 200, 404, 200, 200),
    ("api.cancel_booking", "DELETE"): roles(401, 204, 404, 204, 204),
    ("api.booking_ics", "GET"): roles(401, 200, 404, 200, 200),
    # buyers, interpreters and matching (staff only: SMEs get 404); an import batch is its uploader's ("staff")
    ("api.list_buyers", "GET"): roles(401, 404, 404, 200, 200),
    ("api.create_buyer", "POST"): roles(401, 404, 404, 422, 422),
    ("api.get_buyer", "GET"): roles(401, 404, 404, 200, 200),
    ("api.update_buyer", "PATCH"): roles(401, 404, 404, 200, 200),
    ("api.create_buyer_import", "POST"): roles(401, 404, 404, 422, 422),
    ("api.confirm_buyer_import", "POST"): roles(401, 404, 404, 422, 404),
    ("api.list_interpreters", "GET"): roles(401, 404, 404, 200, 200),
    ("api.create_interpreter", "POST"): roles(401, 404, 404, 422, 422),
    ("api.get_interpreter", "GET"): roles(401, 404, 404, 200, 200),
    ("api.update_interpreter", "PATCH"): roles(401, 404, 404, 200, 200),
    ("api.booking_recommendations", "GET"): roles(401, 404, 404, 200, 200),
    ("api.set_booking_match", "PUT"): roles(401, 404, 404, 422, 422),
    ("api.clear_booking_match", "DELETE"): roles(401, 404, 404, 409, 409),
    ("api.set_booking_meeting_url", "PUT"): roles(401, 404, 404, 422, 422),
    # the interpreter policy and region windows: staff read, admins change (an empty body changes nothing)
    ("api.get_matching_settings", "GET"): roles(401, 404, 404, 200, 200),
    ("api.set_matching_settings", "PUT"): roles(401, 404, 404, 403, 200),
    # the walk cancels the booking first (api.cancel_booking), which promotes the waitlisted company: a new
    # draft replaces the fixture's, so the line edit meets a proposal that is no longer a draft
    ("api.create_round_proposal", "POST"): roles(401, 404, 404, 201, 201),
    ("api.get_proposal", "GET"): roles(401, 404, 404, 200, 200),
    ("api.edit_proposal_line", "PATCH"): roles(401, 404, 404, 409, 409),
    ("api.confirm_proposal", "POST"): roles(401, 404, 404, 200, 200),
    ("api.discard_proposal", "DELETE"): roles(401, 404, 404, 409, 409),
    # consultations (issue 5 item 5), on the owner's held consultation (PATH_PARAMS): the company and staff
    # see it; staff or its interpreter write the log (the owner sees it, so 403); {} is a 422 where allowed
    ("api.get_consultation", "GET"): roles(401, 200, 404, 200, 200),
    ("api.save_consultation_log", "PUT"): roles(401, 403, 404, 422, 422),
    ("api.change_consultation_stage", "POST"): roles(401, 422, 404, 422, 422),
    ("api.create_consultation_contract", "POST"): roles(401, 422, 404, 422, 422),
    # exchange rates are admins'; survey responses everyone's own (staff all); the report staff's
    ("api.list_rates", "GET"): roles(401, 404, 404, 404, 200),
    ("api.save_rate", "PUT"): roles(401, 404, 404, 404, 422),
    ("api.list_survey_responses", "GET"): roles(401, 200, 200, 200, 200),
    ("api.program_report", "GET"): roles(401, 404, 404, 200, 200),
}

# Each part of the privacy routes keeps its entries in its own module under tests/integration/authz/.
PRIVACY_PARTS = [import_module(f"tests.integration.authz.privacy_{n}") for n in ("consent", "retention", "rights")]
for _part in PRIVACY_PARTS:
    assert not set(_part.EXPECT) & set(EXPECT), f"{_part.__name__} repeats entries"
    EXPECT.update(_part.EXPECT)

# The API names the consultation by its booking: these routes take the held consultation's id as booking_id.
PATH_PARAMS = {
    **{
        endpoint: {"booking_id": "consultation_id"}
        for endpoint in (
            "api.get_consultation",
            "api.save_consultation_log",
            "api.change_consultation_stage",
            "api.create_consultation_contract",
        )
    },
    **{
        f"interpreters.import_{page}": {"batch_id": "interpreter_batch_id"}
        for page in ("preview", "confirm", "discard")
    },
}

# Form data for POSTs that need it to reach their permission check meaningfully ({slot_id}: from params).
DATA = {
    ("rounds.move", "POST"): {"slot_id": "{slot_id}"},
    ("bookings.cancel", "POST"): {"reason": "matrix walk"},
}
# Query strings the API walk sends (a cancellation needs a reason, issue 13).
QUERY = {"api.cancel_booking": {"reason": "matrix walk"}}
for _part in PRIVACY_PARTS:
    DATA.update(_part.DATA)


@pytest.fixture
def world():
    return build_world()


def build_world():
    """One of everything each route needs (tests/integration/test_query_counts.py grows it)."""
    owner = make_user("sme", email="owner@example.kr")
    company = make_company(owner=owner)
    other = make_user("sme", email="other@example.kr")
    make_company(owner=other)
    target = make_user("staff", email="target@example.kr")
    from datetime import date

    from consultroom.bookings.models import WaitlistEntry
    from consultroom.bookings.services import book_slot
    from consultroom.rounds.models import ClosedDate
    from tests.factories import make_round

    rnd = make_round(booths=1, slots_per_booth=3)
    booking = book_slot(company=company, slot=rnd.slots[0], request={"products": "김"}, actor=owner)
    entry = WaitlistEntry(round_id=rnd.id, company_id=company.id, products="김")
    from consultroom.notifications.services import queue_mail_to_user

    mail = queue_mail_to_user(user=owner, template="confirm_email", context={"link": "http://localhost/c"})
    closed = ClosedDate(day=date(2030, 1, 1), reason="신정")
    db.session.add_all([entry, closed])
    db.session.flush()
    people = {
        "owner": owner,
        "other": other,
        "staff": make_user("staff", email="staff@example.kr"),
        "admin": make_user("admin", email="admin@example.kr"),
    }
    from consultroom.buyers.importing import parse_upload, save_batch
    from consultroom.buyers.services import create_buyer

    buyer = create_buyer(
        data={
            "company_name": "Acme Imports",
            "country": "US",
            "email": "buyer@acme.example.com",
            "timezone": "America/New_York",
        },
        actor=people["staff"],
    )
    batch = save_batch(
        parsed=parse_upload("buyers.csv", b"company,country,email\nZenith Trading,JP,info@zenith.example.jp\n"),
        actor=people["staff"],
    )
    from consultroom.interpreters import importing as interpreter_import
    from consultroom.interpreters.models import InterpreterException
    from tests.factories import make_interpreter

    interpreter_batch = interpreter_import.save_batch(
        parsed=interpreter_import.parse_upload("i.csv", b"name,email,languages\nLee Ana,ana@interp.example,es\n"),
        actor=people["staff"],
    )

    interpreter = make_interpreter(name="Kim Interpreter")
    away = InterpreterException(interpreter_id=interpreter.id, day=date(2030, 1, 2), available=False, note="")
    db.session.add(away)
    db.session.flush()
    from consultroom.matching.proposals import create_proposal

    proposal = create_proposal(rnd=rnd, actor=people["staff"])

    kept_q, doomed_q = (
        SurveyQuestionFactory(
            audience="sme",
            kind="scale5",
            text_ko=f"질문 {n}",
            text_en=f"Question {n}",
            required=True,
            actor=people["admin"],
        )
        for n in (1, 2)
    )
    from consultroom.db import utcnow
    from consultroom.outcomes.services import outcome_for, record_contract, record_log
    from consultroom.timeutil import seoul_date
    from tests.factories import make_consultation, make_rate, past_round

    held = make_consultation(past_round(days_ago=3), company=company)
    record_log(booking=held, data={"attendance": "held"}, actor=people["staff"], now=utcnow())
    contract = record_contract(
        outcome=outcome_for(held), currency="KRW", amount="1000000", signed_on=seoul_date(held.starts_at), items="",
        actor=owner, now=utcnow(),
    )  # fmt: skip
    rate = make_rate("USD", date(2026, 3, 6), "1387.25")
    from consultroom.api.tokens import issue_token

    owners_token, _raw = issue_token(user=owner, name="kept")
    from datetime import timedelta

    from consultroom.exports.models import ExportFile, ExportFileChunk

    prepared = ExportFile(
        kind="survey_answers_csv", params={"scope": {}, "locale": "ko"}, requested_by_id=people["staff"].id,
        status="done", attempts=1, filename="survey-sme.csv", size=5,
        finished_at=utcnow(), expires_at=utcnow() + timedelta(hours=24),
    )  # fmt: skip
    db.session.add(prepared)
    db.session.flush()
    db.session.add(ExportFileChunk(export_id=prepared.id, seq=0, data=b"a,b\r\n"))
    params = {
        "token_id": owners_token.id,
        "company_id": company.id,
        "user_id": target.id,
        "token": "not-a-valid-token",
        "filename": "css/app.css",
        "round_id": rnd.id,
        "slot_id": rnd.slots[1].id,
        "at": int(rnd.slots[1].starts_at.timestamp()),
        "booking_id": booking.id,
        "entry_id": entry.id,
        "row_id": closed.id,
        "mail_id": mail.id,
        "buyer_id": buyer.id,
        "batch_id": batch.id,
        "interpreter_batch_id": interpreter_batch.id,
        "proposal_id": proposal.id,
        "line_id": proposal.lines[0].id,
        "interpreter_id": interpreter.id,
        "exception_id": away.id,
        "consultation_id": held.id,
        "contract_id": contract.id,
        "rate_id": rate.id,
        "export_id": prepared.id,
        "question_id": kept_q.id,
        "qid": doomed_q.id,
        "year": 2026,
        "currency": "USD",
        "day": "2026-03-06",
    }
    for part in PRIVACY_PARTS:
        part.extend_world(people, params)
    db.session.commit()
    return people, params


def _url(app, endpoint: str, params: dict) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    aliases = PATH_PARAMS.get(endpoint, {})
    values = {name: params[aliases.get(name, name)] for name in rule.arguments}
    if endpoint == "bootstrap.static":
        values["filename"] = "css/bootstrap.min.css"
    with app.test_request_context():
        return url_for(endpoint, **values, **QUERY.get(endpoint, {}))


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method


def test_every_route_has_an_expectation(app):
    missing = sorted(set(_routes(app)) - set(EXPECT))
    stale = sorted(set(EXPECT) - set(_routes(app)))
    assert missing == [], f"routes without an entry in EXPECT: {missing}"
    assert stale == [], f"EXPECT entries for routes that no longer exist: {stale}"


@pytest.mark.parametrize("role", ROLES)
def test_authorization_matrix(app, make_client, world, role):
    people, params = world
    client = make_client()
    if role != "anon":
        assert login(client, people[role].email).status_code == 302
    mismatches = []
    for (endpoint, method), expected_by_role in sorted(EXPECT.items()):
        if endpoint.startswith("api."):
            continue  # the API is walked with bearer tokens in test_api_authorization
        if (endpoint, method) == ("accounts.logout", "POST"):
            continue  # walked last: it ends the session
        url = _url(app, endpoint, params)
        if method == "POST":
            data = {k: v.format(**params) for k, v in DATA.get((endpoint, method), {}).items()}
            response = client.submit(url, data)
        else:
            response = client.open(url, method=method)
        expected = expected_by_role[role]
        got = response.status_code
        ok = got == 302 and response.headers["Location"].startswith("/login") if expected == L else got == expected
        if not ok:
            mismatches.append(f"{method} {url} ({endpoint}): expected {expected}, got {got}")
    url = _url(app, "accounts.logout", params)
    response = client.submit(url, {})
    expected = EXPECT[("accounts.logout", "POST")][role]
    got_login = response.status_code == 302 and response.headers["Location"].startswith("/login")
    if (expected == L and not got_login) or (expected != L and response.status_code != expected):
        mismatches.append(f"POST {url}: expected {expected}, got {response.status_code}")
    assert mismatches == []


@pytest.mark.parametrize("role", ROLES)
def test_api_authorization_matrix(app, make_client, world, role):
    from tests.integration.test_api_support import bearer

    people, params = world
    client = make_client()
    headers = {} if role == "anon" else bearer(people[role])
    mismatches = []
    last = ("api.revoke_current_token", "DELETE")  # walked last: it revokes the walking token
    api_routes = [*sorted(k for k in EXPECT if k[0].startswith("api.") and k != last), last]
    for endpoint, method in api_routes:
        url = _url(app, endpoint, params)
        body = {} if method in ("POST", "PATCH", "PUT") else None
        response = client.open(url, method=method, json=body, headers=headers)
        expected = EXPECT[(endpoint, method)][role]
        if response.status_code != expected:
            mismatches.append(f"{method} {url} ({endpoint}): expected {expected}, got {response.status_code}")
        if response.status_code >= 400 and endpoint != "api.openapi_json":
            assert response.get_json()["error"]["code"], f"{method} {url}: error without a JSON body"
    assert mismatches == []
