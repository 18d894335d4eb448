"""The menu on a phone: the navbar collapses and opens with the app's own script (no Bootstrap JS);
its grouped menus fit on one line at 1280 px and keep each label on one line on a phone, in Korean
and English, and open and close by keyboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from consultroom.extensions import db
from tests.factories import PASSWORD, make_sme_with_company, make_user

pytestmark = pytest.mark.e2e


def test_navigation_menu_opens_and_closes_on_a_phone(page):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/")
    toggler = page.locator(".navbar-toggler")
    login_link = page.locator("#nav-main").get_by_role("link", name="로그인")

    expect(toggler).to_be_visible()
    assert toggler.get_attribute("aria-expanded") == "false"
    expect(login_link).to_be_hidden()

    toggler.click()
    assert toggler.get_attribute("aria-expanded") == "true"
    login_link.wait_for(state="visible")
    login_link.click()
    page.wait_for_url("**/login")

    page.locator(".navbar-toggler").click()
    page.locator(".navbar-toggler").click()
    assert page.locator(".navbar-toggler").get_attribute("aria-expanded") == "false"
    expect(page.locator("#nav-main").get_by_role("link", name="회원가입")).to_be_hidden()


def test_navigation_menu_is_open_without_a_toggler_on_a_wide_screen(page):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/")
    expect(page.locator(".navbar-toggler")).to_be_hidden()
    expect(page.locator("#nav-main").get_by_role("link", name="로그인")).to_be_visible()


# --- menus that fit (issue 15, item 2) -----------------------------------------------------------

# For each nav label: how many lines its text takes (distinct line boxes of its text).
_LINES = """() => [...document.querySelectorAll(
    '.navbar-brand, #nav-main .nav-link, #nav-main .dropdown-item, #nav-main .lang-form button')].map(el => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
  return {text: el.innerText.trim(), lines: tops.size, shown: el.getClientRects().length > 0};
})"""


def _login(page, user) -> None:
    page.goto("/login")
    page.locator("#email").fill(user.email)
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main form [type=submit]").click()
    assert "/login" not in page.url


def _open_every_menu_and_measure(page) -> list[dict]:
    measured = []
    buttons = page.locator("#nav-main [data-disclosure]")
    for i in range(buttons.count()):
        buttons.nth(i).click()
        assert buttons.nth(i).get_attribute("aria-expanded") == "true"
        menu = page.locator("#" + buttons.nth(i).get_attribute("aria-controls"))
        box = menu.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"], box
        measured += [m for m in page.evaluate(_LINES) if m["shown"]]
        buttons.nth(i).click()
        assert buttons.nth(i).get_attribute("aria-expanded") == "false"
    return measured


@pytest.mark.parametrize("locale", ["ko", "en"])
@pytest.mark.parametrize("role", ["admin", "sme"])
def test_navigation_labels_never_wrap_at_1280_and_375(page, locale, role, tmp_path):
    if role == "sme":
        user, _company = make_sme_with_company()
        user.locale, user.name = locale, "김수출"
    else:
        user = make_user(role, locale=locale, name="박관리자")
    db.session.commit()
    _login(page, user)

    # 1280 px: everything on one row, no label on two lines.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/")
    page.screenshot(path=tmp_path / f"nav-{role}-{locale}-1280.png")
    tops = page.evaluate(
        "() => [...document.querySelectorAll('.navbar-brand, #nav-main > ul > li, #nav-main > form')]"
        ".map(el => Math.round(el.getBoundingClientRect().top + el.getBoundingClientRect().height / 2))"
    )
    assert max(tops) - min(tops) <= 4, tops  # one row: the centres line up
    wide = _open_every_menu_and_measure(page)
    assert [m for m in wide if m["lines"] != 1] == []

    # 375 px: the collapsed menu, each group opened in turn.
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/")
    page.locator(".navbar-toggler").click()
    page.screenshot(path=tmp_path / f"nav-{role}-{locale}-375.png", full_page=True)
    narrow = [m for m in page.evaluate(_LINES) if m["shown"]] + _open_every_menu_and_measure(page)
    assert [m for m in narrow if m["lines"] != 1] == []
    assert len(narrow) >= 4


def test_navigation_menu_opens_by_keyboard_and_closes_on_escape(page):
    user = make_user("staff", locale="en", name="Staff Member")
    db.session.commit()
    _login(page, user)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/")
    button = page.locator("#nav-people-button")
    button.focus()

    page.keyboard.press("Enter")
    assert button.get_attribute("aria-expanded") == "true"
    expect(page.locator("#nav-people")).to_be_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == "/companies"
    page.keyboard.press("Escape")
    assert button.get_attribute("aria-expanded") == "false"
    expect(page.locator("#nav-people")).to_be_hidden()
    assert page.evaluate("() => document.activeElement.id") == "nav-people-button"

    page.keyboard.press("Space")
    assert button.get_attribute("aria-expanded") == "true"
    page.locator("main").click()  # a click elsewhere closes it
    assert button.get_attribute("aria-expanded") == "false"
