"""In Chromium: every page each role can reach, in Korean and in English, passes axe-core's WCAG 2.1
A/AA rules with no serious or critical violation, has <html lang>, one <h1>, a working skip link
and a visible keyboard focus. The world is the demo program (a past year with reports, an open
round, buyers, interpreters), so tables, charts and forms have content.

The crawl follows links from the start page, so new pages are checked as soon as something links
to them; signed-link pages (mailed, not linked), error pages and forms in their error state are
added by hand. The pages checked and the moderate/minor findings go to /tmp/consultroom-a11y/."""

from __future__ import annotations

import re
import time as clock
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from consultroom.accounts.models import User
from consultroom.accounts.services import request_password_reset
from consultroom.bookings.models import Booking, WaitlistEntry
from consultroom.db import utcnow
from consultroom.demo import DEMO_PASSWORD
from consultroom.extensions import db
from consultroom.interpreters.services import portal_token
from consultroom.matching.confirmation import GONE_STATES, link_state, read_response_token
from consultroom.matching.models import RoundProposal
from consultroom.notifications.models import OutboxMail
from consultroom.outcomes.models import Outcome
from consultroom.outcomes.queries import missing_logs_stmt, overdue_stmt
from consultroom.privacy.erasure import request_erasure
from consultroom.rounds.models import Round
from consultroom.signing import LinkInvalid
from consultroom.surveys.models import SurveyInvitation
from consultroom.surveys.queries import pending_for_company_stmt
from consultroom.surveys.services import make_survey_token
from tests.conftest import outbox_links
from tests.e2e.a11y import (
    Crawl,
    check_page,
    format_failures,
    log_in,
    minor_findings,
    new_page,
    switch_language,
    write_report,
)
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.e2e

LOCALES = ("ko", "en")
USERS = {
    "sme": "sme@demo.consultroom.kr",
    "staff": "staff@demo.consultroom.kr",
    "admin": "admin@demo.consultroom.kr",
}
# The demo SME's own bookings in the open round, one in each of these states (the demo's item 8).
SME_BOOKING_STATES = ("matched", "confirmed", "cancelled")
# Fewer distinct pages than this means the crawl lost its way (a failed login, a broken nav), not
# that the pages are fine.
MIN_ENDPOINTS = {"anon": 5, "sme": 11, "staff": 31, "admin": 43}


def _report(name: str, crawl: Crawl) -> str:
    states = {state: result.url for state, result in crawl.states.items()}
    write_report(name, crawl.results, {"skipped": crawl.skipped, "timings": crawl.timings, "states": states})
    print(f"\n[{name}] {len(crawl.results)} pages, endpoints: {', '.join(crawl.endpoints)}")
    print(f"  states: {', '.join(states)}")
    print(f"  axe run on: {', '.join(crawl.axe_endpoints)}")
    for rule, where in minor_findings(crawl.results).items():
        print(f"  not failing: {rule}: {', '.join(where)}")
    return format_failures(crawl.results)


def _crawl_role(app, browser, live_server, role: str, locale: str, states: dict[str, str]) -> Crawl:
    page = new_page(browser, live_server)
    try:
        if role == "anon":
            page.goto("/")
        else:
            log_in(page, USERS[role], DEMO_PASSWORD)
        switch_language(page, locale)
        crawl = Crawl(app=app, page=page, base=live_server, locale=locale)
        crawl.crawl(["/"], states=states)
    finally:
        page.context.close()
    return crawl


def _by_id(stmt) -> Booking | None:
    return db.session.scalar(stmt.order_by(Booking.id).limit(1))


def _response_links(now) -> dict[str, str]:
    """The buyers' and interpreters' answer links as mailed (read from the outbox), one for each
    state the answer page has (open, accepted, confirmed, declined, closed...) and party."""
    found: dict[str, str] = {}
    for mail in db.session.scalars(
        select(OutboxMail).where(OutboxMail.template == "match_proposed").order_by(OutboxMail.id)
    ):
        for token in re.findall(r"/respond/([^/?\s]+)", mail.body_text):
            try:
                data = read_response_token(token)
            except LinkInvalid:  # an expired link (LinkExpired is one) is not what the page shows
                continue
            booking = db.session.get(Booking, data["b"])
            found.setdefault(f"respond.page#{data['p']}-{link_state(booking, data, now)}", f"/respond/{token}")
    return found


