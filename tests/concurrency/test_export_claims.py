"""The export job's claim under concurrent scheduler processes (PostgreSQL): a row another
transaction holds is skipped, not waited for, and two claims at once take different exports; and its
store against an erasure: whichever comes second waits for the first, so no piece of an erased file stays."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from consultroom.db import utcnow
from consultroom.exports import services
from consultroom.exports.models import ExportFile, ExportFileChunk
from consultroom.extensions import db
from tests.conftest import is_postgres
from tests.factories import make_user


def _queued(n: int) -> list[int]:
    staff = make_user("staff")
    start = utcnow() - timedelta(minutes=10)
    exports = [
        ExportFile(
            kind="survey_answers_csv", params={}, requested_by_id=staff.id, created_at=start + timedelta(seconds=i)
        )
        for i in range(n)
    ]
    db.session.add_all(exports)
    db.session.commit()
    return [e.id for e in exports]


@pytest.fixture
def postgres_only(app):
    if not is_postgres(app):
        pytest.skip("SQLite has one writer at a time: a claim there is serialised by BEGIN IMMEDIATE")


def test_a_claim_skips_the_export_another_process_holds(app, postgres_only):
    oldest, newer = _queued(2)
    with db.engine.connect() as other:
        # Another scheduler process, between its claim and its commit.
        other.execute(text("SELECT id FROM export_files WHERE id = :id FOR UPDATE"), {"id": oldest})
        # Were the row waited for, this would fail after a second instead of hanging the suite.
        db.session.execute(text("SET LOCAL lock_timeout = '1s'"))

        claimed = services.claim_next(now=utcnow())
        db.session.commit()
        other.rollback()

    assert claimed.id == newer and claimed.status == "running"
    db.session.expire_all()
    assert db.session.scalar(select(ExportFile.status).where(ExportFile.id == oldest)) == "queued"


def test_two_claims_at_once_take_different_exports(app, postgres_only):
    ids = _queued(2)
    both_claimed = threading.Barrier(2)
    claimed: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        with app.app_context():
            try:
                export = services.claim_next(now=utcnow())
                claimed.append(export.id)
                both_claimed.wait(timeout=30)  # each holds its row until both have one
                db.session.commit()
            except BaseException as exc:
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    db.session.rollback()

    assert not errors, repr(errors)
    assert sorted(claimed) == ids
    assert set(db.session.scalars(select(ExportFile.status))) == {"running"}


# --- storing a file while an erasure deletes the stored ones (PostgreSQL) ----------------------------


def _running() -> int:
    (export_id,) = _queued(1)
    services.claim_next(now=utcnow())
    db.session.commit()
    return export_id


def _erase_in_thread(app, started: threading.Event, errors: list[BaseException]) -> threading.Thread:
    """The erasure's DELETE of the stored files, from another connection (it waits for row locks)."""
    engine = db.engine

    def erase() -> None:
        try:
            with engine.begin() as other:
                started.set()
                other.execute(text("DELETE FROM export_files WHERE status IN ('done', 'running')"))
        except BaseException as exc:
            errors.append(exc)

    return threading.Thread(target=erase)


def _pieces() -> int:
    return db.session.scalar(select(func.count()).select_from(ExportFileChunk))


def test_an_erasure_during_the_store_waits_for_it_and_deletes_its_pieces(app, postgres_only, monkeypatch):
    monkeypatch.setattr(services, "CHUNK_SIZE", 4)
    export_id = _running()
    assert services.store(export_id=export_id, filename="x.csv", content=io.BytesIO(b"0123456789"), now=utcnow())
    started, errors = threading.Event(), []
    eraser = _erase_in_thread(app, started, errors)
    eraser.start()
    started.wait(timeout=30)
    eraser.join(timeout=1)
    assert eraser.is_alive(), "the DELETE waits for the store's row lock"

    db.session.commit()  # the store's three pieces
    eraser.join(timeout=30)

    assert not errors, repr(errors)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ExportFile)) == 0
    assert _pieces() == 0  # deleted with their export (ON DELETE CASCADE)


def test_a_store_after_an_erasure_stores_nothing(app, postgres_only):
    export_id = _running()
    with db.engine.connect() as other:
        other.execute(text("DELETE FROM export_files WHERE id = :id"), {"id": export_id})
        stored: list[bool] = []
        storer = threading.Thread(
            target=lambda: _store_in_context(app, export_id, stored)
        )  # its UPDATE waits for the DELETE's lock, then finds no running export
        storer.start()
        storer.join(timeout=1)
        assert storer.is_alive()
        other.commit()
        storer.join(timeout=30)

    assert stored == [False]
    assert _pieces() == 0


def _store_in_context(app, export_id: int, stored: list[bool]) -> None:
    with app.app_context():
        try:
            stored.append(
                services.store(export_id=export_id, filename="x.csv", content=io.BytesIO(b"late"), now=utcnow())
            )
            db.session.commit()
        finally:
            db.session.remove()
