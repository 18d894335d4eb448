"""A prepared file's download body: its pieces read one at a time while the answer is sent.

Not a service: the body is sent after the request's transaction boundary (request_transaction) has
committed and its teardown has run, so each read here is its own short transaction, ended at once."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select

from consultroom.exports.models import ExportFileChunk
from consultroom.extensions import db
from consultroom.sqlite import write_intent


class FileGone(Exception):
    """An export's file was deleted while it was being sent."""


def read_chunks(export_id: int, size: int) -> Iterator[bytes]:
    """A stored file of `size` bytes, piece by piece in order, one query each, each query's
    transaction ended before the piece is handed on: a slow download holds neither a connection nor a
    snapshot, only one piece. On SQLite the reads start deferred (the body is sent after the request's
    teardown has undone its GET setting), so they never take the write lock.

    The file was complete when its export was done, so a piece missing before `size` bytes were read
    means it was deleted meanwhile (expired, or an erasure): the download stops there, unfinished (its
    Content-Length unmet, so the browser reports it as failed), rather than go on."""
    sent = seq = 0
    while sent < size:
        token = write_intent.set(False)
        try:
            data = db.session.scalar(
                select(ExportFileChunk.data).where(ExportFileChunk.export_id == export_id, ExportFileChunk.seq == seq)
            )
        finally:
            db.session.rollback()
            write_intent.reset(token)
        if data is None:
            raise FileGone(export_id)
        sent += len(data)
        seq += 1
        yield bytes(data)
