"""Database outages: recognise them, answer 503 with Retry-After, and log each outage once.

While the database restarts every request fails the same way; a traceback per request buries the
log (thousands of lines a second) and says nothing new. Instead this process logs one line when
the outage starts, counts the requests it refused, and logs one line with the duration when the
first statement succeeds again. Each gunicorn process logs its own pair of lines.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

log = logging.getLogger("consultroom.outage")

# SQLite reports a missing, unreadable or broken database file with these messages; other
# OperationalErrors from SQLite ("no such table", a lock held too long) are bugs or contention.
_SQLITE_OUTAGE = ("unable to open database file", "disk i/o error", "file is not a database")
# PostgreSQL classes 08 (connection exception) and 57P (operator intervention: shutdown, starting up).
_PG_OUTAGE_STATES = ("08", "57P")


def is_outage(exc: BaseException) -> bool:
    """True when `exc` says the database cannot be reached, not that a statement was wrong."""
    if isinstance(exc, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    module = type(orig).__module__
    if module.startswith("sqlite3"):
        return isinstance(exc, sa_exc.OperationalError) and str(orig).lower().startswith(_SQLITE_OUTAGE)
    state = getattr(orig, "sqlstate", None)
    if state:
        return state.startswith(_PG_OUTAGE_STATES)
    # psycopg raises a bare OperationalError without SQLSTATE when it cannot connect at all.
    return isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)


@dataclass
class _State:
    down_since: float | None = None
    refused: int = 0


class OutageLog:
    """Per-process outage state; thread-safe, because a threaded server shares it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = _State()

    @property
    def down(self) -> bool:
        return self._state.down_since is not None

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            self._state.refused += 1
            if self._state.down_since is not None:
                return
            self._state.down_since = time.monotonic()
        # The first line of the DB-API message names the cause (refused, no file); no traceback.
        reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0][:300]
        log.error("Database unavailable: %s. Answering 503 until it is back.", reason)

    def succeeded(self) -> None:
        if self._state.down_since is None:  # the common case: no lock taken per statement
            return
        with self._lock:
            since, refused = self._state.down_since, self._state.refused
            if since is None:
                return
            self._state = _State()
        log.warning(
            "Database available again after %.1f s; %d requests were answered 503.", time.monotonic() - since, refused
        )


def init_outage(app: Flask, engine) -> OutageLog:
    outage = OutageLog()
    app.extensions["consultroom.outage"] = outage

    @event.listens_for(engine, "after_cursor_execute")
    def _worked(*_args) -> None:
        outage.succeeded()

    return outage


def outage_for(app: Flask) -> OutageLog | None:
    return app.extensions.get("consultroom.outage")
