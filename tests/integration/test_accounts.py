import re

import pytest
from sqlalchemy import func, select

from consultroom.accounts.models import User
from consultroom.extensions import db
from consultroom.notifications.models import OutboxMail
from tests.conftest import login, outbox_links, recent
from tests.factories import PASSWORD, make_user
from tests.integration.test_api_support import bearer

GOOD = {
    "name": "박지훈",
    "email": "Jihoon@Example.KR",
    "password": "export-2021-busan",
    "password_confirm": "export-2021-busan",
    "locale": "ko",
    "consent_account": "y",
}


def _field_error(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error"[^>]*>(.*?)</div>\s*</div>', html, re.S)
    assert match, f"no error shown beside {field}"
    return re.sub(r"<[^>]+>", " ", match.group(1)).strip()


def test_register_valid_creates_unconfirmed_user_and_queues_confirmation(client):
    response = client.submit("/register", GOOD)
    assert response.status_code == 200
    user = db.session.scalar(select(User))
    assert user.email == "jihoon@example.kr"
    assert user.role == "sme"
    assert user.email_confirmed_at is None
    assert user.password_hash.startswith("$argon2id$")
    mail = db.session.scalar(select(OutboxMail))
    assert mail.to_addr == "jihoon@example.kr"
    assert mail.locale == "ko"
    assert mail.template == "confirm_email"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-address"),
        ("email", "a@b"),
        ("password", "short"),
        ("password", "aaaaaaaaaaaa"),
        ("name", ""),
    ],
)
def test_register_bad_field_shows_error_beside_it_and_creates_nothing(client, field, value):
    data = {**GOOD, field: value}
    if field == "password":
        data["password_confirm"] = value
    response = client.submit("/register", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _field_error(html, field)
    assert 'aria-invalid="true"' in html
    assert db.session.scalar(select(func.count(User.id))) == 0
    assert db.session.scalar(select(func.count(OutboxMail.id))) == 0


def test_register_passwords_differ_error_on_confirm_field(client):
    response = client.submit("/register", {**GOOD, "password_confirm": "something-else-1"})
    assert _field_error(response.get_data(as_text=True), "password_confirm")


def test_register_existing_email_any_case_is_refused_on_email_field(client):
    make_user("sme", email="jihoon@example.kr")
    db.session.commit()
    response = client.submit("/register", {**GOOD, "email": "JIHOON@example.kr"})
    assert _field_error(response.get_data(as_text=True), "email")
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_login_unconfirmed_refused_then_confirmation_link_allows_login(client):
    client.submit("/register", GOOD)
    response = login(client, GOOD["email"], GOOD["password"])
    assert response.status_code == 200  # stays on the form
    assert db.session.scalar(select(func.count(OutboxMail.id))) == 2  # a fresh link was sent
    link = outbox_links("jihoon@example.kr")[-1]
    path = link.split("localhost", 1)[1]
    confirmed = client.get(path)
    assert confirmed.status_code == 302
    db.session.expire_all()
    assert recent(db.session.scalar(select(User)).email_confirmed_at)
    assert login(client, GOOD["email"], GOOD["password"]).status_code == 302


def test_confirm_tampered_token_gives_clear_page(client):
    response = client.get("/confirm/not-a-token")
    assert response.status_code == 400


def test_confirm_expired_token_is_refused(client, app):
    client.submit("/register", GOOD)
    path = outbox_links()[-1].split("localhost", 1)[1]
    app.config["CONFIRM_EMAIL_MAX_AGE"] = -1
    try:
        response = client.get(path)
    finally:
        app.config["CONFIRM_EMAIL_MAX_AGE"] = 7 * 24 * 3600
    assert response.status_code == 400
    assert db.session.scalar(select(User)).email_confirmed_at is None


def test_login_wrong_password_and_unknown_account_give_same_answer(client):
    make_user("sme", email="known@example.kr")
    db.session.commit()
    wrong = login(client, "known@example.kr", "wrong-password-1").get_data(as_text=True)
    unknown = login(client, "nobody@example.kr", "wrong-password-1").get_data(as_text=True)
    assert _field_error(wrong, "password") == _field_error(unknown, "password")


def test_login_inactive_user_refused(client):
    make_user("staff", email="gone@example.kr", active=False)
    db.session.commit()
    assert login(client, "gone@example.kr").status_code == 200


def test_login_renews_session_dropping_planted_values(client):
    user = make_user("sme")
    db.session.commit()
    with client.session_transaction() as s:
        s["planted"] = "attacker"
    login(client, user.email)
    with client.session_transaction() as s:
        assert "planted" not in s
        assert s["_user_id"] == f"{user.id}.{user.session_version}"


@pytest.mark.parametrize(
    "target", ["//evil.com", "https://evil.com", "////evil.com", "/\\evil.com", "http:evil.com", "/\\/evil.com"]
)
def test_login_next_off_site_stays_on_site(client, target):
    user = make_user("sme")
    db.session.commit()
    response = client.submit(f"/login?next={target}", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil" not in location
    assert location.startswith("/")


def test_login_next_on_site_is_followed(client):
    user = make_user("staff")
    db.session.commit()
    response = client.submit("/login?next=/companies?page=2", {"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/companies?page=2"


def test_logout_requires_post_with_csrf(client, login_as):
    login_as("sme")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.submit("/logout").status_code == 302
    assert client.get("/account").status_code == 302  # back to login


@pytest.mark.parametrize("path", ["/login", "/register", "/password/forgot", "/language"])
def test_csrf_missing_token_is_rejected(client, path):
    assert client.post(path, data={"email": "a@b.kr", "password": "x", "lang": "en"}).status_code == 400


def test_password_reset_full_flow_is_single_use(client, make_client):
    user = make_user("sme", email="reset@example.kr")
    db.session.commit()
    other = make_client()
    login(other, user.email)
    headers = bearer(user)
    response = client.submit("/password/forgot", {"email": "RESET@example.kr"})
    assert response.status_code == 302
    path = outbox_links("reset@example.kr")[-1].split("localhost", 1)[1]
    assert client.get(path).status_code == 200
    done = client.submit(path, {"password": "brand-new-pass-9", "password_confirm": "brand-new-pass-9"})
    assert done.status_code == 302
    assert login(client, user.email, "brand-new-pass-9").status_code == 302
    assert client.get(path).status_code == 400  # used once
    assert other.get("/account").status_code == 302  # the other session ended
    assert other.get("/api/v1/me", headers=headers).status_code == 401  # and its API tokens


def test_password_reset_unknown_address_answers_the_same_and_sends_nothing(client):
    known = make_user("sme", email="known@example.kr")
    db.session.commit()
    a = client.submit("/password/forgot", {"email": "nobody@example.kr"}, follow_redirects=True)
    b = client.submit("/password/forgot", {"email": known.email}, follow_redirects=True)
    assert a.status_code == b.status_code == 200
    mails = db.session.scalars(select(OutboxMail)).all()
    assert [m.to_addr for m in mails] == ["known@example.kr"]


def test_password_reset_link_ignores_forged_host_header(client, app):
    make_user("sme", email="victim@example.kr")
    db.session.commit()
    # The cookie jar will not send the session to a forged host, so CSRF is off for this one request.
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        response = client.post(
            "/password/forgot", data={"email": "victim@example.kr"}, headers={"Host": "evil.example"}
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert response.status_code == 302
    link = outbox_links("victim@example.kr")[-1]
    assert link.startswith(app.config["BASE_URL"] + "/password/reset/")


def test_password_reset_expired_link_refused(client, app):
    make_user("sme", email="late@example.kr")
    db.session.commit()
    client.submit("/password/forgot", {"email": "late@example.kr"})
    path = outbox_links()[-1].split("localhost", 1)[1]
    app.config["RESET_PASSWORD_MAX_AGE"] = -1
    try:
        assert client.get(path).status_code == 400
    finally:
        app.config["RESET_PASSWORD_MAX_AGE"] = 2 * 3600


def test_change_password_wrong_current_error_beside_field(client, login_as):
    login_as("sme")
    response = client.submit(
        "/account",
        {
            "pw-current_password": "not-my-password",
            "pw-password": "another-good-pass",
            "pw-password_confirm": "another-good-pass",
            "pw-submit": "1",
        },
    )
    assert _field_error(response.get_data(as_text=True), "pw-current_password")


def test_change_password_ends_other_sessions_keeps_this_one(client, make_client, login_as):
    user = login_as("sme")
    other = make_client()
    login(other, user.email)
    headers = bearer(user)
    assert other.get("/api/v1/me", headers=headers).status_code == 200
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
    assert other.get("/account").status_code == 302
    assert other.get("/api/v1/me", headers=headers).status_code == 401


def test_preferences_unknown_timezone_is_refused(client, login_as):
    login_as("sme")
    response = client.submit("/account", {"prefs-locale": "en", "prefs-timezone": "Mars/Olympus", "prefs-submit": "1"})
    assert _field_error(response.get_data(as_text=True), "prefs-timezone")


def test_preferences_saved_on_user(client, login_as):
    user = login_as("sme")
    response = client.submit(
        "/account", {"prefs-locale": "en", "prefs-timezone": "America/New_York", "prefs-submit": "1"}
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert (user.locale, user.timezone) == ("en", "America/New_York")


def test_admin_creates_staff_account_recorded_in_audit(client, login_as):
    from consultroom.audit.models import AuditEntry

    admin = login_as("admin")
    response = client.submit(
        "/admin/users",
        {"name": "이서연", "email": "Staff@City.go.kr", "role": "staff", "password": "staff-pass-2021", "locale": "ko"},
    )
    assert response.status_code == 302
    staff = db.session.scalar(select(User).where(User.email == "staff@city.go.kr"))
    assert staff.role == "staff" and recent(staff.email_confirmed_at)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.create"))
    assert entry.actor_id == admin.id and entry.object_id == staff.id


def test_admin_deactivates_user_and_their_session_ends(client, make_client, login_as):
    login_as("admin")
    target = make_user("staff")
    db.session.commit()
    theirs = make_client()
    login(theirs, target.email)
    assert client.submit(f"/admin/users/{target.id}/active", {"active": "0", "confirm": "1"}).status_code == 302
    assert theirs.get("/account").status_code == 302
    assert login(theirs, target.email).status_code == 200


def test_admin_cannot_deactivate_self(client, login_as):
    admin = login_as("admin")
    client.submit(f"/admin/users/{admin.id}/active", {"active": "0", "confirm": "1"})
    db.session.refresh(admin)
    assert admin.active is True


def test_cli_create_user_admin(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "consultroom",
            "create-user",
            "--email",
            "Root@City.go.kr",
            "--name",
            "Root",
            "--role",
            "admin",
            "--password",
            "a-very-good-pass",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "root@city.go.kr"))
    assert user.role == "admin"


def test_cli_create_user_weak_password_fails_clearly(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "consultroom",
            "create-user",
            "--email",
            "x@city.go.kr",
            "--name",
            "X",
            "--role",
            "admin",
            "--password",
            "short",
        ]
    )
    assert result.exit_code != 0
    assert "password" in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0
