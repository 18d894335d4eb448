"""In Chromium, with the keyboard alone (Tab, Shift+Tab, Enter, Space, arrow keys and typing; no
clicks, no fill): an SME logs in and books a free slot in the open round, and a company answers its
survey through the mailed link. Every control the keyboard stops on shows where the focus is."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from consultroom.bookings.models import Booking
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.surveys.models import SurveyResponse
from consultroom.surveys.services import survey_url
from tests.factories import (
    PASSWORD,
    SurveyInvitationFactory,
    SurveyQuestionFactory,
    make_consultation,
    make_round,
    make_sme_with_company,
    past_round,
)
from tests.formatting import english_round_title

pytestmark = pytest.mark.e2e

# The focused element, described so a failed assert says where the focus went instead.
_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name'), type: el.getAttribute('type'),
    href: el.getAttribute('href'), text: (el.innerText || el.value || '').trim().slice(0, 80),
    checked: !!el.checked,
    visible: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || (s.boxShadow && s.boxShadow !== 'none'),
  };
}"""


def focused(page) -> dict | None:
    return page.evaluate(_FOCUSED)


def tab_to(page, matches, *, limit: int = 80, backwards: bool = False) -> dict:
    """Press Tab (or Shift+Tab) until the focused element satisfies `matches`; every stop on the way
    must show its focus (WCAG 2.4.7)."""
    key = "Shift+Tab" if backwards else "Tab"
    stops = []
    for _ in range(limit):
        page.keyboard.press(key)
        el = focused(page)
        if el is None:
            continue
        assert el["visible"], f"focus is not visible on {el}"
        stops.append(el)
        if matches(el):
            return el
    raise AssertionError(f"not reachable with {key}; stops were: {[(s['tag'], s['id'], s['text']) for s in stops]}")


def _checked(page, name: str) -> str | None:
    return page.evaluate(
        "(n) => { const r = document.querySelector(`input[name='${n}']:checked`); return r && r.value; }", name
    )


def press_enter_and_wait(page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


def keyboard_login(page, email: str) -> None:
    page.goto("/login")
    tab_to(page, lambda el: el["id"] == "email")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "password"
    page.keyboard.type(PASSWORD)
    press_enter_and_wait(page)
    assert "/login" not in page.url


def test_keyboard_sme_logs_in_and_books_a_free_slot(page):
    user, company = make_sme_with_company()
    rnd = make_round(booths=2, slots_per_booth=2)
    round_id, title, company_id, first_booth = rnd.id, english_round_title(rnd), company.id, rnd.slots[0].id
    db.session.commit()

    keyboard_login(page, user.email)

    # From the header: Rounds, then the open round, then the first time's Book button (SMEs choose a
    # time; the system picks the booth, the lowest free one).
    tab_to(page, lambda el: el["tag"] == "a" and el["href"] == "/rounds")
    press_enter_and_wait(page)
    tab_to(page, lambda el: el["tag"] == "a" and el["href"] == f"/rounds/{round_id}")
    press_enter_and_wait(page)
    book = tab_to(page, lambda el: el["tag"] == "a" and (el["href"] or "").endswith("/book"))
    at = int(re.search(r"/times/(\d+)/book", book["href"]).group(1))
    slot_id = first_booth
    press_enter_and_wait(page)
    assert page.url.endswith(f"/rounds/{round_id}/times/{at}/book")

    # The request (prefilled from the company profile): typed over, a country chosen in the list with
    # the arrow keys, then Enter on the button.
    tab_to(page, lambda el: el["id"] == "products")
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("Seasoned laver snacks")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "hs_codes"
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("200899")
    page.keyboard.press("Tab")
    # The country picker (issue 15): type to filter, Enter ticks the only match; then Tab reaches
    # the remaining boxes and Space ticks one.
    assert focused(page)["id"] == "target_countries-search"
    selected = "() => [...document.getElementById('target_countries').selectedOptions].map(o => o.value)"
    before = page.evaluate(selected)
    page.keyboard.type("Japan")
    page.keyboard.press("Enter")
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("Viet")
    tab_to(page, lambda el: el["tag"] == "input" and el["type"] == "checkbox")
    page.keyboard.press("Space")
    chosen = page.evaluate(selected)
    assert sorted(chosen) == sorted({*before, "JP", "VN"}), chosen
    tab_to(page, lambda el: el["tag"] == "input" and el["type"] == "submit")
    press_enter_and_wait(page)

    # The booking shows in the SME's list, and it is the slot the keyboard chose.
    page.wait_for_url("**/bookings")
    row = page.get_by_role("row").filter(has_text=title)
    assert row.count() == 1
    db.session.rollback()
    booking = db.session.scalar(select(Booking).where(Booking.company_id == company_id))
    assert (booking.slot_id, booking.status) == (slot_id, "requested")
    assert (booking.products, booking.hs_codes, booking.target_countries) == (
        "Seasoned laver snacks",
        ["200899"],
        chosen,
    )


def test_keyboard_company_answers_its_survey_through_the_signed_link(page):
    rnd = past_round(days_ago=3, booths=1, slots_per_booth=1)
    _user, company = make_sme_with_company()
    booking = make_consultation(rnd, company=company, status="held")
    for kind, ko, en in [
        ("scale5", "상담에 만족하셨습니까?", "How satisfied were you?"),
        ("scale5", "바이어가 적합했습니까?", "Did the buyer fit?"),
        ("text", "개선할 점은?", "What could be better?"),
    ]:
        SurveyQuestionFactory(kind=kind, text_ko=ko, text_en=en, required=kind == "scale5", actor=None)
    now = utcnow()
    invitation = SurveyInvitationFactory(
        booking=booking, locale="ko", invited_at=now, expires_at=now + timedelta(days=14)
    )
    link = survey_url(invitation, "en")
    invitation_id = invitation.id
    db.session.commit()

    page.goto(link)
    assert page.get_by_role("heading", level=1).inner_text() == "Satisfaction survey"

    # First question: Tab enters the radio group, Space picks 1, the arrow keys move the choice to 4.
    first = tab_to(page, lambda el: el["type"] == "radio")
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    q1 = first["name"]
    now_on = focused(page)
    assert (now_on["name"], now_on["checked"], now_on["visible"]) == (q1, True, True)
    assert _checked(page, q1) == "4"

    # Tab leaves the group for the next one: Space picks 1, then ArrowLeft wraps round to 5.
    second = tab_to(page, lambda el: el["type"] == "radio" and el["name"] != q1)
    q2 = second["name"]
    page.keyboard.press("Space")
    page.keyboard.press("ArrowLeft")
    assert _checked(page, q2) == "5"

    # Shift+Tab goes back to the first group without changing it.
    back = tab_to(page, lambda el: el["name"] == q1, backwards=True)
    assert back["checked"] and _checked(page, q1) == "4"
    tab_to(page, lambda el: el["tag"] == "textarea")
    page.keyboard.type("More buyers from Japan, please.")
    tab_to(page, lambda el: el["tag"] == "input" and el["type"] == "submit")
    press_enter_and_wait(page)

    assert page.get_by_role("heading", level=1).inner_text() == "Thank you"
    db.session.rollback()
    response = db.session.scalar(select(SurveyResponse).where(SurveyResponse.invitation_id == invitation_id))
    assert response is not None
    assert sorted(a.score for a in response.answers if a.score is not None) == [4, 5]
    assert [a.text for a in response.answers if a.text] == ["More buyers from Japan, please."]
