"""`flask consultroom backup` and `restore`: PostgreSQL through pg_dump/pg_restore, SQLite through its
online backup API (a consistent copy while the app runs).

A backup is a moment in the past. Restoring it must not undo what happened since in the outside
world: a mail that was waiting in the backup may well have been sent after it was taken, so every
mail waiting or being sent in the restored database is held as 'in doubt' for an admin's decision,
never sent again on its own. Browser sessions are ended too: a logout made after the backup would
otherwise be undone.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, update
from sqlalchemy.engine import URL, Engine

from consultroom.accounts.models import LoginSession
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.notifications.models import MailStatus, OutboxMail

RESTORED = (
    "The database was restored from a backup on {when} UTC while this mail was waiting: it may have been "
    "sent after the backup was taken. It is not sent automatically: check with the recipient, then retry it "
    "if needed."
)


class BackupError(Exception):
    """The backup or restore could not be done; the message says why."""


@dataclass(frozen=True)
class RestoreResult:
    mails_held: int
    sessions_ended: int


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment that carries it (so it
    never shows in the process list)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed; it comes with the PostgreSQL client tools.")
    return path


def _run(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - fixed tools
    if result.returncode != 0:
        raise BackupError(result.stderr.strip() or f"{args[0]} failed with exit code {result.returncode}")


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(database)


def backup(engine: Engine, target: Path) -> None:
    """Write a consistent copy of the database to `target` (which must not exist yet)."""
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name.")
    if engine.dialect.name == "postgresql":
        conninfo, env = _libpq(engine.url)
        # Custom format: compressed, and pg_restore can restore it whole or in parts.
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", f"--dbname={conninfo}"], env)
        return
    source = sqlite3.connect(_sqlite_path(engine))
    copy = sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy)  # page by page, consistent even while the app writes
    finally:
        copy.close()
        source.close()


def restore(engine: Engine, source: Path) -> RestoreResult:
    """Replace the database's contents with the backup in `source`, then hold its unsent mail."""
    if not source.is_file():
        raise BackupError(f"{source} is not a file.")
    engine.dispose()  # no pooled connection may hold a lock or a stale view of the old contents
    if engine.dialect.name == "postgresql":
        conninfo, env = _libpq(engine.url)
        _run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={conninfo}",
                str(source),
            ],
            env,
        )
    else:
        backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        live = sqlite3.connect(_sqlite_path(engine))
        try:
            with live:
                backup_db.backup(live)
        finally:
            live.close()
            backup_db.close()
    return hold_after_restore()


def hold_after_restore() -> RestoreResult:
    """Mail waiting in a restored database goes to 'in doubt'; every login session ends. Commits."""
    now = utcnow()
    held = db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.status.in_([MailStatus.PENDING.value, MailStatus.SENDING.value]))
        .values(
            status=MailStatus.IN_DOUBT.value,
            claim_token=None,
            last_error=RESTORED.format(when=now.strftime("%Y-%m-%d %H:%M")),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    ended = db.session.execute(delete(LoginSession)).rowcount
    db.session.commit()
    return RestoreResult(mails_held=held, sessions_ended=ended)
