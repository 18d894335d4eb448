"""The rules of prepared exports: who asks, which one the job takes next, how long a file is kept,
how often a failing one is tried. Services flush; the view or the job commits."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import IO

from flask_babel import gettext as _
from sqlalchemy import and_, delete, func, insert, or_, select, update

from consultroom.accounts.models import User
from consultroom.errors import Invalid
from consultroom.exports.catalog import KINDS
from consultroom.exports.kinds import Params
from consultroom.exports.models import ExportFile, ExportFileChunk
from consultroom.extensions import db

KEEP_FOR = timedelta(hours=24)  # a file is deleted this long after it was written
MAX_ATTEMPTS = 3
# A stored file's pieces: what the job storing it and the download sending it hold in memory at once.
CHUNK_SIZE = 1024 * 1024
# A running export whose process died (deploy, crash) is taken again after this; the job writes a
# ten-year export in well under it.
STALE_AFTER = timedelta(minutes=30)
IN_FLIGHT = ("queued", "running")
# Waiting exports one person may have: each year's file takes the job a second or more, and one user's
# clicks through every scope should not hold up everyone else's files.
MAX_WAITING = 5


def request_export(*, kind: str, params: Params, actor: User, now: datetime) -> ExportFile:
    """Queue a file for the job. The same request still waiting is returned instead of a second one
    (a double click, or the page sent again)."""
    if kind not in KINDS:
        raise Invalid("Unknown kind of export.")
    waiting = db.session.scalars(
        select(ExportFile).where(
            ExportFile.requested_by_id == actor.id, ExportFile.kind == kind, ExportFile.status.in_(IN_FLIGHT)
        )
    ).all()
    for export in waiting:
        if export.params == params:
            return export
    in_flight = db.session.scalar(
        select(func.count(ExportFile.id)).where(
            ExportFile.requested_by_id == actor.id, ExportFile.status.in_(IN_FLIGHT)
        )
    )
    if in_flight >= MAX_WAITING:
        raise Invalid(
            _(
                "You have %(n)d exports still being prepared: download or wait for them before asking for more.",
                n=in_flight,
            )
        )
    export = ExportFile(kind=kind, params=params, requested_by_id=actor.id, status="queued", created_at=now)
    db.session.add(export)
    db.session.flush()
    return export


def claim_next(*, now: datetime, skip: set[int] | frozenset[int] = frozenset()) -> ExportFile | None:
    """The oldest queued export (or one left running by a dead process), marked running.

    On PostgreSQL the row is taken FOR UPDATE SKIP LOCKED, so two scheduler processes claiming at
    once take different rows and neither waits; the caller commits the claim before writing the file.
    On SQLite writers are serialised (BEGIN IMMEDIATE), which gives the same guarantee."""
    while True:
        stmt = (
            select(ExportFile)
            .where(
                or_(
                    ExportFile.status == "queued",
                    and_(ExportFile.status == "running", ExportFile.started_at < now - STALE_AFTER),
                )
            )
            .order_by(ExportFile.created_at, ExportFile.id)
            .limit(1)
        )
        if skip:
            stmt = stmt.where(ExportFile.id.not_in(skip))
        if db.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        export = db.session.scalar(stmt)
        if export is None:
            return None
        if export.status == "running" and export.attempts >= MAX_ATTEMPTS:
            _give_up(export, "The export stopped without finishing.", now)
            continue
        export.status = "running"
        export.attempts += 1
        export.started_at = now
        db.session.flush()
        return export


def store(*, export_id: int, filename: str, content: IO[bytes], now: datetime) -> bool:
    """Keep the written file (read from `content`, from its start) in pieces of CHUNK_SIZE, one
    INSERT each, so that storing it holds one piece in memory. False when the export is no longer
    running (an erasure deleted it meanwhile, since the file may name the person): nothing is stored.

    The guarded UPDATE comes first: on PostgreSQL it locks the row, so an erasure's DELETE waits for
    this transaction and then deletes the pieces with it (ON DELETE CASCADE)."""
    size = content.seek(0, io.SEEK_END)
    result = db.session.execute(
        update(ExportFile)
        .where(ExportFile.id == export_id, ExportFile.status == "running")
        .values(
            status="done",
            filename=filename[:255],
            size=size,
            error=None,
            finished_at=now,
            expires_at=now + KEEP_FOR,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    content.seek(0)
    seq = 0
    while data := content.read(CHUNK_SIZE):
        db.session.execute(insert(ExportFileChunk).values(export_id=export_id, seq=seq, data=data))
        seq += 1
    return True


def record_failure(*, export_id: int, error: str, now: datetime) -> str | None:
    """Back to the queue for another try, or failed after MAX_ATTEMPTS. Returns the new status."""
    export = db.session.get(ExportFile, export_id)
    if export is None or export.status != "running":
        return None
    if export.attempts >= MAX_ATTEMPTS:
        _give_up(export, error, now)
    else:
        export.status = "queued"
        export.error = error[:2000]
    db.session.flush()
    return export.status


def _give_up(export: ExportFile, error: str, now: datetime) -> None:
    export.status = "failed"
    export.error = error[:2000]
    export.finished_at = now
    export.expires_at = now + KEEP_FOR  # the row goes with the clean-up, as a file would


def delete_expired(*, now: datetime) -> int:
    result = db.session.execute(
        delete(ExportFile).where(ExportFile.expires_at < now).execution_options(synchronize_session=False)
    )
    return result.rowcount
