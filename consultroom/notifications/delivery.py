"""Deliver the outbox over SMTP: retried with backoff, never sent twice, failures left for admins.

A run has three short phases, each its own transaction:
1. stale claims (a run that died mid-send) become 'failed': the mail may or may not have left,
   and sending it again could deliver it twice, so an admin decides;
2. due rows are claimed ('sending' with this run's token) and the claim is committed before any
   network I/O, so no database lock or transaction is held while talking to the SMTP server;
3. one SMTP connection for the batch; each row is marked 'sent' and committed right after the
   server accepted it, so a crash loses at most the one mail in flight (which step 1 then surfaces).

Every update after the claim matches on this run's claim token: two runs never touch each
other's rows. On PostgreSQL the claim uses FOR UPDATE SKIP LOCKED, so concurrent runs split the
due rows instead of waiting; on SQLite the claim transaction starts with BEGIN IMMEDIATE
(consultroom.sqlite), which makes the select-then-update exclusive.
"""

from __future__ import annotations

import secrets
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.db import utcnow
from consultroom.errors import Conflict
from consultroom.extensions import db
from consultroom.notifications.models import MailStatus, OutboxMail
from consultroom.sqlite import write_intent

STALE_CLAIM_AFTER = timedelta(minutes=15)
MAX_BACKOFF = timedelta(hours=6)
INTERRUPTED = (
    "Delivery was interrupted while this mail was being sent; it may or may not have been sent. "
    "It is not resent automatically: check with the recipient, then retry it if needed."
)
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class DeliveryResult:
    sent: int = 0
    retry: int = 0  # back to 'pending' for a later attempt
    failed: int = 0  # became 'failed' in this run (given up, refused, or interrupted)


@dataclass(frozen=True)
class _Claimed:
    """A plain copy of a claimed row: sending reads no ORM attribute, so it opens no transaction
    (on SQLite that would take the write lock for the whole SMTP conversation)."""

    id: int
    message_id: str
    to_addr: str
    subject: str
    body_text: str
    body_html: str | None
    created_at: datetime
    attempts: int
    ics_body: str | None = None
    ics_method: str | None = None


class _BatchError(Exception):
    """The server or connection cannot take mail now: every remaining row waits for a later run.
    `settled` says the mail in flight already has its outcome recorded."""

    def __init__(self, message: str, *, settled: bool = False):
        super().__init__(message)
        self.settled = settled


class _PhaseMixin:
    """Remembers whether the message data has started to go out. A connection broken after that
    leaves it unknown whether the server accepted the message, and "never twice" means we must
    not simply retry it."""

    data_started = False

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.data_started = True
        return super().data(msg)  # type: ignore[misc]


class _SMTP(_PhaseMixin, smtplib.SMTP):
    pass


class _SMTPSSL(_PhaseMixin, smtplib.SMTP_SSL):
    pass


_Connection = _SMTP | _SMTPSSL


# --- entry point -------------------------------------------------------------------------------


def deliver_due(*, limit: int = 200, now: datetime | None = None) -> DeliveryResult:
    """Send up to `limit` due mails. Commits its own short transactions (it is the edge, like a job)."""
    if not current_app.config["MAIL_DELIVERY_ENABLED"]:
        return DeliveryResult()
    now = now or utcnow()
    # Close whatever transaction the caller left open so each phase below starts its own; and on
    # SQLite start them as writers (BEGIN IMMEDIATE) even when called from a read-only context.
    db.session.commit()
    token = write_intent.set(True)
    try:
        stale = _fail_stale_claims(now)
        claim_token, rows = _claim_due(now, limit)
        if not rows:
            return DeliveryResult(failed=stale)
        result = _send_batch(rows, claim_token, now)
        return DeliveryResult(sent=result.sent, retry=result.retry, failed=result.failed + stale)
    finally:
        write_intent.reset(token)


# --- database phases ---------------------------------------------------------------------------