def _state_pages() -> dict[str, dict[str, str]]:
    """The pages that have states, in each state the demo holds (issue 15, items 8 and 9), by who
    opens them: found by query, so they follow the demo whenever it is loaded."""
    now = utcnow()
    company_id = db.session.scalar(select(User.company_id).where(User.email == USERS["sme"]))
    open_round = db.session.scalar(select(Round).where(Round.status == "open").order_by(Round.id))
    in_round = select(Booking).where(Booking.round_id == open_round.id)
    requested = in_round.where(Booking.status == "requested")
    booking = {
        "requested": _by_id(requested.where(Booking.match_version == 0)),
        "declined": _by_id(requested.where(Booking.buyer_response == "declined")),
        "lapsed": _by_id(requested.where(Booking.match_version > 0, Booking.buyer_response.is_(None))),
        "matched": _by_id(in_round.where(Booking.status == "matched")),
        "confirmed": _by_id(in_round.where(Booking.status == "confirmed")),
        "cancelled": _by_id(in_round.where(Booking.status == "cancelled")),
    }
    missing_log = _by_id(missing_logs_stmt(now))
    survey = db.session.scalar(pending_for_company_stmt(company_id, now=now))
    overdue = db.session.scalars(overdue_stmt(now, company_id=company_id).order_by(Booking.starts_at.desc())).first()
    outcome = {
        stage: db.session.scalar(select(Outcome).where(Outcome.stage == stage).order_by(Outcome.id.desc()).limit(1))
        for stage in ("contracted", "dropped")
    }
    buyer_survey = db.session.scalar(
        select(SurveyInvitation).where(
            SurveyInvitation.booking_id == survey.booking_id, SurveyInvitation.respondent == "buyer"
        )
    )
    answered = db.session.scalar(
        select(SurveyInvitation).join(SurveyInvitation.response).order_by(SurveyInvitation.id).limit(1)
    )
    proposal = db.session.scalar(select(RoundProposal).where(RoundProposal.status == "draft"))
    full = db.session.scalar(
        select(Round).join(WaitlistEntry, WaitlistEntry.round_id == Round.id).where(WaitlistEntry.status == "waiting")
    )
    failed = db.session.scalar(select(OutboxMail).where(OutboxMail.status == "failed").order_by(OutboxMail.id))
    return {
        "anon": {},
        "sme": {
            **{f"bookings.detail#{state}": f"/bookings/{booking[state].id}" for state in SME_BOOKING_STATES},
            "bookings.detail#held-survey": f"/bookings/{survey.booking_id}",
            "bookings.round_detail#full-on-waitlist": f"/rounds/{full.id}",
            "outcomes.consultation#follow-up-overdue": f"/consultations/{overdue.booking_id}",
        },
        "staff": {
            **{f"matching.booking#{state}": f"/staff/matching/bookings/{b.id}" for state, b in booking.items()},
            "outcomes.consultation#confirmed-no-log": f"/consultations/{missing_log.id}",
            "outcomes.log#new": f"/consultations/{missing_log.id}/log",
            **{f"outcomes.consultation#{stage}": f"/consultations/{o.booking_id}" for stage, o in outcome.items()},
            "outcomes.consultation#follow-up-overdue": f"/consultations/{overdue.booking_id}",
            "matching.proposal#draft": f"/staff/matching/proposals/{proposal.id}",
            "rounds.grid#full-with-waitlist": f"/staff/rounds/{full.id}",
        },
        "admin": {
            "notifications.outbox#failed": "/admin/outbox?status=failed",
            "notifications.detail#failed": f"/admin/outbox/{failed.id}",
        },
        "links": {
            "surveys.answer": f"/survey/{make_survey_token(survey)}",
            "surveys.answer#buyer": f"/survey/{make_survey_token(buyer_survey)}",
            "surveys.answer#answered": f"/survey/{make_survey_token(answered)}",
            **_response_links(now),
        },
    }


def _signed_links(states: dict[str, str]) -> dict[str, str]:
    """Pages reached only from a mail (the demo's answer and survey links, `states`), the
    interpreter portal and a password reset, each made as the mail would make it; and a staff page
    reached only after an action (a deletion request)."""
    matched = db.session.scalar(select(Booking).where(Booking.status == "matched").order_by(Booking.id))
    staff = db.session.scalar(select(User).where(User.email == USERS["staff"]))
    erasure = request_erasure(subject_type="buyer", subject_id=matched.buyer_id, note="Asked by e-mail", actor=staff)
    request_password_reset(email=USERS["sme"])
    reset = next(link for link in reversed(outbox_links(USERS["sme"])) if "/password/reset/" in link)
    links = {
        **states,
        "open_round_id": str(matched.round_id),
        "accounts.reset_password": urlsplit(reset).path,
        "interpreters.portal": f"/interpreter/{portal_token(matched.interpreter)}",
        "staff:retention.request_detail": f"/staff/privacy/erasure-requests/{erasure.id}",
    }
    db.session.commit()
    return links


