"""The export job's claim under concurrent scheduler processes (PostgreSQL): a row another
transaction holds is skipped, not waited for, and two claims at once take different exports."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from consultroom.db import utcnow
from consultroom.exports import services
from consultroom.exports.models import ExportFile
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