def _fail_stale_claims(now: datetime) -> int:
    result = db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.status == MailStatus.SENDING.value, OutboxMail.claimed_at < now - STALE_CLAIM_AFTER)
        .values(
            status=MailStatus.FAILED.value,
            claim_token=None,
            attempts=OutboxMail.attempts + 1,
            last_error=INTERRUPTED,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount


def _claim_due(now: datetime, limit: int) -> tuple[str, list[_Claimed]]:
    claim_token = secrets.token_hex(16)
    ids = db.session.scalars(
        select(OutboxMail.id)
        .where(OutboxMail.status == MailStatus.PENDING.value, OutboxMail.next_attempt_at <= now)
        .order_by(OutboxMail.id)
        .limit(limit)
        # PostgreSQL: rows another run is claiming are skipped, not waited for. SQLite renders
        # no FOR UPDATE; its BEGIN IMMEDIATE already serialises the whole claim transaction.
        .with_for_update(skip_locked=True)
    ).all()
    if not ids:
        db.session.commit()
        return claim_token, []
    db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id.in_(ids), OutboxMail.status == MailStatus.PENDING.value)
        .values(status=MailStatus.SENDING.value, claim_token=claim_token, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    mails = db.session.scalars(
        select(OutboxMail)
        .where(OutboxMail.claim_token == claim_token)
        .order_by(OutboxMail.id)
        .execution_options(populate_existing=True)
    ).all()
    rows = [
        _Claimed(
            id=m.id,
            message_id=m.message_id,
            to_addr=m.to_addr,
            subject=m.subject,
            body_text=m.body_text,
            body_html=m.body_html,
            created_at=m.created_at,
            attempts=m.attempts,
            ics_body=m.ics_body,
            ics_method=m.ics_method,
        )
        for m in mails
    ]
    db.session.commit()  # the claim is durable before the first byte goes to the SMTP server
    return claim_token, rows


def _update_claimed(row_id: int, claim_token: str, **values: Any) -> None:
    db.session.execute(
        update(OutboxMail)
        .where(
            OutboxMail.id == row_id,
            OutboxMail.claim_token == claim_token,
            OutboxMail.status == MailStatus.SENDING.value,
        )
        .values(claim_token=None, **values)
        .execution_options(synchronize_session=False)
    )


def _mark_sent(row: _Claimed, claim_token: str, now: datetime) -> None:
    _update_claimed(row.id, claim_token, status=MailStatus.SENT.value, sent_at=now, claimed_at=None, last_error=None)
    db.session.commit()


def _mark_failed(row: _Claimed, claim_token: str, error: str) -> None:
    _update_claimed(row.id, claim_token, status=MailStatus.FAILED.value, attempts=row.attempts + 1, last_error=error)
    db.session.commit()


def backoff(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`: the base doubles with each failed attempt, up to 6 hours."""
    base = current_app.config["MAIL_BACKOFF_SECONDS"]
    return min(timedelta(seconds=base * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _reschedule(row: _Claimed, claim_token: str, now: datetime, error: str) -> bool:
    """Back to 'pending' after a temporary failure, or 'failed' once attempts run out. Not committed.
    Returns True when the mail will be retried."""
    attempts = row.attempts + 1
    if attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        _update_claimed(row.id, claim_token, status=MailStatus.FAILED.value, attempts=attempts, last_error=error)
        return False
    _update_claimed(
        row.id,
        claim_token,
        status=MailStatus.PENDING.value,
        attempts=attempts,
        last_error=error,
        next_attempt_at=now + backoff(attempts),
        claimed_at=None,
    )
    return True


def _release_untried(rows: list[_Claimed], claim_token: str) -> None:
    """Rows never offered to the server go back as they were: nothing happened to them."""
    for row in rows:
        _update_claimed(row.id, claim_token, status=MailStatus.PENDING.value, claimed_at=None)
    db.session.commit()


# --- SMTP --------------------------------------------------------------------------------------


def build_message(row: _Claimed, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = row.to_addr
    msg["Subject"] = row.subject  # the email package encodes non-ASCII (Korean) per RFC 2047
    # The creation time and the fixed Message-ID make a retried mail identical to the first try.
    msg["Date"] = format_datetime(row.created_at)
    msg["Message-ID"] = row.message_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies to a robot
    msg.set_content(row.body_text)
    if row.body_html:
        msg.add_alternative(row.body_html, subtype="html")
    if row.ics_body:
        # RFC 6047: the iTIP object as text/calendar with its METHOD, so a mail client offers to
        # update the event it already holds (same UID, higher SEQUENCE).
        msg.add_attachment(
            row.ics_body.encode("utf-8"),
            maintype="text",
            subtype="calendar",
            params={"method": row.ics_method or "PUBLISH", "charset": "utf-8"},
            filename="consultation.ics",
        )
    return msg


@contextmanager
def _smtp_connection() -> Iterator[_Connection]:
    cfg = current_app.config
    host, port, timeout = cfg["MAIL_SERVER"], cfg["MAIL_PORT"], cfg["MAIL_TIMEOUT"]
    if cfg["MAIL_USE_SSL"]:
        smtp: _Connection = _SMTPSSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = _SMTP(host, port, timeout=timeout)
    try:
        if cfg["MAIL_USE_TLS"] and not cfg["MAIL_USE_SSL"]:
            smtp.starttls(context=ssl.create_default_context())
        if cfg["MAIL_USERNAME"]:
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        yield smtp
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()  # the connection is already gone; nothing more to say to the server


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = [f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in exc.recipients.items()]
        return f"Recipient refused ({'; '.join(parts)})"[:MAX_ERROR_CHARS]
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}"[:MAX_ERROR_CHARS]
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _recipient_code(exc: smtplib.SMTPRecipientsRefused) -> int:
    return max(code for code, _msg in exc.recipients.values())


@dataclass
class _Tally:
    sent: int = 0
    retry: int = 0
    failed: int = 0


def _send_batch(rows: list[_Claimed], claim_token: str, now: datetime) -> _Tally:
    tally = _Tally()
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    envelope_from = parseaddr(sender)[1]
    remaining = list(rows)
    in_flight: _Claimed | None = None
    try:
        with _smtp_connection() as smtp:
            while remaining:
                in_flight = remaining.pop(0)
                _send_one(smtp, in_flight, claim_token, now, sender, envelope_from, tally)
                in_flight = None
    except _BatchError as exc:
        unsettled = [] if exc.settled or in_flight is None else [in_flight]
        _retry_all([*unsettled, *remaining], claim_token, now, str(exc), tally)
    except (smtplib.SMTPException, OSError) as exc:
        # Connecting, TLS or login failed, or the connection broke before this mail's data went out.
        unsettled = [in_flight] if in_flight is not None else []
        _retry_all([*unsettled, *remaining], claim_token, now, _describe(exc), tally)
    except BaseException:
        # A bug or a database error: the mail in flight stays 'sending' (the stale rule will show
        # it to an admin); the ones never offered to the server are released, if the database lets us.
        db.session.rollback()
        with suppress(Exception):
            _release_untried(remaining, claim_token)
        raise
    return tally


def _retry_all(rows: list[_Claimed], claim_token: str, now: datetime, error: str, tally: _Tally) -> None:
    for row in rows:
        if _reschedule(row, claim_token, now, error):
            tally.retry += 1
        else:
            tally.failed += 1
    db.session.commit()


def _send_one(
    smtp: _Connection,
    row: _Claimed,
    claim_token: str,
    now: datetime,
    sender: str,
    envelope_from: str,
    tally: _Tally,
) -> None:
    """Send one row and record the outcome. Raises _BatchError when the rest must wait too."""
    try:
        msg = build_message(row, sender)
    except (ValueError, TypeError) as exc:  # e.g. a header that cannot be encoded
        _mark_failed(row, claim_token, f"The message could not be built: {exc}"[:MAX_ERROR_CHARS])
        tally.failed += 1
        return
    smtp.data_started = False
    try:
        smtp.send_message(msg, from_addr=envelope_from, to_addrs=[row.to_addr])
    except smtplib.SMTPRecipientsRefused as exc:
        _after_refusal(row, claim_token, now, exc, permanent=_recipient_code(exc) >= 500, tally=tally)
        return
    except (smtplib.SMTPDataError, smtplib.SMTPNotSupportedError) as exc:
        code = getattr(exc, "smtp_code", 550)
        if code >= 500:  # the server rejected this message (content, size, address form)
            _after_refusal(row, claim_token, now, exc, permanent=True, tally=tally)
            return
        raise _BatchError(_describe(exc)) from exc
    except smtplib.SMTPResponseException as exc:
        # Sender refused, 421 and other server-wide replies: the server is the problem, not the mail.
        raise _BatchError(_describe(exc)) from exc
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        if smtp.data_started:
            # The message may already be with the server: never risk sending it twice.
            _mark_failed(row, claim_token, f"{INTERRUPTED} ({_describe(exc)})"[:MAX_ERROR_CHARS])
            tally.failed += 1
            raise _BatchError(_describe(exc), settled=True) from exc
        raise
    _mark_sent(row, claim_token, now)
    tally.sent += 1


def _after_refusal(
    row: _Claimed,
    claim_token: str,
    now: datetime,
    exc: smtplib.SMTPException,
    *,
    permanent: bool,
    tally: _Tally,
) -> None:
    """This recipient or message was refused; the connection is fine, so the batch goes on."""
    if permanent:
        _mark_failed(row, claim_token, _describe(exc))
        tally.failed += 1
        return
    retried = _reschedule(row, claim_token, now, _describe(exc))
    db.session.commit()
    if retried:
        tally.retry += 1
    else:
        tally.failed += 1


# --- admin action ------------------------------------------------------------------------------


def requeue_failed(*, mail: OutboxMail, actor: User, now: datetime | None = None) -> OutboxMail:
    """Put a failed mail back in the queue with a fresh set of attempts. Flushes, does not commit."""
    if mail.status != MailStatus.FAILED.value:
        raise Conflict(_("Only a failed mail can be retried."))
    before = {"status": mail.status, "attempts": mail.attempts}
    mail.status = MailStatus.PENDING.value
    mail.attempts = 0
    mail.next_attempt_at = now or utcnow()
    mail.claimed_at = None
    mail.claim_token = None
    record(actor=actor, action="outbox.retry", obj=mail, before=before, after={"status": mail.status, "attempts": 0})
    db.session.flush()
    return mail