def _submit_empty(page, path: str) -> None:
    if path:
        page.goto(path)
    with page.expect_navigation():
        page.locator("main form[method=post] [type=submit]").last.click()


def _check_unlinked_pages(app, browser, live_server, locale: str, links: dict[str, str], newcomer: str) -> Crawl:
    """Signed-link pages, the public program page, a 404, and forms sent empty (anonymous and SME)."""
    page = new_page(browser, live_server)
    page.goto("/")
    switch_language(page, locale)
    crawl = Crawl(app=app, page=page, base=live_server, locale=locale)
    try:
        for name, path in links.items():
            if name.startswith("staff:") or name == "open_round_id":
                continue
            result = crawl.visit(f"{live_server}{path}?lang={locale}", name)
            crawl.states[name] = result
            # An answer link whose proposal has ended says so (410 Gone); a survey answered, 409.
            expected = 410 if name.endswith(GONE_STATES) else 409 if name == "surveys.answer#answered" else 200
            assert result is not None and result.status == expected, (name, result)
        assert crawl.visit(f"{live_server}/program/{utcnow().year - 1}", "reports.program").status == 200
        assert crawl.visit(f"{live_server}/no-such-page", "404").status == 404

        _submit_empty(page, "/register")
        crawl.check_form_errors("accounts.register#errors")
        _submit_empty(page, "/login")
        crawl.check_form_errors("accounts.login#errors")
        _submit_empty(page, f"{links['surveys.answer']}?lang={locale}")
        crawl.check_form_errors("surveys.answer#errors")
    finally:
        page.context.close()

    # The SME's booking form, sent without the request fields it requires.
    page = crawl.page = new_page(browser, live_server)
    try:
        log_in(page, USERS["sme"], DEMO_PASSWORD)
        switch_language(page, locale)
        page.goto("/rounds")
        # The round with free times (the demo's other open round is full, with the SME on its waitlist).
        page.locator(f"main a[href='/rounds/{links['open_round_id']}']").first.click()
        page.locator("main a[href$='/book']").first.click()
        page.wait_for_url("**/book")
        # The form starts with the company profile's products; without any, the booking is refused.
        page.locator("#products").fill("")
        _submit_empty(page, "")
        crawl.check_form_errors("bookings.book#errors")
        round_id = int(urlsplit(page.url).path.split("/")[2])
        assert crawl.visit(f"{live_server}/rounds/{round_id}/waitlist", "bookings.join_waitlist").status == 200
    finally:
        page.context.close()

    # Staff pages that need an object made first.
    page = crawl.page = new_page(browser, live_server)
    try:
        log_in(page, USERS["staff"], DEMO_PASSWORD)
        switch_language(page, locale)
        for name, path in links.items():
            if name.startswith("staff:"):
                result = crawl.visit(f"{live_server}{path}", name.removeprefix("staff:"))
                assert result is not None and result.status == 200, (name, result)
    finally:
        page.context.close()

    # A new SME user without a company is sent to the company form first.
    page = crawl.page = new_page(browser, live_server)
    try:
        log_in(page, newcomer, PASSWORD)
        switch_language(page, locale)
        assert crawl.visit(f"{live_server}/companies/new", "companies.new").status == 200
        page.locator("#name_ko").fill("")
        _submit_empty(page, "")
        crawl.check_form_errors("companies.new#errors")
    finally:
        page.context.close()
    return crawl


