"""Static files delivered fast: versioned URLs cached for a year, compressed text, a favicon.

Every `url_for('static' | '<blueprint>.static', filename=...)` gets `?v=<hash of the file>`, so a
browser may keep the file for a year (`immutable`) and a changed file gets a new URL. A request
whose `v` is not the file's current hash (an old page, a hand-typed URL) is answered with `no-cache`,
so a stale copy is never pinned for a year. Text responses are compressed by Flask-Compress
(zstd, brotli or gzip, whichever the client accepts), static files and pages alike.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, Response, request, send_from_directory

YEAR = 365 * 24 * 3600


def _static_folder(app: Flask, endpoint: str) -> str | None:
    if endpoint == "static":
        return app.static_folder
    blueprint = app.blueprints.get(endpoint.rsplit(".", 1)[0])
    return blueprint.static_folder if blueprint is not None else None


class StaticVersions:
    """The hash of each static file, read once per file (and again when its modification time changes)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._cache: dict[Path, tuple[float, str]] = {}

    def version(self, endpoint: str, filename: str) -> str | None:
        folder = _static_folder(self.app, endpoint)
        if folder is None:
            return None
        root = Path(folder).resolve()
        path = (root / filename).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
        mtime = path.stat().st_mtime
        cached = self._cache.get(path)
        if cached is None or cached[0] != mtime:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            cached = self._cache[path] = (mtime, digest)
        return cached[1]


def _is_static(endpoint: str | None) -> bool:
    return endpoint is not None and (endpoint == "static" or endpoint.endswith(".static"))


def init_static(app: Flask) -> None:
    from flask_compress import Compress

    Compress(app)
    versions = StaticVersions(app)

    @app.url_defaults
    def _add_version(endpoint: str, values: dict) -> None:
        if _is_static(endpoint) and "filename" in values and "v" not in values:
            version = versions.version(endpoint, values["filename"])
            if version:
                values["v"] = version

    # Registered after Compress, so it runs before it (Flask runs after_request hooks in reverse).
    @app.after_request
    def _cache_static(response: Response) -> Response:
        if _is_static(request.endpoint) and response.status_code == 200:
            # A file is sent as a stream, which Flask-Compress only squeezes with the algorithms it
            # can stream (not gzip, the one every client has). Static files are small: read them in.
            response.direct_passthrough = False
            response.make_sequence()
            filename = (request.view_args or {}).get("filename", "")
            current = versions.version(request.endpoint, filename)
            if current is not None and request.args.get("v") == current:
                response.cache_control.no_cache = None
                response.cache_control.public = True
                response.cache_control.max_age = YEAR
                response.cache_control.immutable = True
        return response

    @app.get("/favicon.ico")
    def favicon():
        # Browsers ask for /favicon.ico without a version: a day's cache, not a year's.
        response = send_from_directory(app.static_folder, "favicon.ico", max_age=24 * 3600)
        return response
