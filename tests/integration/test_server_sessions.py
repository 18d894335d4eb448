"""Sessions end on the server: logout, password change and an admin's "sign out everywhere"
make every copy of the session cookie worthless (issue 17, item 4)."""

from datetime import timedelta

from sqlalchemy import func, select

from consultroom.accounts.models import ApiToken, LoginSession
from consultroom.audit.models import AuditEntry
from consultroom.db import utcnow
from consultroom.extensions import db
from tests.conftest import login
from tests.factories import PASSWORD, make_user
from tests.integration.test_api_support import bearer


def _copy_cookie(source, target) -> None:
    target.set_cookie("session", source.get_cookie("session").value)


def _sessions_of(user) -> int:
    return db.session.scalar(select(func.count()).select_from(LoginSession).where(LoginSession.user_id == user.id))


def test_logout_copied_cookie_no_longer_logs_in(client, make_client, login_as):
    user = login_as("sme")
    thief = make_client()
    _copy_cookie(client, thief)
    assert thief.get("/account").status_code == 200
    assert client.submit("/logout").status_code == 302
    assert thief.get("/account").status_code == 302
    assert _sessions_of(user) == 0


def test_logout_ends_only_this_session(client, make_client, login_as):
    user = login_as("sme")
    laptop = make_client()
    login(laptop, user.email)
    assert client.submit("/logout").status_code == 302
    assert laptop.get("/account").status_code == 200
    assert _sessions_of(user) == 1


def test_login_without_server_session_row_is_refused(client, login_as):
    user = login_as("sme")
    db.session.execute(LoginSession.__table__.delete())
    db.session.commit()
    assert client.get("/account").status_code == 302
    assert user.active is True


def test_login_session_older_than_max_age_ends(client, app, login_as):
    login_as("sme")
    row = db.session.scalar(select(LoginSession))
    row.created_at = utcnow() - timedelta(seconds=app.config["LOGIN_SESSION_MAX_AGE"] + 1)
    db.session.commit()
    assert client.get("/account").status_code == 302


def test_password_change_copied_cookie_stops_working(client, make_client, login_as):
    user = login_as("sme")
    thief = make_client()
    _copy_cookie(client, thief)
    response = client.submit(
        "/account",
        {
            "pw-current_password": PASSWORD,
            "pw-password": "another-good-pass",
            "pw-password_confirm": "another-good-pass",
            "pw-submit": "1",
        },
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert thief.get("/account").status_code == 302
    assert _sessions_of(user) == 1


def test_admin_sign_out_everywhere_ends_sessions_and_tokens(client, make_client, login_as):
    admin = login_as("admin")
    target = make_user("staff")
    db.session.commit()
    phone, laptop = make_client(), make_client()
    login(phone, target.email)
    login(laptop, target.email)
    headers = bearer(target)
    assert phone.get("/api/v1/me", headers=headers).status_code == 200
    response = client.submit(f"/admin/users/{target.id}/sign-out", {"confirm": "1"})
    assert response.status_code == 302
    assert phone.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 302
    assert phone.get("/api/v1/me", headers=headers).status_code == 401
    assert _sessions_of(target) == 0
    assert db.session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None))) == 0
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.sign_out_everywhere"))
    assert (entry.actor_id, entry.object_id, entry.after) == (
        admin.id,
        target.id,
        {"sessions_ended": 2, "tokens_revoked": 1},
    )
    # The target can log in again: signing out is not a lock.
    assert login(phone, target.email).status_code == 302


def test_admin_sign_out_everywhere_needs_csrf(client, login_as):
    login_as("admin")
    target = make_user("staff")
    db.session.commit()
    assert client.post(f"/admin/users/{target.id}/sign-out").status_code == 400


def test_staff_cannot_sign_out_others(client, make_client, login_as):
    login_as("staff")
    target = make_user("sme")
    db.session.commit()
    theirs = make_client()
    login(theirs, target.email)
    # Admin pages do not exist for staff (access.authorize answers 404).
    assert client.submit(f"/admin/users/{target.id}/sign-out").status_code == 404
    assert theirs.get("/account").status_code == 200
