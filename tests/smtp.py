"""A real SMTP server on loopback (aiosmtpd) for delivery tests, and helpers to queue mails."""

from __future__ import annotations

import asyncio
import email
import email.policy
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from flask import Flask
from sqlalchemy import select

from consultroom.extensions import db
from consultroom.notifications.models import OutboxMail
from consultroom.notifications.services import queue_mail_to_user
from consultroom.rounds.models import Round
from tests.factories import make_round, make_user


class _Collector:
    """aiosmtpd handler: keeps every accepted message; refuses recipients on request."""

    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, options):
        if address in self.server.refuse:
            return self.server.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self.server.lock:
            self.server.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
            self.server.raw.append(raw)
            number = len(self.server.received)
        if set(envelope.rcpt_tos) & self.server.drop_after_data:
            # The message is stored but the reply never reaches the client: the worst moment to fail.
            server.transport.abort()
        if number == self.server.hang_on_message:
            # Stored, but the reply is held back while the test kills the sending process.
            self.server.hanging.set()
            await asyncio.sleep(3600)
        return "250 Message accepted"

    def authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == self.server.credentials
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd sends the 535 itself


class _Controller(Controller):
    """aiosmtpd's controller, able to bind port 0 and read back the port the kernel chose."""

    def _create_server(self):
        created = super()._create_server()

        async def bind():
            server = await created
            self.port = server.sockets[0].getsockname()[1]
            return server

        return bind()


class SMTPServer:
    """An aiosmtpd server on a port the kernel chose at its first start; it can go down and come back on it."""

    def __init__(
        self,
        port: int | None = None,
        *,
        credentials: tuple[bytes, bytes] | None = None,
        tls: str | None = None,
        cert: Path | None = None,
    ) -> None:
        self.port = port or 0  # 0 until the first start binds a free port; restarts reuse it
        self.credentials = credentials  # when set, AUTH with exactly these is required
        self.tls = tls  # None, "starttls" (required before MAIL) or "implicit" (TLS from the first byte)
        self.cert = cert  # PEM with certificate and key, from make_certificate()
        self.received: list[tuple[str, list[str], EmailMessage]] = []
        self.raw: list[bytes] = []
        self.refuse: dict[str, str] = {}  # recipient -> SMTP reply, e.g. "550 5.1.1 no such user"
        self.drop_after_data: set[str] = set()  # recipients whose message is kept but never acknowledged
        self.hang_on_message: int | None = None  # the Nth message received is kept, its reply held back
        self.hanging = threading.Event()  # set when that message has arrived
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        assert self._controller is None, "already running"
        # aiosmtpd closes a controller's event loop on stop, so each start needs a new controller.
        handler = _Collector(self)
        options: dict = {}
        if self.credentials is not None:
            # Plain-text AUTH is fine on loopback; production uses STARTTLS or implicit TLS.
            options |= {"authenticator": handler.authenticate, "auth_required": True, "auth_require_tls": False}
        if self.tls is not None:
            assert self.cert is not None, "TLS needs a certificate"
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.cert)
            if self.tls == "starttls":
                options |= {"tls_context": context, "require_starttls": True}
            else:
                options |= {"ssl_context": context}
        self._controller = _Controller(handler, hostname="127.0.0.1", port=self.port, **options)
        self._controller.start()
        self.port = self._controller.port

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [m for _from, _to, m in self.received]

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]

    def count_of(self, message_id: str) -> int:
        return self.message_ids().count(message_id)


def make_certificate(directory: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 (PEM, key included), made with the openssl CLI.
    Clients trust it when SSL_CERT_FILE points at it: certificate checks stay on in the tests."""
    pem = directory / "smtp.pem"
    openssl = shutil.which("openssl")
    assert openssl, "the TLS tests need the openssl command"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(pem), "-out", str(directory / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    pem.write_text(pem.read_text() + (directory / "cert.pem").read_text())
    return pem


@contextmanager
def smtp_server_for(app: Flask, **options) -> Iterator[SMTPServer]:
    """A running server, with the app's MAIL_PORT pointed at it (restored afterwards).
    Test modules wrap this in a fixture of their own."""
    server = SMTPServer(**options)
    server.start()
    old = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = server.port
    try:
        yield server
    finally:
        app.config["MAIL_PORT"] = old
        server.stop()


def queue_round_mails(count: int, *, locale: str = "ko") -> list[OutboxMail]:
    """`count` real "booking is open" mails (Korean round title in the subject), one per new user."""
    # One round per month is allowed: later calls in a test announce the same round again.
    rnd = db.session.scalar(select(Round).order_by(Round.id).limit(1)) or make_round()
    mails = []
    for _ in range(count):
        user = make_user("sme", name="김민준", locale=locale)
        mails.append(
            queue_mail_to_user(user=user, template="round_open", context={"round": rnd, "link": "http://localhost/r"})
        )
    return mails
