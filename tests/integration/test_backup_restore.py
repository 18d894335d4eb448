"""`flask consultroom backup` / `restore` (issue 17, item 6): a round trip keeps every row, and a
restore never sends again a mail that may have left after the backup was taken."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from consultroom.accounts.models import LoginSession
from consultroom.backup import RESTORED
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.notifications.delivery import DeliveryResult, deliver_due
from consultroom.notifications.models import OutboxMail
from tests.conftest import login
from tests.factories import make_booking, make_buyer, make_round, make_sme_with_company, make_user
from tests.smtp import queue_round_mails

CHANGED_BY_RESTORE = {"outbox_mails", "login_sessions"}


def _snapshot() -> dict[str, list[tuple]]:
    db.session.commit()
    return {
        table.name: sorted((tuple(row) for row in db.session.execute(select(table))), key=repr)
        for table in db.metadata.sorted_tables
    }


def _seed(client) -> list[OutboxMail]:
    make_sme_with_company()
    rnd = make_round()
    make_booking(rnd.slots[0])
    make_buyer()
    staff = make_user("staff")
    mails = queue_round_mails(3)
    mails[0].status, mails[0].sent_at = "sent", utcnow()
    mails[1].status, mails[1].last_error = "failed", "Recipient refused (x: 550 no such user)"
    db.session.commit()
    assert login(client, staff.email).status_code == 302
    return mails


def test_backup_then_restore_keeps_every_row_and_holds_waiting_mail(app, client, tmp_path: Path):
    mails = _seed(client)
    waiting_ids = set(db.session.scalars(select(OutboxMail.id).where(OutboxMail.status == "pending")))
    assert len(waiting_ids) == 2  # the round mail, and the booking's receipt to the company
    before = _snapshot()
    assert sum(len(rows) for rows in before.values()) > 30
    target = tmp_path / "consultroom.backup"
    runner = app.test_cli_runner()

    made = runner.invoke(args=["consultroom", "backup", str(target)])
    # What happens after the backup: the waiting mail goes out, data changes.
    waiting = db.session.get(OutboxMail, mails[2].id)
    waiting.status, waiting.sent_at = "sent", utcnow()
    make_user("sme")
    db.session.commit()
    restored = runner.invoke(args=["consultroom", "restore", "--yes", str(target)])

    assert (made.exit_code, made.output) == (0, f"Backup written to {target}.\n"), made.output
    assert restored.exit_code == 0, restored.output
    assert restored.output.endswith("2 waiting mails held in doubt for an admin, 1 login sessions ended.\n")
    after = _snapshot()
    assert {t: rows for t, rows in after.items() if t not in CHANGED_BY_RESTORE} == {
        t: rows for t, rows in before.items() if t not in CHANGED_BY_RESTORE
    }
    rows = {m.id: m for m in db.session.scalars(select(OutboxMail))}
    assert [rows[m.id].status for m in mails] == ["sent", "failed", "in_doubt"]
    assert {i for i, m in rows.items() if m.status == "in_doubt"} == waiting_ids
    assert rows[mails[2].id].last_error.startswith(RESTORED.split("{when}")[0])
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0
    assert client.get("/account").status_code == 302  # the restored session row is gone
    assert deliver_due() == DeliveryResult()


def test_backup_refuses_to_overwrite_a_file(app, tmp_path: Path):
    target = tmp_path / "exists.backup"
    target.write_bytes(b"keep me")
    result = app.test_cli_runner().invoke(args=["consultroom", "backup", str(target)])
    assert result.exit_code == 1
    assert f"{target} exists already; choose a new file name." in result.output
    assert target.read_bytes() == b"keep me"


def test_restore_asks_for_confirmation(app, tmp_path: Path):
    target = tmp_path / "b.backup"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["consultroom", "backup", str(target)]).exit_code == 0
    make_user("sme")
    db.session.commit()
    result = runner.invoke(args=["consultroom", "restore", str(target)], input="n\n")
    assert result.exit_code == 1
    assert db.session.scalar(select(func.count()).select_from(db.metadata.tables["users"])) == 1
