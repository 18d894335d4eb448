"""Crash-safe delivery (issue 17, item 2): a delivery process killed mid-batch leaves at most the
one mail it was offering in doubt; the rest of the batch goes out with the next run, and the mail
in doubt is shown to admins, never resent on its own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from consultroom import ROOT
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.notifications.delivery import INTERRUPTED, DeliveryResult, deliver_due
from consultroom.notifications.models import OutboxMail
from tests.conftest import other_processes_write
from tests.smtp import SMTPServer, queue_round_mails, smtp_server_for

BATCH = 6
HANG_ON = 3  # the process is killed while the server holds back its reply to the third mail

_DELIVER = """
import sys
from consultroom import create_app
from consultroom.notifications.delivery import deliver_due
app = create_app("testing", SQLALCHEMY_DATABASE_URI=sys.argv[1], MAIL_PORT=int(sys.argv[2]))
with app.app_context():
    deliver_due()
"""


@pytest.fixture
def smtp(app: Flask) -> Iterator[SMTPServer]:
    with smtp_server_for(app) as server:
        yield server


def _mails() -> list[OutboxMail]:
    db.session.commit()
    return list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def test_delivery_process_killed_mid_batch_leaves_one_mail_in_doubt(app, smtp):
    mails = queue_round_mails(BATCH)
    db.session.commit()
    smtp.hang_on_message = HANG_ON
    other_processes_write()
    process = subprocess.Popen(
        [sys.executable, "-c", _DELIVER, app.config["SQLALCHEMY_DATABASE_URI"], str(smtp.port)],
        cwd=ROOT,
        env={**os.environ, "CONSULTROOM_CONFIG": "testing"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert smtp.hanging.wait(timeout=240), process.stderr.read() if process.poll() is not None else "no third mail"
    finally:
        process.kill()
        process.wait(timeout=30)

    # What the crash left: two sent, the one being offered marked 'sending', the rest untouched.
    assert [m.status for m in _mails()] == ["sent", "sent", "sending"] + ["pending"] * (BATCH - HANG_ON)
    smtp.hang_on_message = None
    now = utcnow()

    next_run = deliver_due(now=now)
    later_run = deliver_due(now=now + timedelta(minutes=16))
    much_later = deliver_due(now=now + timedelta(days=1))

    assert (next_run, later_run, much_later) == (
        DeliveryResult(sent=BATCH - HANG_ON),
        DeliveryResult(in_doubt=1),
        DeliveryResult(),
    )
    rows = _mails()
    assert [m.status for m in rows] == ["sent", "sent", "in_doubt"] + ["sent"] * (BATCH - HANG_ON)
    assert rows[HANG_ON - 1].last_error == INTERRUPTED
    # The server got every mail exactly once, the one in doubt included: it was not sent again.
    assert Counter(smtp.message_ids()) == Counter({m.message_id: 1 for m in mails})
