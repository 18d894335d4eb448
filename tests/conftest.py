"""Test harness: one app per session on SQLite or PostgreSQL (TEST_DATABASE_URL), clean tables per test."""

from __future__ import annotations

import contextvars
import os
import re
import secrets
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event, text
from werkzeug.serving import make_server

from consultroom import ROOT, create_app
from consultroom.extensions import db, limiter
from consultroom.sqlite import write_intent
from tests import factories

CHROMIUM = "/usr/bin/chromium"
_CSRF_FIELD = "csrf_token"  # Flask-WTF's field name and session key


_SNAPSHOT = "demo_snapshot"  # the demo copy: a PostgreSQL schema, or an attached SQLite file


def database_url(tmp_dir: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ... when run with pytest -n N
    if url and worker:
        return _worker_database(url, worker)
    if url:
        return url
    return f"sqlite:///{tmp_dir / 'test.sqlite'}"


def _worker_database(url: str, worker: str) -> str:
    """A database of its own for each pytest-xdist worker (<name>_<worker>), created when missing."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from config import normalize_db_url

    base = make_url(normalize_db_url(url))
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def is_postgres(app: Flask) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


def _reset_schema(app: Flask) -> None:
    """Empty database, then the real migrations: the suite tests the schema that production gets."""
    from flask_migrate import upgrade

    with app.app_context():
        if is_postgres(app):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text(f"DROP SCHEMA IF EXISTS {_SNAPSHOT} CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade(directory=str(ROOT / "migrations"))


class CSRFClient(FlaskClient):
    """A test client that fills in the CSRF token the way a browser form would.

    Each request runs as a real one would: in a fresh context (its own app context, `g` and
    database session), after the test's own session has committed what the test set up.
    Without this, requests would share the test's app context, and so its `g` and session.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._csrf_cache: dict[str, str] = {}

    def open(self, *args, **kwargs):
        if has_app_context():
            db.session.commit()
        # Buffered: a streamed body (stream_with_context) is read within the request's own Context, as
        # a WSGI server reads it in the request's thread; read later, outside it, Flask's context
        # tokens would be reset in a Context other than the one that set them.
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)

    def csrf_token(self) -> str:
        """The token a form on this session's pages carries, made as Flask-WTF makes it.

        Read from the session instead of from a page fetched before every POST: the raw token lives
        in the session (a login that starts a new session gets a new one), and the signed form value
        is derived from it, so it is cached per raw token.
        """
        with self.session_transaction() as session:
            raw = session.get(_CSRF_FIELD)
            if raw is None:
                raw = session[_CSRF_FIELD] = secrets.token_hex(20)
        if raw not in self._csrf_cache:
            serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
            self._csrf_cache[raw] = serializer.dumps(raw)
        return self._csrf_cache[raw]

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


_INSERT_RE = re.compile(r'\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+(?:"?\w+"?\.)?"?(\w+)"?', re.IGNORECASE)


class WrittenTables:
    """The tables a test inserted into, seen on the engine (every thread of this process), so the
    clean-up after it empties those and leaves the other forty-odd alone: on PostgreSQL a TRUNCATE of
    every table cost about a second per test. Writes by other processes are not seen: the helpers
    that start such processes call `other_processes_write()` (or the test takes `every_table`)."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.everything = False

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        match = _INSERT_RE.match(statement)
        if match:
            self.names.add(match.group(1))


def _empty_tables(app: Flask, written: WrittenTables) -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables) if written.everything or t.name in written.names]
    if not tables:
        return
    with db.engine.begin() as conn:
        if is_postgres(app):
            # Every row of these tables goes, so no foreign key can be left dangling: skip the checks
            # (and so the order, which cannot satisfy tables that reference each other).
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for t in tables:
            conn.execute(text(f'DELETE FROM "{t}"'))
    written.names.clear()
    written.everything = False


_WRITTEN: list[WrittenTables] = []  # the session's tracker, for helpers that start processes


def other_processes_write() -> None:
    """Called by helpers that start processes writing to the test database: the clean-up after this
    test then empties every table, since those writes are not seen on this process's engine."""
    for written in _WRITTEN:
        written.everything = True


@pytest.fixture(scope="session")
def _written_tables(app: Flask) -> Iterator[WrittenTables]:
    written = WrittenTables()
    _WRITTEN.append(written)
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", written)
    yield written
    event.remove(engine, "before_cursor_execute", written)
    # Nothing leaked: every table is empty once the last test has cleaned up after itself.
    with app.app_context(), db.engine.connect() as conn:
        left = {
            t.name for t in db.metadata.sorted_tables if conn.execute(text(f'SELECT 1 FROM "{t.name}" LIMIT 1')).first()
        }
    assert not left, f"rows left behind in {sorted(left)}: a test wrote where the clean-up did not look"


