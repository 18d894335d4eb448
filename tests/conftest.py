"""Test harness: one app per session on SQLite or PostgreSQL (TEST_DATABASE_URL), clean tables per test."""

from __future__ import annotations

import contextvars
import os
import re
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import event, text
from werkzeug.serving import make_server

from consultroom import ROOT, create_app
from consultroom.extensions import db, limiter
from consultroom.sqlite import write_intent
from tests import factories

CHROMIUM = "/usr/bin/chromium"
_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def database_url(tmp_dir: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_dir / 'test.sqlite'}"


def is_postgres(app: Flask) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


def _reset_schema(app: Flask) -> None:
    """Empty database, then the real migrations: the suite tests the schema that production gets."""
    from flask_migrate import upgrade

    with app.app_context():
        if is_postgres(app):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade(directory=str(ROOT / "migrations"))


class CSRFClient(FlaskClient):
    """A test client that fills in the CSRF token the way a browser form would.

    Each request runs as a real one would: in a fresh context (its own app context, `g` and
    database session), after the test's own session has committed what the test set up.
    Without this, requests would share the test's app context, and so its `g` and session.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)

    def csrf_token(self) -> str:
        html = self.get("/", follow_redirects=True).get_data(as_text=True)
        match = _CSRF_RE.search(html)
        assert match, "no CSRF token on the start page"
        return match.group(1)

    def submit(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory) -> Iterator[Flask]:
    tmp = tmp_path_factory.mktemp("db")
    application = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url(tmp),
        # Live-server and concurrency threads each hold a connection; PostgreSQL allows 100 in all.
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_size": 10, "max_overflow": 40, "pool_timeout": 120},
    )
    application.test_client_class = CSRFClient
    from consultroom.i18n import compile_catalogs

    compile_catalogs()
    _reset_schema(application)
    yield application
    with application.app_context():
        db.engine.dispose()


def _empty_tables(app: Flask) -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if is_postgres(app):
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))


@pytest.fixture(autouse=True)
def _clean_state(app: Flask) -> Iterator[None]:
    ctx = app.app_context()
    ctx.push()
    # The test's own session starts deferred on SQLite, so a read in the test never holds the write
    # lock that a request or a worker thread is waiting for. Threads and requests keep their own mode.
    intent = write_intent.set(False)
    try:
        limiter.reset()
        yield
    finally:
        db.session.rollback()
        db.session.remove()
        _empty_tables(app)
        write_intent.reset(intent)
        ctx.pop()


@pytest.fixture
def client(app: Flask) -> CSRFClient:
    return app.test_client()


@pytest.fixture
def make_client(app: Flask) -> Callable[[], CSRFClient]:
    return app.test_client


def login(client: CSRFClient, email: str, password: str = factories.PASSWORD):
    return client.submit("/login", {"email": email, "password": password})


@pytest.fixture
def login_as(client: CSRFClient):
    """login_as("staff") or login_as(user): a committed user, logged in through the real login form."""

    def _login_as(who, *, on: CSRFClient | None = None):
        target = on or client
        user = factories.make_user(who) if isinstance(who, str) else who
        db.session.commit()
        response = login(target, user.email)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return user

    return _login_as


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask):
    """with count_queries() as q: ...; q.count is the number of SQL statements sent."""

    @contextmanager
    def _count():
        counter = QueryCounter()
        engine = db.engine
        event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)

    return _count


def outbox_links(to: str | None = None) -> list[str]:
    """Links in queued mails (newest last), read from the outbox table as a user would read the mail."""
    from sqlalchemy import select

    from consultroom.notifications.models import OutboxMail

    stmt = select(OutboxMail).order_by(OutboxMail.id)
    if to:
        stmt = stmt.where(OutboxMail.to_addr == to.lower())
    links = []
    for mail in db.session.scalars(stmt):
        links += re.findall(r"https?://\S+", mail.body_text)
    return links


# --- live server and browser -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    old_base = app.config["BASE_URL"]
    app.config["BASE_URL"] = base
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=5)
        app.config["BASE_URL"] = old_base


def _browser_available() -> bool:
    return Path(CHROMIUM).exists() or bool(shutil.which("chromium"))


@pytest.fixture(scope="session")
def browser():
    if not _browser_available():
        if os.environ.get("CONSULTROOM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is required (CONSULTROOM_REQUIRE_BROWSER=1) but not installed")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="ko-KR", timezone_id="Asia/Seoul")
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()
