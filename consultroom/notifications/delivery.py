"""Deliver the outbox over SMTP: retried while still useful, never sent twice, doubts left to admins.

A run:
1. a mail left 'sending' by a run that died becomes 'in_doubt': it may or may not have left, and
   sending it again could deliver it twice, so an admin decides. Each mail is marked 'sending'
   (and committed) just before it is offered to the server, not a whole batch up front, so a crash
   leaves at most the one mail in flight in doubt; the rest of the batch is still 'pending';
2. pending mails past their deadline (a proposal after its answer deadline, a reminder after the
   meeting) become 'failed': sending them late would mislead;
3. the due mails are sent over one SMTP connection; each outcome is committed at once. A
   temporary failure (connection refused, 4xx) puts the mail back with a backoff capped at a few
   minutes, however long the outage lasts, until its deadline; only a permanent refusal (5xx) or
   a passed deadline makes it 'failed'.

No transaction is held while talking to the SMTP server. Two runs at once both may select a mail,
but marking it is conditional (still 'pending' and due), so only one of them offers it; on SQLite
the marking transaction starts with BEGIN IMMEDIATE (consultroom.sqlite).
"""

from __future__ import annotations

import email.policy
import secrets
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, literal, or_, select, update

from consultroom.accounts.models import User
from consultroom.audit.services import record
from consultroom.db import utcnow
from consultroom.errors import Conflict
from consultroom.extensions import db
from consultroom.notifications.models import MailStatus, OutboxMail
from consultroom.sqlite import write_intent

# One mail's SMTP conversation is bounded by MAIL_TIMEOUT per step; a mail 'sending' this long
# belongs to a run that died.
STALE_CLAIM_AFTER = timedelta(minutes=15)
INTERRUPTED = (
    "Delivery was interrupted while this mail was being sent; it may or may not have been sent. "
    "It is not resent automatically: check with the recipient, then retry it if needed."
)
DEADLINE_PASSED = "Not delivered before its deadline, after which it is of no use."
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class DeliveryResult:
    sent: int = 0
    retry: int = 0  # back to 'pending' for a later attempt
    failed: int = 0  # became 'failed' in this run (refused for good, or past its deadline)
    in_doubt: int = 0  # became 'in_doubt' in this run (interrupted mid-send)


@dataclass(frozen=True)
class _Due:
    """A plain copy of a due row: sending reads no ORM attribute, so it opens no transaction
    (on SQLite that would take the write lock for the whole SMTP conversation)."""

    id: int
    message_id: str
    to_addr: str
    subject: str
    body_text: str
    body_html: str | None
    created_at: datetime
    attempts: int
    deadline_at: datetime | None
    ics_body: str | None = None
    ics_method: str | None = None

    @classmethod
    def of(cls, mail: OutboxMail) -> _Due:
        return cls(**{f.name: getattr(mail, f.name) for f in fields(cls)})


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
        in_doubt = _surface_interrupted(now)
        expired = expire_past_deadline(now)
        rows = _select_due(now, limit)
        if not rows:
            return DeliveryResult(failed=expired, in_doubt=in_doubt)
        tally = _send_batch(rows, secrets.token_hex(16), now)
        return DeliveryResult(
            sent=tally.sent, retry=tally.retry, failed=tally.failed + expired, in_doubt=tally.in_doubt + in_doubt
        )
    finally:
        write_intent.reset(token)


# --- database phases ---------------------------------------------------------------------------


