"""Every GET page each role reaches, and every GET endpoint of the API, sends the same number of SQL
statements with N and with 3N rows of everything (issue 16, item 5): a page that loads rows one by one,
or a list that is not paged in SQL, fails here; timings stay in bench/scale.py.

The pages are walked with the authorization matrix's world (its ids and its expected statuses), grown
by N units and then by 2N more; a unit adds a row to every list a page shows (companies and users,
buyers, interpreters, rounds and a round's matching proposals, the owner's consultations logged and
not, their outcomes, surveys and contracts, mails, audit and access-log entries, deletion requests,
rates, tokens, closed dates, an interpreter's days off). Each GET route must have an entry in PAGES,
so a new route without one fails.
The pages other branches are speeding up (round grid, year figures, matching) pass here too, so they
are walked like the rest; their cost grows with a round's slots or a year's rows, which bench/scale.py
measures.
The walk is done once for the module: the world is built twice per size otherwise, for each of ~150 pages.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from consultroom.extensions import db
from tests.conftest import login
from tests.integration.test_authorization_matrix import EXPECT, L, _url, build_world

N = 2
SKIP = "skip"


@dataclass(frozen=True)
class Entry:
    roles: tuple[str, ...] = ()  # who is walked: anon, owner, staff, admin; link: a signed link, no login
    skip: str = ""  # why the route is not walked


def walk(*roles: str) -> Entry:
    return Entry(roles=roles)


def skip(reason: str) -> Entry:
    return Entry(skip=reason)


ALL = ("anon", "owner", "staff", "admin")
SIGNED_IN = ("owner", "staff", "admin")
STAFF = ("staff",)  # admins see the staff pages through the same code
ADMIN = ("admin",)

PAGES: dict[str, Entry] = {
    "static": skip("static file"),
    "bootstrap.static": skip("static file"),
    "favicon": skip("static file"),
    "main.health": walk("anon"),
    "main.home": walk(*ALL),
    "privacy.policy": walk(*ALL),
    "accounts.login": walk("anon"),
    "accounts.register": walk("anon"),
    "accounts.forgot_password": walk("anon"),
    "accounts.confirm_email": skip("single-use account link"),
    "accounts.reset_password": skip("single-use account link"),
    "accounts.account": walk(*SIGNED_IN),
    "companies.my_company": walk("owner"),
    "companies.new": skip("only for an SME without a company"),
    "companies.index": walk(*STAFF),
    "companies.detail": walk("owner", "staff"),
    "companies.edit": walk("owner", "staff"),
    "admin.users": walk(*ADMIN),
    "admin.audit_moved": skip("a redirect to audit.index"),
    "audit.index": walk(*STAFF),
    "notifications.outbox": walk(*ADMIN),
    "notifications.detail": walk(*ADMIN),
    "notifications.retry_failed": walk(*ADMIN),
    "bookings.rounds": walk("owner", "staff"),
    "bookings.round_detail": walk("owner", "staff"),
    "bookings.book": walk("owner"),
    "bookings.book_time": walk("owner"),
    "bookings.join_waitlist": walk("owner"),
    "bookings.my_bookings": walk("owner"),
    "bookings.detail": walk("owner", "staff"),
    "bookings.cancel": walk("owner", "staff"),
    "bookings.ics": walk("owner", "staff"),
    "bookings.calendar_page": walk(*SIGNED_IN),
    "bookings.calendar_feed": skip("answers to a private feed token only; the world makes none"),
    "respond.page": walk("link"),
    "respond.ics": walk("link"),
    "rounds.index": walk(*STAFF),
    "rounds.new": walk(*STAFF),
    "rounds.edit": walk(*STAFF),
    "rounds.grid": walk(*STAFF),
    "rounds.slot": walk(*STAFF),
    "rounds.move_page": walk(*STAFF),
    "rounds.settings": walk(*ADMIN),
    "rounds.closed_dates": walk(*STAFF),
    "scheduler.index": walk(*STAFF),
    "buyers.index": walk(*STAFF),
    "buyers.new": walk(*STAFF),
    "buyers.detail": walk(*STAFF),
    "buyers.edit": walk(*STAFF),
    "buyers.import_upload": walk(*STAFF),
    "buyers.import_preview": walk(*STAFF),
    "matching.booking": walk(*STAFF),
    "matching.work": walk(*STAFF),
    "matching.round_proposals": walk(*STAFF),
    "matching.proposal": walk(*STAFF),
    "matching.weights": walk(*ADMIN),
    "interpreters.index": walk(*STAFF),
    "interpreters.new": walk(*STAFF),
    "interpreters.detail": walk(*STAFF),
    "interpreters.edit": walk(*STAFF),
    "interpreters.hours": walk(*STAFF),
    "interpreters.exceptions": walk(*STAFF),
    "interpreters.report": walk(*STAFF),
    "interpreters.report_csv": walk(*STAFF),
    "interpreters.import_upload": walk(*STAFF),
    "interpreters.import_preview": walk(*STAFF),
    "interpreters.portal": walk("link"),
    "interpreters.portal_log": walk("link"),
    "interpreters.me": skip("the portal page of interpreter_portal.portal, by account; no world user is one"),
    "outcomes.consultation": walk("owner", "staff"),
    "outcomes.log": walk(*STAFF),
    "outcomes.new_contract": walk("owner", "staff"),
    "outcomes.edit_contract": walk(*STAFF),
    "outcomes.missing_logs": walk(*STAFF),
    "outcomes.overdue": walk(*STAFF),
    "outcomes.rates_index": walk(*ADMIN),
    "outcomes.new_rate": walk(*ADMIN),
    "outcomes.edit_rate": walk(*ADMIN),
    "outcomes.import_rates": walk(*ADMIN),
    "surveys.answer": walk("link"),
    "surveys.results": walk(*STAFF),
    "surveys.results_csv": walk(*STAFF),
    "surveys.results_xlsx": walk(*STAFF),
    "exports.index": walk(*STAFF),
    "exports.download": walk(*STAFF),
    "surveys.questions": walk(*ADMIN),
    "surveys.new_question": walk(*ADMIN),
    "surveys.edit_question": walk(*ADMIN),
    "reports.report": walk(*STAFF),
    "reports.report_csv": walk(*STAFF),
    "reports.report_xlsx": walk(*STAFF),
    "reports.targets": walk(*ADMIN),
    "reports.program_current": walk("anon"),
    "reports.program": walk("anon"),
    "privacy.my_data": walk("owner"),
    "privacy.my_data_json": walk("owner"),
    "privacy.my_data_xlsx": walk("owner"),
    "privacy.access_log": walk(*ADMIN),
    "privacy.access_log_csv": walk(*ADMIN),
    "privacy.access_log_xlsx": walk(*ADMIN),
    "privacy.retention": walk(*ADMIN),
    "privacy.erasure_requests": walk(*STAFF),
    "privacy.erasure_request": walk(*STAFF),
    "privacy.export_subject": walk(*STAFF),
    # JSON API, with bearer tokens
    "api.openapi_json": walk("anon"),
    "api.list_tokens": walk(*SIGNED_IN),
    "api.me": walk(*SIGNED_IN),
    "api.list_companies": walk("owner", "staff"),
    "api.get_company": walk("owner", "staff"),
    "api.list_rounds": walk("owner", "staff"),
    "api.get_round": walk("owner", "staff"),
    "api.list_round_slots": walk("owner", "staff"),
    "api.list_bookings": walk("owner", "staff"),
    "api.get_booking": walk("owner", "staff"),
    "api.booking_ics": walk("owner", "staff"),
    "api.list_buyers": walk(*STAFF),
    "api.get_buyer": walk(*STAFF),
    "api.list_interpreters": walk(*STAFF),
    "api.get_interpreter": walk(*STAFF),
    "api.booking_recommendations": walk(*STAFF),
    "api.get_matching_settings": walk(*STAFF),
    "api.get_proposal": walk(*STAFF),
    "api.get_consultation": walk("owner", "staff"),
    "api.list_rates": walk(*ADMIN),
    "api.list_survey_responses": walk("owner", "staff"),
    "api.program_report": walk(*STAFF),
    "api.my_data": walk("owner"),
    "api.my_consents": walk("owner"),
    "api.list_access_log": walk(*ADMIN),
}

CASES = [(endpoint, role) for endpoint, entry in sorted(PAGES.items()) for role in entry.roles]


_seq = itertools.count(1)


def _signed_links(people: dict, params: dict) -> dict[str, str]:
    """Real tokens for the signed-link pages, on objects of the world."""
    from consultroom.bookings.models import Booking
    from consultroom.db import utcnow
    from consultroom.interpreters.models import Interpreter
    from consultroom.interpreters.services import portal_token
    from consultroom.matching.confirmation import make_response_token
    from consultroom.surveys.services import make_survey_token
    from tests.factories import SurveyInvitationFactory, make_buyer

    booking = db.session.get(Booking, params["booking_id"])
    booking.buyer_id = make_buyer().id
    booking.status, booking.buyer_response = "matched", "pending"
    booking.respond_by = utcnow() + timedelta(days=7)
    held = db.session.get(Booking, params["consultation_id"])
    invitation = SurveyInvitationFactory(booking=held, expires_at=held.ends_at + timedelta(days=300))
    interpreter = db.session.get(Interpreter, params["interpreter_id"])
    held.interpreter_id = interpreter.id
    db.session.flush()
    return {
        "respond.page": make_response_token(booking, "buyer"),
        "respond.ics": make_response_token(booking, "buyer"),
        "surveys.answer": make_survey_token(invitation),
        "interpreters.portal": portal_token(interpreter),
        "interpreters.portal_log": portal_token(interpreter),
    }


def grow(people: dict, params: dict, units: int) -> None:
    """`units` more rows on every list the pages show, each unit a new month of history."""
    from consultroom.api.tokens import issue_token
    from consultroom.audit.services import record
    from consultroom.bookings.models import Booking
    from consultroom.companies.models import Company
    from consultroom.db import utcnow
    from consultroom.exports.models import ExportFile
    from consultroom.interpreters.models import Interpreter, InterpreterException
    from consultroom.matching.models import RoundProposal
    from consultroom.notifications.services import queue_mail_to_user
    from consultroom.outcomes.models import Outcome
    from consultroom.outcomes.services import (
        outcome_for,
        record_contract,
        record_log,
        refresh_followup_due,
        withdraw_contract,
    )
    from consultroom.privacy.access_log import log_access
    from consultroom.privacy.erasure import request_erasure
    from consultroom.rounds.models import ClosedDate
    from consultroom.surveys.services import active_version
    from consultroom.timeutil import seoul_date
    from tests.factories import (
        make_buyer,
        make_consultation,
        make_interpreter,
        make_rate,
        make_round,
        make_sme_with_company,
        survey,
    )

    staff, owner = people["staff"], people["owner"]
    company = db.session.get(Company, params["company_id"])
    interpreter = db.session.get(Interpreter, params["interpreter_id"])
    questions = active_version("sme").questions
    for _ in range(units):
        n = next(_seq)
        make_sme_with_company()
        buyer = make_buyer()
        make_interpreter()
        # a past round of its own (one round a month): a logged consultation of the owner's company
        # with the world's buyer and interpreter, and one nobody logged
        rnd = make_round(
            day=date(2000 + n // 10, 3 + n % 10, 10), status="closed", booths=1, slots_per_booth=2,
            opens_at=utcnow() - timedelta(days=9000), closes_at=utcnow() - timedelta(days=8000),
        )  # fmt: skip
        held = make_consultation(rnd, 0, company=company, interpreter=interpreter)
        held.buyer_id = params["buyer_id"]
        make_consultation(rnd, 1, company=company, interpreter=interpreter)
        record_log(booking=held, data={"attendance": "held"}, actor=staff, now=utcnow())
        outcome = db.session.query(Outcome).filter_by(booking_id=held.id).one()
        outcome.last_update_at = held.ends_at  # not updated since: overdue for its follow-ups
        refresh_followup_due(outcome, held)
        survey(held, "sme", dict.fromkeys(questions, 4))
        # the world's consultation gains a contract and a withdrawn one (its page lists both)
        world_held = outcome_for(db.session.get(Booking, params["consultation_id"]))
        for withdrawn in (False, True):
            contract = record_contract(
                outcome=world_held, currency="KRW", amount=f"{1000 + n}", signed_on=seoul_date(utcnow()), items="",
                actor=owner, now=utcnow(),
            )  # fmt: skip
            if withdrawn:
                withdraw_contract(contract=contract, reason=f"grown {n}", actor=staff, now=utcnow())
        queue_mail_to_user(user=owner, template="confirm_email", context={"link": f"http://localhost/c/{n}"})
        record(actor=staff, action="buyer.update", obj=buyer, after={"note": f"grown {n}"})
        log_access(actor=staff, subjects=[("buyer", buyer.id)], action="view", what="tests.grow")
        request_erasure(subject_type="buyer", subject_id=buyer.id, note="", actor=staff)
        make_rate("JPY", date(2020, 1, 1) + timedelta(days=n), "9.1")
        for user in (owner, staff, people["admin"]):
            issue_token(user=user, name=f"grown {n}")
        db.session.add(ClosedDate(day=date(2031, 1, 1) + timedelta(days=n), reason="grown"))
        db.session.add(
            ExportFile(
                kind="survey_answers_csv", params={}, requested_by_id=staff.id, status="done", filename=f"g{n}.csv",
                size=0, finished_at=utcnow(), expires_at=utcnow() + timedelta(hours=24),
            )
        )  # fmt: skip
        db.session.add(RoundProposal(round_id=params["round_id"], status="discarded", exact_matched=n))
        db.session.add(
            InterpreterException(
                interpreter_id=interpreter.id, day=date(2032, 1, 1) + timedelta(days=n), available=False
            )
        )
        db.session.flush()
    db.session.commit()


LOGS = {"interpreters.portal_log"}
_MEASURED: dict[tuple[str, str], tuple[tuple[int, int], tuple[int, int]]] = {}


def _walk(app, clients, headers, params, links, count_queries) -> dict[tuple[str, str], tuple[int, int]]:
    out = {}
    for endpoint, role in CASES:
        # the interpreter's log page is of its held consultation, not of the world's booking
        url = _url(app, endpoint, {**params, "booking_id": params["consultation_id"]} if endpoint in LOGS else params)
        if endpoint in links:
            url = url.replace("not-a-valid-token", links[endpoint])
        client = clients["anon" if role == "link" else role]
        api = endpoint.startswith("api.")
        # counted the second time: a first request may write what later ones find (a token's last use)
        client.get(url, headers=headers[role] if api else {})
        with count_queries() as q:
            response = client.get(url, headers=headers[role] if api else {})
        out[(endpoint, role)] = (q.count, response.status_code)
    return out


def _expected_status(endpoint: str, role: str) -> int:
    if role == "link":
        return 200
    expected = EXPECT[(endpoint, "GET")][role]
    return 302 if expected == L else expected


@pytest.fixture
def measured(app, make_client, count_queries):
    """Both walks, made by the first test that asks and kept for the module's other cases."""
    if not _MEASURED:
        from tests.integration.test_api_support import bearer

        people, params = build_world()
        links = _signed_links(people, params)
        db.session.commit()
        clients = {"anon": make_client()}
        headers = {"anon": {}, "link": {}}
        for role in SIGNED_IN:
            clients[role] = make_client()
            assert login(clients[role], people[role].email).status_code == 302
            headers[role] = bearer(people[role])
        grow(people, params, N)
        small = _walk(app, clients, headers, params, links, count_queries)
        grow(people, params, 2 * N)
        large = _walk(app, clients, headers, params, links, count_queries)
        _MEASURED.update({case: (small[case], large[case]) for case in CASES})
    return _MEASURED


def test_every_get_route_has_a_query_count_entry(app):
    routes = {r.endpoint for r in app.url_map.iter_rules() if "GET" in r.methods}
    assert sorted(routes - set(PAGES)) == [], "GET routes without an entry in PAGES"
    assert sorted(set(PAGES) - routes) == [], "PAGES entries for routes that no longer exist"
    assert all(bool(e.roles) != bool(e.skip) for e in PAGES.values()), "an entry walks roles or says why not"


@pytest.mark.parametrize(("endpoint", "role"), CASES, ids=[f"{e}-{r}" for e, r in CASES])
def test_query_count_is_the_same_with_n_and_3n_rows(measured, endpoint, role):
    (small, small_status), (large, large_status) = measured[(endpoint, role)]
    expected = _expected_status(endpoint, role)

    assert (small_status, large_status) == (expected, expected)
    assert large == small, f"{endpoint} as {role}: {small} queries with {N} units, {large} with {3 * N}"
