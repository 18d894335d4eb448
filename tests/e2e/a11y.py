"""Accessibility checks for the browser tests: axe-core (WCAG 2.1 A/AA) plus the checks axe cannot
make (page language, skip link, one <h1>, visible keyboard focus), and a bounded breadth-first crawl.

axe-core is the copy bundled with axe-playwright-python, injected from disk: the tests never fetch
anything from the web."""

from __future__ import annotations

import importlib.resources
import json
import os
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

from flask import Flask
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page
from werkzeug.exceptions import HTTPException

AXE_JS = Path(str(importlib.resources.files("axe_playwright_python") / "axe.min.js"))
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Best practices (heading order, landmarks) are run too, and reported, but do not fail the build.
RUN_TAGS = [*WCAG_TAGS, "best-practice"]
BLOCKING = ("serious", "critical")
# Where the lead collects the pages checked and the moderate/minor findings for the closing note.
REPORT_DIR = Path(os.environ.get("CONSULTROOM_A11Y_REPORT", "/tmp/consultroom-a11y"))  # noqa: S108 - test output

# Files, not pages: the crawl does not open them (a download aborts navigation in Chromium).
_DOWNLOAD_SUFFIXES = (".xlsx", ".csv", ".ics", ".json", ".pdf", ".zip")

_AXE_RUN = """async (tags) => {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, tags: v.tags,
    nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '), summary: n.failureSummary || ''})),
    count: v.nodes.length,
  }));
}"""

# What axe does not check: one <h1>, <html lang>, errors tied to their fields, charts with a text
# alternative (axe only checks an <svg> that already says role="img").
_PAGE_FACTS = """() => {
  const text = (ids) => (ids || '').split(/\\s+/).filter(Boolean)
    .map(id => document.getElementById(id)).map(el => el ? el.textContent.trim() : '');
  const unlinkedErrors = [...document.querySelectorAll('[aria-invalid="true"]')]
    .filter(el => { const t = text(el.getAttribute('aria-describedby')); return !t.length || t.some(x => !x); })
    .map(el => el.id || el.getAttribute('name') || el.tagName);
  const unlabelledCharts = [...document.querySelectorAll('svg')]
    .filter(svg => !svg.closest('[aria-hidden="true"]'))
    .filter(svg => svg.getAttribute('role') !== 'img'
      || !(svg.getAttribute('aria-label') || text(svg.getAttribute('aria-labelledby')).join('')))
    .map(svg => svg.id || svg.outerHTML.slice(0, 60));
  // Headings may go back up any number of levels, but down only one at a time (h2 -> h4 skips one).
  const skipped = [];
  let level = 0;
  for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    const n = Number(h.tagName[1]);
    if (level && n > level + 1) skipped.push(`h${level} -> h${n} "${h.textContent.trim().slice(0, 40)}"`);
    level = n;
  }
  const skip = document.querySelector('a.skip-link');
  // WCAG 1.4.11 (axe does not check it): a form control's edge, checkboxes and radios included,
  // needs 3:1 against what is behind it: its border, or else its own fill. Colours with alpha are
  // blended over that background.
  const rgba = (c) => { const m = c.match(/[0-9.]+/g).map(Number); return m.length > 3 ? m : [...m, 1]; };
  const behind = (el) => {
    for (let e = el.parentElement; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) return c;
    }
    return [255, 255, 255, 1];
  };
  const lum = ([r, g, b]) => [r, g, b]
    .map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => { const [h, l] = [lum(a), lum(b)].sort((x, y) => y - x); return (h + 0.05) / (l + 0.05); };
  const faintControls = [...document.querySelectorAll('input, select, textarea')]
    .filter(el => !['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type))
    .filter(el => !el.disabled && el.offsetParent !== null && getComputedStyle(el).borderTopStyle !== 'none')
    .filter(el => {
      const bg = behind(el);
      const [r, g, b, a] = rgba(getComputedStyle(el).borderTopColor);
      const border = [r, g, b].map((v, i) => v * a + bg[i] * (1 - a));
      // a control filled in a colour of its own (a white select on the blue bar) shows its edge by the fill
      const fill = rgba(getComputedStyle(el).backgroundColor);
      return ratio(border, bg) < 3 && !(fill[3] === 1 && ratio(fill, bg) >= 3);
    })
    .map(el => `${el.tagName.toLowerCase()}${el.type ? '[' + el.type + ']' : ''}#${el.id || el.name}`);
  return {
    lang: document.documentElement.getAttribute('lang'),
    h1: document.querySelectorAll('h1').length,
    skip: skip ? skip.getAttribute('href') : null,
    invalid: document.querySelectorAll('[aria-invalid="true"]').length,
    alert: document.querySelectorAll('[role="alert"]').length,
    unlinkedErrors, unlabelledCharts, skipped, faintControls,
  };
}"""

