"""Database outage benchmark: how many log lines a 5-second outage costs, and what clients get.

    python bench/db_outage.py                 # 5 s outage, 4 client threads
    python bench/db_outage.py --seconds 10 --threads 8

An app on its own SQLite file (one connection per checkout, so every request really opens the
file) serves API requests from client threads through the test client. The file is replaced by a
directory for the outage (no process can open it) and put back. Prints the requests answered during
the outage by status, the Retry-After header, the log lines and log bytes written, and whether any
of them carried a traceback. Issue 17 measured about 18,000 lines in 5 s before (a traceback each).
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consultroom import create_app
from consultroom.api.tokens import issue_token
from consultroom.extensions import db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp())
    path = tmp / "outage.sqlite"
    app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", SQLALCHEMY_ENGINE_OPTIONS={"poolclass": NullPool}
    )
    app.config["PROPAGATE_UNEXPECTED"] = False  # as in production: unexpected errors are logged, not raised
    with app.app_context():
        db.create_all()
        from consultroom.accounts.models import User
        from consultroom.db import utcnow

        # No password: the bench only uses an API token.
        user = User(
            email="bench@example.kr",
            password_hash="!",  # noqa: S106 - no password: not a hash argon2 accepts
            name="Bench",
            role="staff",
            email_confirmed_at=utcnow(),
        )
        db.session.add(user)
        db.session.flush()
        _token, raw = issue_token(user=user)
        db.session.commit()

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # "consultroom" is the app's logger (tracebacks of unexpected errors); the outage logger propagates to it.
    logging.getLogger("consultroom").addHandler(handler)
    logging.getLogger("consultroom.outage").setLevel(logging.INFO)

    statuses: Counter[int] = Counter()
    retry_after: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def client() -> None:
        c = app.test_client()
        while not stop.is_set():
            r = c.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
            with lock:
                statuses[r.status_code] += 1
                if "Retry-After" in r.headers:
                    retry_after.add(r.headers["Retry-After"])

    aside = path.with_suffix(".aside")
    path.rename(aside)
    path.mkdir()
    threads = [threading.Thread(target=client) for _ in range(args.threads)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(args.seconds)  # the outage lasts this long: a benchmark, not a test
    stop.set()
    for t in threads:
        t.join()
    path.rmdir()
    aside.rename(path)
    during = dict(statuses)
    after = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code
    elapsed = time.perf_counter() - started

    log = stream.getvalue()
    print(f"outage {args.seconds:.1f} s, {args.threads} client threads, {sum(during.values())} requests")
    print(f"statuses during the outage: {during}; Retry-After: {sorted(retry_after)}")
    print(f"first request after the outage: {after}")
    print(f"log: {len(log.splitlines())} lines, {len(log.encode())} bytes, tracebacks: {log.count('Traceback')}")
    print(log.rstrip())
    print(f"(total {elapsed:.1f} s)")


if __name__ == "__main__":
    main()
