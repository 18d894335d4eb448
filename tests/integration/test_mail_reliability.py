"""Mail retried while still useful (issue 17, item 1): deadlines per kind, bulk retry for admins,
an alert on the admin home when delivery has been failing for long, mails in doubt shown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from consultroom.accounts import services as account_services
from consultroom.audit.models import AuditEntry
from consultroom.bookings.notify import booking_received
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.notifications.delivery import INTERRUPTED, DeliveryResult, deliver_due
from consultroom.notifications.models import OutboxMail
from consultroom.notifications.services import mail_deadline
from tests.factories import make_booking, make_round, make_user
from tests.smtp import SMTPServer, queue_round_mails, smtp_server_for


@pytest.fixture
def smtp(app: Flask) -> Iterator[SMTPServer]:
    with smtp_server_for(app) as server:
        yield server


def _reload(mail: OutboxMail) -> OutboxMail:
    db.session.commit()
    return db.session.get(OutboxMail, mail.id, populate_existing=True)


def _mail(template: str) -> OutboxMail:
    return db.session.scalars(select(OutboxMail).where(OutboxMail.template == template).order_by(OutboxMail.id)).first()


# --- deadlines per kind --------------------------------------------------------------------------


def test_mail_deadline_booking_mail_is_the_meeting_start():
    rnd = make_round()
    booking = make_booking(rnd.slots[0])
    booking_received(booking)
    assert _mail("booking_received").deadline_at == booking.starts_at


def test_mail_deadline_match_proposal_is_its_answer_deadline():
    rnd = make_round()
    booking = make_booking(rnd.slots[0])
    booking.respond_by = booking.starts_at - timedelta(days=2)
    now = utcnow()
    assert mail_deadline("match_proposed", {"booking": booking}, now) == booking.respond_by
    booking.respond_by = None
    assert mail_deadline("match_proposed", {"booking": booking}, now) == booking.starts_at


def test_mail_deadline_account_links_last_as_long_as_the_link(app):
    user = make_user("sme")
    before = utcnow()
    account_services.send_confirmation(user=user)
    account_services.request_password_reset(email=user.email)
    after = utcnow()
    confirm, reset = _mail("confirm_email"), _mail("reset_password")
    week, two_hours = timedelta(seconds=app.config["CONFIRM_EMAIL_MAX_AGE"]), timedelta(hours=2)
    assert before + week <= confirm.deadline_at <= after + week
    assert before + two_hours <= reset.deadline_at <= after + two_hours


def test_mail_deadline_other_kinds_get_the_default_hours(app):
    before = utcnow()
    [mail] = queue_round_mails(1)
    hours = timedelta(hours=app.config["MAIL_DEADLINE_HOURS"])
    assert before + hours <= mail.deadline_at <= utcnow() + hours


# --- bulk retry ----------------------------------------------------------------------------------


def _failed(mails: list[OutboxMail], *, deadline_passed: bool = False) -> None:
    now = utcnow()
    for mail in mails:
        mail.status, mail.attempts, mail.last_error = "failed", 8, "ConnectionRefusedError: refused"
        if deadline_passed:
            mail.deadline_at = now - timedelta(hours=1)
    db.session.commit()


def test_retry_all_failed_requeues_failed_not_in_doubt_with_audit(client, login_as, smtp, app):
    mails = queue_round_mails(4)
    _failed(mails[:2])
    _failed(mails[2:3], deadline_passed=True)
    mails[3].status, mails[3].last_error = "in_doubt", INTERRUPTED
    db.session.commit()
    admin = login_as("admin")

    page = client.get("/admin/outbox/retry-failed").get_data(as_text=True)
    response = client.submit("/admin/outbox/retry-failed", {"confirm": "1"})

    assert "3 failed mails go back in the queue" in page
    assert "1 mails in doubt are not included" in page
    assert (response.status_code, response.headers["Location"]) == (302, "/admin/outbox")
    rows = [_reload(m) for m in mails]
    assert [(m.status, m.attempts) for m in rows] == [("pending", 0)] * 3 + [("in_doubt", 0)]
    # The one past its deadline gets a new one, or the next run would fail it again at once.
    assert rows[2].deadline_at > utcnow() + timedelta(hours=app.config["MAIL_DEADLINE_HOURS"] - 1)
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "outbox.retry")).all()
    assert sorted((e.actor_id, e.object_id) for e in entries) == [(admin.id, m.id) for m in mails[:3]]
    assert deliver_due() == DeliveryResult(sent=3)
    assert sorted(smtp.message_ids()) == sorted(m.message_id for m in mails[:3])


def test_retry_all_failed_with_in_doubt_ticked_requeues_those_too(client, login_as, smtp):
    mails = queue_round_mails(2)
    _failed(mails[:1])
    mails[1].status, mails[1].last_error = "in_doubt", INTERRUPTED
    db.session.commit()
    login_as("admin")

    response = client.submit("/admin/outbox/retry-failed", {"confirm": "1", "in_doubt": "1"}, follow_redirects=True)

    assert "2 mails are back in the queue; they go out with the next delivery." in response.get_data(as_text=True)
    assert [_reload(m).status for m in mails] == ["pending", "pending"]
    assert deliver_due() == DeliveryResult(sent=2)


def test_retry_all_failed_without_confirmation_changes_nothing(client, login_as):
    mails = queue_round_mails(2)
    _failed(mails)
    login_as("admin")

    response = client.submit("/admin/outbox/retry-failed", {})

    assert (response.status_code, response.headers["Location"]) == (302, "/admin/outbox/retry-failed")
    assert [_reload(m).status for m in mails] == ["failed", "failed"]
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_retry_all_failed_without_csrf_is_refused(client, login_as):
    mails = queue_round_mails(1)
    _failed(mails)
    login_as("admin")
    assert client.post("/admin/outbox/retry-failed", data={"confirm": "1"}).status_code == 400
    assert _reload(mails[0]).status == "failed"


@pytest.mark.parametrize("role", ["staff", "sme"])
def test_retry_all_failed_for_non_admin_is_404(client, login_as, role):
    mails = queue_round_mails(1)
    _failed(mails)
    login_as(role)
    assert client.get("/admin/outbox/retry-failed").status_code == 404
    assert client.submit("/admin/outbox/retry-failed", {"confirm": "1"}).status_code == 404
    assert _reload(mails[0]).status == "failed"


def test_retry_of_mail_in_doubt_puts_it_back(client, login_as, smtp):
    [mail] = queue_round_mails(1)
    mail.status, mail.attempts, mail.last_error = "in_doubt", 1, INTERRUPTED
    db.session.commit()
    login_as("admin")

    detail = client.get(f"/admin/outbox/{mail.id}").get_data(as_text=True)
    response = client.submit(f"/admin/outbox/{mail.id}/retry")

    assert "It did not arrive: send it again" in detail
    assert response.status_code == 302
    assert (_reload(mail).status, _reload(mail).attempts) == ("pending", 0)


# --- admin home alert ----------------------------------------------------------------------------

ALERT = "Mail delivery has been failing for"


def _queued_at(mails: list[OutboxMail], moment) -> None:
    for mail in mails:
        mail.created_at = mail.next_attempt_at = moment
    db.session.commit()


def test_home_alert_when_delivery_failing_longer_than_the_set_time(client, login_as, smtp, app):
    mails = queue_round_mails(2)
    started = utcnow() - timedelta(minutes=app.config["MAIL_ALERT_AFTER_MINUTES"] + 5)
    _queued_at(mails, started)
    smtp.stop()
    assert deliver_due(now=started) == DeliveryResult(retry=2)
    login_as("admin")

    html = client.get("/").get_data(as_text=True)

    assert "Mail delivery has been failing for 35 minutes: 2 mails are waiting." in html
    assert "Last error: ConnectionRefusedError" in html
    assert all(_reload(m).first_error_at == started for m in mails)


def test_home_no_alert_for_a_short_failure_or_for_staff(client, make_client, login_as, smtp):
    started = utcnow() - timedelta(minutes=5)
    _queued_at(queue_round_mails(1), started)
    smtp.stop()
    assert deliver_due(now=started) == DeliveryResult(retry=1)
    login_as("admin")
    staff = make_client()
    login_as("staff", on=staff)

    assert ALERT not in client.get("/").get_data(as_text=True)
    assert ALERT not in staff.get("/").get_data(as_text=True)


def test_home_alert_ends_once_the_mail_is_sent(client, login_as, smtp, app):
    started = utcnow() - timedelta(hours=1)
    _queued_at(queue_round_mails(1), started)
    smtp.stop()
    assert deliver_due(now=started) == DeliveryResult(retry=1)
    smtp.start()
    assert deliver_due() == DeliveryResult(sent=1)
    login_as("admin")
    assert ALERT not in client.get("/").get_data(as_text=True)


def test_home_alert_names_mails_in_doubt(client, login_as):
    [mail] = queue_round_mails(1)
    mail.status, mail.last_error = "in_doubt", INTERRUPTED
    db.session.commit()
    login_as("admin")
    html = client.get("/").get_data(as_text=True)
    assert "1 mail is in doubt: delivery was interrupted while it was being sent. Check it." in html
    assert ALERT not in html
