"""In Chromium: every page each role can reach, in Korean and in English, passes axe-core's WCAG 2.1
A/AA rules with no serious or critical violation, has <html lang>, one <h1>, a working skip link
and a visible keyboard focus. The world is the demo program (a past year with reports, an open
round, buyers, interpreters), so tables, charts and forms have content.

The crawl follows links from the start page, so new pages are checked as soon as something links
to them; signed-link pages (mailed, not linked), error pages and forms in their error state are
added by hand. The pages checked and the moderate/minor findings go to /tmp/consultroom-a11y/."""

from __future__ import annotations

import time as clock
from datetime import time, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from consultroom.accounts.models import User
from consultroom.accounts.services import request_password_reset
from consultroom.bookings.models import Booking
from consultroom.db import utcnow
from consultroom.demo import DEMO_PASSWORD
from consultroom.extensions import db
from consultroom.interpreters.services import portal_token
from consultroom.matching.confirmation import make_response_token
from consultroom.matching.proposals import create_proposal
from consultroom.matching.services import propose_match
from consultroom.privacy.erasure import request_erasure
from consultroom.rounds.models import Round
from consultroom.surveys.models import SurveyInvitation
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
from tests.factories import PASSWORD, SurveyInvitationFactory, make_buyer, make_interpreter, make_user

pytestmark = pytest.mark.e2e

LOCALES = ("ko", "en")
USERS = {
    "sme": "sme@demo.consultroom.kr",
    "staff": "staff@demo.consultroom.kr",
    "admin": "admin@demo.consultroom.kr",
}
# Fewer distinct pages than this means the crawl lost its way (a failed login, a broken nav), not
# that the pages are fine.
MIN_ENDPOINTS = {"anon": 5, "sme": 11, "staff": 31, "admin": 43}


def _report(name: str, crawl: Crawl) -> str:
    write_report(name, crawl.results, {"skipped": crawl.skipped, "timings": crawl.timings})
    print(f"\n[{name}] {len(crawl.results)} pages, endpoints: {', '.join(crawl.endpoints)}")
    print(f"  axe run on: {', '.join(crawl.axe_endpoints)}")
    for rule, where in minor_findings(crawl.results).items():
        print(f"  not failing: {rule}: {', '.join(where)}")
    return format_failures(crawl.results)


def _crawl_role(app, browser, live_server, role: str, locale: str) -> Crawl:
    page = new_page(browser, live_server)
    try:
        if role == "anon":
            page.goto("/")
        else:
            log_in(page, USERS[role], DEMO_PASSWORD)
        switch_language(page, locale)
        crawl = Crawl(app=app, page=page, base=live_server, locale=locale)
        crawl.crawl(["/"])
    finally:
        page.context.close()
    return crawl


def _signed_links() -> dict[str, str]:
    """Pages reached only from a mail: a buyer's and an interpreter's answer to a proposed match,
    the interpreter portal, and a survey; each made as the mail would make it."""
    now = utcnow()
    open_round = db.session.scalar(select(Round).where(Round.status == "open").order_by(Round.id))
    booking = db.session.scalar(
        select(Booking)
        .where(Booking.round_id == open_round.id, Booking.status == "requested", Booking.starts_at > now)
        .order_by(Booking.id)
    )
    buyer = make_buyer(company_name="A11y Test Buyer", languages=("en",))
    interpreter = make_interpreter(languages=("en",), hours=((time(0, 0), time(23, 59)),), days=range(7))
    staff = db.session.scalar(select(User).where(User.email == USERS["staff"]))
    propose_match(booking=booking, buyer=buyer, interpreter=interpreter, actor=staff, now=now)
    held = db.session.scalar(
        select(Booking)
        .where(Booking.status == "held", ~Booking.id.in_(select(SurveyInvitation.booking_id)))
        .order_by(Booking.id)
    )
    invitation = SurveyInvitationFactory(
        booking=held, locale="ko", invited_at=now, expires_at=now + timedelta(days=14), mails_sent=1
    )
    # Staff pages reached only after an action: a whole-round proposal and a deletion request.
    proposal = create_proposal(rnd=open_round, actor=staff)
    erasure = request_erasure(subject_type="buyer", subject_id=buyer.id, note="Asked by e-mail", actor=staff)
    request_password_reset(email=USERS["sme"])
    reset = next(link for link in reversed(outbox_links(USERS["sme"])) if "/password/reset/" in link)
    links = {
        "accounts.reset_password": urlsplit(reset).path,
        "respond.page": f"/respond/{make_response_token(booking, 'buyer')}",
        "respond.page#interpreter": f"/respond/{make_response_token(booking, 'interpreter')}",
        "interpreter_portal.portal": f"/interpreter/{portal_token(interpreter)}",
        "surveys.answer": f"/survey/{make_survey_token(invitation)}",
        "staff:matching.proposal": f"/staff/matching/proposals/{proposal.id}",
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
            if name.startswith("staff:"):
                continue
            result = crawl.visit(f"{live_server}{path}?lang={locale}", name)
            assert result is not None and result.status == 200, (name, result)
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
        page.locator("main a[href^='/rounds/']").first.click()
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
    for role in ("anon", "sme", "admin", "staff"):
        crawl = _crawl_role(app, browser, live_server, role, locale)
        failures.append(_report(f"{role}-{locale}", crawl))
        checked[role] = crawl.endpoints
    newcomer = make_user("sme").email
    crawl = _check_unlinked_pages(app, browser, live_server, locale, _signed_links(), newcomer)
    failures.append(_report(f"links-{locale}", crawl))
    print(f"[{locale}] {clock.monotonic() - started:.1f}s")

    failed = "\n".join(f for f in failures if f)
    assert not failed, failed
    for role, endpoints in checked.items():
        assert len(endpoints) >= MIN_ENDPOINTS[role], (role, endpoints)
    # What each role reaches differs: the crawl saw the pages that only that role may open.
    assert "accounts.account" not in checked["anon"]
    assert "bookings.my_bookings" in checked["sme"]
    assert "staff_rounds.grid" in checked["staff"] and "admin.users" not in checked["staff"]
    # The round grid's cells lead to the slot's and the booking's pages (issue 15): the crawl checks them too.
    assert {"staff_rounds.slot", "matching.booking", "staff_rounds.move_page"} <= set(checked["staff"])
    assert "bookings.book_time" in checked["sme"]
    assert "admin.users" in checked["admin"]
    assert "mydata.index" in checked["sme"] and "retention.requests" in checked["staff"]
    assert {"retention.settings", "access_log.index"} <= set(checked["admin"])


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
        "staff_rounds.grid": f"/staff/rounds/{open_round}",
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