def _surface_interrupted(now: datetime) -> int:
    result = db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.status == MailStatus.SENDING.value, OutboxMail.claimed_at < now - STALE_CLAIM_AFTER)
        .values(
            status=MailStatus.IN_DOUBT.value,
            claim_token=None,
            attempts=OutboxMail.attempts + 1,
            last_error=INTERRUPTED,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount


def expire_past_deadline(now: datetime) -> int:
    """Give up on pending mails whose deadline has passed (they become 'failed' for an admin to
    decide). The first phase of every delivery run; the demo runs it alone, as it sends nothing."""
    # A mail without a deadline (queued before deadlines existed) gets the default one from its creation.
    default_cutoff = now - timedelta(hours=current_app.config["MAIL_DEADLINE_HOURS"])
    result = db.session.execute(
        update(OutboxMail)
        .where(
            OutboxMail.status == MailStatus.PENDING.value,
            or_(
                OutboxMail.deadline_at <= now,
                and_(OutboxMail.deadline_at.is_(None), OutboxMail.created_at <= default_cutoff),
            ),
        )
        .values(
            status=MailStatus.FAILED.value,
            last_error=literal(DEADLINE_PASSED + " Last error: ") + func.coalesce(OutboxMail.last_error, "none"),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount


def _select_due(now: datetime, limit: int) -> list[_Due]:
    mails = db.session.scalars(
        select(OutboxMail)
        .where(
            OutboxMail.status == MailStatus.PENDING.value,
            OutboxMail.next_attempt_at <= now,
            or_(OutboxMail.deadline_at.is_(None), OutboxMail.deadline_at > now),
        )
        .order_by(OutboxMail.id)
        .limit(limit)
        .execution_options(populate_existing=True)
    ).all()
    rows = [_Due.of(m) for m in mails]
    db.session.commit()
    return rows


def _mark_sending(row: _Due, claim_token: str, now: datetime) -> bool:
    """Mark one mail as being offered, durably, right before it is. False when another run took
    it (or rescheduled it) since it was selected: this run leaves it alone."""
    result = db.session.execute(
        update(OutboxMail)
        .where(
            OutboxMail.id == row.id,
            OutboxMail.status == MailStatus.PENDING.value,
            OutboxMail.next_attempt_at <= now,
        )
        .values(status=MailStatus.SENDING.value, claim_token=claim_token, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _update_row(row_id: int, claim_token: str | None, **values: Any) -> None:
    """Update a row this run marked (matching its token), or, with no token, one it selected but
    never marked (still 'pending'): two runs never overwrite each other's outcome."""
    if claim_token is None:
        mine = [OutboxMail.status == MailStatus.PENDING.value]
    else:
        mine = [OutboxMail.claim_token == claim_token, OutboxMail.status == MailStatus.SENDING.value]
    db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == row_id, *mine)
        .values(claim_token=None, **values)
        .execution_options(synchronize_session=False)
    )


def _mark_sent(row: _Due, claim_token: str, now: datetime) -> None:
    _update_row(row.id, claim_token, status=MailStatus.SENT.value, sent_at=now, claimed_at=None, last_error=None)
    db.session.commit()


def _mark_failed(row: _Due, claim_token: str, error: str, *, status: MailStatus = MailStatus.FAILED) -> None:
    _update_row(row.id, claim_token, status=status.value, attempts=row.attempts + 1, last_error=error)
    db.session.commit()


def backoff(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`: the base doubles with each failed attempt, up to
    MAIL_MAX_BACKOFF_SECONDS, so mail goes out within minutes of the server coming back."""
    base = current_app.config["MAIL_BACKOFF_SECONDS"]
    cap = timedelta(seconds=current_app.config["MAIL_MAX_BACKOFF_SECONDS"])
    # The exponent is bounded so a mail retried for days does not compute a huge number.
    return min(timedelta(seconds=base * 2 ** min(max(attempts - 1, 0), 30)), cap)


def _reschedule(row: _Due, claim_token: str | None, now: datetime, error: str) -> bool:
    """Back to 'pending' after a temporary failure, or 'failed' once its deadline has passed. Not
    committed. Returns True when the mail will be retried."""
    attempts = row.attempts + 1
    if row.deadline_at is not None and row.deadline_at <= now:
        _update_row(
            row.id,
            claim_token,
            status=MailStatus.FAILED.value,
            attempts=attempts,
            last_error=f"{DEADLINE_PASSED} Last error: {error}"[:MAX_ERROR_CHARS],
        )
        return False
    _update_row(
        row.id,
        claim_token,
        status=MailStatus.PENDING.value,
        attempts=attempts,
        last_error=error,
        next_attempt_at=now + backoff(attempts),
        claimed_at=None,
        first_error_at=func.coalesce(OutboxMail.first_error_at, now),
    )
    return True


# --- SMTP --------------------------------------------------------------------------------------


# Headers fold only at RFC 5322's hard limit: the email package's folder splits a long non-ASCII
# subject into encoded words at a space and drops that space (decoders ignore whitespace between
# encoded words), so "상담 시간 변경" arrived as "상담 시간변경".
_POLICY = email.policy.default.clone(max_line_length=998)


def build_message(row: _Due, sender: str) -> EmailMessage:
    msg = EmailMessage(policy=_POLICY)
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
    in_doubt: int = 0


def _send_batch(rows: list[_Due], claim_token: str, now: datetime) -> _Tally:
    tally = _Tally()
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    envelope_from = parseaddr(sender)[1]
    remaining = list(rows)
    in_flight: _Due | None = None
    try:
        with _smtp_connection() as smtp:
            while remaining:
                row = remaining.pop(0)
                if not _mark_sending(row, claim_token, now):
                    continue
                in_flight = row
                _send_one(smtp, row, claim_token, now, sender, envelope_from, tally)
                in_flight = None
    except _BatchError as exc:
        _retry_rest(in_flight if not exc.settled else None, remaining, claim_token, now, str(exc), tally)
    except (smtplib.SMTPException, OSError) as exc:
        # Connecting, TLS or login failed, or the connection broke before this mail's data went out.
        _retry_rest(in_flight, remaining, claim_token, now, _describe(exc), tally)
    except BaseException:
        # A bug or a database error: the mail in flight stays 'sending' (the next runs show it to an
        # admin as in doubt); the others were never marked and are simply still 'pending'.
        db.session.rollback()
        raise
    return tally


def _retry_rest(
    in_flight: _Due | None, remaining: list[_Due], claim_token: str, now: datetime, error: str, tally: _Tally
) -> None:
    rows = [(in_flight, claim_token)] if in_flight is not None else []
    rows += [(row, None) for row in remaining]
    for row, token in rows:
        if _reschedule(row, token, now, error):
            tally.retry += 1
        else:
            tally.failed += 1
    db.session.commit()


def _send_one(
    smtp: _Connection,
    row: _Due,
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
            _mark_failed(
                row, claim_token, f"{INTERRUPTED} ({_describe(exc)})"[:MAX_ERROR_CHARS], status=MailStatus.IN_DOUBT
            )
            tally.in_doubt += 1
            raise _BatchError(_describe(exc), settled=True) from exc
        raise
    _mark_sent(row, claim_token, now)
    tally.sent += 1


def _after_refusal(
    row: _Due,
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


# --- admin actions ------------------------------------------------------------------------------

RETRYABLE = (MailStatus.FAILED.value, MailStatus.IN_DOUBT.value)


def _requeue(mail: OutboxMail, actor: User, now: datetime) -> None:
    before = {"status": mail.status, "attempts": mail.attempts}
    mail.status = MailStatus.PENDING.value
    mail.attempts = 0
    mail.next_attempt_at = now
    mail.claimed_at = None
    mail.claim_token = None
    mail.first_error_at = None
    if mail.deadline_at is not None and mail.deadline_at <= now:
        # The admin judged it still worth sending: it gets the usual time to go out.
        mail.deadline_at = now + timedelta(hours=current_app.config["MAIL_DEADLINE_HOURS"])
    record(actor=actor, action="outbox.retry", obj=mail, before=before, after={"status": mail.status, "attempts": 0})


def requeue_failed(*, mail: OutboxMail, actor: User, now: datetime | None = None) -> OutboxMail:
    """Put a failed or in-doubt mail back in the queue with a fresh start. Flushes, does not commit."""
    if mail.status not in RETRYABLE:
        raise Conflict(_("Only a failed mail or one in doubt can be retried."))
    _requeue(mail, actor, now or utcnow())
    db.session.flush()
    return mail


def requeue_all_failed(*, actor: User, include_in_doubt: bool = False, now: datetime | None = None) -> int:
    """Put every failed mail back in the queue (after an outage under older rules, or a fixed
    misconfiguration). Mails in doubt only when asked: each may have reached its recipient already
    (after a restore from a backup there can be many, and the admin may know none went out).
    Returns how many were requeued. Flushes, does not commit."""
    now = now or utcnow()
    statuses = [MailStatus.FAILED.value] + ([MailStatus.IN_DOUBT.value] if include_in_doubt else [])
    mails = db.session.scalars(select(OutboxMail).where(OutboxMail.status.in_(statuses)).order_by(OutboxMail.id)).all()
    for mail in mails:
        _requeue(mail, actor, now)
    db.session.flush()
    return len(mails)


@dataclass(frozen=True)
class DeliveryHealth:
    failing_since: datetime | None  # the oldest first failure among mails still waiting
    waiting: int  # mails waiting after at least one failed attempt
    in_doubt: int
    last_error: str | None


def delivery_health() -> DeliveryHealth:
    """For the admin home: how long delivery has been failing, and what waits for a decision."""
    failing = (OutboxMail.status == MailStatus.PENDING.value, OutboxMail.first_error_at.is_not(None))
    since, waiting = db.session.execute(select(func.min(OutboxMail.first_error_at), func.count()).where(*failing)).one()
    last_error = db.session.scalar(
        select(OutboxMail.last_error).where(*failing).order_by(OutboxMail.id.desc()).limit(1)
    )
    in_doubt = db.session.scalar(
        select(func.count()).select_from(OutboxMail).where(OutboxMail.status == MailStatus.IN_DOUBT.value)
    )
    return DeliveryHealth(failing_since=since, waiting=waiting, in_doubt=in_doubt, last_error=last_error)
