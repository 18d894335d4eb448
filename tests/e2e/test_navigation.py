"""The menu on a phone: the navbar collapses and opens with the app's own script (no Bootstrap JS)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_navigation_menu_opens_and_closes_on_a_phone(page):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/")
    toggler = page.locator(".navbar-toggler")
    login_link = page.locator("#nav-main").get_by_role("link", name="로그인")

    assert toggler.is_visible()
    assert toggler.get_attribute("aria-expanded") == "false"
    assert not login_link.is_visible()

    toggler.click()
    assert toggler.get_attribute("aria-expanded") == "true"
    login_link.wait_for(state="visible")
    login_link.click()
    page.wait_for_url("**/login")

    page.locator(".navbar-toggler").click()
    page.locator(".navbar-toggler").click()
    assert page.locator(".navbar-toggler").get_attribute("aria-expanded") == "false"
    assert not page.locator("#nav-main").get_by_role("link", name="회원가입").is_visible()


def test_navigation_menu_is_open_without_a_toggler_on_a_wide_screen(page):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/")
    assert not page.locator(".navbar-toggler").is_visible()
    assert page.locator("#nav-main").get_by_role("link", name="로그인").is_visible()
