"""Only one scheduler process works at a time; a second one started by mistake waits as a standby.

PostgreSQL: a session advisory lock held on a dedicated connection for the process's life (it is
released by the server if the process dies, so a standby takes over). SQLite: an exclusive file
lock beside the database file (the embedded database lives on one host).
"""

from __future__ import annotations

import fcntl
import hashlib
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

LOCK_NAME = "consultroom.scheduler"


def _lock_key() -> int:
    # pg advisory locks take a signed 64-bit key.
    return int.from_bytes(hashlib.sha256(LOCK_NAME.encode()).digest()[:8], "big", signed=True)


class LeaderLock:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._file = None

    def try_acquire(self) -> bool:
        if self.held:
            return True
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect()
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _lock_key()}).scalar()
            conn.commit()
            if got:
                self._conn = conn
            else:
                conn.close()
            return bool(got)
        path = Path(self.engine.url.database or "consultroom").with_suffix(".scheduler.lock")
        handle = path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None

    def still_held(self) -> bool:
        """False if the lock's connection died (the server then released the lock)."""
        if self._conn is None:
            return self._file is not None
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
            return True
        except Exception:
            self._conn = None
            return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _lock_key()})
                self._conn.commit()
            finally:
                self._conn.close()
                self._conn = None
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
