"""Admin outbox pages: list with counts, detail, retry of a failed mail, "deliver now"; admins only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from consultroom.audit.models import AuditEntry
from consultroom.db import utcnow
from consultroom.extensions import db
from consultroom.notifications.delivery import DeliveryResult, deliver_due
from consultroom.notifications.models import OutboxMail
from tests.smtp import SMTPServer, queue_round_mails, smtp_server_for


@pytest.fixture
def smtp(app: Flask) -> Iterator[SMTPServer]:
    with smtp_server_for(app) as server:
        yield server


@pytest.fixture
def config(app: Flask) -> Iterator[dict]:
    saved = dict(app.config)
    yield app.config
    app.config.clear()
    app.config.update(saved)


def _reload(mail: OutboxMail) -> OutboxMail:
    db.session.commit()  # a fresh transaction sees what the request committed (SQLite WAL snapshots)
    return db.session.get(OutboxMail, mail.id, populate_existing=True)


def _make_failed(mail: OutboxMail, error: str = "SMTPServerDisconnected: gone") -> OutboxMail:
    mail.status, mail.attempts, mail.last_error = "failed", 8, error
    return mail


def test_outbox_lists_mails_with_counts_per_status(client, login_as):
    pending, sent, failed = queue_round_mails(3)
    sent.status, sent.sent_at = "sent", utcnow()
    _make_failed(failed, "Recipient refused (x: 550 no such user)")
    login_as("admin")

    html = client.get("/admin/outbox").get_data(as_text=True)

    for mail in (pending, sent, failed):
        assert f'href="/admin/outbox/{mail.id}"' in html
    assert 'aria-current="page"\n         href="/admin/outbox">All <span class="badge text-bg-light">3</span>' in html
    assert '>Waiting <span class="badge text-bg-light">1</span>' in html
    assert '>Sending <span class="badge text-bg-light">0</span>' in html
    assert '>Sent <span class="badge text-bg-light">1</span>' in html
    assert '>Failed <span class="badge text-bg-danger">1</span>' in html
    assert "Recipient refused (x: 550 no such user)" in html


def test_outbox_status_filter_shows_only_that_status(client, login_as):
    pending, failed = queue_round_mails(2)
    _make_failed(failed)
    login_as("admin")

    html = client.get("/admin/outbox?status=failed").get_data(as_text=True)

    assert f'href="/admin/outbox/{failed.id}"' in html
    assert f'href="/admin/outbox/{pending.id}"' not in html


def test_outbox_unknown_status_filter_shows_all(client, login_as):
    mails = queue_round_mails(2)
    login_as("admin")

    response = client.get("/admin/outbox?status=bogus")

    assert response.status_code == 200
    assert all(f'href="/admin/outbox/{m.id}"' in response.get_data(as_text=True) for m in mails)


def test_outbox_is_paginated_at_50(client, login_as):
    mails = queue_round_mails(51)
    login_as("admin")

    first = client.get("/admin/outbox").get_data(as_text=True)
    second = client.get("/admin/outbox?page=2").get_data(as_text=True)

    oldest = f'href="/admin/outbox/{mails[0].id}"'
    assert (oldest in first, oldest in second) == (False, True)
    assert "Page 2 of 2" in second


def test_outbox_counts_and_pages_stop_at_the_cap(client, login_as, monkeypatch):
    """A national program's outbox holds a million mails: each tab's count and the list's total stop at
    pagination.COUNT_CAP ("more than N"), the pager says "Page 2" without "of M", and the pages still
    reach the oldest mail and end there."""
    from consultroom import pagination

    monkeypatch.setattr(pagination, "COUNT_CAP", 2)
    monkeypatch.setattr("consultroom.notifications.views.PER_PAGE", 2)
    mails = queue_round_mails(4)
    mails[0].status, mails[0].sent_at = "sent", utcnow()
    login_as("admin")

    first, second = (client.get(f"/admin/outbox?page={n}").get_data(as_text=True) for n in (1, 2))

    assert 'href="/admin/outbox">All <span class="badge text-bg-light">more than 2</span>' in first
    assert '>Waiting <span class="badge text-bg-light">more than 2</span>' in first
    assert '>Sent <span class="badge text-bg-light">1</span>' in first
    assert "Page 1<" in first and 'href="/admin/outbox?page=2"' in first
    assert f'href="/admin/outbox/{mails[0].id}"' in second and "Page 2<" in second
    assert 'href="/admin/outbox?page=3"' not in second  # the last page knows it is the last


def test_outbox_query_count_is_the_same_for_1_and_30_mails(client, login_as, count_queries):
    login_as("admin")
    queue_round_mails(1)
    db.session.commit()
    with count_queries() as one:
        assert client.get("/admin/outbox").status_code == 200
    queue_round_mails(29)
    db.session.commit()
    with count_queries() as many:
        assert client.get("/admin/outbox").status_code == 200

    assert one.count == many.count


def test_outbox_detail_shows_headers_body_and_error(client, login_as):
    [mail] = queue_round_mails(1)
    _make_failed(mail, "Recipient refused (a@b: 550 no such user)")
    login_as("admin")

    html = client.get(f"/admin/outbox/{mail.id}").get_data(as_text=True)

    assert mail.to_addr in html
    assert mail.subject in html
    assert mail.message_id.replace("<", "&lt;").replace(">", "&gt;") in html
    assert "Consultroom &lt;no-reply@consultroom.local&gt;" in html
    assert "Recipient refused (a@b: 550 no such user)" in html
    assert "김민준님, 안녕하세요." in html  # the mail is in its recipient's language (Korean)
    assert '<dt class="col-sm-4">Attempts</dt><dd class="col-sm-8">8</dd>' in html
    assert f'action="/admin/outbox/{mail.id}/retry"' in html


def test_outbox_detail_of_pending_mail_has_no_retry_button(client, login_as):
    [mail] = queue_round_mails(1)
    login_as("admin")

    html = client.get(f"/admin/outbox/{mail.id}").get_data(as_text=True)

    assert "/retry" not in html


def test_outbox_detail_of_unknown_mail_is_404(client, login_as):
    login_as("admin")

    assert client.get("/admin/outbox/999999").status_code == 404


def test_mail_failed_after_its_deadline_is_visible_on_admin_page(client, login_as, smtp):
    [mail] = queue_round_mails(1)
    now = utcnow()
    mail.deadline_at = now + timedelta(seconds=20)
    db.session.commit()
    smtp.stop()
    assert deliver_due(now=now) == DeliveryResult(retry=1)
    assert deliver_due(now=now + timedelta(seconds=30)) == DeliveryResult(failed=1)
    login_as("admin")

    html = client.get("/admin/outbox?status=failed").get_data(as_text=True)

    assert f'href="/admin/outbox/{mail.id}"' in html
    assert "ConnectionRefusedError" in html
    assert '>Failed <span class="badge text-bg-danger">1</span>' in html


def test_retry_puts_failed_mail_back_and_next_delivery_sends_it_once(client, login_as, smtp):
    [mail] = queue_round_mails(1)
    _make_failed(mail)
    admin = login_as("admin")

    response = client.submit(f"/admin/outbox/{mail.id}/retry")

    assert (response.status_code, response.headers["Location"]) == (302, f"/admin/outbox/{mail.id}")
    mail = _reload(mail)
    assert (mail.status, mail.attempts, mail.claim_token) == ("pending", 0, None)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "outbox.retry"))
    assert (entry.actor_id, entry.object_type, entry.object_id) == (admin.id, "outbox_mails", mail.id)
    assert (entry.before, entry.after) == ({"attempts": 8, "status": "failed"}, {"attempts": 0, "status": "pending"})

    assert deliver_due() == DeliveryResult(sent=1)
    assert deliver_due(now=utcnow() + timedelta(hours=1)) == DeliveryResult()
    assert smtp.message_ids() == [mail.message_id]
    assert _reload(mail).status == "sent"


def test_retry_of_mail_that_has_not_failed_changes_nothing(client, login_as):
    [mail] = queue_round_mails(1)
    login_as("admin")

    response = client.submit(f"/admin/outbox/{mail.id}/retry", follow_redirects=True)

    assert "Only a failed mail or one in doubt can be retried." in response.get_data(as_text=True)
    assert (_reload(mail).status, _reload(mail).attempts) == ("pending", 0)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "outbox.retry")) is None


def test_retry_without_csrf_token_is_refused(client, login_as):
    [mail] = queue_round_mails(1)
    _make_failed(mail)
    login_as("admin")

    response = client.post(f"/admin/outbox/{mail.id}/retry")

    assert response.status_code == 400
    assert _reload(mail).status == "failed"


def test_deliver_now_button_delivers_due_mails(client, login_as, smtp):
    mails = queue_round_mails(2)
    login_as("admin")

    response = client.submit("/admin/outbox/deliver", follow_redirects=True)

    assert "Delivery ran: 2 sent, 0 to retry later, 0 failed, 0 in doubt." in response.get_data(as_text=True)
    assert sorted(smtp.message_ids()) == sorted(m.message_id for m in mails)
    assert [_reload(m).status for m in mails] == ["sent", "sent"]


def test_deliver_now_with_server_down_reports_retries(client, login_as, smtp):
    [mail] = queue_round_mails(1)
    smtp.stop()
    login_as("admin")

    response = client.submit("/admin/outbox/deliver", follow_redirects=True)

    assert "Delivery ran: 0 sent, 1 to retry later, 0 failed, 0 in doubt." in response.get_data(as_text=True)
    assert (_reload(mail).status, _reload(mail).attempts) == ("pending", 1)


def test_outbox_when_delivery_disabled_lists_mails_and_sends_nothing(client, login_as, smtp, config):
    config["MAIL_DELIVERY_ENABLED"] = False
    [mail] = queue_round_mails(1)
    login_as("admin")

    page = client.get("/admin/outbox").get_data(as_text=True)
    response = client.submit("/admin/outbox/deliver", follow_redirects=True)

    assert "Mail delivery is turned off here" in page
    assert "/admin/outbox/deliver" not in page
    assert mail.subject in page
    assert "Mail delivery is turned off here: mails stay in the outbox." in response.get_data(as_text=True)
    assert smtp.messages == []
    assert (_reload(mail).status, _reload(mail).attempts) == ("pending", 0)


@pytest.mark.parametrize("role", ["sme", "staff"])
def test_outbox_routes_for_non_admin_return_404(client, login_as, smtp, role):
    [mail] = queue_round_mails(1)
    _make_failed(mail)
    [due] = queue_round_mails(1)
    login_as(role)

    codes = [
        client.get("/admin/outbox").status_code,
        client.get("/admin/outbox?status=failed").status_code,
        client.get(f"/admin/outbox/{mail.id}").status_code,
        client.submit(f"/admin/outbox/{mail.id}/retry").status_code,
        client.submit("/admin/outbox/deliver").status_code,
    ]

    assert codes == [404] * 5
    assert (_reload(mail).status, _reload(due).status) == ("failed", "pending")
    assert smtp.messages == []


def test_outbox_routes_for_anonymous_redirect_to_login(client):
    [mail] = queue_round_mails(1)

    responses = [
        client.get("/admin/outbox"),
        client.get(f"/admin/outbox/{mail.id}"),
        client.submit(f"/admin/outbox/{mail.id}/retry"),
        client.submit("/admin/outbox/deliver"),
    ]

    assert [(r.status_code, r.headers["Location"].split("?")[0]) for r in responses] == [(302, "/login")] * 4
