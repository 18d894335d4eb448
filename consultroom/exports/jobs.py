"""The export job: every minute, writes the queued exports one at a time and deletes expired files.

Each export is its own few transactions (the job is their edge): the claim is committed before the
file is written, so a second scheduler process never takes the same one, and a failure rolls back
that export's work alone."""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime
from typing import IO

from flask_babel import lazy_gettext as _l

from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.scheduler.registry import job
from consultroom.sqlite import write_intent

log = logging.getLogger("consultroom.exports")

# A run stops taking new exports after this many; the next minute's run goes on with the rest.
MAX_PER_RUN = 20


@job(
    "prepare_exports",
    title=_l("Prepared exports"),
    every_minutes=1,
    description=_l("Write the large exports staff asked for; delete files older than 24 hours"),
)
def prepare_exports(now: datetime) -> str:
    from consultroom.exports import services

    removed = services.delete_expired(now=now)
    db.session.commit()
    done = retry = failed = 0
    tried: set[int] = set()  # a failed one waits for the next run, not for this loop
    while len(tried) < MAX_PER_RUN:
        export = services.claim_next(now=utcnow(), skip=tried)
        if export is None:
            break
        export_id, kind, params = export.id, export.kind, dict(export.params)
        tried.add(export_id)
        db.session.commit()
        try:
            # On disk, not in memory: a ten-year file is tens of megabytes (deleted when closed).
            with tempfile.TemporaryFile() as out:
                filename = _write(kind, params, out)
                services.store(export_id=export_id, filename=filename, content=out, now=utcnow())
                db.session.commit()
            done += 1
        except Exception as exc:
            db.session.rollback()
            log.exception("export %s (%s) failed", export_id, kind)
            status = services.record_failure(export_id=export_id, error=f"{type(exc).__name__}: {exc}", now=utcnow())
            db.session.commit()
            if status == "failed":
                failed += 1
            else:
                retry += 1
    return f"done {done}, retry {retry}, failed {failed}, expired {removed}"


def _write(kind_name: str, params: dict, out: IO[bytes]) -> str:
    """Write the file into `out`; returns its name."""
    from consultroom.exports.catalog import KINDS

    kind = KINDS[kind_name]
    # Only reads: on SQLite the (possibly long) read must not hold the write lock the app's requests
    # wait for, so it runs in a deferred transaction, ended before the file is stored.
    token = write_intent.set(False)
    try:
        kind.write(params, utcnow(), out)
    finally:
        db.session.rollback()
        write_intent.reset(token)
    return kind.filename(params)
