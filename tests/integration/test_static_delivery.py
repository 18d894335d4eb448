"""Static files and pages delivered fast: versioned URLs cached for a year, compressed text, a favicon,
no render-blocking scripts, descriptions on public pages."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import brotli
from flask import url_for

from consultroom import ROOT

YEAR = "max-age=31536000"


def _asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/(?:static|bootstrap/static)/[^"]+)"', html)


def test_static_url_carries_the_hash_of_the_file(app):
    with app.test_request_context():
        url = url_for("static", filename="css/app.css")
    digest = hashlib.sha256((ROOT / "static" / "css" / "app.css").read_bytes()).hexdigest()[:12]
    assert url == f"/static/css/app.css?v={digest}"


def test_static_file_with_its_version_is_cached_for_a_year(client):
    html = client.get("/").get_data(as_text=True)
    urls = _asset_urls(html)
    assert any("bootstrap.min.css?v=" in u for u in urls), urls
    assert any("/static/css/app.css?v=" in u for u in urls), urls
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        cache = response.cache_control
        assert (cache.public, cache.max_age, cache.immutable, cache.no_cache) == (True, 31536000, True, None), url


def test_static_file_with_a_stale_version_is_not_cached_for_long(client):
    response = client.get("/static/css/app.css?v=000000000000")
    assert response.status_code == 200
    assert YEAR not in response.headers.get("Cache-Control", "")
    assert response.cache_control.no_cache


def test_static_text_is_compressed_when_the_client_accepts_it(client):
    css = Path(ROOT / "static" / "css" / "app.css").read_bytes()
    (url,) = [u for u in _asset_urls(client.get("/").get_data(as_text=True)) if "/static/css/app.css" in u]
    plain = client.get(url)
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    squeezed = client.get(url, headers={"Accept-Encoding": "br"})

    assert "Content-Encoding" not in plain.headers
    assert plain.data == css
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == css
    assert squeezed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(squeezed.data) == css
    assert "Accept-Encoding" in plain.headers["Vary"]


def test_bootstrap_css_sent_compressed_at_a_fraction_of_its_size(client):
    html = client.get("/").get_data(as_text=True)
    (url,) = [u for u in _asset_urls(html) if "bootstrap.min.css" in u]
    full = client.get(url).data
    response = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.headers["Content-Encoding"] == "br"
    assert brotli.decompress(response.data) == full
    assert len(response.data) * 5 < len(full)


def test_pages_are_compressed_too(client):
    response = client.get("/program/2021", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "<h1" in gzip.decompress(response.data).decode()


def test_pages_load_no_bootstrap_javascript_and_defer_their_own(client):
    html = client.get("/").get_data(as_text=True)
    scripts = re.findall(r"<script[^>]*>", html)
    assert not any("bootstrap" in s or "popper" in s for s in scripts), scripts
    assert scripts and all(" defer" in s for s in scripts), scripts


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype in ("image/x-icon", "image/vnd.microsoft.icon")
    assert response.data == (ROOT / "static" / "favicon.ico").read_bytes()
    assert response.cache_control.max_age == 86400


def test_public_pages_describe_themselves(client):
    descriptions = {}
    for path in ("/", "/program/2021", "/privacy/", "/register", "/login"):
        html = client.get(path, follow_redirects=True).get_data(as_text=True)
        found = re.findall(r'<meta name="description" content="([^"]+)">', html)
        assert len(found) == 1, path
        descriptions[path] = found[0]
    # The program page, the privacy policy and registration each say what they hold.
    assert len({descriptions[p] for p in ("/program/2021", "/privacy/", "/register")}) == 3
    assert "2021" in descriptions["/program/2021"]
