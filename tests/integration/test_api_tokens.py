import hashlib
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import select

from consultroom.accounts.models import ApiToken
from consultroom.api.tokens import token_for_bearer, user_for_bearer
from consultroom.audit.models import AuditEntry
from consultroom.db import utcnow
from consultroom.extensions import db
from tests.conftest import recent
from tests.factories import PASSWORD, make_user
from tests.integration.test_api_support import api_call, assert_error, bearer

TOKENS = "/api/v1/tokens"
CURRENT = "/api/v1/tokens/current"
TOKEN = "/api/v1/tokens/{token_id}"
ME = "/api/v1/me"


def _get_token(client, email, password=PASSWORD, **extra):
    return api_call(client, "POST", TOKENS, json={"email": email, "password": password, **extra})


def _auth(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def test_token_create_valid_credentials_returns_201_and_stores_only_hash(client):
    user = make_user("sme", email="kim@example.kr")

    response = _get_token(client, "KIM@example.kr ", name="laptop")

    assert response.status_code == 201
    body = response.get_json()
    raw = body["token"]
    assert raw.startswith("crt_") and len(raw) == 47
    row = db.session.get(ApiToken, body["id"])
    assert row.user_id == user.id
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert row.prefix == raw[:10] == body["prefix"]
    assert row.name == "laptop"
    assert raw not in (row.token_hash, row.prefix, row.name)
    assert timedelta(days=89, hours=23) < row.expires_at - utcnow() <= timedelta(days=90)
    me = api_call(client, "GET", ME, headers=_auth(raw))
    assert me.status_code == 200
    assert me.get_json()["email"] == "kim@example.kr"


def test_token_create_ttl_from_config(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "API_TOKEN_TTL_DAYS", 1)
    make_user("sme", email="kim@example.kr")

    body = _get_token(client, "kim@example.kr").get_json()

    expires = db.session.get(ApiToken, body["id"]).expires_at
    assert timedelta(hours=23, minutes=59) < expires - utcnow() <= timedelta(days=1)


def test_token_create_is_audited(client):
    user = make_user("sme", email="kim@example.kr")

    body = _get_token(client, "kim@example.kr", name="ci").get_json()

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api_token.issue"))
    assert (entry.actor_id, entry.object_id) == (user.id, body["id"])
    assert body["token"] not in str(entry.after)


def test_token_create_wrong_password_401(client):
    make_user("sme", email="kim@example.kr")

    response = _get_token(client, "kim@example.kr", "wrong password!")

    error = assert_error(response, 401, "unauthorized")
    assert error["message"] == "The e-mail address or password is not correct."
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert db.session.scalar(select(ApiToken)) is None


def test_token_create_unknown_user_401_same_message(client):
    make_user("sme", email="kim@example.kr")

    unknown = _get_token(client, "nobody@example.kr")
    wrong = _get_token(client, "kim@example.kr", "wrong password!")

    assert assert_error(unknown, 401, "unauthorized") == assert_error(wrong, 401, "unauthorized")


def test_token_create_inactive_user_401_same_message(client):
    make_user("sme", email="kim@example.kr", active=False)

    response = _get_token(client, "kim@example.kr")

    assert assert_error(response, 401, "unauthorized")["message"] == "The e-mail address or password is not correct."


def test_token_create_unconfirmed_user_401(client):
    make_user("sme", email="kim@example.kr", confirmed=False)

    response = _get_token(client, "kim@example.kr")

    assert assert_error(response, 401, "unauthorized")["message"] == "Please confirm your e-mail address first."
    assert db.session.scalar(select(ApiToken)) is None


def test_token_create_missing_fields_422(client):
    response = api_call(client, "POST", TOKENS, json={})

    error = assert_error(response, 422, "invalid")
    assert error["fields"] == {"email": ["This field is required."], "password": ["This field is required."]}


def test_token_create_wrong_types_422_name_each_field(client):
    response = api_call(client, "POST", TOKENS, json={"email": 5, "password": ["x"], "name": {}, "extra": 1})

    error = assert_error(response, 422, "invalid")
    assert error["fields"] == {
        "email": ["Must be text."],
        "password": ["Must be text."],
        "name": ["Must be text."],
        "extra": ["Unknown field."],
    }


def test_token_create_name_too_long_422(client):
    make_user("sme", email="kim@example.kr")

    response = _get_token(client, "kim@example.kr", name="x" * 101)

    assert assert_error(response, 422, "invalid")["fields"] == {"name": ["Use at most 100 characters."]}


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "bad_request"),
        (b"", "application/json", 400, "bad_request"),
        (b'["kim@example.kr", "pw"]', "application/json", 400, "bad_request"),
        (b'"text"', "application/json", 400, "bad_request"),
        (b"\xff\xfe\x00", "application/json", 400, "bad_request"),
        (b"[" * 100_000, "application/json", 400, "bad_request"),
        (b"email=kim@example.kr&password=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b'{"email": "kim@example.kr"}', "text/plain", 415, "unsupported_media_type"),
    ],
)
def test_token_create_bad_body(client, data, content_type, status, code):
    response = api_call(client, "POST", TOKENS, data=data, content_type=content_type)

    assert_error(response, status, code)