@pytest.mark.parametrize("locale", LOCALES)
def test_accessibility_every_page_of_every_role_passes_axe(locale, app, demo_world, browser, live_server):
    started = clock.monotonic()
    failures = []
    checked = {}
    states = _state_pages()
    db.session.rollback()  # end the read: on SQLite a stale snapshot could not write after the crawl's logins
    reached = {}
    for role in ("anon", "sme", "admin", "staff"):
        crawl = _crawl_role(app, browser, live_server, role, locale, states[role])
        failures.append(_report(f"{role}-{locale}", crawl))
        checked[role] = crawl.endpoints
        reached[role] = set(crawl.states)
    newcomer = make_user("sme").email
    links = _signed_links(states["links"])
    crawl = _check_unlinked_pages(app, browser, live_server, locale, links, newcomer)
    failures.append(_report(f"links-{locale}", crawl))
    reached["links"] = set(crawl.states)
    print(f"[{locale}] {clock.monotonic() - started:.1f}s")

    failed = "\n".join(f for f in failures if f)
    assert not failed, failed
    # Every state of the pages that have states was checked (issue 15, item 9).
    assert {role: set(pages) - reached[role] for role, pages in states.items()} == {role: set() for role in states}
    assert {f"respond.page#{p}-open" for p in ("buyer", "interpreter")} | {
        "respond.page#buyer-confirmed",
        "respond.page#buyer-declined",
    } <= reached["links"]
    for role, endpoints in checked.items():
        assert len(endpoints) >= MIN_ENDPOINTS[role], (role, endpoints)
    # What each role reaches differs: the crawl saw the pages that only that role may open.
    assert "accounts.account" not in checked["anon"]
    assert "bookings.my_bookings" in checked["sme"]
    assert "rounds.grid" in checked["staff"] and "admin.users" not in checked["staff"]
    # The round grid's cells lead to the slot's and the booking's pages (issue 15): the crawl checks them too.
    assert {"rounds.slot", "matching.booking", "rounds.move_page"} <= set(checked["staff"])
    assert "bookings.book_time" in checked["sme"]
    assert "admin.users" in checked["admin"]
    assert "privacy.my_data" in checked["sme"] and "privacy.erasure_requests" in checked["staff"]
    assert {"privacy.retention", "privacy.access_log"} <= set(checked["admin"])


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_accessibility_chart_bars_stand_out_from_the_white_background():
    """axe does not measure graphics: every bar colour needs 3:1 against white (WCAG 1.4.11)."""
    from consultroom.reports.charts import PALETTE

    assert round(contrast("#000000", "#ffffff"), 1) == 21.0  # the formula, checked on a known pair
    assert round(contrast("#fd7e14", "#ffffff"), 2) == 2.57  # Bootstrap's orange fails, hence #b35900
    assert {colour: contrast(colour, "#ffffff") >= 3 for colour in PALETTE} == dict.fromkeys(PALETTE, True)


def test_accessibility_checks_catch_an_unlabelled_field_a_lost_focus_ring_and_a_wrong_lang(app, browser, live_server):
    """The harness itself: a page broken on purpose fails each check, so a green crawl means something."""
    page = new_page(browser, live_server)
    try:
        page.goto("/login")
        page.evaluate(
            """() => {
              document.documentElement.lang = 'en';
              const input = document.createElement('input');
              input.id = 'unlabelled';
              document.querySelector('main').prepend(input);
              const style = document.createElement('style');
              style.textContent = 'a:focus-visible { outline: none !important; box-shadow: none !important; }'
                + ' #password { border-color: #dee2e6 !important; }';  // Bootstrap's own 1.3:1 border
              document.head.append(style);
            }"""
        )
        result = check_page(page, url="/login", endpoint="accounts.login", status=200, locale="ko")
    finally:
        page.context.close()
    assert "label" in {v["id"] for v in result.blocking}
    assert result.problems[0] == '<html lang="en">, expected "ko"'
    assert any(p.startswith("skip link has no visible focus") for p in result.problems), result.problems
    faint = [p for p in result.problems if "(WCAG 1.4.11)" in p]
    assert faint == ["form controls whose border is under 3:1 (WCAG 1.4.11): ['input[password]#password']"], faint


def test_accessibility_wide_pages_reflow_on_a_320px_screen(app, demo_world, browser, live_server):
    """At 320 CSS px (1280 px zoomed to 400 %, WCAG 1.4.10) the page itself must not scroll sideways;
    wide tables and charts scroll in their own box, which then needs a tab stop (axe checks that)."""
    open_round = db.session.scalar(select(Round.id).where(Round.status == "open").order_by(Round.id))
    paths = {
        "reports.report": "/staff/reports",
        "reports.program": f"/program/{utcnow().year - 1}",
        "audit.index": "/staff/audit",
        "companies.index": "/companies",
        "rounds.grid": f"/staff/rounds/{open_round}",
        "bookings.round_detail": f"/rounds/{open_round}",
        "surveys.results": "/staff/surveys/results",
    }
    page = new_page(browser, live_server)
    page.set_viewport_size({"width": 320, "height": 640})
    crawl = Crawl(app=app, page=page, base=live_server, locale="ko")
    overflow = {}
    try:
        log_in(page, USERS["admin"], DEMO_PASSWORD)
        for endpoint, path in paths.items():
            result = crawl.visit(live_server + path, endpoint)
            assert result is not None and result.status == 200, (endpoint, result)
            width = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            if width > 1:
                overflow[endpoint] = width
    finally:
        page.context.close()
    _report("narrow-ko", crawl)
    assert format_failures(crawl.results) == ""
    assert overflow == {}
