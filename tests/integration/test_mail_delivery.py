"""Outbox delivery against a real SMTP server on loopback: nothing lost, nothing sent twice."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest
from flask import Flask
from sqlalchemy import func, select

from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.notifications.delivery import DEADLINE_PASSED, INTERRUPTED, DeliveryResult, deliver_due
from consultroom.notifications.models import OutboxMail
from consultroom.notifications.services import queue_mail_to_user
from tests.factories import make_user
from tests.smtp import SMTPServer, make_certificate, queue_round_mails, smtp_server_for

SENDER = "Consultroom <no-reply@consultroom.local>"


@pytest.fixture
def smtp(app: Flask) -> Iterator[SMTPServer]:
    with smtp_server_for(app) as server:
        yield server


@pytest.fixture
def config(app: Flask) -> Iterator[dict]:
    """app.config, with whatever a test changes put back afterwards."""
    saved = dict(app.config)
    yield app.config
    app.config.clear()
    app.config.update(saved)


def _now() -> datetime:
    return utcnow()  # both databases keep microseconds, so exact comparisons hold


def _mails() -> list[OutboxMail]:
    # End the test's read transaction: on SQLite (WAL) it would keep showing its old snapshot.
    db.session.commit()
    return list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def _content(msg: EmailMessage, subtype: str) -> str:
    # A base64 body keeps the CRLF line ends of the wire (RFC 2045 canonical form); others decode to \n.
    return msg.get_body((subtype,)).get_content().replace("\r\n", "\n")


def _statuses() -> list[str]:
    return [m.status for m in _mails()]


def test_queue_mail_in_rolled_back_transaction_leaves_no_mail():
    user = make_user("sme", email="gone@example.kr")
    queue_mail_to_user(user=user, template="confirm_email", context={"link": "http://localhost/c"})

    db.session.rollback()

    assert db.session.scalar(select(func.count(OutboxMail.id))) == 0


def test_queue_mail_in_committed_transaction_is_pending():
    queue_round_mails(1)
    db.session.commit()

    assert [(m.status, m.attempts) for m in _mails()] == [("pending", 0)]


def test_deliver_due_sends_each_pending_mail_once_with_its_headers(smtp):
    mails = queue_round_mails(3)
    db.session.commit()
    expected = {m.message_id: (m.to_addr, m.subject, m.body_text, m.created_at) for m in mails}

    result = deliver_due(now=_now())

    assert result == DeliveryResult(sent=3, retry=0, failed=0)
    assert sorted(smtp.message_ids()) == sorted(expected)
    for (mail_from, rcpt_tos, msg), raw in zip(smtp.received, smtp.raw, strict=True):
        to_addr, subject, body_text, created_at = expected[msg["Message-ID"]]
        assert mail_from == "no-reply@consultroom.local"
        assert rcpt_tos == [to_addr]
        assert msg["From"] == SENDER
        assert msg["To"] == to_addr
        assert msg["Subject"] == subject
        assert "수출상담회" in msg["Subject"]
        headers = raw.split(b"\r\n\r\n", 1)[0]
        assert headers.isascii()  # Korean travels RFC 2047-encoded
        assert b"Subject: =?utf-8?b?" in headers  # the recipient reads Korean, so all of it is encoded
        assert parsedate_to_datetime(msg["Date"]) == created_at.replace(microsecond=0)
        assert msg["Auto-Submitted"] == "auto-generated"
        assert _content(msg, "plain") == body_text.rstrip("\n") + "\n"
    assert [(m.status, m.attempts, m.claim_token, m.last_error) for m in _mails()] == [("sent", 0, None, None)] * 3
    assert all(m.sent_at is not None for m in _mails())


def test_deliver_due_run_twice_sends_nothing_the_second_time(smtp):
    queue_round_mails(2)
    db.session.commit()
    first = deliver_due(now=_now())

    second = deliver_due(now=_now() + timedelta(hours=1))

    assert (first, second) == (DeliveryResult(sent=2), DeliveryResult())
    assert len(smtp.messages) == 2


def test_deliver_due_with_html_body_sends_text_and_html_alternatives(smtp):
    user = make_user("sme", email="html@example.kr")
    mail = OutboxMail(
        message_id="<html-1@consultroom.local>",
        to_addr=user.email,
        user_id=user.id,
        template="custom",
        locale="ko",
        subject="안내",
        body_text="본문입니다.\n",
        body_html="<p>본문입니다.</p>\n",
    )
    db.session.add(mail)
    db.session.commit()

    assert deliver_due(now=_now()) == DeliveryResult(sent=1)

    [msg] = smtp.messages
    assert msg.get_content_type() == "multipart/alternative"
    assert _content(msg, "plain") == "본문입니다.\n"
    assert _content(msg, "html") == "<p>본문입니다.</p>\n"
    assert msg["Message-ID"] == "<html-1@consultroom.local>"


def test_deliver_due_with_server_down_keeps_every_mail_pending(smtp):
    queue_round_mails(3)
    db.session.commit()
    smtp.stop()
    now = _now()

    result = deliver_due(now=now)

    assert result == DeliveryResult(sent=0, retry=3, failed=0)
    mails = _mails()
    assert [(m.status, m.attempts, m.claim_token) for m in mails] == [("pending", 1, None)] * 3
    assert all(m.last_error.startswith("ConnectionRefusedError") for m in mails)
    # TestingConfig: MAIL_BACKOFF_SECONDS = 30, so the first wait is 30 seconds.
    assert {m.next_attempt_at for m in mails} == {now + timedelta(seconds=30)}


def test_deliver_due_with_server_still_down_doubles_the_wait(smtp):
    queue_round_mails(1)
    db.session.commit()
    smtp.stop()
    now = _now()
    deliver_due(now=now)

    result = deliver_due(now=now + timedelta(seconds=30))

    [mail] = _mails()
    assert result == DeliveryResult(retry=1)
    assert (mail.status, mail.attempts) == ("pending", 2)
    assert mail.next_attempt_at == now + timedelta(seconds=30 + 60)


def test_deliver_due_wait_is_capped_at_five_minutes(smtp):
    queue_round_mails(1)
    db.session.commit()
    smtp.stop()
    now = _now()
    for _ in range(12):
        [mail] = _mails()
        now = mail.next_attempt_at
        deliver_due(now=now)

    [mail] = _mails()
    assert (mail.status, mail.attempts) == ("pending", 12)
    assert mail.next_attempt_at == now + timedelta(minutes=5)


def test_deliver_due_after_server_comes_back_delivers_each_mail_exactly_once(smtp):
    mails = queue_round_mails(3)
    db.session.commit()
    ids = sorted(m.message_id for m in mails)
    smtp.stop()
    now = _now()
    down = deliver_due(now=now)
    smtp.start()

    too_early = deliver_due(now=now + timedelta(seconds=10))
    due = deliver_due(now=now + timedelta(seconds=31))
    after = deliver_due(now=now + timedelta(hours=1))

    assert (down, too_early, due, after) == (
        DeliveryResult(retry=3),
        DeliveryResult(),
        DeliveryResult(sent=3),
        DeliveryResult(),
    )
    assert sorted(smtp.message_ids()) == ids
    assert [(m.status, m.attempts, m.last_error) for m in _mails()] == [("sent", 1, None)] * 3


def test_deliver_due_through_a_ten_hour_outage_sends_within_minutes_of_the_return(smtp):
    """Issue 17: 60 s and 8 attempts used to give up after about two hours; now the mail waits."""
    [queued] = queue_round_mails(1)
    now = _now()
    queued.deadline_at = now + timedelta(hours=48)  # a match proposal's answer deadline
    db.session.commit()
    smtp.stop()
    back_at = now + timedelta(hours=10)
    runs, longest_wait = 0, timedelta(0)
    while now < back_at:
        assert deliver_due(now=now) == DeliveryResult(retry=1)
        runs += 1
        [mail] = _mails()
        longest_wait = max(longest_wait, mail.next_attempt_at - now)
        now = mail.next_attempt_at
    smtp.start()

    assert deliver_due(now=now) == DeliveryResult(sent=1)
    [mail] = _mails()
    assert (mail.status, mail.attempts, smtp.message_ids()) == ("sent", runs, [queued.message_id])
    assert longest_wait == timedelta(minutes=5)
    assert mail.sent_at - back_at <= timedelta(minutes=5)


def test_deliver_due_past_its_deadline_marks_mail_failed_and_never_sends_it(smtp):
    [queued] = queue_round_mails(1)
    now = _now()
    queued.deadline_at = now + timedelta(minutes=1)
    db.session.commit()
    smtp.stop()

    first = deliver_due(now=now)
    second = deliver_due(now=now + timedelta(seconds=30))
    smtp.start()
    third = deliver_due(now=now + timedelta(minutes=2))

    assert (first, second, third) == (DeliveryResult(retry=1), DeliveryResult(retry=1), DeliveryResult(failed=1))
    [mail] = _mails()
    assert (mail.status, mail.attempts, mail.claim_token) == ("failed", 2, None)
    assert mail.last_error.startswith(DEADLINE_PASSED + " Last error: ConnectionRefusedError")
    assert mail.first_error_at == now
    assert smtp.messages == []


def test_deliver_due_mail_without_deadline_expires_after_the_default_hours(smtp, config):
    old, recent = queue_round_mails(2)
    now = _now()
    hours = timedelta(hours=config["MAIL_DEADLINE_HOURS"])
    old.deadline_at = recent.deadline_at = None  # queued before deadlines existed
    old.created_at = old.next_attempt_at = now - hours
    db.session.commit()

    result = deliver_due(now=now)

    assert result == DeliveryResult(sent=1, failed=1)
    assert smtp.message_ids() == [recent.message_id]
    assert [m.status for m in _mails()] == ["failed", "sent"]


def test_deliver_due_with_stale_sending_mail_marks_it_in_doubt_without_resending(smtp):
    stale, fresh = queue_round_mails(2)
    now = _now()
    stale.status, stale.claim_token, stale.claimed_at = "sending", "a" * 32, now - timedelta(minutes=16)
    fresh.status, fresh.claim_token, fresh.claimed_at = "sending", "b" * 32, now - timedelta(minutes=5)
    db.session.commit()

    result = deliver_due(now=now)
    later = deliver_due(now=now + timedelta(minutes=5))

    assert (result, later) == (DeliveryResult(in_doubt=1), DeliveryResult())
    assert smtp.messages == []
    stale_row, fresh_row = _mails()
    assert (stale_row.status, stale_row.attempts, stale_row.claim_token, stale_row.last_error) == (
        "in_doubt",
        1,
        None,
        INTERRUPTED,
    )
    assert (fresh_row.status, fresh_row.claim_token) == ("sending", "b" * 32)


def test_deliver_due_with_refused_recipient_fails_that_mail_and_sends_the_rest(smtp):
    mails = queue_round_mails(3)
    db.session.commit()
    smtp.refuse[mails[1].to_addr] = "550 5.1.1 No such user"

    result = deliver_due(now=_now())

    assert result == DeliveryResult(sent=2, retry=0, failed=1)
    assert sorted(smtp.message_ids()) == sorted([mails[0].message_id, mails[2].message_id])
    assert _statuses() == ["sent", "failed", "sent"]
    assert _mails()[1].last_error == f"Recipient refused ({mails[1].to_addr}: 550 5.1.1 No such user)"


def test_deliver_due_with_recipient_refused_for_now_retries_only_that_mail(smtp):
    mails = queue_round_mails(3)
    db.session.commit()
    smtp.refuse[mails[0].to_addr] = "450 4.2.1 Mailbox busy, try later"
    now = _now()

    first = deliver_due(now=now)
    smtp.refuse.clear()
    second = deliver_due(now=now + timedelta(seconds=30))

    assert (first, second) == (DeliveryResult(sent=2, retry=1), DeliveryResult(sent=1))
    assert Counter(smtp.message_ids()) == Counter({m.message_id: 1 for m in mails})
    assert [(m.status, m.attempts) for m in _mails()] == [("sent", 1), ("sent", 0), ("sent", 0)]


def test_deliver_due_when_connection_drops_after_data_leaves_that_mail_in_doubt(smtp):
    mails = queue_round_mails(3)
    db.session.commit()
    smtp.drop_after_data.add(mails[1].to_addr)
    now = _now()

    first = deliver_due(now=now)
    smtp.drop_after_data.clear()
    second = deliver_due(now=now + timedelta(seconds=30))
    third = deliver_due(now=now + timedelta(days=1))

    assert (first, second, third) == (
        DeliveryResult(sent=1, retry=1, in_doubt=1),
        DeliveryResult(sent=1),
        DeliveryResult(),
    )
    # The server did get the second mail once; it is not sent again, an admin decides.
    assert Counter(smtp.message_ids()) == Counter({m.message_id: 1 for m in mails})
    first_row, dropped, third_row = _mails()
    assert (first_row.status, third_row.status, third_row.attempts) == ("sent", "sent", 1)
    assert (dropped.status, dropped.attempts) == ("in_doubt", 1)
    assert dropped.last_error.startswith(INTERRUPTED)


def test_deliver_due_when_disabled_sends_nothing(smtp, config):
    config["MAIL_DELIVERY_ENABLED"] = False
    queue_round_mails(2)
    db.session.commit()

    result = deliver_due(now=_now())

    assert result == DeliveryResult()
    assert smtp.messages == []
    assert [(m.status, m.attempts) for m in _mails()] == [("pending", 0)] * 2


def test_deliver_due_limit_sends_the_oldest_first(smtp):
    mails = queue_round_mails(3)
    db.session.commit()

    result = deliver_due(limit=2, now=_now())

    assert result == DeliveryResult(sent=2)
    assert smtp.message_ids() == [mails[0].message_id, mails[1].message_id]
    assert _statuses() == ["sent", "sent", "pending"]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # loopback only
def test_deliver_due_logs_in_with_configured_credentials(app, config):
    config["MAIL_USERNAME"], config["MAIL_PASSWORD"] = "mailer", "s3cret"
    queue_round_mails(1)
    db.session.commit()

    with smtp_server_for(app, credentials=(b"mailer", b"s3cret")) as server:
        result = deliver_due(now=_now())

    assert result == DeliveryResult(sent=1)
    assert len(server.messages) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # loopback only
def test_deliver_due_with_wrong_credentials_keeps_mail_pending(app, config):
    config["MAIL_USERNAME"], config["MAIL_PASSWORD"] = "mailer", "wrong"
    queue_round_mails(1)
    db.session.commit()

    with smtp_server_for(app, credentials=(b"mailer", b"s3cret")) as server:
        result = deliver_due(now=_now())

    assert result == DeliveryResult(retry=1)
    assert server.messages == []
    [mail] = _mails()
    assert (mail.status, mail.attempts) == ("pending", 1)
    assert mail.last_error.startswith("SMTPAuthenticationError: 535")


@pytest.mark.parametrize(("tls", "use_tls", "use_ssl"), [("starttls", True, False), ("implicit", False, True)])
def test_deliver_due_over_tls_with_verified_certificate(app, config, tmp_path, monkeypatch, tls, use_tls, use_ssl):
    cert = make_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # our CA for ssl.create_default_context()
    config["MAIL_USE_TLS"], config["MAIL_USE_SSL"] = use_tls, use_ssl
    [mail] = queue_round_mails(1)
    db.session.commit()

    with smtp_server_for(app, tls=tls, cert=cert) as server:
        result = deliver_due(now=_now())

    assert result == DeliveryResult(sent=1)
    assert server.message_ids() == [mail.message_id]


def test_deliver_due_with_untrusted_certificate_sends_nothing(app, config, tmp_path):
    config["MAIL_USE_TLS"] = True
    queue_round_mails(1)
    db.session.commit()

    with smtp_server_for(app, tls="starttls", cert=make_certificate(tmp_path)) as server:
        result = deliver_due(now=_now())

    assert result == DeliveryResult(retry=1)
    assert server.messages == []
    [mail] = _mails()
    assert mail.last_error.startswith("SSLCertVerificationError")


def test_send_mail_command_delivers_due_mails(app, smtp):
    queue_round_mails(3)
    db.session.commit()
    runner = app.test_cli_runner()

    first = runner.invoke(args=["consultroom", "send-mail", "--limit", "2"])
    second = runner.invoke(args=["consultroom", "send-mail"])

    assert (first.exit_code, first.output) == (0, "sent 2, retrying later 0, failed 0\n")
    assert (second.exit_code, second.output) == (0, "sent 1, retrying later 0, failed 0\n")
    assert len(smtp.messages) == 3
    assert _statuses() == ["sent"] * 3


def test_send_mail_command_with_server_down_reports_retries(app, smtp):
    queue_round_mails(2)
    db.session.commit()
    smtp.stop()

    result = app.test_cli_runner().invoke(args=["consultroom", "send-mail"])

    assert (result.exit_code, result.output) == (0, "sent 0, retrying later 2, failed 0\n")
    assert _statuses() == ["pending"] * 2


def test_deliver_due_in_two_threads_at_once_sends_every_mail_once(app, smtp):
    mails = queue_round_mails(30)
    db.session.commit()
    expected = Counter({m.message_id: 1 for m in mails})
    barrier = threading.Barrier(2)
    results: list[DeliveryResult] = []
    errors: list[BaseException] = []

    def worker() -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                # Small batches, so the two runs interleave claims and sends many times.
                while (result := deliver_due(limit=3)) != DeliveryResult():
                    results.append(result)
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert errors == []
    assert sum(r.sent for r in results) == 30
    assert sum(r.retry + r.failed for r in results) == 0
    assert Counter(smtp.message_ids()) == expected
    assert _statuses() == ["sent"] * 30