def test_token_create_nul_in_email_422(client):
    response = api_call(client, "POST", TOKENS, json={"email": "kim\x00@example.kr", "password": PASSWORD})

    assert assert_error(response, 422, "invalid")["fields"] == {"email": ["Contains characters that are not allowed."]}


def test_api_without_authorization_header_401(client):
    response = api_call(client, "GET", ME)

    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="consultroom"'


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Bearer nonsense", "Bearer crt_" + "A" * 43, "Basic a2ltOnB3", "bearer crt_short"],
)
def test_api_invalid_authorization_header_401(client, header):
    response = client.get(ME, headers={"Authorization": header})

    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_ignores_cookie_session(client, login_as):
    login_as("staff")

    response = api_call(client, "GET", ME)

    assert_error(response, 401, "unauthorized")


def test_api_bearer_wins_over_cookie_session(client, login_as):
    login_as("staff")
    sme = make_user("sme")

    response = api_call(client, "GET", ME, headers=bearer(sme))

    assert response.get_json()["id"] == sme.id


def test_token_revoked_current_401(client):
    user = make_user("sme")
    headers = bearer(user)

    revoked = api_call(client, "DELETE", CURRENT, headers=headers)
    after = api_call(client, "GET", ME, headers=headers)

    assert revoked.status_code == 204
    assert_error(after, 401, "unauthorized")
    assert 'error="invalid_token"' in after.headers["WWW-Authenticate"]
    assert recent(db.session.scalar(select(ApiToken)).revoked_at)


def test_token_expired_401(client):
    user = make_user("sme")
    headers = bearer(user)
    db.session.scalar(select(ApiToken)).expires_at = utcnow() - timedelta(seconds=1)

    response = api_call(client, "GET", ME, headers=headers)

    assert_error(response, 401, "unauthorized")


def test_token_inactive_user_401(client):
    user = make_user("sme")
    headers = bearer(user)
    user.active = False

    response = api_call(client, "GET", ME, headers=headers)

    assert_error(response, 401, "unauthorized")


