"""Database outages answer 503 with Retry-After, pages and API alike, and are logged once per
outage with their duration (issue 17, item 3). The database really goes away: the SQLite file is
replaced by a directory (no process can open it), or the PostgreSQL port has nobody listening."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
from sqlalchemy.pool import NullPool

from consultroom import create_app
from consultroom.api.tokens import issue_token
from consultroom.extensions import db
from tests.conftest import CSRFClient, login
from tests.factories import make_user

REQUESTS_DURING_OUTAGE = 60


@pytest.fixture
def own_db_app(tmp_path: Path):
    """An app on its own SQLite file, one connection per checkout (NullPool), so a request made
    while the file is gone really tries to open it instead of reusing an open handle."""
    path = tmp_path / "own.sqlite"
    application = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
        SQLALCHEMY_ENGINE_OPTIONS={"poolclass": NullPool},
    )
    application.test_client_class = CSRFClient
    with application.app_context():
        db.create_all()
    yield application, path
    with application.app_context():
        db.engine.dispose()


def _take_away(path: Path) -> Path:
    aside = path.with_suffix(".aside")
    path.rename(aside)
    path.mkdir()  # a directory where the file was: "unable to open database file"
    return aside


def _bring_back(path: Path, aside: Path) -> None:
    path.rmdir()
    aside.rename(path)


def _outage_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "consultroom.outage"]


def test_db_outage_pages_and_api_answer_503_with_retry_after(own_db_app, caplog):
    application, path = own_db_app
    with application.app_context():
        user = make_user("sme")
        db.session.flush()
        _token, raw = issue_token(user=user)
        db.session.commit()
        email = user.email
    client = application.test_client()
    assert login(client, email).status_code == 302
    aside = _take_away(path)
    caplog.set_level(logging.INFO)
    try:
        page = client.get("/account")
        api = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    finally:
        _bring_back(path, aside)
    assert (page.status_code, page.headers["Retry-After"]) == (503, "30")
    assert "서비스를 잠시 이용할 수 없습니다" in page.get_data(as_text=True)
    assert (api.status_code, api.headers["Retry-After"]) == (503, "30")
    assert api.get_json() == {
        "error": {
            "code": "unavailable",
            "message": "서비스를 잠시 이용할 수 없습니다. 1분 뒤에 다시 시도해 주세요.",
            "fields": {},
        }
    }
    assert client.get("/account").status_code == 200


def test_db_outage_logged_once_with_duration_no_tracebacks(own_db_app, caplog):
    application, path = own_db_app
    with application.app_context():
        user = make_user("sme")
        db.session.flush()
        _token, raw = issue_token(user=user)
        db.session.commit()
    client = application.test_client()
    headers = {"Authorization": f"Bearer {raw}"}
    caplog.set_level(logging.INFO)
    aside = _take_away(path)
    try:
        statuses = {client.get("/api/v1/me", headers=headers).status_code for _ in range(REQUESTS_DURING_OUTAGE)}
    finally:
        _bring_back(path, aside)
    assert statuses == {503}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    records = _outage_records(caplog)
    assert [r.levelname for r in records] == ["ERROR", "WARNING"]
    assert records[0].getMessage() == (
        "Database unavailable: unable to open database file. Answering 503 until it is back."
    )
    assert records[1].getMessage().startswith("Database available again after ")
    assert records[1].getMessage().endswith(f"; {REQUESTS_DURING_OUTAGE} requests were answered 503.")
    assert [r for r in caplog.records if r.exc_info] == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_db_outage_postgres_connection_refused_answers_503():
    application = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/consultroom",
    )
    client = application.test_client()
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer crt_" + "a" * 43})
    assert (response.status_code, response.get_json()["error"]["code"]) == (503, "unavailable")
    assert response.headers["Retry-After"] == "30"
    with application.app_context():
        db.engine.dispose()


def test_db_error_that_is_not_an_outage_still_propagates(own_db_app):
    """A wrong statement is a bug: it must not hide behind a 503."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from consultroom.outage import is_outage

    application, _path = own_db_app
    with application.app_context():
        with pytest.raises(OperationalError) as caught:
            db.session.execute(text("SELECT * FROM no_such_table"))
        assert is_outage(caught.value) is False
