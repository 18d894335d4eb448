"""Signing in through the real login form, shared by the browser flows."""

from __future__ import annotations

import re

from tests.factories import PASSWORD


def login(page, email: str) -> None:
    """Logged out, the page is in Korean (the default); the user's own language applies after."""
    page.goto("/login")
    page.get_by_label("이메일").fill(email)
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.wait_for_url(re.compile(r".*/(?!login).*"))
