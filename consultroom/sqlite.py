"""SQLite settings: foreign keys on, WAL, and BEGIN IMMEDIATE for transactions that may write.

pysqlite's deferred transactions let two writers both read and then fail to upgrade their lock
("database is locked" at once when the snapshot is stale). Starting every transaction that may
write with BEGIN IMMEDIATE serialises writers up front, waiting up to the busy timeout, which is
what the booking rules rely on on the embedded database. Reads (GET requests) start deferred: in
WAL mode they never block a writer nor wait for one.
"""

from __future__ import annotations

from contextvars import ContextVar

from flask import Flask, g, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

# True outside requests (jobs, CLI) and for unsafe methods; False while serving GET/HEAD/OPTIONS.
write_intent: ContextVar[bool] = ContextVar("sqlite_write_intent", default=True)


def configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


def init_request_intent(app: Flask) -> None:
    @app.before_request
    def _reads_start_deferred():
        if request.method in ("GET", "HEAD", "OPTIONS"):
            g._sqlite_intent_token = write_intent.set(False)

    @app.teardown_request
    def _restore(_exc):
        # A sync worker reuses its thread for the next request: undo what this one set.
        token = g.pop("_sqlite_intent_token", None)
        if token is not None:
            write_intent.reset(token)