_FOCUS_STYLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
  const shadow = s.boxShadow && s.boxShadow !== 'none';
  return {tag: el.tagName.toLowerCase(), id: el.id, text: (el.innerText || el.value || '').slice(0, 40),
          visible: outline || shadow, outline: s.outlineStyle + ' ' + s.outlineWidth, shadow: s.boxShadow};
}"""


@dataclass
class PageResult:
    url: str
    endpoint: str
    status: int
    blocking: list[dict] = field(default_factory=list)
    minor: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    axe: bool = True

    @property
    def ok(self) -> bool:
        return not self.blocking and not self.problems


def run_axe(page: Page) -> list[dict]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(_AXE_RUN, RUN_TAGS)


def check_keyboard_basics(page: Page) -> list[str]:
    """From the top of the page, Tab reaches the skip link first, Enter moves focus to #main, and the
    next Tab lands on a control whose focus is drawn (outline or box-shadow)."""
    problems = []
    # Start from the top of <body>, as after loading the page without a #fragment.
    page.evaluate(
        """() => { const s = document.createElement('span'); s.id = 'a11y-start'; s.tabIndex = -1;
                  document.body.prepend(s); s.focus(); }"""
    )
    page.keyboard.press("Tab")
    page.evaluate("() => document.getElementById('a11y-start').remove()")
    first = page.evaluate("() => document.activeElement && document.activeElement.getAttribute('href')")
    if first != "#main":
        problems.append(f"first Tab stop is {first!r}, not the skip link to #main")
        return problems
    focus = page.evaluate(_FOCUS_STYLE)
    if not focus or not focus["visible"]:
        problems.append(f"skip link has no visible focus: {focus}")
    page.keyboard.press("Enter")
    if page.evaluate("() => document.activeElement && document.activeElement.id") != "main":
        problems.append("the skip link does not move focus to #main")
        return problems
    # Leave the URL as it was: a form on the page would otherwise post back to ...#main.
    page.evaluate("() => history.replaceState(history.state, '', location.pathname + location.search)")
    page.keyboard.press("Tab")
    focus = page.evaluate(_FOCUS_STYLE)
    if focus is not None and not focus["visible"]:
        problems.append(f"no visible focus on {focus}")
    return problems


def check_page(
    page: Page, *, url: str, endpoint: str, status: int, locale: str, expect_errors: bool = False, axe: bool = True
) -> PageResult:
    result = PageResult(url=url, endpoint=endpoint, status=status, axe=axe)
    for violation in run_axe(page) if axe else ():
        wcag = bool(set(violation["tags"]) & set(WCAG_TAGS))
        (result.blocking if wcag and violation["impact"] in BLOCKING else result.minor).append(violation)
    facts = page.evaluate(_PAGE_FACTS)
    if expect_errors and not (facts["invalid"] and facts["alert"]):
        result.problems.append(
            f"expected the form in its error state: {facts['invalid']} invalid fields, {facts['alert']} alerts"
        )
    if facts["unlinkedErrors"]:
        result.problems.append(f"invalid fields without an error tied by aria-describedby: {facts['unlinkedErrors']}")
    if facts["skipped"]:
        result.problems.append(f"heading levels skipped: {facts['skipped']}")
    if facts["unlabelledCharts"]:
        result.problems.append(f'<svg> without role="img" and a name: {facts["unlabelledCharts"]}')
    if facts["lang"] != locale:
        result.problems.append(f'<html lang="{facts["lang"]}">, expected "{locale}"')
    if facts["h1"] != 1:
        result.problems.append(f"{facts['h1']} <h1> elements, expected exactly one")
    if facts["faintControls"]:
        result.problems.append(f"form controls whose border is under 3:1 (WCAG 1.4.11): {facts['faintControls'][:8]}")
    if facts["skip"] != "#main":
        result.problems.append("no skip link to #main")
    else:
        result.problems += check_keyboard_basics(page)
    return result


def endpoint_for(app: Flask, url: str) -> str | None:
    parts = urlsplit(url)
    try:
        endpoint, _args = app.url_map.bind("localhost").match(parts.path, method="GET")
    except HTTPException:
        return None
    return endpoint


def same_origin_links(page: Page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all(
        "a[href]:not([download])", "els => els.map(e => e.href).filter(h => h.startsWith('http'))"
    )
    out = []
    for href in hrefs:
        url, _frag = urldefrag(href)
        if url.startswith(base + "/") or url == base:
            out.append(url)
    return out


@dataclass
class Crawl:
    """Breadth-first over same-origin links, at most `per_endpoint` URLs for each Flask endpoint."""

    app: Flask
    page: Page
    base: str
    locale: str
    per_endpoint: int = 1
    skip_endpoints: tuple[str, ...] = ("static", "accounts.logout", "main.set_language")
    # Endpoints axe already checked for a role that sees more (an admin's page is a staff page with
    # more menu items): visited and checked for language, headings and focus, but not run through
    # axe again, which is most of the crawl's time.
    results: list[PageResult] = field(default_factory=list)
    seen_urls: set[str] = field(default_factory=set)
    per_endpoint_seen: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    timings: list[tuple[str, float, float]] = field(default_factory=list)
    # Pages in a named state (a booking cancelled, an outcome contracted: issue 15, item 9), each
    # checked whatever the per-endpoint limit: state name -> its result.
    states: dict[str, PageResult] = field(default_factory=dict)

    def _wanted(self, url: str, *, state: str | None = None) -> str | None:
        if url in self.seen_urls:
            return None
        self.seen_urls.add(url)
        if urlsplit(url).path.lower().endswith(_DOWNLOAD_SUFFIXES):
            self.skipped.append(url)
            return None
        endpoint = endpoint_for(self.app, url)
        if endpoint is None or endpoint in self.skip_endpoints:
            return None
        if state is not None:
            return endpoint  # not counted: the crawl still checks the first page it finds by a link
        if self.per_endpoint_seen.get(endpoint, 0) >= self.per_endpoint:
            return None
        self.per_endpoint_seen[endpoint] = self.per_endpoint_seen.get(endpoint, 0) + 1
        return endpoint

    def visit(self, url: str, endpoint: str) -> PageResult | None:
        started = time.monotonic()
        try:
            response = self.page.goto(url)
        except PlaywrightError as exc:  # a download (attachment) aborts the navigation
            self.skipped.append(f"{url} ({str(exc).splitlines()[0]})")
            return None
        content_type = response.headers.get("content-type", "") if response else ""
        if not content_type.startswith("text/html"):
            self.skipped.append(f"{url} ({content_type})")
            return None
        loaded = time.monotonic()
        result = check_page(self.page, url=url, endpoint=endpoint, status=response.status, locale=self.locale)
        result.seconds = time.monotonic() - started
        self.timings.append((endpoint, round(loaded - started, 2), round(result.seconds, 2)))
        self.results.append(result)
        return result

    def crawl(self, start: Iterable[str], states: dict[str, str] | None = None) -> list[PageResult]:
        """From `start`, and first from `states` (state name -> URL), following links breadth-first."""
        queue: deque[tuple[str, str | None]] = deque()
        for name, url in [*(states or {}).items(), *((None, url) for url in start)]:
            queue.append((url if url.startswith("http") else self.base + url, name))
        while queue:
            url, state = queue.popleft()
            endpoint = self._wanted(url, state=state)
            if endpoint is None:
                continue
            result = self.visit(url, endpoint)
            if result is None:
                continue
            if state is not None:
                self.states[state] = result
            queue.extend((link, None) for link in same_origin_links(self.page, self.base))
        return self.results

    def check_form_errors(self, endpoint: str) -> PageResult:
        """Check the page as it is now: a form after a failed submit, whose errors must be shown,
        announced (role="alert") and tied to their fields; an error summary gets the focus."""
        summary = self.page.evaluate(
            "() => { const s = document.getElementById('error-summary');"
            " return s ? document.activeElement === s : null; }"
        )
        result = check_page(
            self.page, url=self.page.url, endpoint=endpoint, status=0, locale=self.locale, expect_errors=True
        )
        if summary is False:
            result.problems.append("the error summary does not get the focus when the page loads")
        self.results.append(result)
        return result

    @property
    def endpoints(self) -> list[str]:
        return sorted({r.endpoint for r in self.results})

    @property
    def axe_endpoints(self) -> list[str]:
        return sorted({r.endpoint for r in self.results if r.axe})


def format_failures(results: Iterable[PageResult]) -> str:
    lines = []
    for r in results:
        if r.ok:
            continue
        lines.append(f"{r.endpoint} {r.url} [{r.status}]")
        for v in r.blocking:
            lines.append(f"  {v['impact']}: {v['id']} ({v['count']}x) {v['help']}")
            for n in v["nodes"]:
                lines.append(f"      {n['target']}: {n['summary'].splitlines()[-1] if n['summary'] else ''}")
        lines += [f"  {p}" for p in r.problems]
    return "\n".join(lines)


def minor_findings(results: Iterable[PageResult]) -> dict[str, list[str]]:
    """Findings that do not fail the build (moderate/minor WCAG ones, best practices) by rule, with
    the endpoints they occur on."""
    found: dict[str, set[str]] = {}
    for r in results:
        for v in r.minor:
            found.setdefault(f"{v['id']} ({v['impact']})", set()).add(r.endpoint)
    return {rule: sorted(where) for rule, where in sorted(found.items())}


def write_report(name: str, results: list[PageResult], extra: dict | None = None) -> Path:
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    db = "pg" if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql") else "sqlite"
    path = REPORT_DIR / f"{db}-{name}.json"
    data = {
        "endpoints": sorted({r.endpoint for r in results}),
        "axe_endpoints": sorted({r.endpoint for r in results if r.axe}),
        "pages": [
            {"endpoint": r.endpoint, "url": r.url, "status": r.status, "seconds": round(r.seconds, 2)} for r in results
        ],
        "moderate_minor": minor_findings(results),
        "failures": format_failures(results),
        **(extra or {}),
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1))
    return path


def new_page(browser, base_url: str) -> Page:
    """A fresh browser tab. The app's Content-Security-Policy forbids inline scripts, as it should;
    bypass_csp lets the test inject axe-core's script tag without weakening the app's header."""
    context = browser.new_context(base_url=base_url, locale="ko-KR", timezone_id="Asia/Seoul", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def log_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("form[action^='/login'] [type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, f"login failed for {email}"


def switch_language(page: Page, locale: str) -> None:
    """The language form in the page header: stored in the session, and for a user in the account."""
    page.locator("#lang-select").select_option(locale)
    with page.expect_navigation():
        page.locator("#lang-select").locator("xpath=..").locator("[type=submit]").click()
    assert page.evaluate("() => document.documentElement.lang") == locale