@pytest.fixture
def every_table(_written_tables: WrittenTables) -> None:
    """For tests whose other processes write to the database: empty every table afterwards."""
    _written_tables.everything = True


@pytest.fixture(autouse=True)
def _clean_state(app: Flask, _written_tables: WrittenTables) -> Iterator[None]:
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
        _empty_tables(app, _written_tables)
        write_intent.reset(intent)
        ctx.pop()


# --- the demo data set, built once per session ---------------------------------------------------


class DemoSnapshot:
    """The demo data set, loaded once per session through the real `load_demo` and kept as a copy
    (a SQLite file made with VACUUM INTO; tables in a PostgreSQL schema of their own). Restoring it
    copies rows table by table, which takes a fraction of a second instead of a whole demo load."""

    def __init__(self, app: Flask, directory: Path) -> None:
        self.app = app
        self.file = directory / "demo.sqlite"
        self.built = False

    def _tables(self) -> list:
        return list(db.metadata.sorted_tables)

    def build(self) -> None:
        from consultroom.demo import load_demo

        for _line in load_demo():
            pass
        db.session.commit()
        with db.engine.begin() as conn:
            if is_postgres(self.app):
                conn.execute(text(f"CREATE SCHEMA {_SNAPSHOT}"))
                for t in self._tables():
                    conn.execute(text(f'CREATE TABLE {_SNAPSHOT}."{t.name}" AS TABLE public."{t.name}"'))
            else:
                conn.exec_driver_sql("COMMIT")  # VACUUM cannot run inside a transaction
                conn.exec_driver_sql("VACUUM INTO ?", (str(self.file),))
                conn.exec_driver_sql("BEGIN")
        self.built = True

    def restore(self) -> None:
        tables = self._tables()
        if is_postgres(self.app):
            with db.engine.begin() as conn:
                # Rows go in as they were, so foreign keys are already satisfied: check none on the way.
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                for t in tables:
                    conn.execute(text(f'INSERT INTO public."{t.name}" SELECT * FROM {_SNAPSHOT}."{t.name}"'))
                for t in tables:
                    if "id" in t.c and t.c.id.primary_key and t.c.id.autoincrement in (True, "auto"):
                        conn.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('public.\"{t.name}\"', 'id'), "
                                f'COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM public."{t.name}"'
                            )
                        )
            return
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute(f"ATTACH DATABASE ? AS {_SNAPSHOT}", (str(self.file),))
            cur.execute("BEGIN IMMEDIATE")
            for t in tables:
                cur.execute(f'INSERT INTO main."{t.name}" SELECT * FROM {_SNAPSHOT}."{t.name}"')
            cur.execute("COMMIT")
            cur.execute(f"DETACH DATABASE {_SNAPSHOT}")
            cur.close()
        finally:
            raw.close()


@pytest.fixture(scope="session")
def _demo_snapshot(app: Flask, tmp_path_factory) -> DemoSnapshot:
    return DemoSnapshot(app, tmp_path_factory.mktemp("demo"))


@pytest.fixture
def demo_world(app: Flask, _demo_snapshot: DemoSnapshot, every_table: None) -> None:
    """The demo program in the test database, as `consultroom demo` loads it (built once per session)."""
    if _demo_snapshot.built:
        _demo_snapshot.restore()
    else:
        _demo_snapshot.build()
    db.session.expire_all()


@pytest.fixture
def client(app: Flask) -> CSRFClient:
    return app.test_client()


@pytest.fixture
def make_client(app: Flask) -> Callable[[], CSRFClient]:
    return app.test_client


def recent(moment, *, within: timedelta = timedelta(minutes=5)) -> bool:
    """Whether `moment` is an aware UTC time of the last few minutes: a timestamp the test just caused
    (a stricter check than `is not None`, which a stale or a naive time would pass)."""
    from consultroom.db import utcnow

    now = utcnow()
    return moment is not None and moment.tzinfo is not None and now - within <= moment <= now


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
    """A port free right now, for a server that must come back on the port it had (bind 0 where you can)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    # Port 0: the kernel picks a free port at bind time, so no other process can take it in between.
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.port}"
    old_base = app.config["BASE_URL"]
    app.config["BASE_URL"] = base
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
