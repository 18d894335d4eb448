import os
import subprocess
import sys
import uuid
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest

from consultroom import ROOT, create_app
from consultroom.companies.models import Company
from consultroom.extensions import db
from tests.conftest import login, other_processes_write
from tests.factories import PASSWORD, make_sme_with_company, make_user


@pytest.mark.parametrize("path", ["/", "/login", "/does-not-exist", "/static/css/app.css", "/healthz"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_cdn(client, login_as):
    login_as("admin")
    for path in ["/", "/account", "/companies", "/admin/users", "/staff/audit", "/admin/outbox"]:
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "<script >" not in html, path
        assert "cdn" not in html.lower(), path


def test_session_cookie_flags_in_development(client):
    response = client.get("/login")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_refuses_default_secret(monkeypatch):
    import config

    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", config.DEFAULT_SECRET)
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


def test_production_sets_secure_cookies(monkeypatch):
    import config

    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    prod = create_app("production", SQLALCHEMY_DATABASE_URI=db.engine.url.render_as_string(hide_password=False))
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    assert prod.config["REMEMBER_COOKIE_SECURE"] is True
    assert prod.config["SESSION_COOKIE_HTTPONLY"] is True
    assert prod.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert prod.config["RATELIMIT_STORAGE_URI"].startswith("redis://")
    response = prod.test_client().get("/login", base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_login_rate_limit_per_account_across_ips(client, app):
    make_user("sme", email="target@example.kr")
    db.session.commit()
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    for i in range(limit):
        r = client.submit(
            "/login",
            {"email": "target@example.kr", "password": "wrong-guess-x"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{i + 1}"},
        )
        assert r.status_code == 200
    blocked = client.submit(
        "/login", {"email": "target@example.kr", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.1.1"}
    )
    assert blocked.status_code == 429
    # Another account from the same addresses is not affected.
    make_user("sme", email="bystander@example.kr")
    db.session.commit()
    assert login(client, "bystander@example.kr").status_code == 302


def test_login_rate_limit_per_ip_across_accounts(client, app):
    app.config["LOGIN_LIMIT_PER_IP"] = "4 per minute"
    try:
        for i in range(4):
            r = client.submit("/login", {"email": f"guess{i}@example.kr", "password": "wrong-guess-x"})
            assert r.status_code == 200
        r = client.submit("/login", {"email": "guess9@example.kr", "password": "wrong-guess-x"})
        assert r.status_code == 429
        assert "Retry-After" in r.headers
    finally:
        app.config["LOGIN_LIMIT_PER_IP"] = "30 per minute;300 per hour"


def test_successful_logins_do_not_count_toward_the_limit(client, app):
    user = make_user("sme")
    db.session.commit()
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    for _ in range(limit + 2):
        assert login(client, user.email).status_code == 302
        client.submit("/logout")


def _serve(db_url: str, prefix: str) -> tuple[subprocess.Popen, int]:
    """An app server in its own process, on a port it binds itself (port 0) and prints: no other
    process can take the port between choosing and binding it."""
    code = (
        "import sys\n"
        "from werkzeug.serving import make_server\n"
        "from consultroom import create_app\n"
        f"app = create_app('testing', SQLALCHEMY_DATABASE_URI={db_url!r}, "
        f"RATELIMIT_STORAGE_URI='redis://127.0.0.1:6379/0', RATELIMIT_KEY_PREFIX={prefix!r}, "
        "WTF_CSRF_ENABLED=False)\n"
        "server = make_server('127.0.0.1', 0, app, threaded=True)\n"
        "print(server.port, flush=True)\n"
        "server.serve_forever()\n"
    )
    other_processes_write()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    # The port is printed once the socket is listening; readline waits for it (or for the exit).
    line = proc.stdout.readline()
    if not line.strip().isdigit():
        proc.kill()
        raise RuntimeError(f"the app server did not start (exit code {proc.wait()})")
    return proc, int(line)


def _post_login(port: int, email: str) -> int:
    data = urlencode({"email": email, "password": "wrong-guess-x"}).encode()
    try:
        with urlopen(Request(f"http://127.0.0.1:{port}/login", data=data), timeout=60) as resp:
            return resp.status
    except HTTPError as exc:
        return exc.code


def test_login_rate_limit_holds_across_processes_with_redis(app, every_table):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis(host="127.0.0.1", port=6379).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    make_user("sme", email="target@example.kr")
    db.session.commit()
    db_url = db.engine.url.render_as_string(hide_password=False)
    prefix = f"crtest-{uuid.uuid4().hex}"
    procs, ports = [], []
    try:
        for _ in range(2):
            proc, port = _serve(db_url, prefix)
            procs.append(proc)
            ports.append(port)
        limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
        codes = [_post_login(ports[i % 2], "target@example.kr") for i in range(limit + 2)]
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
    # Attempts alternate between two processes; the shared Redis counter blocks the 6th and 7th.
    assert codes == [200] * limit + [429, 429]


def test_not_found_for_unknown_ids_and_garbage(client, login_as):
    login_as("staff")
    assert client.get("/companies/999999").status_code == 404
    assert client.get("/companies/abc").status_code == 404
    assert client.get("/companies/99999999999999999999999").status_code == 404


def test_nul_character_in_a_form_field_is_refused_naming_the_field(client, login_as):
    user, company = make_sme_with_company()
    login_as(user)
    before = company.name_en
    response = client.submit(f"/companies/{company.id}/edit", {"name_en": "Evil\x00Corp"})
    assert response.status_code == 400
    assert "name_en" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Company, company.id).name_en == before


def test_nul_character_in_a_query_is_refused_not_a_server_error(client, login_as):
    login_as("staff")
    assert client.get("/companies?q=a%00b").status_code == 400