def test_token_for_bearer_refuses_unknown_revoked_expired_inactive():
    user = make_user("sme")
    raw = bearer(user)["Authorization"].removeprefix("Bearer ")
    token = db.session.scalar(select(ApiToken))

    assert user_for_bearer(raw) == user
    assert token_for_bearer(None) is None
    assert token_for_bearer(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    token.revoked_at = utcnow()
    assert user_for_bearer(raw) is None
    token.revoked_at = None
    token.expires_at = utcnow() - timedelta(seconds=1)
    assert user_for_bearer(raw) is None
    token.expires_at = utcnow() + timedelta(days=1)
    user.active = False
    assert user_for_bearer(raw) is None


def test_token_last_used_at_written_at_most_once_a_minute(client):
    user = make_user("sme")
    headers = bearer(user)
    token = db.session.scalar(select(ApiToken))

    api_call(client, "GET", ME, headers=headers)
    db.session.refresh(token)
    first = token.last_used_at
    api_call(client, "GET", ME, headers=headers)
    db.session.refresh(token)
    second = token.last_used_at
    token.last_used_at = utcnow() - timedelta(minutes=2)
    db.session.commit()
    api_call(client, "GET", ME, headers=headers)
    db.session.refresh(token)

    assert first is not None and utcnow() - first < timedelta(seconds=30)
    assert second == first
    assert utcnow() - token.last_used_at < timedelta(seconds=30)


def test_token_list_never_returns_secret(client):
    user = make_user("sme")
    make_user("sme")
    other_headers = bearer(make_user("sme"))
    first = bearer(user, name="first")
    second = bearer(user, name="second")

    response = api_call(client, "GET", TOKENS, headers=second)

    items = response.get_json()["items"]
    assert [(t["name"], t["current"]) for t in items] == [("second", True), ("first", False)]
    text = response.get_data(as_text=True)
    for headers in (first, second, other_headers):
        raw = headers["Authorization"].removeprefix("Bearer ")
        assert raw not in text
        assert hashlib.sha256(raw.encode()).hexdigest() not in text
    assert "token_hash" not in text


def test_token_revoke_own_by_id_204(client):
    user = make_user("sme")
    keep = bearer(user, name="keep")
    bearer(user, name="drop")
    drop = db.session.scalar(select(ApiToken).where(ApiToken.name == "drop"))

    response = api_call(client, "DELETE", TOKEN, headers=keep, token_id=drop.id)
    again = api_call(client, "DELETE", TOKEN, headers=keep, token_id=drop.id)

    assert (response.status_code, again.status_code) == (204, 204)
    listed = {t["name"]: t["revoked_at"] for t in api_call(client, "GET", TOKENS, headers=keep).get_json()["items"]}
    assert listed["drop"] is not None and listed["keep"] is None


def test_token_revoke_another_users_token_404(client):
    mine = bearer(make_user("sme"))
    theirs = bearer(make_user("staff"))
    their_token = db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).first()

    response = api_call(client, "DELETE", TOKEN, headers=mine, token_id=their_token.id)

    assert_error(response, 404, "not_found")
    db.session.refresh(their_token)
    assert their_token.revoked_at is None
    assert api_call(client, "GET", ME, headers=theirs).status_code == 200


def test_token_revoke_unknown_id_404(client):
    headers = bearer(make_user("sme"))

    assert_error(api_call(client, "DELETE", TOKEN, headers=headers, token_id=999_999), 404, "not_found")
    assert_error(client.delete("/api/v1/tokens/abc", headers=headers), 404, "not_found")
    assert_error(client.delete("/api/v1/tokens/99999999999999999999", headers=headers), 404, "not_found")


def test_token_rate_limit_per_account_429(client, app):
    make_user("sme", email="kim@example.kr")
    make_user("sme", email="lee@example.kr")
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])

    failures = [_get_token(client, "kim@example.kr", "wrong password!").status_code for _ in range(limit)]
    blocked = _get_token(client, "kim@example.kr")
    other_account = _get_token(client, "lee@example.kr")

    assert failures == [401] * limit
    assert assert_error(blocked, 429, "rate_limited")["message"]
    assert "Retry-After" in blocked.headers
    assert other_account.status_code == 201


def test_token_rate_limit_counts_failures_only(client, app):
    make_user("sme", email="kim@example.kr")
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])

    statuses = [_get_token(client, "kim@example.kr").status_code for _ in range(limit + 2)]

    assert statuses == [201] * (limit + 2)


def test_token_rate_limit_per_ip_429(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_IP", "3 per minute")

    statuses = [_get_token(client, f"nobody{i}@example.kr").status_code for i in range(4)]

    assert statuses == [401, 401, 401, 429]


@pytest.mark.parametrize(
    ("user_locale", "accept", "expected"),
    [("ko", "en", "ko"), ("en", "ko", "en"), (None, "en-US,en;q=0.9", "en"), (None, "ko", "ko"), (None, "", "ko")],
)
def test_api_locale_token_user_then_accept_language(app, user_locale, accept, expected):
    from consultroom.i18n import select_locale

    user = make_user("sme", locale=user_locale) if user_locale else None
    with app.test_request_context(ME, headers={"Accept-Language": accept}):
        if user is not None:
            g.api_user = user
        try:
            assert select_locale() == expected
        finally:
            g.pop("api_user", None)


def test_api_locale_ignores_cookie_session_language(app):
    from flask import session

    from consultroom.i18n import select_locale

    with app.test_request_context(ME, headers={"Accept-Language": "en"}):
        session["lang"] = "ko"
        assert select_locale() == "en"
